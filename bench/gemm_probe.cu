// mlpc's warp-specialized GEMM (runGemmPingPong) on the wide MLP's layers,
// one kernel at a time: fc1 (16384 x 1024 -> 4096) with each epilogue
// activation, fc2 (16384 x 4096 -> 1024) with bias and residual. Each
// variant is checked on sampled outputs against float64 and timed cold
// (median of 9 x 20 launches after 5 warm-ups) and hot (the same after
// `seconds` of back-to-back launches, against the power cap). The kernels
// come from `mlpc --emit=cuda` (bench/gemm_probe.sh builds it here; run the
// binary on the GPU machine, `./gemm_probe [seconds]`). Results:
// bench/RESULTS.md, session 9.
#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "probe_check.h"

constexpr long kRows = 16384;
constexpr int kSharedBytes = 201728; // the emitter's ping-pong launch

#define PROBE_KERNEL(NAME, K, N, ACT, RES)                                     \
  extern "C" __global__ void __launch_bounds__(384, 1)                         \
      NAME(const __grid_constant__ mlpc::TensorMap mapX,                       \
           const __grid_constant__ mlpc::TensorMap mapW,                       \
           const unsigned char *image, const __half *r, __half *y,             \
           long long rows) {                                                   \
    mlpc::runGemmPingPong<__half, __half, K, N, ACT, true, RES, 4>(            \
        image, r, y, rows, N * K * 2, 0, &mapX, &mapW);                        \
  }

PROBE_KERNEL(fc1Bias, 1024, 4096, mlpc::kIdentity, false)
PROBE_KERNEL(fc1Relu, 1024, 4096, mlpc::kRelu, false)
PROBE_KERNEL(fc1Gelu, 1024, 4096, mlpc::kGeluErf, false)
PROBE_KERNEL(fc1GeluTanh, 1024, 4096, mlpc::kGeluTanh, false)
PROBE_KERNEL(fc2Residual, 4096, 1024, mlpc::kIdentity, true)

using Kernel = void (*)(mlpc::TensorMap, mlpc::TensorMap, const unsigned char *,
                        const __half *, __half *, long long);

__global__ void fillHalf(__half *p, size_t n, unsigned seed, float scale) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) {
    unsigned h = unsigned(i) * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    p[i] = __float2half(((h >> 8) & 0xffff) / 65536.f * 2.f * scale - scale);
  }
}

__global__ void fillBias(float *p, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    p[i] = 0.1f * __sinf(float(i));
}

