//===- CudaModel.cpp - a model's GPU state and runs -----------------------===//
#include "CudaModel.h"

#include "CudaImage.h"
#include "Status.h"

#include <algorithm>

namespace mlp::rt {

using namespace cuda;

namespace {

/// Makes the model's context current on this thread for a scope (a no-op
/// when it already is, as under a framework using the primary context).
class ContextScope {
public:
  ContextScope(const Driver &d, CUcontext c) : d(d) {
    CUcontext current = nullptr;
    if (d.cuCtxGetCurrent(&current) == kSuccess && current == c)
      return;
    ok = d.cuCtxPushCurrent(c) == kSuccess;
    pushed = ok;
  }
  ~ContextScope() {
    if (pushed) {
      CUcontext popped;
      d.cuCtxPopCurrent(&popped);
    }
  }
  bool ok = true;

private:
  const Driver &d;
  bool pushed = false;
};

mlp_status driverFailure(const Driver &d, CUresult r, const std::string &what) {
  return fail(r == kErrorOutOfMemory ? MLP_ERR_OUT_OF_MEMORY : MLP_ERR_DEVICE,
              what + ": " + d.describe(r));
}

/// Encodes the CUtensorMap of a TensorMap argument: the row-major [rows,
/// cols] 16-bit matrix at `base`, in boxes of 64 columns x boxRows rows with
/// the 128-byte swizzle the kernels' wgmma descriptors expect; zeros past
/// the edges. False where the TMA cannot read it (an address or row not
/// 16-byte aligned, more rows than its 32-bit coordinates reach).
bool encodeTensorMap(const Driver &d, const CudaArg &arg, CUdeviceptr base,
                     int64_t rows, TensorMap &map) {
  if (base % 16 || rows < 1 || rows > 0x7fffffff)
    return false;
  const unsigned long long dims[2] = {static_cast<unsigned long long>(arg.cols),
                                      static_cast<unsigned long long>(rows)};
  const unsigned long long strides[1] = {
      static_cast<unsigned long long>(arg.cols) * 2};
  const unsigned box[2] = {64, static_cast<unsigned>(arg.boxRows)};
  const unsigned elementStrides[2] = {1, 1};
  return d.cuTensorMapEncodeTiled(
             &map, arg.bfloat16 ? kTensorMapBfloat16 : kTensorMapFloat16, 2,
             reinterpret_cast<void *>(base), dims, strides, box,
             elementStrides, 0, kTensorMapSwizzle128B,
             kTensorMapL2Promotion256B, 0) == kSuccess;
}

/// Whether the environment variable `name` is "0" (a kernel path turned off,
/// to measure it against the others).
bool switchedOff(const char *name) {
  const char *value = std::getenv(name);
  return value && std::string(value) == "0";
}

/// Looks kernel `name` up, raises its dynamic shared-memory limit where it
/// needs more than 48 KiB, and says how many of its CTAs fit on an SM.
CUresult setUpKernel(const Driver &d, CUmodule module, const std::string &name,
                     int threads, uint64_t sharedBytes, CUfunction &f,
                     int &perSm) {
  CUresult r = d.cuModuleGetFunction(&f, module, name.c_str());
  if (r == kSuccess && sharedBytes > 48 * 1024)
    r = d.cuFuncSetAttribute(f, kFuncAttrMaxDynamicShared,
                             static_cast<int>(sharedBytes));
  if (r == kSuccess)
    r = d.cuOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, f, threads,
                                                       sharedBytes);
  return r;
}

/// Device memory of one run, freed in stream order when the run returns.
class RunMemory {
public:
  RunMemory(const Driver &d, CUstream s, CUmemoryPool pool)
      : d(d), stream(s), pool(pool) {}
  ~RunMemory() {
    for (CUdeviceptr p : blocks)
      d.cuMemFreeAsync(p, stream);
  }
  CUresult allocate(uint64_t bytes, CUdeviceptr &out) {
    const uint64_t n = std::max<uint64_t>(bytes, 16);
    CUresult r = pool ? d.cuMemAllocFromPoolAsync(&out, n, pool, stream)
                      : d.cuMemAllocAsync(&out, n, stream);
    if (r == kSuccess)
      blocks.push_back(out);
    return r;
  }

private:
  const Driver &d;
  CUstream stream;
  CUmemoryPool pool;
  std::vector<CUdeviceptr> blocks;
};

} // namespace

