//===- Model.cpp - Creating, inspecting and destroying models -------------===//

#include "Model.h"

#include "mlp/tensor_layout.h"
#include "Status.h"

#include <cstring>
#include <new>

// Defined by the object mlpc generates (docs/runtime-abi.md). Hidden, so the
// final link hides them too and libmodel.so exports only the MLP_API set.
extern "C" {
__attribute__((visibility("hidden"))) extern const char mlpc_model_metadata[];
__attribute__((
    visibility("hidden"))) extern const unsigned char mlpc_weights_blob[];
// Weak: a library compiled for one target only lacks the other's symbol.
__attribute__((visibility("hidden"), weak)) void mlpc_model_entry(void **args);
__attribute__((visibility("hidden"),
               weak)) extern const unsigned char mlpc_cuda_fatbin[];
// Weak: only models whose layers split by columns have it.
__attribute__((visibility("hidden"), weak)) void
mlpc_model_columns_entry(void **args, int64_t thread, int64_t threads);
}

namespace mlp::rt {
namespace {

constexpr std::align_val_t kCopyAlignment{64};

std::string describe(const TensorSpec &spec) {
  return spec.dtypeName + " " +
         formatShape(spec.shape.data(),
                     static_cast<int64_t>(spec.shape.size()));
}

mlp_status bindEmbeddedWeights(mlp_model &model, const unsigned char *weights) {
  if (!model.meta.embedded)
    return fail(MLP_ERR_INVALID_ARGUMENT,
                "mlp_model_create: model '" + model.meta.name +
                    "' was compiled without embedded weights; pass the path "
                    "of a .safetensors file holding its parameters");
  if (!weights && !model.meta.params.empty())
    return fail(MLP_ERR_INTERNAL,
                "mlp_model_create: the embedded weights are missing");
  for (const TensorSpec &p : model.meta.params)
    model.params.push_back(weights + p.offset);
  return MLP_OK;
}

mlp_status bindFileWeights(mlp_model &model, const char *path) {
  std::string error;
  SafetensorsError kind;
  auto file = SafetensorsFile::open(path, error, &kind);
  if (!file)
    return fail(kind == SafetensorsError::Io ? MLP_ERR_IO : MLP_ERR_FORMAT,
                "mlp_model_create: " + error);
  const std::string where = std::string("weights file '") + path + "'";
  for (const TensorSpec &p : model.meta.params) {
    const TensorView *t = file->find(p.name);
    if (!t)
      return fail(MLP_ERR_MISSING_TENSOR,
                  "mlp_model_create: " + where + " has no tensor '" + p.name +
                      "' (model '" + model.meta.name + "' needs it as " +
                      describe(p) + ")");
    if (t->dtype != p.dtypeName)
      return fail(MLP_ERR_FORMAT, "mlp_model_create: " + where + ": tensor '" +
                                      p.name + "': expected dtype " +
                                      p.dtypeName + ", got " + t->dtype);
    if (t->shape != p.shape)
      return fail(MLP_ERR_SHAPE,
                  "mlp_model_create: " + where + ": tensor '" + p.name +
                      "': expected shape " +
                      formatShape(p.shape.data(), p.shape.size()) + ", got " +
                      formatShape(t->shape.data(), t->shape.size()));
    if (!p.layout.empty()) {
      // The kernels read this weight in the compiler's layout.
      AlignedBuffer copy(::operator new(p.nbytes, kCopyAlignment));
      permuteTensor(t->data, copy.get(), p.shape, p.layout, p.dtype.bits / 8);
      model.params.push_back(copy.get());
      model.copies.push_back(std::move(copy));
      continue;
    }
    model.params.push_back(t->data);
  }
  model.weightsFile = std::move(file);
  return MLP_OK;
}

// Safetensors only aligns the data section to 8 bytes and tensors may start
// anywhere in it; the generated code assumes naturally aligned elements, so
// misaligned params are copied once here rather than slowing every run.
void alignParams(mlp_model &model) {
  for (size_t i = 0; i < model.params.size(); ++i) {
    const TensorSpec &p = model.meta.params[i];
    uintptr_t addr = reinterpret_cast<uintptr_t>(model.params[i]);
    if (p.nbytes == 0 || addr % (p.dtype.bits / 8) == 0)
      continue;
    AlignedBuffer copy(::operator new(p.nbytes, kCopyAlignment));
    std::memcpy(copy.get(), model.params[i], p.nbytes);
    model.params[i] = copy.get();
    model.copies.push_back(std::move(copy));
  }
}

std::vector<mlp_tensor_info> makeInfo(const std::vector<TensorSpec> &specs) {
  std::vector<mlp_tensor_info> info;
  for (const TensorSpec &s : specs)
    info.push_back(mlp_tensor_info{s.name.c_str(), s.dtype,
                                   static_cast<int32_t>(s.shape.size()),
                                   s.shape.data()});
  return info;
}

mlp_status getInfo(const mlp_model *model, int32_t index, mlp_tensor_info *out,
                   bool input) {
  const char *fn = input ? "mlp_model_input_info" : "mlp_model_output_info";
  return guard(fn, [&] {
    if (!model || !out)
      return fail(MLP_ERR_INVALID_ARGUMENT, std::string(fn) + ": " +
                                                (model ? "out" : "model") +
                                                " is NULL");
    const auto &infos = input ? model->inputInfo : model->outputInfo;
    if (index < 0 || static_cast<size_t>(index) >= infos.size())
      return fail(MLP_ERR_INVALID_ARGUMENT,
                  std::string(fn) + ": index " + std::to_string(index) +
                      " is out of range (the model has " +
                      std::to_string(infos.size()) +
                      (input ? " inputs)" : " outputs)"));
    *out = infos[index];
    return MLP_OK;
  });
}

} // namespace

void AlignedDelete::operator()(void *p) const {
  ::operator delete(p, kCopyAlignment);
}

mlp_status createModel(const ModelDefinition &def, const char *weightsPath,
                       mlp_model **out, const DLDevice *device) {
  if (!out)
    return fail(MLP_ERR_INVALID_ARGUMENT, "mlp_model_create: 'out' is NULL");
  *out = nullptr;
  return guard("mlp_model_create", [&] {
    auto model = std::make_unique<mlp_model>();
    std::string error;
    if (!def.metadata || !parseMetadata(def.metadata, model->meta, error))
      return fail(MLP_ERR_INTERNAL,
                  "mlp_model_create: the model's embedded metadata is "
                  "invalid: " +
                      error);
    if (model->meta.hasCpu && !def.entry)
      return fail(MLP_ERR_INTERNAL,
                  "mlp_model_create: the library's CPU code is missing");
    model->entry = def.entry;
    if (model->meta.columnScratchBytesPerRow)
      model->columnsEntry = def.columnsEntry;
    int32_t deviceType = kDLCPU, deviceId = 0;
    if (device) {
      // Read as integers: a C caller may pass a value outside the enum.
      std::memcpy(&deviceType, &device->device_type, sizeof deviceType);
      deviceId = device->device_id;
    } else if (!model->meta.hasCpu) {
      deviceType = kDLCUDA;
    }
    if (deviceType != kDLCPU && deviceType != kDLCUDA)
      return fail(MLP_ERR_DEVICE, "mlp_model_create: device type " +
                                      std::to_string(deviceType) +
                                      " is not supported (kDLCPU or kDLCUDA)");
    if (deviceType == kDLCPU && !model->meta.hasCpu)
      return fail(MLP_ERR_DEVICE,
                  "mlp_model_create: model '" + model->meta.name +
                      "' was compiled for CUDA only (--target=cuda); "
                      "recompile with --target=cpu,cuda to run it on the CPU");
    if (deviceType == kDLCUDA && !model->meta.hasCuda)
      return fail(MLP_ERR_DEVICE,
                  "mlp_model_create: model '" + model->meta.name +
                      "' was compiled without CUDA code; recompile with "
                      "--target=cuda or --target=cpu,cuda");
    mlp_status status = weightsPath ? bindFileWeights(*model, weightsPath)
                                    : bindEmbeddedWeights(*model, def.weights);
    if (status != MLP_OK)
      return status;
    alignParams(*model);
    if (model->meta.hasCuda && (deviceType == kDLCUDA || !device)) {
      status = CudaModel::create(model->meta, model->params, def.cudaFatbin,
                                 deviceId, model->cuda);
      if (status != MLP_OK) {
        // Without a device named, a library with CPU code still runs there.
        if (deviceType == kDLCUDA)
          return status;
        model->cudaUnavailable = mlp_last_error();
      }
    }
    model->inputInfo = makeInfo(model->meta.inputs);
    model->outputInfo = makeInfo(model->meta.outputs);
    *out = model.release();
    return MLP_OK;
  });
}

} // namespace mlp::rt