/// The kernels' TMA layout: [rows, cols] fp16, boxes of 64 columns x 128
/// rows, 128-byte swizzle (runtime/lib/CudaModel.cpp, encodeTensorMap).
mlpc::TensorMap encode(void *base, long cols, long rows) {
  CUtensorMap m;
  const cuuint64_t dims[2] = {cuuint64_t(cols), cuuint64_t(rows)};
  const cuuint64_t strides[1] = {cuuint64_t(cols) * 2};
  const cuuint32_t box[2] = {64, 128}, elementStrides[2] = {1, 1};
  CHECK(cuTensorMapEncodeTiled(
      &m, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, base, dims, strides, box,
      elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
  mlpc::TensorMap t;
  std::memcpy(&t, &m, sizeof t);
  return t;
}

/// One layer: x [rows, K], the image (weight [N, K] fp16, then N bias
/// floats), a residual and an output [rows, N].
struct Layer {
  long k, n;
  __half *x, *r, *y;
  unsigned char *image;
  mlpc::TensorMap mapX, mapW;
};

Layer makeLayer(long k, long n) {
  Layer l{k, n};
  CHECK(cudaMalloc(&l.x, kRows * k * 2));
  CHECK(cudaMalloc(&l.r, kRows * n * 2));
  CHECK(cudaMalloc(&l.y, kRows * n * 2));
  CHECK(cudaMalloc(&l.image, n * k * 2 + n * 4));
  fillHalf<<<(kRows * k + 255) / 256, 256>>>(l.x, kRows * k, 1, 2.f);
  fillHalf<<<(kRows * n + 255) / 256, 256>>>(l.r, kRows * n, 3, 1.f);
  fillHalf<<<(n * k + 255) / 256, 256>>>(reinterpret_cast<__half *>(l.image),
                                          n * k, 2, 1.7f / std::sqrt(float(k)));
  fillBias<<<(n + 255) / 256, 256>>>(
      reinterpret_cast<float *>(l.image + n * k * 2), int(n));
  l.mapX = encode(l.x, k, kRows);
  l.mapW = encode(l.image, k, n);
  return l;
}

/// Median us a launch over 9 x 20 launches (after `seconds` of them).
float timeLayer(Kernel kernel, const Layer &l, int sms, float seconds) {
  const long tiles = kRows / 128 * ((l.n + 127) / 128);
  const int grid = int(std::min<long>(tiles, sms));
  auto launch = [&] {
    kernel<<<grid, 384, kSharedBytes>>>(l.mapX, l.mapW, l.image, l.r, l.y,
                                         kRows);
  };
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 5; ++i)
    launch();
  float ms = 0;
  CHECK(cudaEventRecord(a));
  while (ms < seconds * 1e3f) {
    for (int i = 0; i < 50; ++i)
      launch();
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    CHECK(cudaEventElapsedTime(&ms, a, b));
  }
  std::vector<float> us;
  for (int rep = 0; rep < 9; ++rep) {
    CHECK(cudaEventRecord(a));
    for (int i = 0; i < 20; ++i)
      launch();
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    CHECK(cudaEventElapsedTime(&ms, a, b));
    us.push_back(ms * 1e3f / 20);
  }
  CHECK(cudaGetLastError());
  std::sort(us.begin(), us.end());
  CHECK(cudaEventDestroy(a));
  CHECK(cudaEventDestroy(b));
  return us[us.size() / 2];
}

double activation(int act, double v) {
  if (act == mlpc::kRelu)
    return v > 0 ? v : 0;
  if (act == mlpc::kGeluErf)
    return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
  if (act == mlpc::kGeluTanh)
    return 0.5 * v *
           (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  return v;
}

std::vector<float> hostHalves(const __half *p, size_t n) {
  std::vector<__half> h(n);
  CHECK(cudaMemcpy(h.data(), p, n * 2, cudaMemcpyDeviceToHost));
  std::vector<float> f(n);
  for (size_t i = 0; i < n; ++i)
    f[i] = __half2float(h[i]);
  return f;
}

/// The largest error of 2000 sampled outputs against float64, relative to
/// 1 + |reference| (fp16 outputs: about 1e-3).
double sampledError(const Layer &l, int act, bool residual) {
  const std::vector<float> x = hostHalves(l.x, kRows * l.k),
                           w = hostHalves(reinterpret_cast<const __half *>(l.image),
                                          l.n * l.k),
                           r = hostHalves(l.r, kRows * l.n),
                           y = hostHalves(l.y, kRows * l.n);
  std::vector<float> bias(l.n);
  CHECK(cudaMemcpy(bias.data(), l.image + l.n * l.k * 2, l.n * 4,
                   cudaMemcpyDeviceToHost));
  double worst = 0;
  for (long s = 0; s < 2000; ++s) {
    const long i = (s * 7919) % kRows, j = (s * 104729) % l.n;
    double v = bias[j];
    for (long k = 0; k < l.k; ++k)
      v += double(x[i * l.k + k]) * w[j * l.k + k];
    v = activation(act, v) + (residual ? r[i * l.n + j] : 0.0);
    const double e = std::fabs(v - y[i * l.n + j]) / (1 + std::fabs(v));
    if (!(e <= worst)) // a NaN stays
      worst = e;
  }
  return worst;
}

int main(int argc, char **argv) {
  const float hot = argc > 1 ? float(std::atof(argv[1])) : 1.f;
  int sms;
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs\n", prop.name, sms);
  const Layer fc1 = makeLayer(1024, 4096), fc2 = makeLayer(4096, 1024);
  struct Variant {
    const char *name;
    Kernel kernel;
    const Layer *layer;
    int act;
    bool residual;
  } variants[] = {
      {"fc1 + bias", fc1Bias, &fc1, mlpc::kIdentity, false},
      {"fc1 + bias, ReLU", fc1Relu, &fc1, mlpc::kRelu, false},
      {"fc1 + bias, exact GELU", fc1Gelu, &fc1, mlpc::kGeluErf, false},
      {"fc1 + bias, tanh GELU", fc1GeluTanh, &fc1, mlpc::kGeluTanh, false},
      {"fc2 + bias + residual", fc2Residual, &fc2, mlpc::kIdentity, true}};
  for (const Variant &v : variants)
    CHECK(cudaFuncSetAttribute(v.kernel,
                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                               kSharedBytes));
  std::printf("| layer | cold us | TFLOP/s | hot us (after %.1f s) | sampled error |\n"
              "|---|---|---|---|---|\n", hot);
  // Every variant cold first (the hot runs heat the GPU for the next).
  float cold[5], warm[5];
  double error[5];
  for (int i = 0; i < 5; ++i) {
    // NaNs (0xffff) in y first: a kernel that writes nothing fails its check.
    CHECK(cudaMemset(variants[i].layer->y, 0xff, kRows * variants[i].layer->n * 2));
    cold[i] = timeLayer(variants[i].kernel, *variants[i].layer, sms, 0.f);
    error[i] = sampledError(*variants[i].layer, variants[i].act, variants[i].residual);
  }
  for (int i = 0; i < 5; ++i)
    warm[i] = timeLayer(variants[i].kernel, *variants[i].layer, sms, hot);
  for (int i = 0; i < 5; ++i)
    std::printf("| %s | %.1f | %.0f | %.1f | %.1e |\n", variants[i].name, cold[i],
                2.0 * kRows * variants[i].layer->k * variants[i].layer->n / cold[i] / 1e6,
                warm[i], error[i]);
  return 0;
}
