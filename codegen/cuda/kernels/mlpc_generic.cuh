// mlpc_generic.cuh: the general kernels of mlpc's CUDA backend.
//
// Follows mlpc_kernels.cuh in every generated .cu file (it uses its Act
// codes, activate<>, toFloat and fromFloat). Where mlpc_kernels.cuh holds
// the fast paths of the common shapes, these kernels take any shape: N-D
// broadcasting elementwise ops, permutations, concatenations, slices and
// broadcasts (all "mapped" copies), reductions along one axis, softmax,
// embeddings, batch_norm, B-spline bases, pooling, convolution patches and
// a small general matrix product.
//
// Mapped kernels get a MAP type that the compiler writes for each step: its
// static `at(i, oy, oa, ob)` turns the flat index of an element of the
// iteration space (the batch, then static dims) into the element offsets of
// the result and the operands, with the shapes and strides as constants (a
// stride of 0 broadcasts). Every kernel is a grid-stride loop over 64-bit
// indices, so any batch size and grid is handled.
#ifndef MLPC_GENERIC_CUH
#define MLPC_GENERIC_CUH

namespace mlpc {

enum GenericOp : int {
  kGAdd = 0,
  kGSub = 1,
  kGMul = 2,
  kGDiv = 3,
  kGRsub = 4, // b - a
  kGRdiv = 5, // b / a
  kGNone = 6, // a only (copies, activations)
};
/// Where operand b comes from: nothing, a tensor (device buffer of BT), the
/// weight image (floats), or the scalar argument.
enum GenericOperand : int { kGOpNone = 0, kGOpTensor = 1, kGOpScalar = 2 };

template <int OP> __device__ __forceinline__ float combine(float a, float b) {
  if constexpr (OP == kGAdd)
    return a + b;
  else if constexpr (OP == kGSub)
    return a - b;
  else if constexpr (OP == kGMul)
    return a * b;
  else if constexpr (OP == kGDiv)
    return a / b;
  else if constexpr (OP == kGRsub)
    return b - a;
  else if constexpr (OP == kGRdiv)
    return b / a;
  else
    return a;
}

__device__ __forceinline__ long long globalThread() {
  return blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ long long gridThreads() {
  return static_cast<long long>(gridDim.x) * blockDim.x;
}

/// y[oy] = act(a[oa] OP b[ob]) (or act(a[oa] OP s)) for the `count`
/// elements of the iteration space; MAP::at gives the offsets.
template <class MAP, class AT, class BT, class OT, int ACT, int OP, int B>
__device__ __forceinline__ void runMapped(const AT *__restrict__ a,
                                          const BT *__restrict__ b, float s,
                                          OT *__restrict__ y, long long count) {
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    long long oy, oa, ob;
    MAP::at(i, oy, oa, ob);
    float v = toFloat(a[oa]);
    if constexpr (B == kGOpTensor)
      v = combine<OP>(v, toFloat(b[ob]));
    else if constexpr (B == kGOpScalar)
      v = combine<OP>(v, s);
    y[oy] = fromFloat<OT>(activate<ACT>(v));
  }
}

/// Reductions of [OUTER, L, INNER] along L (OUTER counts the batch):
/// MODE 0 sums, 1 averages. `count` = OUTER * INNER outputs. A warp per
/// output where the reduced axis is the last (INNER == 1), else a thread per
/// output, which reads consecutive INNER elements across the warp.
template <class IT, class OT, int L, int INNER, int MODE>
__device__ __forceinline__ void runReduce(const IT *__restrict__ x,
                                          OT *__restrict__ y, long long count) {
  constexpr float scale = MODE == 1 ? 1.f / L : 1.f;
  if constexpr (INNER == 1) {
    const int lane = threadIdx.x & 31;
    const long long warps = gridThreads() >> 5;
    for (long long o = globalThread() >> 5; o < count; o += warps) {
      float sum = 0.f;
      for (int l = lane; l < L; l += 32)
        sum += toFloat(x[o * L + l]);
#pragma unroll
      for (int k = 16; k > 0; k >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, k);
      if (lane == 0)
        y[o] = fromFloat<OT>(sum * scale);
    }
  } else {
    for (long long o = globalThread(); o < count; o += gridThreads()) {
      const long long outer = o / INNER, inner = o % INNER;
      const IT *p = x + outer * L * INNER + inner;
      float sum = 0.f;
      for (int l = 0; l < L; ++l)
        sum += toFloat(p[static_cast<long long>(l) * INNER]);
      y[o] = fromFloat<OT>(sum * scale);
    }
  }
}

/// softmax of [OUTER, L, INNER] along L; `count` = OUTER * INNER columns,
/// a thread each (max, sum of exponentials, then the quotients).
template <class IT, class OT, int L, int INNER>
__device__ __forceinline__ void
runSoftmax(const IT *__restrict__ x, OT *__restrict__ y, long long count) {
  for (long long o = globalThread(); o < count; o += gridThreads()) {
    const long long base = (o / INNER) * L * INNER + o % INNER;
    float m = -INFINITY;
    for (int l = 0; l < L; ++l)
      m = fmaxf(m, toFloat(x[base + static_cast<long long>(l) * INNER]));
    float sum = 0.f;
    for (int l = 0; l < L; ++l)
      sum += expf(toFloat(x[base + static_cast<long long>(l) * INNER]) - m);
    const float inv = 1.f / sum;
    for (int l = 0; l < L; ++l) {
      const long long at = base + static_cast<long long>(l) * INNER;
      y[at] = fromFloat<OT>(expf(toFloat(x[at]) - m) * inv);
    }
  }
}

/// y[k, d] = table[ids[k], d] for ids in [0, V), else 0 (never reading
/// outside the table, as the CPU code); `count` = ids * D.
template <class IDT, class OT, long long V, int D>
__device__ __forceinline__ void
runEmbedding(const IDT *__restrict__ ids, const float *__restrict__ table,
             OT *__restrict__ y, long long count) {
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const long long k = i / D;
    const int d = static_cast<int>(i - k * D);
    const long long id = static_cast<long long>(ids[k]);
    const float v = id >= 0 && id < V ? table[id * D + d] : 0.f;
    y[i] = fromFloat<OT>(v);
  }
}

