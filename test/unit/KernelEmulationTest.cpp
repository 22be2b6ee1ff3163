//===- KernelEmulationTest.cpp - mlpc's CUDA kernels on host threads ------===//
//
// The kernels without tensor cores, compiled for the host (CudaEmulation.h)
// and checked against float64 references on random data, at sizes that are
// no multiples of the tiles. The GPU runs the same code
// (test/lib/cuda_cases.py checks it there end to end).
//
//===----------------------------------------------------------------------===//
#include "CudaEmulation.h"

// In the generated files' order: the general kernels use the first's
// helpers (the comment keeps clang-format from sorting them).
#include "mlpc_kernels.cuh"
// then
#include "mlpc_generic.cuh"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace {

using mlpc::emulation::launch;

std::vector<float> randomVector(size_t n, unsigned seed, float offset = 0.f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float &x : v)
    x = offset + normal(gen);
  return v;
}

template <class T> std::vector<T> convert(const std::vector<float> &v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = mlpc::fromFloat<T>(v[i]);
  return out;
}

template <class T> std::vector<double> widen(const std::vector<T> &v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = mlpc::toFloat(v[i]);
  return out;
}

/// The exact GELU in float64.
double gelu(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }

double maxAbsDifference(const std::vector<double> &a,
                        const std::vector<double> &b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

/// layer_norm of one row of c values (eps 1e-5), the weight and then the
/// bias in `image`, in float64.
std::vector<double> layerNorm(const float *row, int c,
                              const std::vector<float> &image) {
  double mean = 0, var = 0;
  for (int i = 0; i < c; ++i)
    mean += row[i] / double(c);
  for (int i = 0; i < c; ++i)
    var += (row[i] - mean) * (row[i] - mean) / c;
  std::vector<double> out(c);
  for (int i = 0; i < c; ++i)
    out[i] = (row[i] - mean) / std::sqrt(var + 1e-5) * image[i] + image[c + i];
  return out;
}

/// group_norm over 37 x C elements per sample in three chunks; sample 1
/// has a mean of 40 (the shifted sums keep its variance).
template <class T, int C> void checkGroupNorm(double tolerance) {
  constexpr long long PC = 37 * C;
  constexpr int CHUNKS = 3, BIAS_AT = C, SAMPLES = 3;
  std::vector<float> x = randomVector(SAMPLES * PC, 1);
  for (long long i = PC; i < 2 * PC; ++i)
    x[i] = 40.f + 0.5f * x[i];
  const std::vector<T> xt = convert<T>(x);
  std::vector<float> image = randomVector(BIAS_AT + C, 2);
  std::vector<float> part(SAMPLES * CHUNKS * 2), stats(SAMPLES * 2);
  std::vector<T> y(SAMPLES * PC);
  launch(dim3(SAMPLES, CHUNKS), 256, [&] {
    mlpc::runGroupNormPartials<T, PC, CHUNKS>(xt.data(), part.data(), SAMPLES);
  });
  launch(dim3(2), 256, [&] {
    mlpc::runGroupNormStats<T, PC, CHUNKS>(xt.data(), part.data(), stats.data(),
                                           1e-5f, SAMPLES);
  });
  launch(dim3(5), 256, [&] {
    mlpc::runGroupNormApply<T, T, PC, C, true, BIAS_AT>(
        xt.data(), stats.data(), image.data(), y.data(), SAMPLES * PC);
  });
  const std::vector<double> x64 = widen(xt);
  std::vector<double> want(x64.size());
  for (int s = 0; s < SAMPLES; ++s) {
    double mean = 0, var = 0;
    for (long long i = 0; i < PC; ++i)
      mean += x64[s * PC + i] / PC;
    for (long long i = 0; i < PC; ++i)
      var += (x64[s * PC + i] - mean) * (x64[s * PC + i] - mean) / PC;
    for (long long i = 0; i < PC; ++i)
      want[s * PC + i] =
          (x64[s * PC + i] - mean) / std::sqrt(var + 1e-5) * image[i % C] +
          image[BIAS_AT + i % C];
  }
  EXPECT_LT(maxAbsDifference(widen(y), want), tolerance);
}

TEST(KernelEmulation, GroupNormThreePasses) {
  checkGroupNorm<float, 24>(1e-4); // 8 elements per thread
  checkGroupNorm<__half, 24>(2e-2);
  checkGroupNorm<__half, 20>(2e-2); // one
  checkGroupNorm<float, 20>(1e-4);
}

/// MetaFormer's pooling mixer after a group_norm (given statistics) on a
/// [2, 6, 5, 8] map: x + (avg_pool3x3(g) - g) * scale, with and without the
/// padding in the count.
/// The mixer over [2, 6, 5, C] in T; `shift` elements into y's buffer (a
/// y that is not 16-byte aligned takes the one-element path).
template <class T, int C, bool INCLUDE_PAD> void checkPoolMixer(int shift) {
  constexpr int N = 2, H = 6, W = 5, BIAS_AT = 8, SCALE_AT = 16 + C;
  const std::vector<T> x = convert<T>(randomVector(N * H * W * C, 10));
  const std::vector<float> image = randomVector(SCALE_AT + C, 11);
  const std::vector<float> stats = {0.3f, 1.7f, -0.2f, 0.6f};
  std::vector<T> buffer(x.size() + shift);
  T *y = buffer.data() + shift;
  launch(dim3(3), 256, [&] {
    mlpc::runPoolMixer<T, T, H, W, C, 3, INCLUDE_PAD, BIAS_AT, SCALE_AT>(
        x.data(), stats.data(), image.data(), y, N * H * W * C);
  });
  const std::vector<double> xd = widen(x);
  auto g = [&](int n, int h, int w, int c) {
    return (xd[((n * H + h) * W + w) * C + c] - stats[2 * n]) *
               stats[2 * n + 1] * image[c] +
           image[BIAS_AT + c];
  };
  const double tolerance = sizeof(T) == 2 ? 2e-2 : 1e-5;
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w)
        for (int c = 0; c < C; ++c) {
          double sum = 0;
          int inside = 0;
          for (int i = h - 1; i <= h + 1; ++i)
            for (int j = w - 1; j <= w + 1; ++j)
              if (i >= 0 && i < H && j >= 0 && j < W) {
                sum += g(n, i, j, c);
                ++inside;
              }
          const double avg = sum / (INCLUDE_PAD ? 9 : inside);
          const int at = ((n * H + h) * W + w) * C + c;
          const double want = xd[at] + (avg - g(n, h, w, c)) * image[SCALE_AT + c];
          ASSERT_NEAR(mlpc::toFloat(y[at]), want, tolerance * (1 + std::abs(want)))
              << n << " " << h << " " << w << " " << c;
        }
}

