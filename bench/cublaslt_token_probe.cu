// cuBLASLt on token mixing: per sample b, Y_b [n, C] = W [n, k] X_b [k, C]
// (+ bias[t] on row t), with X, Y row-major [batch, tokens, channels] as
// the vision MLPs hold them. In cuBLASLt's column-major terms Y_b^T (C x n)
// = X_b^T (C x k) W^T (k x n): A = X (ld C, batch stride k C), B = W (ld k,
// batch stride 0), C = the bias broadcast to [n, C] (batch stride 0, beta 1),
// D = Y (ld C, batch stride n C). Checks a few outputs in double and times
// the heuristic's top algorithms (median of 20 after 3 warm-ups). Build here,
// run on the GPU machine:
//   nvcc -O2 -arch=sm_90 bench/cublaslt_token_probe.cu -o token_probe -lcublasLt
#include <cublasLt.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "probe_check.h"

static float value(size_t i, unsigned seed) {
  const unsigned h = unsigned(i * 2654435761u) ^ seed;
  return ((h >> 8) & 0xffff) / 65536.f - 0.5f;
}

struct Shape {
  const char *name;
  long batch, k, n, c;
};

int main() {
  cublasLtHandle_t lt;
  CHECK(cublasLtCreate(&lt));
  // batch 1 with channels = 256 x 768: one GEMM over token-major X [k][N C].
  const std::vector<Shape> shapes = {
      {"gMLP-S gate 196->196 x768", 256, 196, 196, 768},
      {"gMLP-S gate k 208 n 208", 256, 208, 208, 768},
      {"gMLP-S gate k 224 n 224", 256, 224, 224, 768},
      {"gMLP-S gate k 256 n 208", 256, 256, 208, 768},
      {"gMLP-S gate k 208 n 256", 256, 208, 256, 768},
      {"gMLP-S gate k 256 n 256", 256, 256, 256, 768},
      {"gMLP-S token-major k 196 n 196", 1, 196, 196, 256 * 768},
      {"gMLP-S token-major k 208 n 196", 1, 208, 196, 256 * 768},
      {"gMLP-S token-major k 256 n 196", 1, 256, 196, 256 * 768},
      {"gMLP-S token-major k 208 n 208", 1, 208, 208, 256 * 768},
      {"gMLP-S token-major k 256 n 256", 1, 256, 256, 256 * 768},
      {"ResMLP-12 196->196 x384", 256, 196, 196, 384},
      {"ResMLP-12 k 208 n 196", 256, 208, 196, 384}};
  void *workspace;
  const size_t wsBytes = 32u << 20;
  CHECK(cudaMalloc(&workspace, wsBytes));
  for (const Shape &s : shapes) {
    const size_t xs = s.batch * s.k * s.c, ys = s.batch * s.n * s.c;
    std::vector<half> hx(xs), hw(s.n * s.k), hb(s.n * s.c);
    for (size_t i = 0; i < xs; ++i) hx[i] = __float2half(value(i, 1));
    for (size_t i = 0; i < hw.size(); ++i) hw[i] = __float2half(value(i, 2) * 0.1f);
    for (long t = 0; t < s.n; ++t)
      for (long c = 0; c < s.c; ++c) hb[t * s.c + c] = __float2half(value(t, 3));
    half *x, *w, *b, *y;
    CHECK(cudaMalloc(&x, xs * 2));
    CHECK(cudaMalloc(&w, hw.size() * 2));
    CHECK(cudaMalloc(&b, hb.size() * 2));
    CHECK(cudaMalloc(&y, ys * 2));
    CHECK(cudaMemcpy(x, hx.data(), xs * 2, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(w, hw.data(), hw.size() * 2, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(b, hb.data(), hb.size() * 2, cudaMemcpyHostToDevice));
    cublasLtMatmulDesc_t desc;
    CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasLtMatrixLayout_t la, lb, lc, ld;
    auto layout = [&](cublasLtMatrixLayout_t *l, long rows, long cols, long ldm,
                      long long stride) {
      CHECK(cublasLtMatrixLayoutCreate(l, CUDA_R_16F, rows, cols, ldm));
      int count = int(s.batch);
      CHECK(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                             &count, sizeof count));
      int64_t st = stride;
      CHECK(cublasLtMatrixLayoutSetAttribute(
          *l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &st, sizeof st));
    };
    layout(&la, s.c, s.k, s.c, s.k * s.c);
    layout(&lb, s.k, s.n, s.k, 0);
    layout(&lc, s.c, s.n, s.c, 0);
    layout(&ld, s.c, s.n, s.c, s.n * s.c);
    cublasLtMatmulPreference_t pref;
    CHECK(cublasLtMatmulPreferenceCreate(&pref));
    CHECK(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsBytes, sizeof wsBytes));
    cublasLtMatmulHeuristicResult_t results[4];
    int found = 0;
    CHECK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, ld, pref, 4,
                                         results, &found));
    std::printf("%s: %d algorithms\n", s.name, found);
    const float alpha = 1, beta = 1;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    const double bytes = 2.0 * (xs + ys), flops = 2.0 * s.batch * s.n * s.k * s.c;
    for (int a = 0; a < found; ++a) {
      std::vector<float> ms;
      bool ok = true;
      for (int r = 0; r < 23 && ok; ++r) {
        cudaEventRecord(e0);
        ok = cublasLtMatmul(lt, desc, &alpha, x, la, w, lb, &beta, b, lc, y, ld,
                            &results[a].algo, workspace, wsBytes, 0) == 0;
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        float t;
        cudaEventElapsedTime(&t, e0, e1);
        if (r >= 3) ms.push_back(t);
      }
      if (!ok) { std::printf("  algo %d failed\n", a); continue; }
      std::sort(ms.begin(), ms.end());
      const double med = ms[ms.size() / 2];
      // Check a few outputs against double.
      std::vector<half> hy(ys);
      CHECK(cudaMemcpy(hy.data(), y, ys * 2, cudaMemcpyDeviceToHost));
      double worst = 0;
      for (int p = 0; p < 64; ++p) {
        const long bi = (p * 37) % s.batch, t = (p * 53) % s.n, c = (p * 101) % s.c;
        double ref = __half2float(hb[t * s.c + c]);
        for (long kk = 0; kk < s.k; ++kk)
          ref += double(__half2float(hw[t * s.k + kk])) *
                 __half2float(hx[(bi * s.k + kk) * s.c + c]);
        const double got = __half2float(hy[(bi * s.n + t) * s.c + c]);
        worst = std::max(worst, std::fabs(got - ref) / (std::fabs(ref) + 1e-2));
      }
      std::printf("  algo %d: %.1f us, %.0f GB/s, %.0f TFLOP/s, worst rel err %.2e\n",
                  a, med * 1e3, bytes / med / 1e6, flops / med / 1e9, worst);
    }
    cudaFree(x); cudaFree(w); cudaFree(b); cudaFree(y);
  }
  return 0;
}