/// 1 where ids[i] != PAD, else 0; `count` = ids.
template <class IDT, class OT, long long PAD>
__device__ __forceinline__ void runPaddingMask(const IDT *__restrict__ ids,
                                               OT *__restrict__ y,
                                               long long count) {
  for (long long i = globalThread(); i < count; i += gridThreads())
    y[i] = fromFloat<OT>(static_cast<long long>(ids[i]) != PAD ? 1.f : 0.f);
}

/// batch_norm over the last axis (C) with running statistics: the image
/// holds mean, var, then weight and bias (if any) as C floats each.
template <class IT, class OT, int C, bool WEIGHT, bool BIAS>
__device__ __forceinline__ void
runBatchNorm(const IT *__restrict__ x, const float *__restrict__ image,
             OT *__restrict__ y, float eps, long long count) {
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const int c = static_cast<int>(i % C);
    float v = (toFloat(x[i]) - image[c]) * rsqrtf(image[C + c] + eps);
    if constexpr (WEIGHT)
      v *= image[2 * C + c];
    if constexpr (BIAS)
      v += image[(WEIGHT ? 3 : 2) * C + c];
    y[i] = fromFloat<OT>(v);
  }
}

/// MetaFormer's pooling token mixer after a group_norm, in one pass over
/// channels-last x [N, H, W, C]: y = x + (avg_pool(g) - g) * scale with
/// g = group_norm(x) (stats from runGroupNormStats, the channel weight and
/// bias at floats 0 and BIAS_AT of the image, the scale at SCALE_AT), the
/// average over the K x K window of stride 1 and padding K / 2, counting the
/// padding or not; `count` = N * H * W * C.
template <class IT, class OT, int H, int W, int C, int K, bool INCLUDE_PAD,
          int BIAS_AT, int SCALE_AT>