TEST(KernelEmulation, PoolingMixerAfterGroupNorm) {
  checkPoolMixer<float, 6, false>(0); // one channel per thread
  checkPoolMixer<float, 6, true>(0);
  checkPoolMixer<float, 8, false>(0); // 8 channels per thread
  checkPoolMixer<__half, 16, true>(0);
  checkPoolMixer<__half, 16, false>(0);
  checkPoolMixer<__half, 16, false>(1); // y not 16-byte aligned
}

long long transposeTiles(int n, int a, int b, int sa = mlpc::kTransposeTile,
                         int sb = mlpc::kTransposeTile) {
  return static_cast<long long>(n) * ((a + sa - 1) / sa) * ((b + sb - 1) / sb);
}

/// [3, A, B] -> [3, B, A] in T, times a scale per column, then added to or
/// multiplied by a [3, B, A] slice of rows of STRIDE from column START;
/// `shift` elements into y's buffer (not 16-byte aligned: one element per
/// access).
/// ... RACT: r read through that activation.
/// SA x SB: the tile extents.
template <class T, int OP, int A, int B, int STRIDE, int START,
          int RACT = mlpc::kIdentity, int SA = 64, int SB = 64>
void checkTransposeBack(int shift) {
  constexpr int N = 3;
  const std::vector<T> x = convert<T>(randomVector(N * A * B, 3)),
                       r = convert<T>(randomVector(N * B * STRIDE, 4));
  const std::vector<float> scale = randomVector(A, 5);
  std::vector<T> buffer(N * B * A + shift);
  T *y = buffer.data() + shift;
  launch(dim3(4), 256, [&] {
    mlpc::runTranspose<T, T, A, B, OP, true, T, STRIDE, START, false, RACT, SA,
                       SB>(x.data(), y, transposeTiles(N, A, B, SA, SB),
                           r.data(), scale.data());
  });
  const double tolerance = sizeof(T) == 2 ? 1e-2 : 1e-5;
  for (int n = 0; n < N; ++n)
    for (int b = 0; b < B; ++b)
      for (int a = 0; a < A; ++a) {
        const double v = mlpc::toFloat(x[(n * A + a) * B + b]) * double(scale[a]);
        double o = mlpc::toFloat(r[(n * B + b) * STRIDE + START + a]);
        if (RACT == mlpc::kGeluErf)
          o = gelu(o);
        const double want = OP == 1 ? o + v : o * v;
        ASSERT_NEAR(mlpc::toFloat(y[(n * B + b) * A + a]), want,
                    tolerance * (1 + std::abs(want)))
            << n << " " << b << " " << a;
      }
}

