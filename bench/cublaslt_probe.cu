// cuBLASLt on mlpc's GEMM shapes, to decide where --cuda-cublaslt pays: fp16
// row-major Y = X W^T + bias with cuBLASLt's epilogues (bias, tanh GELU, a
// residual as C), every algorithm of the heuristic's top 16 timed (median of
// 10 after 3 warm-ups). Build here, run on the GPU machine:
//   nvcc -O2 -arch=sm_90 bench/cublaslt_probe.cu -o cublaslt_probe -lcublasLt
//   LD_LIBRARY_PATH=/usr/local/cuda/lib64 ./cublaslt_probe
// Results: bench/RESULTS.md ("cuBLASLt on mlpc's GEMM shapes").
#include <cublasLt.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "probe_check.h"

__global__ void fill(half *p, size_t n, unsigned seed) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) {
    const unsigned h = unsigned(i * 2654435761u) ^ seed;
    p[i] = __float2half(((h >> 8) & 0xffff) / 65536.f - 0.5f);
  }
}

struct Shape {
  const char *name;
  long m, n, k; // Y [m, n] = X [m, k] W [n, k]^T
  cublasLtEpilogue_t epilogue;
  float beta; // 1: a residual as C
};

int main() {
  cublasLtHandle_t lt;
  CHECK(cublasLtCreate(&lt));
  std::printf("cuBLASLt %zu\n", cublasLtGetVersion());
  const std::vector<Shape> shapes = {
      {"wide fc1 gelu_bias", 16384, 4096, 1024, CUBLASLT_EPILOGUE_GELU_BIAS, 0},
      {"wide fc1 bias", 16384, 4096, 1024, CUBLASLT_EPILOGUE_BIAS, 0},
      {"wide fc2 bias+resid", 16384, 1024, 4096, CUBLASLT_EPILOGUE_BIAS, 1},
      {"mixS fc1 gelu_bias", 50176, 2048, 512, CUBLASLT_EPILOGUE_GELU_BIAS, 0},
      {"mixS fc1 bias", 50176, 2048, 512, CUBLASLT_EPILOGUE_BIAS, 0},
      {"mixS fc2 bias+resid", 50176, 512, 2048, CUBLASLT_EPILOGUE_BIAS, 1},
      {"mixB fc1 gelu_bias", 50176, 3072, 768, CUBLASLT_EPILOGUE_GELU_BIAS, 0},
      {"mixB fc2 bias+resid", 50176, 768, 3072, CUBLASLT_EPILOGUE_BIAS, 1},
      {"mixS tok1 gelu_bias", 131072, 256, 196, CUBLASLT_EPILOGUE_GELU_BIAS, 0},
      {"mixS tok2 bias+resid", 131072, 196, 256, CUBLASLT_EPILOGUE_BIAS, 1},
  };
  // MLPC_PROBE_WIDE: the wide MLP's layers only (fc2 also without its
  // residual), at several workspace sizes, every algorithm listed.
  const bool wide = std::getenv("MLPC_PROBE_WIDE") != nullptr;
  std::vector<Shape> wideShapes = {
      {"wide fc1 bias", 16384, 4096, 1024, CUBLASLT_EPILOGUE_BIAS, 0},
      {"wide fc2 bias", 16384, 1024, 4096, CUBLASLT_EPILOGUE_BIAS, 0},
      {"wide fc2 bias+resid", 16384, 1024, 4096, CUBLASLT_EPILOGUE_BIAS, 1}};
  const std::vector<size_t> workspaces =
      wide ? std::vector<size_t>{size_t(1) << 20, size_t(4) << 20, size_t(32) << 20}
           : std::vector<size_t>{size_t(64) << 20};
  void *ws;
  CHECK(cudaMalloc(&ws, size_t(64) << 20));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (size_t wsBytes : workspaces)
  for (const Shape &s : wide ? wideShapes : shapes) {
    half *x, *w, *y, *c, *b;
    CHECK(cudaMalloc(&x, s.m * s.k * 2));
    CHECK(cudaMalloc(&w, s.n * s.k * 2));
    CHECK(cudaMalloc(&y, s.m * s.n * 2));
    CHECK(cudaMalloc(&c, s.m * s.n * 2));
    CHECK(cudaMalloc(&b, s.n * 2));
    fill<<<(s.m * s.k + 255) / 256, 256>>>(x, s.m * s.k, 1);
    fill<<<(s.n * s.k + 255) / 256, 256>>>(w, s.n * s.k, 2);
    fill<<<(s.m * s.n + 255) / 256, 256>>>(c, s.m * s.n, 3);
    fill<<<(s.n + 255) / 256, 256>>>(b, s.n, 4);
    // Column-major: Y^T (n x m) = op_T(W) (n x k) * X^T (k x m).
    cublasLtMatmulDesc_t op;
    CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t transA = CUBLAS_OP_T, transB = CUBLAS_OP_N;
    CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA,
                                         &transA, sizeof transA));
    CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB,
                                         &transB, sizeof transB));
    CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                         &s.epilogue, sizeof s.epilogue));
    CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                         &b, sizeof b));
    cublasLtMatrixLayout_t la, lb, lc;
    CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, s.k, s.n, s.k));
    CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, s.k, s.m, s.k));
    CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, s.n, s.m, s.n));
    cublasLtMatmulPreference_t pref;
    CHECK(cublasLtMatmulPreferenceCreate(&pref));
    CHECK(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsBytes,
        sizeof wsBytes));
    cublasLtMatmulHeuristicResult_t results[16];
    int found = 0;
    CHECK(cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 16,
                                         results, &found));
    const float alpha = 1, beta = s.beta;
    const double flop = 2.0 * s.m * s.n * s.k;
    float best = 1e9f, first = 0;
    int bestIndex = -1;
    for (int i = 0; i < found; ++i) {
      std::vector<float> times;
      for (int rep = 0; rep < 13; ++rep) {
        cudaEventRecord(e0);
        const auto status =
            cublasLtMatmul(lt, op, &alpha, w, la, x, lb, &beta, c, lc, y, lc,
                           &results[i].algo, ws, wsBytes, 0);
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        if (status) {
          times.clear();
          break;
        }
        float ms;
        cudaEventElapsedTime(&ms, e0, e1);
        if (rep >= 3)
          times.push_back(ms);
      }
      if (times.empty())
        continue;
      std::sort(times.begin(), times.end());
      const float median = times[times.size() / 2];
      if (wide)
        std::printf("  workspace %zu MiB, algo #%d: %.1f us\n", wsBytes >> 20, i,
                    median * 1e3);
      if (i == 0)
        first = median;
      if (median < best) {
        best = median;
        bestIndex = i;
      }
    }
    std::printf("%-22s M=%ld N=%ld K=%ld: %d algos, heuristic #0 %.1f us "
                "(%.0f TF/s), best #%d %.1f us (%.0f TF/s)\n",
                s.name, s.m, s.n, s.k, found, first * 1e3,
                flop / first / 1e9, bestIndex, best * 1e3, flop / best / 1e9);
    cudaFree(x);
    cudaFree(w);
    cudaFree(y);
    cudaFree(c);
    cudaFree(b);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(op);
  }
}