mlp_status CudaModel::create(const ModelMetadata &meta,
                             const std::vector<const void *> &params,
                             const unsigned char *fatbin, int device,
                             std::unique_ptr<CudaModel> &out) {
  const Driver &d = Driver::get();
  if (!d.loaded)
    return fail(MLP_ERR_DEVICE, "mlp_model_create: " + d.error);
  if (!fatbin)
    return fail(MLP_ERR_INTERNAL,
                "mlp_model_create: the library's CUDA kernels are missing");
  int count = 0;
  CUresult r = d.cuDeviceGetCount(&count);
  if (r != kSuccess)
    return driverFailure(d, r, "mlp_model_create: cuDeviceGetCount");
  if (device < 0 || device >= count)
    return fail(MLP_ERR_DEVICE,
                "mlp_model_create: no CUDA device " + std::to_string(device) +
                    " (this machine has " + std::to_string(count) + ")");
  std::unique_ptr<CudaModel> model(new CudaModel());
  model->driver_ = &d;
  model->device_ = device;
  if ((r = d.cuDeviceGet(&model->handle_, device)) != kSuccess)
    return driverFailure(d, r, "mlp_model_create: cuDeviceGet");
  int major = 0, minor = 0, sms = 0, sharedOptin = 0;
  d.cuDeviceGetAttribute(&major, kAttrComputeCapabilityMajor, model->handle_);
  d.cuDeviceGetAttribute(&minor, kAttrComputeCapabilityMinor, model->handle_);
  d.cuDeviceGetAttribute(&sms, kAttrMultiprocessorCount, model->handle_);
  d.cuDeviceGetAttribute(&sharedOptin, kAttrMaxSharedPerBlockOptin,
                         model->handle_);
  if (major < 8)
    return fail(MLP_ERR_DEVICE,
                "mlp_model_create: CUDA device " + std::to_string(device) +
                    " has compute capability " + std::to_string(major) + "." +
                    std::to_string(minor) +
                    "; the generated kernels need 8.0 or newer");
  model->tma_ =
      major >= 9 && d.cuTensorMapEncodeTiled && !switchedOff("MLPC_TMA");
  // MLPC_EARLY_LAUNCH=0 serializes every launch.
  model->earlyLaunch_ =
      major >= 9 && d.cuLaunchKernelEx && !switchedOff("MLPC_EARLY_LAUNCH");
  // The warp-specialized GEMMs run only with the TMA (Hopper and newer);
  // MLPC_PING_PONG=0 keeps the steps' own kernels.
  const bool pingPongs = model->tma_ && !switchedOff("MLPC_PING_PONG");
  if ((r = d.cuDevicePrimaryCtxRetain(&model->context_, model->handle_)) !=
      kSuccess) {
    model->context_ = nullptr;
    return driverFailure(d, r, "mlp_model_create: cuDevicePrimaryCtxRetain");
  }
  ContextScope scope(d, model->context_);
  if (!scope.ok)
    return fail(MLP_ERR_DEVICE, "mlp_model_create: cannot make the CUDA "
                                "context current");
  if ((r = d.cuModuleLoadData(&model->module_, fatbin)) != kSuccess) {
    model->module_ = nullptr;
    return driverFailure(d, r,
                         "mlp_model_create: loading the kernels on compute "
                         "capability " +
                             std::to_string(major) + "." +
                             std::to_string(minor) +
                             " failed (recompile with --cuda-arch for it)");
  }
  for (const CudaStep &step : meta.cuda.steps) {
    CUfunction f;
    if (step.sharedBytes > static_cast<uint64_t>(sharedOptin))
      return fail(MLP_ERR_DEVICE,
                  "mlp_model_create: kernel " + step.kernel + " (" + step.what +
                      ") needs " + std::to_string(step.sharedBytes) +
                      " bytes of shared memory; this GPU allows " +
                      std::to_string(sharedOptin));
    int perSm = 0;
    if ((r = setUpKernel(d, model->module_, step.kernel, step.threads,
                         step.sharedBytes, f, perSm)) != kSuccess)
      return driverFailure(d, r, "mlp_model_create: kernel " + step.kernel);
    if (perSm < 1)
      return fail(MLP_ERR_DEVICE, "mlp_model_create: kernel " + step.kernel +
                                      " cannot run on this GPU (too many "
                                      "registers or too much shared memory)");
    model->functions_.push_back(f);
    model->gridCap_.push_back(int64_t(perSm) * sms);
    CUfunction pingPong = nullptr;
    int pingPongPerSm = 0;
    if (pingPongs && !step.pingPongKernel.empty() &&
        step.pingPongSharedBytes <= static_cast<uint64_t>(sharedOptin)) {
      if ((r = setUpKernel(d, model->module_, step.pingPongKernel,
                           step.pingPongThreads, step.pingPongSharedBytes,
                           pingPong, pingPongPerSm)) != kSuccess)
        return driverFailure(d, r,
                             "mlp_model_create: kernel " + step.pingPongKernel);
      if (pingPongPerSm < 1)
        pingPong = nullptr; // the step's kernel runs instead
    }
    model->pingPongFunctions_.push_back(pingPong);
    model->pingPongCap_.push_back(int64_t(pingPongPerSm) * sms);
    CUfunction after = nullptr;
    int afterPerSm = 0;
    const std::string &afterName = step.gemm.afterKernel;
    if (step.hasGemm && !afterName.empty() &&
        (r = setUpKernel(d, model->module_, afterName, 256, 0, after,
                         afterPerSm)) != kSuccess)
      return driverFailure(d, r, "mlp_model_create: kernel " + afterName);
    model->afterFunctions_.push_back(after);
    model->afterGridCap_.push_back(std::max(1, afterPerSm) * int64_t(sms));
  }
  MemPoolProps props;
  props.locationId = device;
  if (d.cuMemPoolCreate(&model->pool_, &props) == kSuccess) {
    uint64_t keep = ~uint64_t(0);
    d.cuMemPoolSetAttribute(model->pool_, kMemPoolReleaseThreshold, &keep);
  } else {
    model->pool_ = nullptr; // runs allocate from the device's default pool
  }
  model->lifetimes_ = valueLifetimes(meta.cuda);
  mlp_status s = model->uploadImages(meta, params);
  if (s != MLP_OK)
    return s;
  if ((s = model->setUpCublasLt(meta.cuda)) != MLP_OK)
    return s;
  // The weight images never move: their tensor maps are made once here.
  for (const CudaStep &step : meta.cuda.steps) {
    std::vector<TensorMap> maps(step.args.size());
    bool ready = model->tma_;
    for (size_t a = 0; a < step.args.size(); ++a) {
      const CudaArg &arg = step.args[a];
      if (arg.kind == CudaArg::TensorMap && arg.ofImage && ready)
        ready = encodeTensorMap(d, arg, model->images_[arg.index],
                                arg.perBatch, maps[a]);
    }
    model->imageMaps_.push_back(std::move(maps));
    model->imageMapsReady_.push_back(ready);
  }
  out = std::move(model);
  return MLP_OK;
}