/// ResMLP's Affine norm applied as the transpose reads [2, A, B].
template <class T, int A, int B, int SA = 64, int SB = 64>
void checkTransposeAffine() {
  constexpr int N = 2, PRE_AT = B;
  const std::vector<T> x = convert<T>(randomVector(N * A * B, 12));
  const std::vector<float> pre = randomVector(PRE_AT + B, 13);
  std::vector<T> y(N * B * A);
  launch(dim3(2), 256, [&] {
    mlpc::runTranspose<T, T, A, B, 0, false, T, A, 0, true, mlpc::kIdentity,
                       SA, SB>(x.data(), y.data(),
                               transposeTiles(N, A, B, SA, SB), nullptr,
                               nullptr, pre.data(), pre.data() + PRE_AT);
  });
  const double tolerance = sizeof(T) == 2 ? 1e-2 : 1e-5;
  for (int n = 0; n < N; ++n)
    for (int a = 0; a < A; ++a)
      for (int b = 0; b < B; ++b) {
        const double want =
            mlpc::toFloat(x[(n * A + a) * B + b]) * double(pre[b]) + pre[PRE_AT + b];
        ASSERT_NEAR(mlpc::toFloat(y[(n * B + b) * A + a]), want,
                    tolerance * (1 + std::abs(want)))
            << n << " " << a << " " << b;
      }
}

TEST(KernelEmulation, TransposeReadingAnAffineMap) {
  checkTransposeAffine<float, 20, 40>();
  checkTransposeAffine<__half, 100, 72>(); // 8-byte stores
  checkTransposeAffine<__half, 260, 72>();
  // ResMLP's 196 tokens in tiles of 104 (and 92).
  checkTransposeAffine<__half, 196, 72, 104, 64>();
}

TEST(KernelEmulation, TransposeBackWithScaleAndResidualOrGate) {
  checkTransposeBack<float, 1, 40, 20, 80, 40>(0);
  checkTransposeBack<float, 2, 40, 20, 80, 40>(0);
  // 8-byte loads (rows of 100 halves), 16-byte stores and residual loads,
  // partial tiles.
  checkTransposeBack<__half, 1, 72, 100, 144, 72>(0);
  checkTransposeBack<__half, 2, 72, 100, 144, 72>(0);
  checkTransposeBack<__half, 1, 72, 100, 144, 72>(1); // one element
  // Output rows of 300, several tiles each.
  checkTransposeBack<__half, 1, 300, 20, 600, 300>(0);
  checkTransposeBack<__half, 2, 300, 20, 300, 0>(1);
  // gMLP's gate: the multiply reads r through the GELU its producer left.
  checkTransposeBack<__half, 2, 300, 20, 600, 0, mlpc::kGeluErf>(0);
  checkTransposeBack<float, 2, 40, 20, 80, 40, mlpc::kGeluErf>(0);
  // Tiles of 104 along 196 (rows of 196 halves read in 8-byte pieces, or
  // written so), either axis.
  checkTransposeBack<__half, 1, 72, 196, 144, 72, mlpc::kIdentity, 64, 104>(0);
  checkTransposeBack<__half, 2, 196, 72, 392, 196, mlpc::kGeluErf, 104, 64>(0);
}

