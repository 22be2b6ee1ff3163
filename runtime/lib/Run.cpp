//===- Run.cpp - Validating tensors and calling the generated entry -------===//
//
// The generated code trusts its memref descriptors completely, so every
// property it relies on (device, dtype, rank, dims, layout, non-null data) is
// checked here first; nothing reaches mlpc_model_entry unless it is valid.
//
//===----------------------------------------------------------------------===//

#include "Model.h"
#include "RowBlocks.h"
#include "Status.h"
#include "ThreadPool.h"

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace mlp::rt {
namespace {

/// The batch size, resolved from the first tensor with a -1 dimension.
struct Batch {
  bool known = false;
  int64_t size = 0;
  // Where the size came from, for messages: "the inputs' batch 4" or "the
  // batch 4 of output 'y'" (built only when a mismatch is reported).
  const char *role = "input";
  const TensorSpec *spec = nullptr;
  std::string source() const {
    if (std::string(role) == "input")
      return "the inputs' batch " + std::to_string(size);
    return "the batch " + std::to_string(size) + " of " + role + " '" +
           (spec ? spec->name : std::string()) + "'";
  }
};

std::string deviceName(int32_t type) {
  switch (type) {
  case kDLCPU:
    return "kDLCPU";
  case kDLCUDA:
    return "kDLCUDA";
  case kDLCUDAHost:
    return "kDLCUDAHost";
  case kDLROCM:
    return "kDLROCM";
  case kDLCUDAManaged:
    return "kDLCUDAManaged";
  default:
    return "device type " + std::to_string(type);
  }
}

// Actual dims are printed verbatim (a caller's -1 must not look like "N").
std::string formatDims(const int64_t *dims, int64_t ndim) {
  std::string s = "[";
  for (int64_t i = 0; i < ndim; ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// Checks `t` against `spec`, resolving or checking the batch size; on
/// success `data` is the address of its first element.
/// The tensor's device type, read as an integer: a C caller may pass any
/// int, and loading a value outside the enum's range as a DLDeviceType would
/// be undefined.
int32_t deviceTypeOf(const DLTensor &t) {
  int32_t device;
  static_assert(sizeof(device) == sizeof(t.device.device_type));
  std::memcpy(&device, &t.device.device_type, sizeof device);
  return device;
}

mlp_status checkTensor(const char *role, const TensorSpec &spec,
                       const DLTensor &t, Batch &batch, void *&data,
                       const CudaModel *gpu = nullptr) {
  // Messages are built only on failure: a batch-1 run is a few
  // microseconds, and string formatting per tensor would be a visible part.
  auto whoName = [&] { return std::string(role) + " '" + spec.name + "'"; };
  // Pinned CUDA host memory is ordinary host memory for the CPU.
  int32_t device = deviceTypeOf(t);
  if (device == kDLCUDA && gpu && t.device.device_id != gpu->device())
    return fail(MLP_ERR_DEVICE, whoName() + ": tensor on CUDA device " +
                                    std::to_string(t.device.device_id) +
                                    " but the model runs on device " +
                                    std::to_string(gpu->device()));
  if (device != kDLCPU && device != kDLCUDAHost && !(device == kDLCUDA && gpu))
    return fail(MLP_ERR_DEVICE,
                whoName() + ": expected a " +
                    (gpu ? "CPU or CUDA tensor (kDLCPU, kDLCUDAHost, kDLCUDA)"
                         : "CPU tensor (kDLCPU)") +
                    ", got " + deviceName(device));
  if (t.dtype.code != spec.dtype.code || t.dtype.bits != spec.dtype.bits ||
      t.dtype.lanes != spec.dtype.lanes)
    return fail(MLP_ERR_DTYPE, whoName() + ": expected dtype " +
                                   spec.dtypeName + ", got " +
                                   dtypeToString(t.dtype));
  const int64_t rank = static_cast<int64_t>(spec.shape.size());
  auto want = [&] { return formatShape(spec.shape.data(), rank); };
  if (t.ndim != rank)
    return fail(MLP_ERR_SHAPE, whoName() + ": expected " +
                                   std::to_string(rank) +
                                   " dimensions (shape " + want() + "), got " +
                                   std::to_string(t.ndim));
  if (rank > 0 && !t.shape)
    return fail(MLP_ERR_INVALID_ARGUMENT, whoName() + ": shape is NULL");
  auto got = [&] { return formatDims(t.shape, rank); };
  for (int64_t i = 0; i < rank; ++i)
    if (spec.shape[i] != -1 && t.shape[i] != spec.shape[i])
      return fail(MLP_ERR_SHAPE,
                  whoName() + ": expected shape " + want() + ", got " + got());
  for (int64_t i = 0; i < rank; ++i) {
    if (spec.shape[i] != -1)
      continue;
    int64_t n = t.shape[i];
    if (n < 0)
      return fail(MLP_ERR_SHAPE, whoName() + ": negative batch size " +
                                     std::to_string(n) + " in shape " + got());
    if (!batch.known) {
      batch.known = true;
      batch.size = n;
      batch.role = role;
      batch.spec = &spec;
    } else if (n != batch.size) {
      return fail(MLP_ERR_SHAPE, whoName() + ": batch " + std::to_string(n) +
                                     " does not match " + batch.source());
    }
  }

  const uint64_t elemSize = spec.dtype.bits / 8;
  uint64_t count = 1, bytes;
  for (int64_t i = 0; i < rank; ++i)
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(t.shape[i]),
                               &count))
      return fail(MLP_ERR_SHAPE,
                  whoName() + ": shape " + got() + " is too large");
  if (__builtin_mul_overflow(count, elemSize, &bytes) ||
      bytes > static_cast<uint64_t>(INTPTR_MAX))
    return fail(MLP_ERR_SHAPE,
                whoName() + ": shape " + got() + " is too large");

  // An empty tensor addresses no element, so its strides do not matter
  // (frameworks report odd ones for them); size-1 dims likewise.
  if (t.strides && count > 0) {
    int64_t expected = 1;
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (t.shape[i] != 1 && t.strides[i] != expected) {
        std::vector<int64_t> compact(rank);
        for (int64_t j = rank - 1, s = 1; j >= 0; s *= t.shape[j], --j)
          compact[j] = s;
        return fail(MLP_ERR_LAYOUT,
                    whoName() + ": expected compact row-major strides " +
                        formatDims(compact.data(), rank) + ", got " +
                        formatDims(t.strides, rank));
      }
      expected *= t.shape[i];
    }
  }
  if (count > 0 && !t.data)
    return fail(MLP_ERR_INVALID_ARGUMENT, whoName() + ": data is NULL");
  // The tensor's bytes must be addressable: data + byte_offset + bytes may
  // not wrap around the address space (the kernel would read elsewhere).
  uintptr_t first, end;
  if (__builtin_add_overflow(reinterpret_cast<uintptr_t>(t.data), t.byte_offset,
                             &first) ||
      __builtin_add_overflow(first, bytes, &end))
    return fail(MLP_ERR_INVALID_ARGUMENT,
                whoName() + ": data + byte_offset (" +
                    std::to_string(t.byte_offset) +
                    ") + size overflows the address space");
  data = reinterpret_cast<void *>(first);
  if (count > 0 && reinterpret_cast<uintptr_t>(data) % elemSize != 0)
    return fail(MLP_ERR_LAYOUT,
                whoName() + ": data + byte_offset is not aligned to the " +
                    std::to_string(elemSize) + "-byte element size");
  return MLP_OK;
}

/// Appends a compact row-major memref descriptor to `words` (whose capacity
/// is reserved up front, so earlier descriptors never move).
void appendDescriptor(std::vector<int64_t> &words, std::vector<void *> &args,
                      const void *data, const int64_t *dims, int64_t rank) {
  const size_t at = words.size();
  const int64_t ptr = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  words.push_back(ptr); // allocated
  words.push_back(ptr); // aligned
  words.push_back(0);   // offset
  words.insert(words.end(), dims, dims + rank);
  words.resize(words.size() + rank);
  for (int64_t i = rank - 1, stride = 1; i >= 0; stride *= dims[i], --i)
    words[at + 3 + rank + i] = stride;
  args.push_back(&words[at]);
}

mlp_status checkArray(const void *array, int32_t count, size_t expected,
                      const char *what, const std::string &model) {
  if (count < 0 || static_cast<size_t>(count) != expected)
    return fail(MLP_ERR_INVALID_ARGUMENT,
                "mlp_model_run: model '" + model + "' has " +
                    std::to_string(expected) + " " + what + ", got num_" +
                    what + " = " + std::to_string(count));
  if (count > 0 && !array)
    return fail(MLP_ERR_INVALID_ARGUMENT,
                std::string("mlp_model_run: ") + what + " is NULL but num_" +
                    what + " is " + std::to_string(count));
  return MLP_OK;
}

/// The run on the GPU: every tensor checked, then the plan launched.
mlp_status runCuda(mlp_model *model, const DLTensor *inputs, int32_t numInputs,
                   DLTensor *outputs, int32_t numOutputs, void *stream,
                   bool synchronous) {
  const ModelMetadata &meta = model->meta;
  CudaModel &gpu = *model->cuda;
  Batch batch;
  mlp_status s;
  std::vector<CudaTensorArg> in(numInputs), out(numOutputs);
  for (int32_t i = 0; i < numInputs + numOutputs; ++i) {
    bool isInput = i < numInputs;
    const DLTensor &t = isInput ? inputs[i] : outputs[i - numInputs];
    const TensorSpec &spec =
        isInput ? meta.inputs[i] : meta.outputs[i - numInputs];
    CudaTensorArg &arg = isInput ? in[i] : out[i - numInputs];
    if ((s = checkTensor(isInput ? "input" : "output", spec, t, batch, arg.data,
                         &gpu)) != MLP_OK)
      return s;
    arg.onDevice = deviceTypeOf(t) == kDLCUDA;
    if (arg.onDevice && batch.size > 0 &&
        (s = gpu.checkDevicePointer(arg.data,
                                    std::string(isInput ? "input" : "output") +
                                        " '" + spec.name + "'")) != MLP_OK)
      return s;
  }
  if (!batch.known || batch.size == 0)
    return MLP_OK;
  return gpu.run(meta, batch.size, in, out, stream, synchronous);
}

bool anyOnCuda(const DLTensor *list, int32_t n) {
  for (int32_t i = 0; i < n; ++i)
    if (deviceTypeOf(list[i]) == kDLCUDA)
      return true;
  return false;
}

mlp_status run(mlp_model *model, const DLTensor *inputs, int32_t numInputs,
               DLTensor *outputs, int32_t numOutputs, void *stream = nullptr,
               bool synchronous = true) {
  if (!model)
    return fail(MLP_ERR_INVALID_ARGUMENT, "mlp_model_run: model is NULL");
  const ModelMetadata &meta = model->meta;
  mlp_status s;
  if ((s = checkArray(inputs, numInputs, meta.inputs.size(), "inputs",
                      meta.name)) != MLP_OK ||
      (s = checkArray(outputs, numOutputs, meta.outputs.size(), "outputs",
                      meta.name)) != MLP_OK)
    return s;
  // CUDA tensors, or a library without CPU code, run on the GPU.
  if (anyOnCuda(inputs, numInputs) || anyOnCuda(outputs, numOutputs) ||
      !meta.hasCpu) {
    if (model->cuda)
      return runCuda(model, inputs, numInputs, outputs, numOutputs, stream,
                     synchronous);
    if (meta.hasCuda)
      return fail(MLP_ERR_DEVICE, "mlp_model_run: CUDA tensors given, but the "
                                  "model could not use the GPU: " +
                                      model->cudaUnavailable);
    return fail(MLP_ERR_DEVICE,
                "mlp_model_run: CUDA tensors given, but model '" + meta.name +
                    "' was compiled without CUDA code (--target=cuda or "
                    "--target=cpu,cuda)");
  }

  Batch batch;
  std::vector<void *> inData(numInputs), outData(numOutputs);
  for (int32_t i = 0; i < numInputs; ++i)
    if ((s = checkTensor("input", meta.inputs[i], inputs[i], batch,
                         inData[i])) != MLP_OK)
      return s;
  for (int32_t i = 0; i < numOutputs; ++i)
    if ((s = checkTensor("output", meta.outputs[i], outputs[i], batch,
                         outData[i])) != MLP_OK)
      return s;
  // Nothing to compute; the generated code need not handle empty batches.
  if (batch.known && batch.size == 0)
    return MLP_OK;

  RowPlan plan;
  if ((s = planRows(meta, batch.known ? batch.size : 1,
                    model->memoryLimit.load(), plan)) != MLP_OK)
    return s;

  // The arguments of the generated entry for rows [first, first + rows):
  // the descriptors of batched tensors start at that row; a column-parallel
  // run appends its scratch buffer of `scratchBytes`.
  auto buildArgs = [&](int64_t first, int64_t rows, void *scratch,
                       int64_t scratchBytes) -> void ** {
    size_t numWords = scratch ? 5 : 0;
    for (const auto *list : {&meta.inputs, &meta.params, &meta.outputs})
      for (const TensorSpec &spec : *list)
        numWords += 3 + 2 * spec.shape.size();
    // Reused by each thread from call to call (no allocation per run once
    // warm); the capacity is reserved before the first descriptor, so the
    // addresses in `args` stay valid.
    thread_local std::vector<int64_t> words, dims;
    thread_local std::vector<void *> args;
    words.clear();
    args.clear();
    words.reserve(numWords);
    args.reserve(meta.inputs.size() + meta.params.size() + meta.outputs.size() +
                 1);
    auto append = [&](const TensorSpec &spec, const DLTensor &t, void *data) {
      dims.assign(t.shape, t.shape + t.ndim);
      char *start = static_cast<char *>(data);
      if (meta.rowsIndependent && !dims.empty() && spec.shape[0] == -1) {
        int64_t rowBytes = spec.dtype.bits / 8;
        for (size_t i = 1; i < dims.size(); ++i)
          rowBytes *= dims[i];
        start += first * rowBytes;
        dims[0] = rows;
      }
      appendDescriptor(words, args, start, dims.data(), t.ndim);
    };
    for (int32_t i = 0; i < numInputs; ++i)
      append(meta.inputs[i], inputs[i], inData[i]);
    for (size_t i = 0; i < meta.params.size(); ++i)
      appendDescriptor(words, args, model->params[i],
                       meta.params[i].storedShape.data(),
                       static_cast<int64_t>(meta.params[i].storedShape.size()));
    for (int32_t i = 0; i < numOutputs; ++i)
      append(meta.outputs[i], outputs[i], outData[i]);
    if (scratch)
      appendDescriptor(words, args, scratch, &scratchBytes, 1);
    return args.data();
  };
  auto runRows = [&](int64_t first, int64_t rows) {
    model->entry(buildArgs(first, rows, nullptr, 0));
  };

  // A tiny batch has fewer row blocks than threads: a team of threads
  // splits each layer's output columns instead (bit-identical results: each
  // element is computed by the same code). Not when the pool is busy with
  // another run, or the scratch would break the memory limit.
  const int32_t threads = numThreads();
  const int64_t rows = batch.known ? batch.size : 1;
  const int64_t bytes = static_cast<int64_t>(
      columnScratchBytes(meta, plan, rows, model->memoryLimit.load()));
  if (model->columnsEntry && bytes) {
    // Kept by the calling thread from run to run, grown as needed.
    thread_local AlignedBuffer scratch;
    thread_local int64_t capacity = 0;
    if (bytes > capacity) {
      scratch.reset(
          ::operator new (static_cast<size_t>(bytes), std::align_val_t{64}));
      capacity = bytes;
    }
    void **args = buildArgs(0, rows, scratch.get(), bytes);
    ColumnsEntryFn entry = model->columnsEntry;
    if (runTeam(threads, [&](int32_t t) { entry(args, t, threads); }))
      return MLP_OK;
  }

  if (plan.blocks <= 1) {
    runRows(0, batch.known ? batch.size : 1);
    return MLP_OK;
  }
  parallelFor(plan.blocks, plan.threads, [&](int64_t block) {
    int64_t first = block * plan.rowsPerBlock;
    runRows(first, std::min(plan.rowsPerBlock, batch.size - first));
  });
  return MLP_OK;
}

} // namespace
} // namespace mlp::rt

extern "C" MLP_API mlp_status mlp_model_run(mlp_model *model,
                                            const DLTensor *inputs,
                                            int32_t num_inputs,
                                            DLTensor *outputs,
                                            int32_t num_outputs) {
  return mlp::rt::guard("mlp_model_run", [&] {
    return mlp::rt::run(model, inputs, num_inputs, outputs, num_outputs);
  });
}

extern "C" MLP_API mlp_status mlp_model_run_async(
    mlp_model *model, const DLTensor *inputs, int32_t num_inputs,
    DLTensor *outputs, int32_t num_outputs, void *stream) {
  return mlp::rt::guard("mlp_model_run_async", [&] {
    return mlp::rt::run(model, inputs, num_inputs, outputs, num_outputs, stream,
                        /*synchronous=*/false);
  });
}
