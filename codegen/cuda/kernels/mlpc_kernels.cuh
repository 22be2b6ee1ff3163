// mlpc_kernels.cuh: the device code of mlpc's CUDA backend.
//
// mlpc writes this text at the top of every generated .cu file and then
// instantiates the templates below with the model's shapes, activations and
// tile sizes as compile-time constants (codegen/cuda/lib/ProgramBuilder.cpp).
// Every kernel walks the batch in row tiles and guards the last, partial
// tile, so any batch size (0 included) is handled.
//
// Layout contract with the runtime (runtime/lib/CudaModel.cpp), which builds
// each step's weight image once at model creation:
//  - chain images: per layer, the weight as [out_pad][in_pad + 8] elements of
//    the compute type (the checkpoint's (out, in) layout, zero padded; the 8
//    extra columns keep ldmatrix free of bank conflicts), then the bias as
//    out_pad floats; every piece starts at a 16-byte aligned offset that the
//    compiler computed and passes in as a template argument.
//  - linear images: the weight as [out][in] in the compute type, then the
//    bias as out floats (16-byte aligned).
#ifndef MLPC_KERNELS_CUH
#define MLPC_KERNELS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace mlpc {

enum Act : int {
  kIdentity = 0,
  kRelu = 1,
  kGeluErf = 2,
  kGeluTanh = 3,
  kSilu = 4,
  kSigmoid = 5,
  kTanh = 6,
  kSin = 7,
  kCos = 8,
};

template <int A> __device__ __forceinline__ float activate(float x) {
  if constexpr (A == kRelu)
    return fmaxf(x, 0.f);
  else if constexpr (A == kGeluErf)
    return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
  else if constexpr (A == kGeluTanh)
    return 0.5f * x *
           (1.f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
  else if constexpr (A == kSilu)
    return x / (1.f + expf(-x));
  else if constexpr (A == kSigmoid)
    return 1.f / (1.f + expf(-x));
  else if constexpr (A == kTanh)
    return tanhf(x);
  else if constexpr (A == kSin)
    return sinf(x);
  else if constexpr (A == kCos)
    return cosf(x);
  else
    return x;
}

// ---- element types --------------------------------------------------------

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

template <class T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat<float>(float v) {
  return v;
}
template <> __device__ __forceinline__ __half fromFloat<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

/// Two floats as one 32-bit register of the tensor-core type T.
template <class T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
  __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t *>(&h);
}
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t *>(&h);
}

/// Elements (row, col) and (row, col + 1) of a [rows, COLS] tensor, zero
/// outside it.
template <int COLS, class T>
__device__ __forceinline__ float2 load2(const T *__restrict__ p, long long row,
                                        int col, long long rows) {
  float2 v = make_float2(0.f, 0.f);
  if (row >= rows || col >= COLS)
    return v;
  const T *q = p + row * COLS + col;
  if constexpr (COLS % 2 == 0 && sizeof(T) == 2) {
    uint32_t bits = __ldg(reinterpret_cast<const unsigned int *>(q));
    T pair[2];
    *reinterpret_cast<uint32_t *>(pair) = bits;
    v.x = toFloat(pair[0]);
    v.y = toFloat(pair[1]);
  } else if constexpr (COLS % 2 == 0 && sizeof(T) == 4) {
    float2 f = __ldg(reinterpret_cast<const float2 *>(q));
    v.x = f.x;
    v.y = f.y;
  } else {
    v.x = toFloat(q[0]);
    if (col + 1 < COLS)
      v.y = toFloat(q[1]);
  }
  return v;
}

/// Stores (row, col) and (row, col + 1) of a [rows, COLS] tensor, skipping
/// what lies outside it.
template <int COLS, class T>
__device__ __forceinline__ void store2(T *__restrict__ p, long long row,
                                       int col, long long rows, float a,
                                       float b) {
  if (row >= rows || col >= COLS)
    return;
  T *q = p + row * COLS + col;
  if constexpr (COLS % 2 == 0 && sizeof(T) == 2) {
    T pair[2] = {fromFloat<T>(a), fromFloat<T>(b)};
    *reinterpret_cast<uint32_t *>(q) = *reinterpret_cast<uint32_t *>(pair);
  } else if constexpr (COLS % 2 == 0 && sizeof(T) == 4) {
    *reinterpret_cast<float2 *>(q) = make_float2(a, b);
  } else {
    q[0] = fromFloat<T>(a);
    if (col + 1 < COLS)
      q[1] = fromFloat<T>(b);
  }
}