/// layer_norm over C columns of rows of STRIDE (a slice from column START)
/// of [2, T, *], written as [2, C, T].
template <class E, int T, int C, int STRIDE, int START,
          int XACT = mlpc::kIdentity, int ST = 64>
void checkLayerNormTransposed(int shift) {
  constexpr int N = 2;
  const std::vector<float> x = randomVector(N * T * STRIDE, 6, 3.f),
                           image = randomVector(2 * C, 7);
  const std::vector<E> xe = convert<E>(x);
  std::vector<float> xr(x.size()); // x as the kernel reads it
  for (size_t i = 0; i < x.size(); ++i)
    xr[i] = XACT == mlpc::kGeluErf ? gelu(mlpc::toFloat(xe[i]))
                                   : mlpc::toFloat(xe[i]);
  std::vector<E> buffer(N * C * T + shift);
  E *y = buffer.data() + shift;
  std::vector<float> stats(2 * N * T);
  launch(dim3(3), 256, [&] {
    mlpc::runRowStatistics<E, C, STRIDE, XACT>(xe.data() + START, stats.data(),
                                               N * T, 1e-5f);
  });
  launch(dim3(3), 256, [&] {
    mlpc::runLayerNormTranspose<E, E, T, C, true, true, STRIDE, XACT, ST>(
        xe.data() + START, stats.data(), image.data(), y,
        transposeTiles(N, T, C, ST));
  });
  const double tolerance = sizeof(E) == 2 ? 2e-2 : 1e-4;
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < T; ++t) {
      const std::vector<double> want =
          layerNorm(xr.data() + (n * T + t) * STRIDE + START, C, image);
      for (int c = 0; c < C; ++c)
        ASSERT_NEAR(mlpc::toFloat(y[(n * C + c) * T + t]), want[c],
                    tolerance * (1 + std::abs(want[c])))
            << n << " " << t << " " << c;
    }
}

TEST(KernelEmulation, LayerNormWrittenTransposed) {
  checkLayerNormTransposed<float, 20, 40, 80, 40>(0);
  // Several tiles, the last ones partial: 16-byte loads, 8-byte stores.
  checkLayerNormTransposed<__half, 100, 72, 144, 72>(0);
  checkLayerNormTransposed<__half, 100, 72, 144, 72>(1); // one element
  checkLayerNormTransposed<__half, 300, 24, 48, 24>(0);
  checkLayerNormTransposed<float, 300, 24, 24, 0>(1);
  // gMLP's gate: x read through the GELU its producer left.
  checkLayerNormTransposed<__half, 100, 72, 144, 72, mlpc::kGeluErf>(0);
  checkLayerNormTransposed<float, 300, 24, 48, 24, mlpc::kGeluErf>(0);
  // 196 tokens in tiles of 104.
  checkLayerNormTransposed<__half, 196, 72, 144, 72, mlpc::kGeluErf, 104>(0);
}

/// Token mixing's operand: layer_norm of a slice through the deferred GELU,
/// in halves, written with PADDED rows a sample, the last ones zeros.
TEST(KernelEmulation, LayerNormWrittenWithPaddingRows) {
  constexpr int N = 3, T = 13, PADDED = 16, C = 40, STRIDE = 80, START = 40;
  const std::vector<float> x = randomVector(N * T * STRIDE, 30),
                           image = randomVector(2 * C, 31);
  const std::vector<__half> xh = convert<__half>(x);
  std::vector<__half> y(N * PADDED * C, mlpc::fromFloat<__half>(7.f));
  launch(dim3(2), 256, [&] {
    mlpc::runLayerNorm<__half, __half, C, true, true, STRIDE, mlpc::kGeluErf,
                       T, PADDED>(xh.data() + START, image.data(), y.data(),
                                  N * PADDED, 1e-5f);
  });
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < PADDED; ++t) {
      std::vector<float> row(C);
      for (int c = 0; c < C && t < T; ++c)
        row[c] = static_cast<float>(
            gelu(mlpc::toFloat(xh[(n * T + t) * STRIDE + START + c])));
      const std::vector<double> want = layerNorm(row.data(), C, image);
      for (int c = 0; c < C; ++c)
        ASSERT_NEAR(mlpc::toFloat(y[(n * PADDED + t) * C + c]),
                    t < T ? want[c] : 0.0, 2e-2)
            << n << " " << t << " " << c;
    }
}