__device__ __forceinline__ void
runPoolMixer(const IT *__restrict__ x, const float *__restrict__ stats,
             const float *__restrict__ image, OT *__restrict__ y,
             long long count) {
  constexpr int P = K / 2;
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const int c = static_cast<int>(i % C);
    long long q = i / C;
    const int w = static_cast<int>(q % W);
    q /= W;
    const int h = static_cast<int>(q % H);
    const long long n = q / H;
    const float scale = stats[2 * n + 1] * image[c], shift = image[BIAS_AT + c];
    const float mean = stats[2 * n];
    float sum = 0.f;
    int inside = 0;
    for (int di = 0; di < K; ++di) {
      const int hh = h + di - P;
      if (hh < 0 || hh >= H)
        continue;
      for (int dj = 0; dj < K; ++dj) {
        const int ww = w + dj - P;
        if (ww < 0 || ww >= W)
          continue;
        sum += fmaf(toFloat(x[((n * H + hh) * W + ww) * C + c]) - mean, scale,
                    shift);
        ++inside;
      }
    }
    const float v = toFloat(x[i]);
    const float g = fmaf(v - mean, scale, shift);
    y[i] = fromFloat<OT>(
        fmaf(sum / (INCLUDE_PAD ? K * K : inside) - g, image[SCALE_AT + c], v));
  }
}

/// y = act(y) in place: the exact GELU after a cuBLASLt product, whose own
/// GELU is the tanh approximation. 16-byte accesses where y allows them.
template <class T, int ACT>
__device__ __forceinline__ void runActivateInPlace(T *__restrict__ y,
                                                   long long count) {
  long long done = 0;
  if constexpr (sizeof(T) == 2) {
    if ((reinterpret_cast<unsigned long long>(y) & 15) == 0) {
      done = count / 8 * 8;
      uint4 *v = reinterpret_cast<uint4 *>(y);
      for (long long i = globalThread(); i < count / 8; i += gridThreads()) {
        uint4 q = v[i];
        T *e = reinterpret_cast<T *>(&q);
#pragma unroll
        for (int k = 0; k < 8; ++k)
          e[k] = fromFloat<T>(activate<ACT>(toFloat(e[k])));
        v[i] = q;
      }
    }
  }
  for (long long i = done + globalThread(); i < count; i += gridThreads())
    y[i] = fromFloat<T>(activate<ACT>(toFloat(y[i])));
}

/// group_norm with one group (GroupNorm(1, C)): statistics over each
/// sample's PC elements in three passes instead of the decomposition's
/// dozen. Pass 1: CTA (s, j) sums chunk j of sample s into part[s][j] =
/// {sum, sum of squares}, both of x minus the sample's first element (a
/// shift that keeps a large mean from cancelling the variance).
template <class IT, long long PC, int CHUNKS>
__device__ __forceinline__ void
runGroupNormPartials(const IT *__restrict__ x, float *__restrict__ part,
                     long long samples) {
  const long long s = blockIdx.x;
  if (s >= samples)
    return;
  constexpr long long per = (PC + CHUNKS - 1) / CHUNKS;
  const long long begin = blockIdx.y * per;
  const long long end = begin + per < PC ? begin + per : PC;
  const IT *p = x + s * PC;
  const float shift = toFloat(p[0]);
  float s1 = 0.f, s2 = 0.f;
#pragma unroll 4
  for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float v = toFloat(p[i]) - shift;
    s1 += v;
    s2 = fmaf(v, v, s2);
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    s1 += __shfl_xor_sync(0xffffffffu, s1, o);
    s2 += __shfl_xor_sync(0xffffffffu, s2, o);
  }
  __shared__ float warpSums[2][32];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) {
    warpSums[0][warp] = s1;
    warpSums[1][warp] = s2;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float t1 = 0.f, t2 = 0.f;
    for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) {
      t1 += warpSums[0][w];
      t2 += warpSums[1][w];
    }
    part[(s * CHUNKS + blockIdx.y) * 2] = t1;
    part[(s * CHUNKS + blockIdx.y) * 2 + 1] = t2;
  }
}