mlp_status CudaModel::uploadImages(const ModelMetadata &meta,
                                   const std::vector<const void *> &params) {
  const Driver &d = *driver_;
  std::vector<unsigned char> host;
  for (const CudaImage &image : meta.cuda.images) {
    buildCudaImage(meta, image, params, host);
    CUdeviceptr ptr = 0;
    CUresult r = d.cuMemAlloc(&ptr, std::max<uint64_t>(image.bytes, 16));
    if (r != kSuccess)
      return driverFailure(d, r,
                           "mlp_model_create: allocating " +
                               std::to_string(image.bytes) +
                               " bytes of weights on the GPU");
    images_.push_back(ptr);
    if (image.bytes &&
        (r = d.cuMemcpyHtoD(ptr, host.data(), image.bytes)) != kSuccess)
      return driverFailure(d, r, "mlp_model_create: uploading weights");
  }
  return MLP_OK;
}

cuda::CUresult CudaModel::launchAfter(size_t step, CUdeviceptr y, int64_t count,
                                      CUstream stream) {
  // 8 elements per thread and iteration, no more CTAs than fit at once.
  const int64_t grid = std::max<int64_t>(
      1, std::min((count + 2047) / 2048, afterGridCap_[step]));
  long long n = count;
  void *params[] = {&y, &n};
  return driver_->cuLaunchKernel(afterFunctions_[step],
                                 static_cast<unsigned>(grid), 1, 1, 256, 1, 1,
                                 0, stream, params, nullptr);
}