/// Copies between per-sample row counts: a slice through an activation
/// padded with zero rows, and back.
TEST(KernelEmulation, RemapRowsPadsAndUnpads) {
  constexpr int N = 3, T = 13, PADDED = 16, C = 24, STRIDE = 48, START = 24;
  const std::vector<float> x = randomVector(N * T * STRIDE, 32);
  std::vector<float> padded(N * PADDED * C, 7.f), back(N * T * C);
  launch(dim3(2), 64, [&] {
    mlpc::runRemapRows<float, float, C, STRIDE, mlpc::kRelu, T, PADDED, T>(
        x.data() + START, padded.data(), N * PADDED);
  });
  launch(dim3(3), 64, [&] {
    mlpc::runRemapRows<float, float, C, C, 0, PADDED, T, T>(
        padded.data(), back.data(), N * T);
  });
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < PADDED; ++t)
      for (int c = 0; c < C; ++c) {
        const float want =
            t < T ? std::max(x[(n * T + t) * STRIDE + START + c], 0.f) : 0.f;
        ASSERT_EQ(padded[(n * PADDED + t) * C + c], want) << n << t << c;
        if (t < T)
          ASSERT_EQ(back[(n * T + t) * C + c], want);
      }
}

/// The kernel of the token-mixing step (cuBLASLt's batched GEMM where the
/// runtime has it): y_b = W x_b + bias over padded tokens, tiles partial in
/// both directions, the bias read from its repeated [NP, C] piece, then the
/// activation.
template <bool BIAS, int ACT = mlpc::kIdentity> void checkTokenMix() {
  constexpr int N = 3, KP = 48, NP = 80, T = 45, TOUT = 70, C = 72;
  constexpr int BIAS_AT = BIAS ? NP * KP * 2 : -1;
  const std::vector<float> w = randomVector(TOUT * T, 33),
                           bias = randomVector(TOUT, 34),
                           x = randomVector(N * KP * C, 35);
  // The image as the runtime builds it: W (NP, KP) zero padded, then the
  // bias repeated along rows (zero rows past TOUT).
  std::vector<unsigned char> image(NP * KP * 2 + NP * C * 2, 0);
  auto *wi = reinterpret_cast<__half *>(image.data());
  auto *bi = reinterpret_cast<__half *>(image.data() + NP * KP * 2);
  for (int t = 0; t < NP; ++t) {
    for (int s = 0; s < KP; ++s)
      wi[t * KP + s] = mlpc::fromFloat<__half>(t < TOUT && s < T ? w[t * T + s] : 0.f);
    for (int c = 0; c < C; ++c)
      bi[t * C + c] = mlpc::fromFloat<__half>(t < TOUT ? bias[t] : 0.f);
  }
  std::vector<__half> xh = convert<__half>(x);
  for (int n = 0; n < N; ++n) // the operand's padding rows are zeros
    for (int s = T; s < KP; ++s)
      for (int c = 0; c < C; ++c)
        xh[(n * KP + s) * C + c] = mlpc::fromFloat<__half>(0.f);
  std::vector<__half> y(N * NP * C);
  constexpr long long tiles = N * ((NP + 63) / 64) * ((C + 127) / 128);
  launch(dim3(5), 256, [&] {
    mlpc::runTokenMix<__half, KP, NP, C, BIAS_AT, ACT>(xh.data(), image.data(),
                                                       y.data(), tiles);
  });
  for (int n = 0; n < N; ++n)
    for (int t = 0; t < NP; ++t)
      for (int c = 0; c < C; ++c) {
        double want = 0;
        for (int s = 0; s < T && t < TOUT; ++s)
          want += double(mlpc::toFloat(wi[t * KP + s])) *
                  mlpc::toFloat(xh[(n * KP + s) * C + c]);
        if (BIAS)
          want += mlpc::toFloat(bi[t * C + c]);
        if (ACT == mlpc::kGeluErf)
          want = gelu(want);
        ASSERT_NEAR(mlpc::toFloat(y[(n * NP + t) * C + c]), want,
                    2e-2 + 4e-3 * std::abs(want))
            << n << " " << t << " " << c;
      }
}