// ---- tensor-core primitives (sm_80 and newer) ----------------------------

template <class T> struct IsHalf { static constexpr bool value = false; };
template <> struct IsHalf<__half> { static constexpr bool value = true; };

template <class T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4],
                                         uint32_t b0, uint32_t b1) {
  if constexpr (IsHalf<T>::value) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  }
}

__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4], const void *p) {
  uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// ---- fused narrow chains --------------------------------------------------

/// One layer of a fused chain: y = act(x W^T + b), W of shape (OUT, IN).
/// WOFF / BOFF: byte offsets of the padded weight and the bias in the image.
template <int IN, int OUT, int ACT, bool BIAS, int WOFF, int BOFF>
struct ChainLayer {
  static constexpr int kIn = IN, kOut = OUT, kAct = ACT;
  static constexpr bool kBias = BIAS;
  static constexpr int kInPad = (IN + 15) / 16 * 16;
  static constexpr int kOutPad = (OUT + 15) / 16 * 16;
  static constexpr int kStride = kInPad + 8; // elements per weight row
  static constexpr int kWeightOffset = WOFF, kBiasOffset = BOFF;
};

/// Runs layer L (and the rest of the chain) on a warp's MT x 16 rows whose
/// activations are the A fragments `a` (the m16n8k16 row-major layout:
/// a[.][kt] covers columns kt*16 .. kt*16+15). An accumulator pair of
/// neighbouring n8 tiles has exactly the A layout of the next layer's k16
/// tile, so activations stay in registers from the first layer to the last.
template <class T, class OutT, int MT, int OUTC, class L, class... Rest>
__device__ __forceinline__ void
chainLayer(const unsigned char *smem, const uint32_t (&a)[MT][L::kInPad / 16][4],
           OutT *__restrict__ y, long long base, long long rows, int lane) {
  constexpr int KT = L::kInPad / 16, NT = L::kOutPad / 8;
  const T *w = reinterpret_cast<const T *>(smem + L::kWeightOffset);
  const int g = lane >> 2, t = lane & 3;

  float acc[MT][NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) {
    float b0 = 0.f, b1 = 0.f;
    if constexpr (L::kBias) {
      const float *bias = reinterpret_cast<const float *>(smem + L::kBiasOffset);
      b0 = bias[nt * 8 + 2 * t];
      b1 = bias[nt * 8 + 2 * t + 1];
    }
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      acc[mt][nt][0] = b0;
      acc[mt][nt][1] = b1;
      acc[mt][nt][2] = b0;
      acc[mt][nt][3] = b1;
    }
  }

  // Lane l addresses row (l & 7) of matrix l >> 3; the four matrices are
  // (n tile nt, k lo), (nt, k hi), (nt + 1, k lo), (nt + 1, k hi).
  const int ldRow = ((lane >> 4) << 3) + (lane & 7);
  const int ldCol = ((lane >> 3) & 1) << 3;
#pragma unroll
  for (int kt = 0; kt < KT; ++kt) {
#pragma unroll
    for (int nt = 0; nt < NT; nt += 2) {
      uint32_t b[4];
      ldmatrixX4(b, w + (nt * 8 + ldRow) * L::kStride + kt * 16 + ldCol);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        mma16816<T>(acc[mt][nt], a[mt][kt], b[0], b[1]);
        mma16816<T>(acc[mt][nt + 1], a[mt][kt], b[2], b[3]);
      }
    }
  }

  if constexpr (sizeof...(Rest) == 0) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        const long long r0 = base + mt * 16 + g;
        const int c = nt * 8 + 2 * t;
        store2<OUTC>(y, r0, c, rows, activate<L::kAct>(acc[mt][nt][0]),
                     activate<L::kAct>(acc[mt][nt][1]));
        store2<OUTC>(y, r0 + 8, c, rows, activate<L::kAct>(acc[mt][nt][2]),
                     activate<L::kAct>(acc[mt][nt][3]));
      }
  } else {
    uint32_t next[MT][NT / 2][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int j = 0; j < NT / 2; ++j) {
        const float *lo = acc[mt][2 * j], *hi = acc[mt][2 * j + 1];
        next[mt][j][0] = pack2<T>(activate<L::kAct>(lo[0]), activate<L::kAct>(lo[1]));
        next[mt][j][1] = pack2<T>(activate<L::kAct>(lo[2]), activate<L::kAct>(lo[3]));
        next[mt][j][2] = pack2<T>(activate<L::kAct>(hi[0]), activate<L::kAct>(hi[1]));
        next[mt][j][3] = pack2<T>(activate<L::kAct>(hi[2]), activate<L::kAct>(hi[3]));
      }
    chainLayer<T, OutT, MT, OUTC, Rest...>(smem, next, y, base, rows, lane);
  }
}

