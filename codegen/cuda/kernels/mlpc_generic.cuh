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
/// padding or not. g is affine in x per channel, so the window sums x and
/// normalizes the sum once. One thread per V channels of a pixel: its index
/// arithmetic, once per V elements, costs more than the memory otherwise.
template <int V, class IT, class OT, int H, int W, int C, int K,
          bool INCLUDE_PAD, int BIAS_AT, int SCALE_AT>
__device__ __forceinline__ void
poolMixerPack(const IT *__restrict__ x, const float *__restrict__ stats,
              const float *__restrict__ image, OT *__restrict__ y,
              long long pack) {
  constexpr int P = K / 2;
  const int c0 = static_cast<int>(pack % (C / V)) * V;
  const long long pixel = pack / (C / V);
  const long long n = pixel / (H * W);
  const int hw = static_cast<int>(pixel - n * (H * W));
  const int h = hw / W, w = hw % W;
  const int h0 = h - P > 0 ? h - P : 0, h1 = h + P < H - 1 ? h + P : H - 1;
  const int w0 = w - P > 0 ? w - P : 0, w1 = w + P < W - 1 ? w + P : W - 1;
  const IT *sample = x + n * (H * W * C) + c0;
  float sum[V] = {}, v[V];
  for (int i = h0; i <= h1; ++i)
    for (int j = w0; j <= w1; ++j) {
      loadPack<IT, V>(sample + (i * W + j) * C, v);
#pragma unroll
      for (int k = 0; k < V; ++k)
        sum[k] += v[k];
    }
  const float inside = static_cast<float>((h1 - h0 + 1) * (w1 - w0 + 1));
  const float divisor = INCLUDE_PAD ? static_cast<float>(K * K) : inside;
  const float mean = stats[2 * n], rstd = stats[2 * n + 1];
  loadPack<IT, V>(sample + hw * C, v);
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int c = c0 + k;
    const float scale = rstd * image[c], shift = image[BIAS_AT + c];
    // The window's sum of g (zeros outside) over the divisor.
    const float avg =
        fmaf(sum[k] - inside * mean, scale, inside * shift) / divisor;
    const float g = fmaf(v[k] - mean, scale, shift);
    v[k] = fmaf(avg - g, image[SCALE_AT + c], v[k]);
  }
  storePack<OT, V>(y + pixel * C + c0, v);
}

/// `count` = N * H * W * C.
template <class IT, class OT, int H, int W, int C, int K, bool INCLUDE_PAD,
          int BIAS_AT, int SCALE_AT>