TEST(KernelEmulation, TokenMixAsAProductFromTheLeft) {
  checkTokenMix<true>();
  checkTokenMix<false>();
  checkTokenMix<true, mlpc::kGeluErf>(); // MLP-Mixer's first token layer
}

/// geluErf against the float64 GELU on a fine grid of [-20, 20]; NaN stays
/// NaN and +inf gives +inf.
TEST(KernelEmulation, GeluErfAccuracy) {
  double worstAbs = 0, worstRel = 0;
  for (int i = -400000; i <= 400000; ++i) {
    const float x = i * 5e-5f;
    const double want = gelu(x), got = mlpc::geluErf(x);
    ASSERT_FALSE(std::isnan(got)) << "x = " << x; // std::max would drop it
    worstAbs = std::max(worstAbs, std::abs(got - want));
    if (std::abs(x) <= 3.f && want != 0)
      worstRel = std::max(worstRel, std::abs(got - want) / std::abs(want));
  }
  EXPECT_LT(worstAbs, 5e-7);
  EXPECT_LT(worstRel, 1e-4);
  EXPECT_TRUE(std::isnan(mlpc::geluErf(std::nanf(""))));
  EXPECT_EQ(mlpc::geluErf(INFINITY), INFINITY);
  EXPECT_EQ(mlpc::geluErf(1e4f), 1e4f);
  EXPECT_EQ(mlpc::geluErf(-1e4f), 0.f);
}

/// The exact GELU in place after cuBLASLt: 16-byte pieces and a tail.
TEST(KernelEmulation, GeluInPlace) {
  const std::vector<float> x = randomVector(1003, 8);
  std::vector<__half> h = convert<__half>(x);
  std::vector<float> f = x;
  const std::vector<double> h0 = widen(h);
  launch(dim3(2), 256, [&] {
    mlpc::runActivateInPlace<__half, mlpc::kGeluErf>(h.data(), 1003);
  });
  launch(dim3(2), 256, [&] {
    mlpc::runActivateInPlace<float, mlpc::kGeluErf>(f.data(), 1003);
  });
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(f[i], gelu(x[i]), 1e-6) << i;
    ASSERT_NEAR(__half2float(h[i]), gelu(h0[i]), 4e-3) << i;
  }
}

/// KxK patches, stride S, padding P, of an [N, H, W, C] map into rows of KP
/// features (C * K * K of them, then zeros).
template <class T, int N, int H, int W, int C, int K, int S, int P, int KP>
void checkConvPatches() {
  constexpr int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
  const std::vector<T> x = convert<T>(randomVector(N * H * W * C, 9));
  // A guard of 64 rows after y, which no store may touch.
  std::vector<T> y((N * OH * OW + 64) * KP, mlpc::fromFloat<T>(-1.f));
  launch(dim3(3), 256, [&] {
    mlpc::runConvPatches<T, T, H, W, C, K, K, S, P, OH, OW, KP>(
        x.data(), y.data(), N * OH * OW);
  });
  for (int row = 0; row < N * OH * OW; ++row)
    for (int k = 0; k < KP; ++k) {
      const int n = row / (OH * OW), oh = row / OW % OH, ow = row % OW;
      const int c = k / (K * K), i = k % (K * K) / K, j = k % K;
      const int h = oh * S + i - P, w = ow * S + j - P;
      const float want = k >= C * K * K || h < 0 || h >= H || w < 0 || w >= W
                             ? 0.f
                             : mlpc::toFloat(x[((n * H + h) * W + w) * C + c]);
      ASSERT_EQ(mlpc::toFloat(y[row * KP + k]), want) << row << " " << k;
    }
  for (size_t i = N * OH * OW * KP; i < y.size(); ++i)
    ASSERT_EQ(mlpc::toFloat(y[i]), -1.f) << "store past the rows at " << i;
}

TEST(KernelEmulation, ConvolutionPatches) {
  // 27 features in rows of 32, the last 5 zero; one CTA's tile.
  checkConvPatches<float, 2, 6, 6, 3, 3, 2, 1, 32>();
  // 144 features of 16 channels in 16-byte stores; 60 rows over several
  // tiles of 42, the last one partial.
  checkConvPatches<__half, 3, 9, 7, 16, 3, 2, 1, 144>();
  // 7 x 7 patches, stride 4, of 3 channels (PoolFormer's stem): 147 -> 152.
  checkConvPatches<__half, 2, 15, 13, 3, 7, 4, 2, 152>();
}