mlp_status CudaModel::setUpCublasLt(const CudaPlan &plan) {
  // MLPC_CUBLASLT: 0 never, 1 always (creation fails without it), unset:
  // where the library loads; or the activations whose layers go to it
  // ("none,relu": those, where the library loads), to compare per kind.
  const char *env = std::getenv("MLPC_CUBLASLT");
  const std::string mode = env ? env : "";
  const bool any = std::any_of(plan.steps.begin(), plan.steps.end(),
                               [](const CudaStep &s) { return s.hasGemm; });
  if (!any || mode == "0")
    return MLP_OK;
  auto gemms = std::make_unique<cublaslt::Gemms>();
  std::string why;
  if (gemms->init(plan, images_,
                  mode == "1" || mode.empty() ? std::string() : mode, why)) {
    // None selected (an MLPC_CUBLASLT list matching no layer): no workspace.
    if (gemms->active())
      gemms_ = std::move(gemms);
    return MLP_OK;
  }
  if (mode == "1")
    return fail(MLP_ERR_DEVICE,
                "mlp_model_create: MLPC_CUBLASLT=1 but cuBLASLt is "
                "unavailable: " +
                    why);
  return MLP_OK;
}

CudaModel::~CudaModel() {
  if (!driver_ || !context_)
    return;
  const Driver &d = *driver_;
  {
    ContextScope scope(d, context_);
    gemms_.reset();
    for (CUdeviceptr p : images_)
      d.cuMemFree(p);
    if (pool_)
      d.cuMemPoolDestroy(pool_);
    if (module_)
      d.cuModuleUnload(module_);
  }
  d.cuDevicePrimaryCtxRelease(handle_);
}

mlp_status CudaModel::checkDevicePointer(const void *data,
                                         const std::string &who) {
  const Driver &d = *driver_;
  ContextScope scope(d, context_);
  unsigned memoryType = 0;
  int ordinal = -1;
  int attributes[2] = {kPointerAttrMemoryType, kPointerAttrDeviceOrdinal};
  void *values[2] = {&memoryType, &ordinal};
  CUdeviceptr ptr = reinterpret_cast<CUdeviceptr>(data);
  // One query for both: this runs on every call.
  if (d.cuPointerGetAttributes(2, attributes, values, ptr) != kSuccess ||
      memoryType != kMemoryTypeDevice)
    return fail(MLP_ERR_DEVICE, who + ": kDLCUDA tensor whose data is not "
                                      "CUDA device memory");
  if (ordinal != device_)
    return fail(MLP_ERR_DEVICE,
                who + ": data lives on CUDA device " + std::to_string(ordinal) +
                    " but the model runs on device " + std::to_string(device_));
  return MLP_OK;
}

