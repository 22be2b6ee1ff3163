//===- CudaModel.h - a model's GPU state and runs ---------------*- C++ -*-===//
//
// Created with the model when its library holds CUDA kernels: the device's
// primary context, the module loaded from the embedded fatbin, one function
// per step, and the weight images uploaded once. A run launches the plan's
// steps in order on the caller's stream (or the default one), copying host
// tensors in and out when needed.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_CUDAMODEL_H
#define MLP_RUNTIME_CUDAMODEL_H

#include "CublasLt.h"
#include "CudaArena.h"
#include "CudaDriver.h"
#include "Metadata.h"

#include "mlp/runtime.h"

#include <memory>
#include <mutex>
#include <vector>

namespace mlp::rt {

/// One input or output of a run: its data and where it lives.
struct CudaTensorArg {
  void *data = nullptr;
  bool onDevice = false;
};

class CudaModel {
public:
  /// Sets up `device` (an ordinal) for the model; on failure returns the
  /// status with mlp_last_error() set and leaves `out` empty.
  static mlp_status create(const ModelMetadata &meta,
                           const std::vector<const void *> &params,
                           const unsigned char *fatbin, int device,
                           std::unique_ptr<CudaModel> &out);
  ~CudaModel();
  CudaModel(const CudaModel &) = delete;
  CudaModel &operator=(const CudaModel &) = delete;

  int device() const { return device_; }

  /// Runs the plan on `rows` rows. Returns once the work is queued on
  /// `stream` when every tensor is in device memory and `synchronous` is
  /// false; otherwise once the outputs are written.
  mlp_status run(const ModelMetadata &meta, int64_t rows,
                 const std::vector<CudaTensorArg> &inputs,
                 const std::vector<CudaTensorArg> &outputs, void *stream,
                 bool synchronous);

  /// MLP_OK if `data` is device memory of this model's GPU.
  mlp_status checkDevicePointer(const void *data, const std::string &who);

private:
  CudaModel() = default;
  mlp_status uploadImages(const ModelMetadata &meta,
                          const std::vector<const void *> &params);
  mlp_status setUpCublasLt(const CudaPlan &plan);
  /// Launches step `step`'s kernel after cuBLASLt on y (`count` elements).
  cuda::CUresult launchAfter(size_t step, cuda::CUdeviceptr y, int64_t count,
                             cuda::CUstream stream);

  const cuda::Driver *driver_ = nullptr;
  int device_ = 0;
  cuda::CUdevice handle_ = 0;
  cuda::CUcontext context_ = nullptr;
  cuda::CUmodule module_ = nullptr;
  std::vector<cuda::CUfunction> functions_;
  std::vector<int64_t> gridCap_; // persistent steps: CTAs that fit at once
  /// TMA kernels may take their tensor-map path: a Hopper GPU or newer, a
  /// driver that encodes tensor maps, and no MLPC_TMA=0 in the environment.
  bool tma_ = false;
  bool earlyLaunch_ = false; // steps marked earlyLaunch use cuLaunchKernelEx
  /// Per step, the tensor maps of its weight images, encoded once after the
  /// upload (other args' entries unused), and whether all of them encoded.
  std::vector<std::vector<cuda::TensorMap>> imageMaps_;
  std::vector<bool> imageMapsReady_;
  /// Per step, the kernel that runs after cuBLASLt (the exact GELU; null:
  /// none) and how many of its CTAs fit at once.
  std::vector<cuda::CUfunction> afterFunctions_;
  std::vector<int64_t> afterGridCap_;
  /// Per step, its warp-specialized kernel (null: none, or no TMA) and how
  /// many of its CTAs fit at once.
  std::vector<cuda::CUfunction> pingPongFunctions_;
  std::vector<int64_t> pingPongCap_;
  std::vector<cuda::CUdeviceptr> images_;
  /// Intermediates of a run: one block from this model's own memory pool,
  /// which keeps its memory between runs (the default pool would hand it
  /// back to the OS at every synchronization and map it again).
  cuda::CUmemoryPool pool_ = nullptr;
  std::vector<ValueLifetime> lifetimes_;
  std::mutex arenaMutex_;
  std::shared_ptr<const ArenaLayout> arena_; // of the last batch size run
  /// The steps cuBLASLt runs (null: every step is its kernel).
  std::unique_ptr<cublaslt::Gemms> gemms_;
};

} // namespace mlp::rt

#endif // MLP_RUNTIME_CUDAMODEL_H