__device__ __forceinline__ void
runPoolMixer(const IT *__restrict__ x, const float *__restrict__ stats,
             const float *__restrict__ image, OT *__restrict__ y,
             long long count) {
  if constexpr (C % 8 == 0) {
    if (alignedTo<8>(x) && alignedTo<8>(y)) {
      for (long long i = globalThread(); i < count / 8; i += gridThreads())
        poolMixerPack<8, IT, OT, H, W, C, K, INCLUDE_PAD, BIAS_AT, SCALE_AT>(
            x, stats, image, y, i);
      return;
    }
  }
  for (long long i = globalThread(); i < count; i += gridThreads())
    poolMixerPack<1, IT, OT, H, W, C, K, INCLUDE_PAD, BIAS_AT, SCALE_AT>(
        x, stats, image, y, i);
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
  // Chunks of a multiple of 8 elements, read 8 at a time where aligned.
  constexpr long long per = ((PC + CHUNKS - 1) / CHUNKS + 7) / 8 * 8;
  const long long begin = blockIdx.y * per;
  const long long end = begin + per < PC ? begin + per : PC;
  const IT *p = x + s * PC;
  const float shift = toFloat(p[0]);
  float s1 = 0.f, s2 = 0.f;
  long long i = begin;
  if (alignedTo<8>(p)) {
    for (i = begin + threadIdx.x * 8; i + 8 <= end; i += blockDim.x * 8) {
      float v[8];
      loadPack<IT, 8>(p + i, v);
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        v[k] -= shift;
        s1 += v[k];
        s2 = fmaf(v[k], v[k], s2);
      }
    }
    i = end - (end - begin) % 8; // the tail (of the last chunk) one by one
  }
  for (i += threadIdx.x; i < end; i += blockDim.x) {
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
/// V elements per thread, within one sample and V channels.
template <int V, class IT, class OT, long long PC, int C, bool AFFINE,
          int BIAS_AT>
__device__ __forceinline__ void
groupNormApplyPack(const IT *__restrict__ x, const float *__restrict__ stats,
                   const float *__restrict__ image, OT *__restrict__ y,
                   long long i) {
  const long long s = i / PC;
  const float mean = stats[2 * s], rstd = stats[2 * s + 1];
  float v[V];
  loadPack<IT, V>(x + i, v);
#pragma unroll
  for (int k = 0; k < V; ++k) {
    v[k] = (v[k] - mean) * rstd;
    if constexpr (AFFINE) {
      const int c = static_cast<int>(i % C) + k;
      v[k] = fmaf(v[k], image[c], image[BIAS_AT + c]);
    }
  }
  storePack<OT, V>(y + i, v);
}

template <class IT, class OT, long long PC, int C, bool AFFINE, int BIAS_AT>
__device__ __forceinline__ void
runGroupNormApply(const IT *__restrict__ x, const float *__restrict__ stats,
                  const float *__restrict__ image, OT *__restrict__ y,
                  long long count) {
  if constexpr (C % 8 == 0 && PC % 8 == 0) {
    if (alignedTo<8>(x) && alignedTo<8>(y)) {
      for (long long i = globalThread() * 8; i < count; i += gridThreads() * 8)
        groupNormApplyPack<8, IT, OT, PC, C, AFFINE, BIAS_AT>(x, stats, image,
                                                              y, i);
      return;
    }
  }
  for (long long i = globalThread(); i < count; i += gridThreads())
    groupNormApplyPack<1, IT, OT, PC, C, AFFINE, BIAS_AT>(x, stats, image, y,
                                                          i);
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

/// Convolution patches' gather into shared memory: items of V channels of
/// one input pixel (V = C: all of them, one by one), the index arithmetic
/// once per item; the tile holds `count` rows of KP in (c, i, j) order.
template <int V, class IT, class OT, int H, int W, int C, int KH, int KW,
          int KP>
__device__ __forceinline__ void
gatherPatches(const IT *__restrict__ x, OT *tile, int count,
              const long long *base, const int *top, const int *left) {
  constexpr int ITEMS = KH * KW * (C / V);
  for (int e = threadIdx.x; e < count * ITEMS; e += blockDim.x) {
    const int r = e / ITEMS, q = e % ITEMS;
    const int ij = q / (C / V), c0 = q % (C / V) * V;
    const int h = top[r] + ij / KW, w = left[r] + ij % KW;
    const bool in = h >= 0 && h < H && w >= 0 && w < W;
    const IT *from = x + base[r] + (h * W + w) * C + c0;
    OT *to = tile + r * KP + c0 * (KH * KW) + ij;
    if constexpr (V == 8 && C != 8) {
      float v[8] = {};
      if (in)
        loadPack<IT, 8>(from, v);
#pragma unroll
      for (int k = 0; k < 8; ++k)
        to[k * (KH * KW)] = fromFloat<OT>(v[k]);
    } else {
#pragma unroll
      for (int c = 0; c < V; ++c)
        to[c * (KH * KW)] = fromFloat<OT>(in ? toFloat(from[c]) : 0.f);
    }
  }
}

/// Convolution patches of channels-last x [N, H, W, C] as rows of
/// [N * OH * OW, KP] holding the C * KH * KW features in (c, i, j) order, as
/// a PyTorch weight (O, C, KH, KW) flattens, then zeros up to KP (rows of a
/// multiple of 8 halves stay on the tensor cores); zero outside the input.
/// A CTA stages R rows in shared memory: it reads x in its own (i, j, c)
/// order, contiguous along the channels, and writes whole rows with 16-byte
/// stores where KP allows (gathering in the row's order read x with a
/// stride of C and cost 7x the bandwidth). `rows` = N * OH * OW.
template <class IT, class OT, int H, int W, int C, int KH, int KW, int S, int P,
          int OH, int OW, int KP>
__device__ __forceinline__ void
runConvPatches(const IT *__restrict__ x, OT *__restrict__ y, long long rows) {
  constexpr int K = C * KH * KW;
  constexpr int ROW_BYTES = KP * static_cast<int>(sizeof(OT));
  constexpr int R = ROW_BYTES >= 12288 ? 1
                    : 12288 / ROW_BYTES > 64 ? 64
                                             : 12288 / ROW_BYTES;
  constexpr bool VECTOR = ROW_BYTES % 16 == 0;
  __shared__ __align__(16) OT tile[R * KP];
  __shared__ long long base[R]; // the row's sample offset in x, or -1
  __shared__ int top[R], left[R];
  for (long long r0 = blockIdx.x * static_cast<long long>(R); r0 < rows;
       r0 += static_cast<long long>(gridDim.x) * R) {
    const int count = rows - r0 < R ? static_cast<int>(rows - r0) : R;
    for (int r = threadIdx.x; r < R; r += blockDim.x) {
      const long long row = r0 + r;
      const long long q = row / OW;
      base[r] = r < count ? q / OH * (static_cast<long long>(H) * W * C) : -1;
      top[r] = static_cast<int>(q % OH) * S - P;
      left[r] = static_cast<int>(row % OW) * S - P;
    }
    __syncthreads();
    if constexpr (C % 8 == 0) {
      if (alignedTo<8>(x))
        gatherPatches<8, IT, OT, H, W, C, KH, KW, KP>(x, tile, count, base, top,
                                                      left);
      else
        gatherPatches<C, IT, OT, H, W, C, KH, KW, KP>(x, tile, count, base,
                                                      top, left);
    } else {
      gatherPatches<C, IT, OT, H, W, C, KH, KW, KP>(x, tile, count, base, top,
                                                    left);
    }
    if constexpr (KP > K)
      for (int e = threadIdx.x; e < count * (KP - K); e += blockDim.x)
        tile[e / (KP - K) * KP + K + e % (KP - K)] = fromFloat<OT>(0.f);
    __syncthreads();
    OT *out = y + r0 * KP;
    if (VECTOR && alignedTo<16 / sizeof(OT)>(out)) { // tile is aligned
      const uint4 *from = reinterpret_cast<const uint4 *>(tile);
      uint4 *to = reinterpret_cast<uint4 *>(out);
      for (int e = threadIdx.x; e < count * ROW_BYTES / 16; e += blockDim.x)
        to[e] = from[e];
    } else {
      for (int e = threadIdx.x; e < count * KP; e += blockDim.x)
        out[e] = tile[e];
    }
    __syncthreads();
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