/// The kernels that came before this harness, for regressions: layer_norm
/// over a slice, reductions along the last and a middle axis, softmax along
/// a middle axis, embeddings with ids out of range.
template <int C, int STRIDE, int START> void checkLayerNormOfASlice() {
  constexpr int ROWS = 37;
  const std::vector<float> x = randomVector(ROWS * STRIDE, 14, -2.f),
                           image = randomVector(2 * C, 15);
  std::vector<float> y(ROWS * C);
  launch(dim3(2), 256, [&] {
    mlpc::runLayerNorm<float, float, C, true, true, STRIDE>(
        x.data() + START, image.data(), y.data(), ROWS, 1e-5f);
  });
  for (int r = 0; r < ROWS; ++r) {
    const std::vector<double> want =
        layerNorm(x.data() + r * STRIDE + START, C, image);
    for (int c = 0; c < C; ++c)
      ASSERT_NEAR(y[r * C + c], want[c], 1e-4);
  }
}

TEST(KernelEmulation, LayerNormOfASlice) {
  checkLayerNormOfASlice<40, 64, 8>();
  // More than 32 elements a lane: the second pass loads the row again.
  checkLayerNormOfASlice<1064, 1080, 16>();
}

TEST(KernelEmulation, ReductionsAndSoftmax) {
  constexpr int OUTER = 6, L = 45, INNER = 7;
  const std::vector<float> x = randomVector(OUTER * L * INNER, 16);
  std::vector<float> last(OUTER * L), middle(OUTER * INNER), soft(x.size());
  launch(dim3(3), 256, [&] {
    mlpc::runReduce<float, float, INNER, 1, 0>(x.data(), last.data(),
                                               OUTER * L);
  });
  launch(dim3(3), 256, [&] {
    mlpc::runReduce<float, float, L, INNER, 1>(x.data(), middle.data(),
                                               OUTER * INNER);
  });
  launch(dim3(2), 256, [&] {
    mlpc::runSoftmax<float, float, L, INNER>(x.data(), soft.data(),
                                             OUTER * INNER);
  });
  for (int o = 0; o < OUTER * L; ++o) {
    double sum = 0;
    for (int i = 0; i < INNER; ++i)
      sum += x[o * INNER + i];
    ASSERT_NEAR(last[o], sum, 1e-4);
  }
  for (int o = 0; o < OUTER; ++o)
    for (int i = 0; i < INNER; ++i) {
      double sum = 0, top = -1e30, exps = 0;
      for (int l = 0; l < L; ++l) {
        sum += x[(o * L + l) * INNER + i];
        top = std::max<double>(top, x[(o * L + l) * INNER + i]);
      }
      ASSERT_NEAR(middle[o * INNER + i], sum / L, 1e-5);
      for (int l = 0; l < L; ++l)
        exps += std::exp(x[(o * L + l) * INNER + i] - top);
      for (int l = 0; l < L; ++l)
        ASSERT_NEAR(soft[(o * L + l) * INNER + i],
                    std::exp(x[(o * L + l) * INNER + i] - top) / exps, 1e-6);
    }
}

TEST(KernelEmulation, EmbeddingIdsOutOfRangeGiveZeros) {
  constexpr long long V = 5;
  constexpr int D = 3;
  const std::vector<float> table = randomVector(V * D, 17);
  const std::vector<long long> ids = {0, 4, -1, 5, 2, 123456789};
  std::vector<float> y(ids.size() * D, -7.f);
  launch(dim3(1), 256, [&] {
    mlpc::runEmbedding<long long, float, V, D>(ids.data(), table.data(),
                                               y.data(), ids.size() * D);
  });
  for (size_t k = 0; k < ids.size(); ++k)
    for (int d = 0; d < D; ++d)
      ASSERT_EQ(y[k * D + d],
                ids[k] >= 0 && ids[k] < V ? table[ids[k] * D + d] : 0.f);
}

