//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
#include "CudaDriver.h"

#include <dlfcn.h>

namespace mlp::rt::cuda {
namespace {

template <class Fn>
bool bind(void *lib, const char *name, Fn &fn, std::string &missing) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!fn)
    missing += std::string(missing.empty() ? "" : ", ") + name;
  return fn != nullptr;
}

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
  bind(lib, "cuInit", d.cuInit, missing);
  bind(lib, "cuGetErrorString", d.cuGetErrorString, missing);
  bind(lib, "cuGetErrorName", d.cuGetErrorName, missing);
  bind(lib, "cuDeviceGetCount", d.cuDeviceGetCount, missing);
  bind(lib, "cuDeviceGet", d.cuDeviceGet, missing);
  bind(lib, "cuDeviceGetAttribute", d.cuDeviceGetAttribute, missing);
  bind(lib, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain, missing);
  bind(lib, "cuDevicePrimaryCtxRelease_v2", d.cuDevicePrimaryCtxRelease,
       missing);
  bind(lib, "cuCtxPushCurrent_v2", d.cuCtxPushCurrent, missing);
  bind(lib, "cuCtxPopCurrent_v2", d.cuCtxPopCurrent, missing);
  bind(lib, "cuCtxGetCurrent", d.cuCtxGetCurrent, missing);
  bind(lib, "cuModuleLoadData", d.cuModuleLoadData, missing);
  bind(lib, "cuModuleUnload", d.cuModuleUnload, missing);
  bind(lib, "cuModuleGetFunction", d.cuModuleGetFunction, missing);
  bind(lib, "cuFuncSetAttribute", d.cuFuncSetAttribute, missing);
  bind(lib, "cuOccupancyMaxActiveBlocksPerMultiprocessor",
       d.cuOccupancyMaxActiveBlocksPerMultiprocessor, missing);
  bind(lib, "cuMemAlloc_v2", d.cuMemAlloc, missing);
  bind(lib, "cuMemFree_v2", d.cuMemFree, missing);
  bind(lib, "cuMemAllocAsync", d.cuMemAllocAsync, missing);
  bind(lib, "cuMemFreeAsync", d.cuMemFreeAsync, missing);
  bind(lib, "cuMemPoolCreate", d.cuMemPoolCreate, missing);
  bind(lib, "cuMemPoolDestroy", d.cuMemPoolDestroy, missing);
  bind(lib, "cuMemPoolSetAttribute", d.cuMemPoolSetAttribute, missing);
  bind(lib, "cuMemAllocFromPoolAsync", d.cuMemAllocFromPoolAsync, missing);
  bind(lib, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD, missing);
  bind(lib, "cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync, missing);
  bind(lib, "cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync, missing);
  bind(lib, "cuLaunchKernel", d.cuLaunchKernel, missing);
  bind(lib, "cuStreamSynchronize", d.cuStreamSynchronize, missing);
  bind(lib, "cuPointerGetAttributes", d.cuPointerGetAttributes, missing);
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