mlp_status CudaModel::run(const ModelMetadata &meta, int64_t rows,
                          const std::vector<CudaTensorArg> &inputs,
                          const std::vector<CudaTensorArg> &outputs,
                          void *streamHandle, bool synchronous) {
  const Driver &d = *driver_;
  ContextScope scope(d, context_);
  if (!scope.ok)
    return fail(MLP_ERR_DEVICE, "mlp_model_run: cannot make the CUDA context "
                                "current");
  CUstream stream = static_cast<CUstream>(streamHandle);
  RunMemory memory(d, stream, pool_);
  const CudaPlan &plan = meta.cuda;
  CUresult r;
  bool copies = false;
  std::vector<CUdeviceptr> ptrs(plan.values.size(), 0);
  std::vector<CUdeviceptr> stagedIn(inputs.size(), 0),
      stagedOut(outputs.size(), 0);
  // The layout of this batch size, shared with concurrent runs (a run of
  // another size replaces the model's pointer, not this run's layout).
  std::shared_ptr<const ArenaLayout> layout;
  {
    std::lock_guard<std::mutex> lock(arenaMutex_);
    if (!arena_ || arena_->rows != rows)
      arena_ = std::make_shared<const ArenaLayout>(
          planArena(plan, lifetimes_, rows));
    layout = arena_;
  }
  const uint64_t arenaBytes = layout->bytes;
  // cuBLASLt's workspace follows the intermediates, for this run alone.
  const uint64_t workspaceAt = (arenaBytes + 255) / 256 * 256;
  const uint64_t blockBytes =
      gemms_ ? workspaceAt + cublaslt::Gemms::kWorkspaceBytes : arenaBytes;
  CUdeviceptr arena = 0;
  if (blockBytes && (r = memory.allocate(blockBytes, arena)) != kSuccess)
    return driverFailure(d, r,
                         "mlp_model_run: allocating " +
                             std::to_string(blockBytes) +
                             " bytes of intermediates");
  for (size_t i = 0; i < plan.values.size(); ++i) {
    const CudaValue &v = plan.values[i];
    const uint64_t bytes =
        uint64_t(v.batched ? rows : 1) * v.rowsPerBatch * v.cols * v.elemBytes;
    if (v.kind == CudaValue::Temp) {
      ptrs[i] = arena + layout->offsets[i];
      continue;
    }
    const bool input = v.kind == CudaValue::Input;
    const CudaTensorArg &t = input ? inputs[v.index] : outputs[v.index];
    if (t.onDevice) {
      ptrs[i] = reinterpret_cast<CUdeviceptr>(t.data);
      continue;
    }
    CUdeviceptr &staged = input ? stagedIn[v.index] : stagedOut[v.index];
    if (!staged) {
      copies = true;
      if ((r = memory.allocate(bytes, staged)) != kSuccess)
        return driverFailure(d, r,
                             "mlp_model_run: allocating a device copy "
                             "of a host tensor");
      if (input && bytes &&
          (r = d.cuMemcpyHtoDAsync(staged, t.data, bytes, stream)) != kSuccess)
        return driverFailure(d, r,
                             "mlp_model_run: copying an input to the GPU");
    }
    ptrs[i] = staged;
  }

  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const CudaStep &step = plan.steps[s];
    if (gemms_ && gemms_->has(s)) {
      const CudaGemm &g = step.gemm;
      if (gemms_->run(s, rows, ptrs[g.x],
                      g.residual >= 0 ? ptrs[g.residual] : 0, ptrs[g.y],
                      arena + workspaceAt, stream) &&
          (!afterFunctions_[s] ||
           launchAfter(s, ptrs[g.y],
                       rows * plan.values[g.y].rowsPerBatch *
                           plan.values[g.y].cols,
                       stream) == kSuccess))
        continue; // else its kernel computes y whole
    }
    // The work of a step: batch rows times the rows of its first Rows arg
    // (or a fixed Count, for work that does not depend on the batch).
    int64_t work = rows;
    for (const CudaArg &arg : step.args)
      if (arg.kind == CudaArg::Rows || arg.kind == CudaArg::Count) {
        work = arg.kind == CudaArg::Rows ? rows * arg.perBatch : arg.perBatch;
        break;
      }
    const int64_t tiles = (work + step.rowsPerCta - 1) / step.rowsPerCta;
    int64_t grid = step.persistent ? std::min(tiles, gridCap_[s]) : tiles;
    if (grid > 0x7fffffff)
      return fail(MLP_ERR_SHAPE,
                  "mlp_model_run: batch of " + std::to_string(rows) +
                      " rows is too large for kernel " + step.kernel);
    std::vector<CUdeviceptr> pointers(step.args.size(), 0);
    std::vector<float> numbers(step.args.size(), 0.f);
    std::vector<long long> counts(step.args.size(), 0);
    std::vector<void *> params(step.args.size());
    // The weight maps come made; the values' are made here (their memory
    // is the run's). Where the TMA cannot read one (a tensor not 16-byte
    // aligned, a GPU before Hopper), tmaReady is 0: the cp.async path.
    std::vector<TensorMap> maps = imageMaps_[s];
    int tmaReady = imageMapsReady_[s];
    for (size_t a = 0; a < step.args.size(); ++a) {
      const CudaArg &arg = step.args[a];
      switch (arg.kind) {
      case CudaArg::TensorMap:
        if (tmaReady && !arg.ofImage)
          tmaReady = encodeTensorMap(d, arg, ptrs[arg.index],
                                     rows * arg.perBatch, maps[a]);
        params[a] = &maps[a];
        break;
      case CudaArg::TmaReady:
        params[a] = &tmaReady; // read at the launch, after every map
        break;
      case CudaArg::Value:
        pointers[a] = ptrs[arg.index];
        params[a] = &pointers[a];
        break;
      case CudaArg::Image:
        pointers[a] = arg.index < 0 ? 0 : images_[arg.index];
        params[a] = &pointers[a];
        break;
      case CudaArg::Rows:
        counts[a] = rows * arg.perBatch;
        params[a] = &counts[a];
        break;
      case CudaArg::Count:
        counts[a] = arg.perBatch;
        params[a] = &counts[a];
        break;
      case CudaArg::F32:
        numbers[a] = arg.number;
        params[a] = &numbers[a];
        break;
      }
    }
    // The warp-specialized form where its tensor maps are ready.
    const bool pingPong = pingPongFunctions_[s] && tmaReady;
    const int64_t ctas =
        pingPong ? std::min((work + step.rowsPerCta - 1) / step.rowsPerCta *
                                step.pingPongColTiles,
                            pingPongCap_[s])
                 : grid;
    LaunchConfig config{
        {static_cast<unsigned>(ctas),
         static_cast<unsigned>(pingPong ? 1 : step.gridY), 1},
        {static_cast<unsigned>(pingPong ? step.pingPongThreads : step.threads),
         1, 1},
        static_cast<unsigned>(pingPong ? step.pingPongSharedBytes
                                       : step.sharedBytes),
        stream,
        nullptr,
        0};
    CUfunction f = pingPong ? pingPongFunctions_[s] : functions_[s];
    LaunchAttribute early;
    if (step.earlyLaunch && earlyLaunch_) {
      config.attrs = &early;
      config.numAttrs = 1;
      r = d.cuLaunchKernelEx(&config, f, params.data(), nullptr);
    } else {
      r = d.cuLaunchKernel(f, config.grid[0], config.grid[1], 1,
                           config.block[0], 1, 1, config.sharedBytes, stream,
                           params.data(), nullptr);
    }
    if (r != kSuccess)
      return driverFailure(d, r,
                           "mlp_model_run: launching " + step.kernel + " (" +
                               step.what + ")");
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!stagedOut[i])
      continue;
    const TensorSpec &spec = meta.outputs[i];
    uint64_t bytes = uint64_t(rows) * (spec.dtype.bits / 8);
    for (size_t d = 1; d < spec.shape.size(); ++d)
      bytes *= spec.shape[d];
    if (bytes && (r = d.cuMemcpyDtoHAsync(outputs[i].data, stagedOut[i], bytes,
                                          stream)) != kSuccess)
      return driverFailure(d, r,
                           "mlp_model_run: copying an output to the host");
  }
  if ((synchronous || copies) &&
      (r = d.cuStreamSynchronize(stream)) != kSuccess)
    return driverFailure(d, r, "mlp_model_run: the GPU work failed");
  return MLP_OK;
}

} // namespace mlp::rt