template <class... Ls> struct LastOf;
template <class L> struct LastOf<L> { using type = L; };
template <class L, class... Ls> struct LastOf<L, Ls...> {
  using type = typename LastOf<Ls...>::type;
};

/// A whole narrow chain in one kernel: the CTA copies every layer's weights
/// into shared memory once, then each warp takes tiles of MT x 16 rows in a
/// grid-stride loop (the grid is sized to fill the GPU once).
template <class T, class InT, class OutT, int MT, int IMAGE_BYTES, class L0,
          class... Ls>
__device__ __forceinline__ void runChain(const InT *__restrict__ x,
                                         OutT *__restrict__ y,
                                         const uint4 *__restrict__ image,
                                         long long rows) {
  extern __shared__ uint4 chainSmem[];
  for (int i = threadIdx.x; i < IMAGE_BYTES / 16; i += blockDim.x)
    chainSmem[i] = image[i];
  __syncthreads();
  const unsigned char *smem = reinterpret_cast<const unsigned char *>(chainSmem);
  constexpr int OUTC = LastOf<L0, Ls...>::type::kOut;
  constexpr int KT = L0::kInPad / 16;
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const long long warps = blockDim.x >> 5;
  const long long tiles = (rows + MT * 16 - 1) / (MT * 16);
  for (long long tile = blockIdx.x * warps + (threadIdx.x >> 5); tile < tiles;
       tile += gridDim.x * warps) {
    const long long base = tile * MT * 16;
    uint32_t a[MT][KT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int kt = 0; kt < KT; ++kt) {
        const long long r0 = base + mt * 16 + g;
        const int c = kt * 16 + 2 * t;
        float2 v0 = load2<L0::kIn>(x, r0, c, rows);
        float2 v1 = load2<L0::kIn>(x, r0 + 8, c, rows);
        float2 v2 = load2<L0::kIn>(x, r0, c + 8, rows);
        float2 v3 = load2<L0::kIn>(x, r0 + 8, c + 8, rows);
        a[mt][kt][0] = pack2<T>(v0.x, v0.y);
        a[mt][kt][1] = pack2<T>(v1.x, v1.y);
        a[mt][kt][2] = pack2<T>(v2.x, v2.y);
        a[mt][kt][3] = pack2<T>(v3.x, v3.y);
      }
    chainLayer<T, OutT, MT, OUTC, L0, Ls...>(smem, a, y, base, rows, lane);
  }
}

// ---- general linear layers (any width, any precision) --------------------

/// y = act(x W^T + b) (+ r): a 64 x 64 output tile per CTA of 256 threads,
/// 4 x 4 outputs per thread, fp32 accumulation. W is (N, K) in type WT.
/// The residual r, when present, has y's shape and type.
template <class InT, class WT, class OutT, int K, int N, int ACT, bool BIAS,
          bool RESID>