using namespace mlp::rt;

extern "C" {

MLP_API const char *mlp_model_name(void) {
  // Parsed once; a model's name never changes. Returns "" if the metadata is
  // unusable (mlp_model_create reports why).
  static const std::string *name = []() -> const std::string * {
    try {
      ModelMetadata meta;
      std::string error;
      if (parseMetadata(mlpc_model_metadata, meta, error))
        return new std::string(std::move(meta.name));
    } catch (...) {
    }
    return nullptr;
  }();
  return name ? name->c_str() : "";
}

MLP_API mlp_status mlp_model_create(const char *weights_path, mlp_model **out) {
  return createModel(ModelDefinition{mlpc_model_metadata, mlpc_weights_blob,
                                     mlpc_model_entry, mlpc_cuda_fatbin,
                                     mlpc_model_columns_entry},
                     weights_path, out);
}

MLP_API mlp_status mlp_model_create_on_device(const char *weights_path,
                                              DLDevice device,
                                              mlp_model **out) {
  return createModel(ModelDefinition{mlpc_model_metadata, mlpc_weights_blob,
                                     mlpc_model_entry, mlpc_cuda_fatbin,
                                     mlpc_model_columns_entry},
                     weights_path, out, &device);
}

MLP_API void mlp_model_destroy(mlp_model *model) { delete model; }

MLP_API int32_t mlp_model_num_inputs(const mlp_model *model) {
  if (!model) {
    fail(MLP_ERR_INVALID_ARGUMENT, "mlp_model_num_inputs: model is NULL");
    return -1;
  }
  return static_cast<int32_t>(model->inputInfo.size());
}

MLP_API int32_t mlp_model_num_outputs(const mlp_model *model) {
  if (!model) {
    fail(MLP_ERR_INVALID_ARGUMENT, "mlp_model_num_outputs: model is NULL");
    return -1;
  }
  return static_cast<int32_t>(model->outputInfo.size());
}

MLP_API mlp_status mlp_model_input_info(const mlp_model *model, int32_t index,
                                        mlp_tensor_info *out) {
  return getInfo(model, index, out, /*input=*/true);
}

MLP_API mlp_status mlp_model_output_info(const mlp_model *model, int32_t index,
                                         mlp_tensor_info *out) {
  return getInfo(model, index, out, /*input=*/false);
}

} // extern "C"
