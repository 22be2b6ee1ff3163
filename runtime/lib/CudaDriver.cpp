//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
#include "CudaDriver.h"

namespace mlp::rt::cuda {
namespace {

Driver load() {
  Driver d;
  // MLP_CUDA_DRIVER lets tests point at a missing or fake driver.
  const char *path = std::getenv("MLP_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    d.error = std::string("no CUDA driver: cannot load ") + path + " (" +
              (why ? why : "unknown reason") +
              "); is an NVIDIA GPU with its driver installed?";
    return d;
  }
  std::string missing;
  bindSymbol(lib, "cuInit", d.cuInit, missing);
  bindSymbol(lib, "cuGetErrorString", d.cuGetErrorString, missing);
  bindSymbol(lib, "cuGetErrorName", d.cuGetErrorName, missing);
  bindSymbol(lib, "cuDeviceGetCount", d.cuDeviceGetCount, missing);
  bindSymbol(lib, "cuDeviceGet", d.cuDeviceGet, missing);
  bindSymbol(lib, "cuDeviceGetAttribute", d.cuDeviceGetAttribute, missing);
  bindSymbol(lib, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain,
             missing);
  bindSymbol(lib, "cuDevicePrimaryCtxRelease_v2", d.cuDevicePrimaryCtxRelease,
             missing);
  bindSymbol(lib, "cuCtxPushCurrent_v2", d.cuCtxPushCurrent, missing);
  bindSymbol(lib, "cuCtxPopCurrent_v2", d.cuCtxPopCurrent, missing);
  bindSymbol(lib, "cuCtxGetCurrent", d.cuCtxGetCurrent, missing);
  bindSymbol(lib, "cuModuleLoadData", d.cuModuleLoadData, missing);
  bindSymbol(lib, "cuModuleUnload", d.cuModuleUnload, missing);
  bindSymbol(lib, "cuModuleGetFunction", d.cuModuleGetFunction, missing);
  bindSymbol(lib, "cuFuncSetAttribute", d.cuFuncSetAttribute, missing);
  bindSymbol(lib, "cuOccupancyMaxActiveBlocksPerMultiprocessor",
             d.cuOccupancyMaxActiveBlocksPerMultiprocessor, missing);
  bindSymbol(lib, "cuMemAlloc_v2", d.cuMemAlloc, missing);
  bindSymbol(lib, "cuMemFree_v2", d.cuMemFree, missing);
  bindSymbol(lib, "cuMemAllocAsync", d.cuMemAllocAsync, missing);
  bindSymbol(lib, "cuMemFreeAsync", d.cuMemFreeAsync, missing);
  bindSymbol(lib, "cuMemPoolCreate", d.cuMemPoolCreate, missing);
  bindSymbol(lib, "cuMemPoolDestroy", d.cuMemPoolDestroy, missing);
  bindSymbol(lib, "cuMemPoolSetAttribute", d.cuMemPoolSetAttribute, missing);
  bindSymbol(lib, "cuMemAllocFromPoolAsync", d.cuMemAllocFromPoolAsync,
             missing);
  bindSymbol(lib, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD, missing);
  bindSymbol(lib, "cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync, missing);
  bindSymbol(lib, "cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync, missing);
  bindSymbol(lib, "cuLaunchKernel", d.cuLaunchKernel, missing);
  bindSymbol(lib, "cuStreamSynchronize", d.cuStreamSynchronize, missing);
  bindSymbol(lib, "cuPointerGetAttributes", d.cuPointerGetAttributes, missing);
  std::string optional; // absent before CUDA 12: the kernels do without
  bindSymbol(lib, "cuTensorMapEncodeTiled", d.cuTensorMapEncodeTiled,
             optional);
  bindSymbol(lib, "cuLaunchKernelEx", d.cuLaunchKernelEx, optional);
  if (!missing.empty()) {
    d.error = std::string("the CUDA driver ") + path +
              " is too old: it lacks " + missing +
              " (CUDA 11.2 or newer needed)";
    return d;
  }
  CUresult r = d.cuInit(0);
  if (r != kSuccess) {
    d.error = "cuInit failed: " + d.describe(r);
    return d;
  }
  d.loaded = true;
  return d;
}

} // namespace

const Driver &Driver::get() {
  static const Driver driver = load(); // never unloaded
  return driver;
}

std::string Driver::describe(CUresult r) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(r, &name);
  if (cuGetErrorString)
    cuGetErrorString(r, &text);
  std::string s = name ? name : "CUDA error " + std::to_string(r);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

} // namespace mlp::rt::cuda