/// Pass 2: a thread per sample combines its chunks (in double) into
/// stats[s] = {mean, 1 / sqrt(biased variance + eps)}.
template <class IT, long long PC, int CHUNKS>
__device__ __forceinline__ void
runGroupNormStats(const IT *__restrict__ x, const float *__restrict__ part,
                  float *__restrict__ stats, float eps, long long samples) {
  for (long long s = globalThread(); s < samples; s += gridThreads()) {
    double s1 = 0.0, s2 = 0.0;
    for (int j = 0; j < CHUNKS; ++j) {
      s1 += part[(s * CHUNKS + j) * 2];
      s2 += part[(s * CHUNKS + j) * 2 + 1];
    }
    const double mean = s1 / PC;
    const double var = s2 / PC - mean * mean;
    stats[2 * s] = toFloat(x[s * PC]) + static_cast<float>(mean);
    stats[2 * s + 1] =
        static_cast<float>(1.0 / sqrt((var > 0.0 ? var : 0.0) + eps));
  }
}

/// Pass 3: y = (x - mean) * rstd [* weight + bias] over the channels (the
/// image: C weights, then C biases at float BIAS_AT); `count` = samples * PC.
template <class IT, class OT, long long PC, int C, bool AFFINE, int BIAS_AT>
__device__ __forceinline__ void
runGroupNormApply(const IT *__restrict__ x, const float *__restrict__ stats,
                  const float *__restrict__ image, OT *__restrict__ y,
                  long long count) {
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const long long s = i / PC;
    float v = (toFloat(x[i]) - stats[2 * s]) * stats[2 * s + 1];
    if constexpr (AFFINE) {
      const int c = static_cast<int>(i % C);
      v = fmaf(v, image[c], image[BIAS_AT + c]);
    }
    y[i] = fromFloat<OT>(v);
  }
}

/// B-spline bases (Cox-de Boor, as efficient-kan) of x [rows, F] on the
/// knots grid [F, T] (floats of the image): y [rows, F, T - 1 - ORDER];
/// `count` = rows * F * (T - 1 - ORDER).
template <class IT, class OT, int F, int T, int ORDER>
__device__ __forceinline__ void
runBSpline(const IT *__restrict__ x, const float *__restrict__ grid,
           OT *__restrict__ y, long long count) {
  constexpr int NB = T - 1 - ORDER;
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const long long rf = i / NB; // row * F + f
    const int j = static_cast<int>(i - rf * NB);
    const int f = static_cast<int>(rf % F);
    const float v = toFloat(x[rf]);
    const float *g = grid + f * T + j;
    float b[ORDER + 1];
#pragma unroll
    for (int t = 0; t <= ORDER; ++t)
      b[t] = v >= g[t] && v < g[t + 1] ? 1.f : 0.f;
#pragma unroll
    for (int p = 1; p <= ORDER; ++p)
#pragma unroll
      for (int t = 0; t + p <= ORDER; ++t)
        b[t] = (v - g[t]) / (g[t + p] - g[t]) * b[t] +
               (g[t + p + 1] - v) / (g[t + p + 1] - g[t + 1]) * b[t + 1];
    y[i] = fromFloat<OT>(b[0]);
  }
}

/// avg_pool2d of channels-last x [N, H, W, C] (KxK windows, stride S,
/// padding P) into [N, OH, OW, C]; `count` = N * OH * OW * C.
template <class IT, class OT, int H, int W, int C, int K, int S, int P, int OH,
          int OW, bool INCLUDE_PAD>
__device__ __forceinline__ void
runAvgPool(const IT *__restrict__ x, OT *__restrict__ y, long long count) {
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const int c = static_cast<int>(i % C);
    long long q = i / C;
    const int ow = static_cast<int>(q % OW);
    q /= OW;
    const int oh = static_cast<int>(q % OH);
    const long long n = q / OH;
    float sum = 0.f;
    int inside = 0;
    for (int di = 0; di < K; ++di) {
      const int h = oh * S + di - P;
      if (h < 0 || h >= H)
        continue;
      for (int dj = 0; dj < K; ++dj) {
        const int w = ow * S + dj - P;
        if (w < 0 || w >= W)
          continue;
        sum += toFloat(x[((n * H + h) * W + w) * C + c]);
        ++inside;
      }
    }
    y[i] = fromFloat<OT>(sum / (INCLUDE_PAD ? K * K : inside));
  }
}

