//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// Generated libraries must load on machines without a GPU, so the runtime
// never links libcuda: it opens libcuda.so.1 with dlopen the first time a
// model with CUDA code is created and looks up the few driver functions it
// uses. The types below are the driver ABI's (cuda.h), declared here so the
// runtime builds without the CUDA Toolkit.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_CUDADRIVER_H
#define MLP_RUNTIME_CUDADRIVER_H

#include <dlfcn.h>

#include <cstddef>
#include <string>

namespace mlp::rt::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUmemoryPool = struct CUmemPoolHandle_st *;

/// CUmemPoolProps (cuda.h): the fields mlpc sets, then zeros; the driver
/// reads only its own struct's size.
struct MemPoolProps {
  int allocType = 1;    // CU_MEM_ALLOCATION_TYPE_PINNED
  int handleTypes = 0;  // none
  int locationType = 1; // CU_MEM_LOCATION_TYPE_DEVICE
  int locationId = 0;
  unsigned char rest[128] = {};
};

constexpr CUresult kSuccess = 0;
constexpr CUresult kErrorOutOfMemory = 2;
constexpr int kAttrMultiprocessorCount = 16;
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
constexpr int kAttrMaxSharedPerBlockOptin = 97;
constexpr int kFuncAttrMaxDynamicShared = 8;
constexpr int kPointerAttrMemoryType = 2;
constexpr int kPointerAttrDeviceOrdinal = 9;
constexpr unsigned kMemoryTypeDevice = 2;
constexpr int kMemPoolReleaseThreshold = 4;

/// CUtensorMap (cuda.h): opaque, encoded by cuTensorMapEncodeTiled.
struct alignas(128) TensorMap {
  unsigned long long opaque[16];
};
constexpr int kTensorMapFloat16 = 6, kTensorMapBfloat16 = 9;
constexpr int kTensorMapSwizzle128B = 3, kTensorMapL2Promotion256B = 3;

/// CUlaunchAttribute and CUlaunchConfig (cuda.h) for cuLaunchKernelEx: the
/// one attribute mlpc sets is programmatic stream serialization (a kernel
/// that waits for the previous one itself may launch before it ends).
struct LaunchAttribute {
  int id = 6; // CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
  int pad = 0;
  union {
    int allowed = 1;
    unsigned char bytes[64];
  } value;
};
struct LaunchConfig {
  unsigned grid[3], block[3], sharedBytes;
  CUstream stream;
  LaunchAttribute *attrs;
  unsigned numAttrs;
};

static_assert(sizeof(LaunchAttribute) == 72 && sizeof(LaunchConfig) == 56,
              "cuda.h's launch structs");

/// Looks `name` up in `lib` into `fn`; on failure appends the name to
/// `missing` (a comma-separated list for the error message).
template <class Fn>
bool bindSymbol(void *lib, const char *name, Fn &fn, std::string &missing) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!fn)
    missing += std::string(missing.empty() ? "" : ", ") + name;
  return fn != nullptr;
}

struct Driver {
  bool loaded = false;
  std::string error; // why it is not loaded

  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxPushCurrent)(CUcontext);
  CUresult (*cuCtxPopCurrent)(CUcontext *);
  CUresult (*cuCtxGetCurrent)(CUcontext *);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int *, CUfunction,
                                                          int, size_t);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*cuMemPoolCreate)(CUmemoryPool *, const MemPoolProps *);
  CUresult (*cuMemPoolDestroy)(CUmemoryPool);
  CUresult (*cuMemPoolSetAttribute)(CUmemoryPool, int, void *);
  CUresult (*cuMemAllocFromPoolAsync)(CUdeviceptr *, size_t, CUmemoryPool,
                                      CUstream);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamSynchronize)(CUstream);
  /// CUDA 12 drivers and newer; null before (every launch serialized then).
  CUresult (*cuLaunchKernelEx)(const LaunchConfig *, CUfunction, void **,
                               void **) = nullptr;
  /// CUDA 12 drivers and newer; null before (no TMA kernels then).
  CUresult (*cuTensorMapEncodeTiled)(TensorMap *, int, unsigned, void *,
                                     const unsigned long long *,
                                     const unsigned long long *,
                                     const unsigned *, const unsigned *, int,
                                     int, int, int) = nullptr;
  CUresult (*cuPointerGetAttributes)(unsigned, int *, void **, CUdeviceptr);

  /// The process-wide driver, loaded and initialized on first use.
  static const Driver &get();

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
  std::string describe(CUresult r) const;
};

} // namespace mlp::rt::cuda

#endif // MLP_RUNTIME_CUDADRIVER_H