/// The fp32 (CUDA-core) linear layer of f32 models: 70 rows, K = 37,
/// N = 70 (two 64 x 64 tiles each way), GELU, a layer scale and a residual.
TEST(KernelEmulation, LinearOnCudaCores) {
  constexpr int ROWS = 70, K = 37, N = 70, BIAS_AT = K * N * 4,
                SCALE_AT = BIAS_AT + N * 4;
  const std::vector<float> x = randomVector(ROWS * K, 18),
                           r = randomVector(ROWS * N, 19),
                           w = randomVector(N * K + 2 * N, 20);
  std::vector<unsigned char> image(SCALE_AT + N * 4);
  std::memcpy(image.data(), w.data(), (N * K + N) * 4); // weight, bias
  std::memcpy(image.data() + SCALE_AT, w.data() + N * K + N, N * 4);
  std::vector<float> y(ROWS * N);
  launch(dim3(2, 2), 256, [&] {
    mlpc::runLinear<float, float, float, K, N, mlpc::kGeluErf, true, true,
                    true>(x.data(), image.data(), r.data(), y.data(), ROWS,
                          BIAS_AT, -1, -1, SCALE_AT);
  });
  const float *bias = w.data() + N * K, *scale = bias + N;
  for (int i = 0; i < ROWS; ++i)
    for (int j = 0; j < N; ++j) {
      double v = bias[j];
      for (int k = 0; k < K; ++k)
        v += double(x[i * K + k]) * w[j * K + k];
      v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))) * scale[j] +
          r[i * N + j];
      ASSERT_NEAR(y[i * N + j], v, 1e-4) << i << " " << j;
    }
}

/// patch_embed's im2col of a [2, 3, 8, 12] image into 4 x 4 patches, and
/// the mean over the tokens of [2, 6, 5].
TEST(KernelEmulation, PatchesAndMeanOverTokens) {
  constexpr int N = 2, CIN = 3, H = 8, W = 12, PH = 4, PW = 4;
  constexpr int P = (H / PH) * (W / PW), K = CIN * PH * PW;
  const std::vector<float> x = randomVector(N * CIN * H * W, 21);
  std::vector<float> y(N * P * K, -1.f);
  launch(dim3(2), 256, [&] {
    mlpc::runIm2col<float, float, CIN, H, W, PH, PW>(x.data(), y.data(),
                                                     N * CIN * H * W / 4);
  });
  for (int n = 0; n < N; ++n)
    for (int p = 0; p < P; ++p)
      for (int k = 0; k < K; ++k) {
        const int c = k / (PH * PW), i = k / PW % PH, j = k % PW;
        const int h = p / (W / PW) * PH + i, w = p % (W / PW) * PW + j;
        ASSERT_EQ(y[(n * P + p) * K + k], x[((n * CIN + c) * H + h) * W + w]);
      }
  constexpr int T = 6, C = 5;
  const std::vector<float> t = randomVector(N * T * C, 22);
  std::vector<float> m(N * C);
  launch(dim3(1), 256, [&] {
    mlpc::runMeanTokens<float, float, T, C>(t.data(), m.data(), N * C);
  });
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double sum = 0;
      for (int i = 0; i < T; ++i)
        sum += t[(n * T + i) * C + c];
      ASSERT_NEAR(m[n * C + c], sum / T, 1e-6);
    }
}

/// batch_norm over the last axis with running statistics, weight and bias.
TEST(KernelEmulation, BatchNorm) {
  constexpr int C = 6, ROWS = 11;
  const std::vector<float> x = randomVector(ROWS * C, 23);
  std::vector<float> image = randomVector(4 * C, 24);
  for (int c = 0; c < C; ++c)
    image[C + c] = 0.5f + std::abs(image[C + c]); // variances
  std::vector<float> y(x.size());
  launch(dim3(1), 256, [&] {
    mlpc::runBatchNorm<float, float, C, true, true>(x.data(), image.data(),
                                                    y.data(), 1e-5f, ROWS * C);
  });
  for (int i = 0; i < ROWS * C; ++i) {
    const int c = i % C;
    ASSERT_NEAR(y[i],
                (x[i] - image[c]) / std::sqrt(image[C + c] + 1e-5) *
                        image[2 * C + c] +
                    image[3 * C + c],
                1e-5);
  }
}

} // namespace