/// Convolution patches of channels-last x [N, H, W, C] as rows of
/// [N * OH * OW, KP] holding the C * KH * KW features in (c, i, j) order, as
/// a PyTorch weight (O, C, KH, KW) flattens, then zeros up to KP (rows of a
/// multiple of 8 halves stay on the tensor cores); zero outside the input.
/// `count` = N * OH * OW * KP.
template <class IT, class OT, int H, int W, int C, int KH, int KW, int S, int P,
          int OH, int OW, int KP>
__device__ __forceinline__ void
runConvPatches(const IT *__restrict__ x, OT *__restrict__ y, long long count) {
  constexpr int K = C * KH * KW;
  for (long long i = globalThread(); i < count; i += gridThreads()) {
    const long long row = i / KP;
    const int k = static_cast<int>(i - row * KP);
    if (k >= K) {
      y[i] = fromFloat<OT>(0.f);
      continue;
    }
    const int c = k / (KH * KW), ij = k % (KH * KW);
    const int ow = static_cast<int>(row % OW);
    const long long q = row / OW;
    const int oh = static_cast<int>(q % OH);
    const long long n = q / OH;
    const int h = oh * S + ij / KW - P, w = ow * S + ij % KW - P;
    float v = 0.f;
    if (h >= 0 && h < H && w >= 0 && w < W)
      v = toFloat(x[((n * H + h) * W + w) * C + c]);
    y[i] = fromFloat<OT>(v);
  }
}

/// y [M, N] = act(x [M, K] W + bias) in fp32 on CUDA cores, for products
/// the linear kernels do not take (a weight computed by the model, a
/// product without a batch). W is [N, K] (a linear weight) or [K, N]
/// (WKN); `bias` (N floats) may be null. 64 x 64 output tiles, each of the
/// 256 threads computing 4 x 4; `count` = M; blockIdx.y picks the column
/// tile.
template <class XT, class WT, class OT, int K, int N, bool WKN, int ACT>
__device__ __forceinline__ void
runSmallMatmul(const XT *__restrict__ x, const WT *__restrict__ w,
               const float *__restrict__ bias, OT *__restrict__ y,
               long long count) {
  __shared__ float xs[16][64 + 1];
  __shared__ float ws[16][64 + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int n0 = blockIdx.y * 64;
  for (long long m0 = blockIdx.x * 64LL; m0 < count; m0 += gridDim.x * 64LL) {
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += 16) {
      for (int e = threadIdx.x; e < 16 * 64; e += blockDim.x) {
        const int r = e / 16, kk = e % 16; // x tile: row r, k kk
        const long long m = m0 + r;
        const int k = k0 + kk;
        xs[kk][r] = m < count && k < K ? toFloat(x[m * K + k]) : 0.f;
        const int c = e % 64, kw = e / 64; // w tile: k kw, column c
        const int n = n0 + c, k2 = k0 + kw;
        float wv = 0.f;
        if (n < N && k2 < K)
          wv = toFloat(WKN ? w[static_cast<long long>(k2) * N + n]
                           : w[static_cast<long long>(n) * K + k2]);
        ws[kw][c] = wv;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < 16; ++kk) {
        float xv[4], wv[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          xv[u] = xs[kk][ty + 16 * u];
          wv[u] = ws[kk][tx + 16 * u];
        }
#pragma unroll
        for (int u = 0; u < 4; ++u)
#pragma unroll
          for (int v = 0; v < 4; ++v)
            acc[u][v] += xv[u] * wv[v];
      }
      __syncthreads();
    }
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const long long m = m0 + ty + 16 * u;
      if (m >= count)
        continue;
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        const int n = n0 + tx + 16 * v;
        if (n < N)
          y[m * N + n] =
              fromFloat<OT>(activate<ACT>(acc[u][v] + (bias ? bias[n] : 0.f)));
      }
    }
  }
}

} // namespace mlpc

#endif // MLPC_GENERIC_CUH