__device__ __forceinline__ void runLinear(const InT *__restrict__ x,
                                          const unsigned char *__restrict__ image,
                                          const OutT *__restrict__ r,
                                          OutT *__restrict__ y, long long rows,
                                          int biasOffset) {
  constexpr int BM = 64, BN = 64, BK = 16;
  __shared__ float xs[BK][BM + 4];
  __shared__ float ws[BK][BN + 4];
  const WT *w = reinterpret_cast<const WT *>(image);
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  const long long row0 = static_cast<long long>(blockIdx.x) * BM;
  const int col0 = blockIdx.y * BN;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = threadIdx.x; i < BM * BK; i += 256) {
      const int m = i / BK, k = i % BK;
      const long long row = row0 + m;
      xs[k][m] = (row < rows && k0 + k < K) ? toFloat(x[row * K + k0 + k]) : 0.f;
      const int n = col0 + m;
      ws[k][m] = (n < N && k0 + k < K) ? toFloat(w[static_cast<long long>(n) * K + k0 + k]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float xv[4], wv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        xv[i] = xs[k][ty * 4 + i];
        wv[i] = ws[k][tx * 4 + i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[i][j] = fmaf(xv[i], wv[j], acc[i][j]);
    }
    __syncthreads();
  }
  const float *bias = reinterpret_cast<const float *>(image + biasOffset);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const long long row = row0 + ty * 4 + i;
    if (row >= rows)
      continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = col0 + tx * 4 + j;
      if (col >= N)
        continue;
      float v = acc[i][j];
      if constexpr (BIAS)
        v += bias[col];
      v = activate<ACT>(v);
      if constexpr (RESID)
        v += toFloat(r[row * N + col]);
      y[row * N + col] = fromFloat<OutT>(v);
    }
  }
}

// ---- row-wise and elementwise kernels ------------------------------------

/// layer_norm over the last axis (C), one warp per row, fp32 statistics
/// computed in two passes; the image holds gamma then beta as floats.
template <class InT, class OutT, int C, bool WEIGHT, bool BIAS>
__device__ __forceinline__ void runLayerNorm(const InT *__restrict__ x,
                                             const float *__restrict__ image,
                                             OutT *__restrict__ y,
                                             long long rows, float eps) {
  const int lane = threadIdx.x & 31;
  const long long warps = blockDim.x >> 5;
  for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
       row += gridDim.x * warps) {
    const InT *xr = x + row * C;
    float sum = 0.f;
    for (int c = lane; c < C; c += 32)
      sum += toFloat(xr[c]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
      sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float mean = sum / C;
    float sq = 0.f;
    for (int c = lane; c < C; c += 32) {
      const float d = toFloat(xr[c]) - mean;
      sq += d * d;
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
      sq += __shfl_xor_sync(0xffffffffu, sq, o);
    const float inv = rsqrtf(sq / C + eps);
    for (int c = lane; c < C; c += 32) {
      float v = (toFloat(xr[c]) - mean) * inv;
      if constexpr (WEIGHT)
        v *= image[c];
      if constexpr (BIAS)
        v += image[(WEIGHT ? C : 0) + c];
      y[row * C + c] = fromFloat<OutT>(v);
    }
  }
}

enum BinaryOp : int { kAdd = 0, kSub = 1, kMul = 2 };
enum Operand : int { kNone = 0, kTensor = 1, kRowParam = 2, kScalar = 3 };

/// y = act(a) or y = a op b over [rows, C]. b is a tensor of a's shape
/// (kTensor), one row of C floats from the weight image broadcast over the
/// rows (kRowParam), or the scalar `s` (kScalar).
template <class AT, class BT, class OutT, int C, int ACT, int OP, int B>
__device__ __forceinline__ void runElementwise(const AT *__restrict__ a,
                                               const BT *__restrict__ b,
                                               float s, OutT *__restrict__ y,
                                               long long rows) {
  const long long n = rows * C;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       i < n; i += static_cast<long long>(gridDim.x) * blockDim.x) {
    float v = toFloat(a[i]);
    if constexpr (B != kNone) {
      const float w = B == kScalar ? s : toFloat(b[B == kRowParam ? i % C : i]);
      v = OP == kAdd ? v + w : OP == kSub ? v - w : v * w;
    }
    y[i] = fromFloat<OutT>(activate<ACT>(v));
  }
}

} // namespace mlpc

#endif // MLPC_KERNELS_CUH
