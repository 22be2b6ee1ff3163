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
//  - chain images: per layer, the weight (out, in) zero padded to multiples
//    of 16 and stored as 8 x 8 "core matrices" of the compute type, each
//    128 contiguous bytes, row-block major: element (n, k) at
//    ((n / 8) * (in_pad / 8) + k / 8) * 64 + (n % 8) * 8 + k % 8. Both
//    ldmatrix (sm_80) and wgmma descriptors (sm_90a) read this layout without
//    bank conflicts. Then the bias as out_pad floats; every piece starts at a
//    16-byte aligned offset the compiler passes in as a template argument.
//  - linear images: the weight as [out][in] in the compute type, then the
//    bias as out floats (16-byte aligned).
#ifndef MLPC_KERNELS_CUH
#define MLPC_KERNELS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

// Dynamic shared memory; a host test harness (test/unit/CudaEmulation.h)
// declares it its own way.
#ifndef MLPC_DYNAMIC_SHARED
#define MLPC_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

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
  kExp = 9,
  kSqrt = 10,
};

/// The exact GELU, 0.5 x (1 + erf(x / sqrt 2)) = x Phi(x), with erf from
/// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), written for few
/// instructions: Phi(-|x|) = 0.5 erfc(|x| / sqrt 2) = p(t) t e^(-x^2 / 2),
/// t = 1 / (1 + c |x|), the 1 / sqrt 2 and the 0.5 folded into c and p's
/// coefficients, the reciprocal and exponential as single approximate
/// instructions (flushing to zero where e^(-x^2 / 2) does). GELU epilogues
/// of the tensor-core GEMMs are bound by these instructions.
__device__ __forceinline__ float geluErf(float x) {
  const float z = fabsf(x);
  const float d = fmaf(0.23164189f, z, 1.f), l = z * z * -0.72134752f;
  float t, e;
#if defined(__CUDA_ARCH__)
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(t) : "f"(d));
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(e) : "f"(l));
#else // the host harness of the kernel tests
  t = 1.f / d;
  e = exp2f(l);
#endif
  float p = fmaf(0.53070271f, t, -0.72657601f);
  p = fmaf(p, t, 0.71070687f);
  p = fmaf(p, t, -0.14224837f);
  p = fmaf(p, t, 0.12741480f);
  const float h = p * t * e; // Phi(-|x|)
  return x * (x >= 0.f ? 1.f - h : h);
}

template <int A> __device__ __forceinline__ float activate(float x) {
  if constexpr (A == kRelu)
    return fmaxf(x, 0.f);
  else if constexpr (A == kGeluErf)
    return geluErf(x);
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
  else if constexpr (A == kExp)
    return expf(x);
  else if constexpr (A == kSqrt)
    return sqrtf(x);
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

/// V consecutive elements moved as one access of V * sizeof(T) bytes (two
/// 16-byte accesses for 8 floats): the address must be aligned to the
/// access.
template <class T, int V>
struct alignas(sizeof(T) * V < 16 ? sizeof(T) * V : 16) Pack {
  T e[V];
};
/// The widest access, in elements (8, 4, 2 or 1), that divides both a and b.
__host__ __device__ constexpr int widthDividing(int a, int b) {
  return a % 8 == 0 && b % 8 == 0   ? 8
         : a % 4 == 0 && b % 4 == 0 ? 4
         : a % 2 == 0 && b % 2 == 0 ? 2
                                    : 1;
}
template <class T, int V>
__device__ __forceinline__ void loadPack(const T *p, float (&v)[V]) {
  const Pack<T, V> q = *reinterpret_cast<const Pack<T, V> *>(p);
#pragma unroll
  for (int k = 0; k < V; ++k)
    v[k] = toFloat(q.e[k]);
}
template <class T, int V>
__device__ __forceinline__ void storePack(T *p, const float (&v)[V]) {
  Pack<T, V> q;
#pragma unroll
  for (int k = 0; k < V; ++k)
    q.e[k] = fromFloat<T>(v[k]);
  *reinterpret_cast<Pack<T, V> *>(p) = q;
}
/// Whether p may be accessed V elements at a time (loadPack / storePack).
template <int V, class T> __device__ __forceinline__ bool alignedTo(const T *p) {
  return reinterpret_cast<unsigned long long>(p) % alignof(Pack<T, V>) == 0;
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
/// outside it. Branch-free (outside, it reads element 0 and discards it),
/// so that it may sit in a wgmma pipeline; needs rows > 0.
template <int COLS, class T>
__device__ __forceinline__ float2 load2(const T *__restrict__ p, long long row,
                                        int col, long long rows) {
  const bool inside = (row < rows) & (col < COLS);
  const T *q = p + (inside ? row * COLS + col : 0);
  float2 v;
  if constexpr (COLS % 2 == 0 && sizeof(T) == 2) {
    uint32_t bits = __ldg(reinterpret_cast<const unsigned int *>(q));
    T pair[2];
    *reinterpret_cast<uint32_t *>(pair) = bits;
    v.x = toFloat(pair[0]);
    v.y = toFloat(pair[1]);
  } else if constexpr (COLS % 2 == 0 && sizeof(T) == 4) {
    v = __ldg(reinterpret_cast<const float2 *>(q));
  } else {
    v.x = toFloat(__ldg(q));
    v.y = toFloat(__ldg(q + ((inside & (col + 1 < COLS)) ? 1 : 0)));
    v.y = (col + 1 < COLS) ? v.y : 0.f;
  }
  v.x = inside ? v.x : 0.f;
  v.y = inside ? v.y : 0.f;
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

/// Where branch-free stores put what lies outside their tensor.
__device__ uint4 storeSink;

/// store2 without branches: what lies outside the tensor goes to `sink`
/// (8 bytes of global scratch). Code between a wgmma and its wait must not
/// diverge, or ptxas serializes the tensor-core pipeline.
template <int COLS, class T>
__device__ __forceinline__ void store2Uniform(T *__restrict__ p, long long row,
                                              int col, long long rows, float a,
                                              float b, T *sink) {
  // Arithmetic, not a select: the compiler turns a select of addresses
  // back into a branch.
  const bool inside = (row < rows) & (col < COLS);
  const uintptr_t mask = ~(static_cast<uintptr_t>(inside) - 1);
  T *q = reinterpret_cast<T *>(
      (reinterpret_cast<uintptr_t>(p + row * COLS + col) & mask) |
      (reinterpret_cast<uintptr_t>(sink) & ~mask));
  if constexpr (COLS % 2 == 0 && sizeof(T) == 2) {
    T pair[2] = {fromFloat<T>(a), fromFloat<T>(b)};
    *reinterpret_cast<uint32_t *>(q) = *reinterpret_cast<uint32_t *>(pair);
  } else if constexpr (COLS % 2 == 0 && sizeof(T) == 4) {
    *reinterpret_cast<float2 *>(q) = make_float2(a, b);
  } else {
    q[0] = fromFloat<T>(a);
    const uintptr_t mask1 =
        ~(static_cast<uintptr_t>(inside & (col + 1 < COLS)) - 1);
    T *q1 = reinterpret_cast<T *>((reinterpret_cast<uintptr_t>(q + 1) & mask1) |
                                  (reinterpret_cast<uintptr_t>(sink) & ~mask1));
    q1[0] = fromFloat<T>(b);
  }
}

// ---- fragment I/O of the chains ------------------------------------------
//
// A warp's 16 x 16 A fragment gives thread (g, t) = (lane / 4, lane % 4) the
// columns 2t, 2t + 1, 2t + 8, 2t + 9 of rows g and g + 8; a 16 x 8 C
// fragment the columns 2t, 2t + 1. With VEC, the compiler permuted the
// first layer's weight columns (and the last layer's weight rows and bias)
// so that these are contiguous in memory: thread t reads its 8 KT bytes of
// a row with 16- or 8-byte loads and writes its outputs of a row in one
// piece. Logical column k of the first layer reads memory column
// (k % 8 / 2) * 4 KT + 2 (2 (k / 16) + k % 16 / 8) + k % 2; logical output
// c of the last layer is memory column (c % 8 / 2) * 2 NT + 2 (c / 8) + c % 2.

/// The A fragments of rows base + g and base + g + 8 (zero past `rows`).
template <class T, class InT, int IN, int KT, bool VEC>
__device__ __forceinline__ void loadFragments(const InT *__restrict__ x,
                                              long long base, long long rows,
                                              int g, int t,
                                              uint32_t (&a)[KT][4]) {
  if constexpr (VEC) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const long long row = base + g + 8 * h;
      const bool inside = row < rows;
      const InT *q = x + (inside ? row : 0) * IN + t * 4 * KT;
      uint32_t words[2 * KT];
      if constexpr (KT % 2 == 0) {
#pragma unroll
        for (int i = 0; i < KT / 2; ++i) {
          const uint4 v = __ldg(reinterpret_cast<const uint4 *>(q) + i);
          words[4 * i] = v.x;
          words[4 * i + 1] = v.y;
          words[4 * i + 2] = v.z;
          words[4 * i + 3] = v.w;
        }
      } else {
#pragma unroll
        for (int i = 0; i < KT; ++i) {
          const uint2 v = __ldg(reinterpret_cast<const uint2 *>(q) + i);
          words[2 * i] = v.x;
          words[2 * i + 1] = v.y;
        }
      }
#pragma unroll
      for (int i = 0; i < 2 * KT; ++i)
        words[i] = inside ? words[i] : 0u;
#pragma unroll
      for (int kt = 0; kt < KT; ++kt) {
        a[kt][h] = words[2 * kt];
        a[kt][2 + h] = words[2 * kt + 1];
      }
    }
  } else {
#pragma unroll
    for (int kt = 0; kt < KT; ++kt) {
      const int c = kt * 16 + 2 * t;
      const float2 v0 = load2<IN>(x, base + g, c, rows);
      const float2 v1 = load2<IN>(x, base + g + 8, c, rows);
      const float2 v2 = load2<IN>(x, base + g, c + 8, rows);
      const float2 v3 = load2<IN>(x, base + g + 8, c + 8, rows);
      a[kt][0] = pack2<T>(v0.x, v0.y);
      a[kt][1] = pack2<T>(v1.x, v1.y);
      a[kt][2] = pack2<T>(v2.x, v2.y);
      a[kt][3] = pack2<T>(v3.x, v3.y);
    }
  }
}

/// Stores C fragments (v[4 nt .. 4 nt + 3]: rows g, g, g + 8, g + 8 of
/// columns nt * 8 + 2t, + 1) of rows base + g and base + g + 8, branch-free.
template <class OutT, int OUTC, int NT, bool VEC>
__device__ __forceinline__ void storeFragments(OutT *__restrict__ y,
                                               long long base, long long rows,
                                               int g, int t,
                                               const float (&v)[NT * 4],
                                               OutT *sink) {
  if constexpr (VEC) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      uint32_t words[NT];
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        OutT pair[2] = {fromFloat<OutT>(v[4 * nt + 2 * h]),
                        fromFloat<OutT>(v[4 * nt + 2 * h + 1])};
        words[nt] = *reinterpret_cast<uint32_t *>(pair);
      }
      const long long row = base + g + 8 * h;
      const uintptr_t mask = ~(static_cast<uintptr_t>(row < rows) - 1);
      char *q = reinterpret_cast<char *>(
          (reinterpret_cast<uintptr_t>(y + row * OUTC + t * 2 * NT) & mask) |
          (reinterpret_cast<uintptr_t>(sink) & ~mask));
      if constexpr (NT % 4 == 0) {
#pragma unroll
        for (int i = 0; i < NT / 4; ++i)
          *reinterpret_cast<uint4 *>(q + ((16 * i) & mask)) =
              make_uint4(words[4 * i], words[4 * i + 1], words[4 * i + 2],
                         words[4 * i + 3]);
      } else if constexpr (NT % 2 == 0) {
#pragma unroll
        for (int i = 0; i < NT / 2; ++i)
          *reinterpret_cast<uint2 *>(q + ((8 * i) & mask)) =
              make_uint2(words[2 * i], words[2 * i + 1]);
      } else {
#pragma unroll
        for (int i = 0; i < NT; ++i)
          *reinterpret_cast<uint32_t *>(q + ((4 * i) & mask)) = words[i];
      }
    }
  } else {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const int c = nt * 8 + 2 * t;
      store2Uniform<OUTC>(y, base + g, c, rows, v[4 * nt], v[4 * nt + 1], sink);
      store2Uniform<OUTC>(y, base + g + 8, c, rows, v[4 * nt + 2],
                          v[4 * nt + 3], sink);
    }
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

/// ldmatrix.x4 with .trans: each 8 x 8 matrix read transposed (B fragments
/// of a matrix stored k-major).
__device__ __forceinline__ void ldmatrixX4Trans(uint32_t (&r)[4],
                                                const void *p) {
  uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(addr));
}

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MLPC_WGMMA 1
#endif

/// wgmma m64nNk16 with A from registers and B from shared memory; mlpc
/// emits a specialization for every N and type a model needs (each has its
/// own operand list).
template <class T, int N> struct Wgmma;

/// A shared-memory matrix descriptor without swizzling: `lbo` bytes between
/// core matrices along k, `sbo` along n.
__device__ __forceinline__ uint64_t smemDescriptor(const void *p, uint32_t lbo,
                                                   uint32_t sbo) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(p));
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) |
         (static_cast<uint64_t>(lbo >> 4) << 16) |
         (static_cast<uint64_t>(sbo >> 4) << 32);
}

/// cp.async of BYTES (16, or 8 for rows of K % 8 == 4 elements, which are
/// only 8-byte aligned; only 16-byte copies may bypass L1); zeros where
/// !valid (`global` must still be mapped).
template <int BYTES>
__device__ __forceinline__ void cpAsync(void *smem, const void *global,
                                        bool valid) {
  static_assert(BYTES == 16 || BYTES == 8, "cp.async of 16 or 8 bytes");
  const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  const int bytes = valid ? BYTES : 0;
  if constexpr (BYTES == 16)
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst),
                 "l"(global), "r"(bytes)
                 : "memory");
  else
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(dst),
                 "l"(global), "r"(bytes)
                 : "memory");
}

// ---- fused narrow chains --------------------------------------------------

/// One layer of a fused chain: y = act(x W^T + b), W of shape (OUT, IN).
/// WOFF / BOFF: byte offsets of the padded weight and the bias in the image.
/// FLAGS: kVecIn on a first layer, kVecOut on a last one (see
/// loadFragments / storeFragments: the weights are permuted for them).
enum ChainFlags : int { kVecIn = 1, kVecOut = 2 };

template <int IN, int OUT, int ACT, bool BIAS, int WOFF, int BOFF,
          int FLAGS = 0>
struct ChainLayer {
  static constexpr int kIn = IN, kOut = OUT, kAct = ACT;
  static constexpr bool kBias = BIAS;
  static constexpr bool kVecIn = FLAGS & 1, kVecOut = FLAGS & 2;
  static constexpr int kInPad = (IN + 15) / 16 * 16;
  static constexpr int kOutPad = (OUT + 15) / 16 * 16;
  /// Bytes between core matrices that are neighbours along n (along k
  /// they are 128 bytes apart).
  static constexpr int kRowBlockBytes = kInPad / 8 * 128;
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
  const unsigned char *w = smem + L::kWeightOffset;
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
      const int n = nt * 8 + ldRow;
      ldmatrixX4(b, w + (n >> 3) * L::kRowBlockBytes +
                        (kt * 2 + (ldCol >> 3)) * 128 + (n & 7) * 16);
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        mma16816<T>(acc[mt][nt], a[mt][kt], b[0], b[1]);
        mma16816<T>(acc[mt][nt + 1], a[mt][kt], b[2], b[3]);
      }
    }
  }

  if constexpr (sizeof...(Rest) == 0) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      float v[NT * 4];
#pragma unroll
      for (int i = 0; i < NT * 4; ++i)
        v[i] = activate<L::kAct>(acc[mt][i / 4][i % 4]);
      storeFragments<OutT, OUTC, NT, L::kVecOut>(
          y, base + mt * 16, rows, g, t, v,
          reinterpret_cast<OutT *>(&storeSink));
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

#if defined(MLPC_WGMMA)
// The Hopper form of the chain: each warpgroup owns a 64-row tile at a time
// (this warp 16 of its rows, in the A-fragment layout above) and issues one
// wgmma per k16 step with the whole layer width as N. The tensor cores stay
// busy through the other warpgroups on the SM while one applies its
// activations. (Two tiles per warpgroup, ping-ponging, measured no faster
// on H200 and doubled the registers.)

template <int N> __device__ __forceinline__ void fenceRegisters(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+f"(r[i])::"memory");
}

template <class L, class... Rest> struct FirstOf { using type = L; };

template <int PENDING> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(PENDING) : "memory");
}

/// Starts layer L on one tile: the k16 steps, the first overwriting the
/// accumulators (no register is written between in-flight wgmmas).
template <class T, class L>
__device__ __forceinline__ void wgIssue(const unsigned char *smem,
                                        float (&acc)[L::kOutPad / 2],
                                        const uint32_t (&a)[L::kInPad / 16][4]) {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
  for (int kt = 0; kt < L::kInPad / 16; ++kt)
    Wgmma<T, L::kOutPad>::mma(
        acc, a[kt],
        smemDescriptor(smem + L::kWeightOffset + kt * 256, 128,
                       L::kRowBlockBytes),
        kt > 0);
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

/// act(acc + bias) of output columns nt * 8 + 2t and + 1, rows g and g + 8.
template <class L>
__device__ __forceinline__ float4 wgEpilogue(const unsigned char *smem,
                                             const float *acc, int nt, int t) {
  float4 v = make_float4(acc[4 * nt], acc[4 * nt + 1], acc[4 * nt + 2],
                         acc[4 * nt + 3]);
  if constexpr (L::kBias) {
    const float *bias = reinterpret_cast<const float *>(smem + L::kBiasOffset);
    const float b0 = bias[nt * 8 + 2 * t], b1 = bias[nt * 8 + 2 * t + 1];
    v.x += b0;
    v.y += b1;
    v.z += b0;
    v.w += b1;
  }
  return make_float4(activate<L::kAct>(v.x), activate<L::kAct>(v.y),
                     activate<L::kAct>(v.z), activate<L::kAct>(v.w));
}

/// Two values of a finished layer as one A-fragment register. ReLU runs on
/// the packed pair (max commutes with rounding): one instruction per two
/// values instead of two.
template <class T, class L>
__device__ __forceinline__ uint32_t wgPack2(float a, float b) {
  if constexpr (L::kAct == kRelu) {
    uint32_t packed = pack2<T>(a, b), zero = 0, out;
    if constexpr (IsHalf<T>::value)
      asm("max.f16x2 %0, %1, %2;" : "=r"(out) : "r"(packed), "r"(zero));
    else
      asm("max.bf16x2 %0, %1, %2;" : "=r"(out) : "r"(packed), "r"(zero));
    return out;
  } else {
    return pack2<T>(activate<L::kAct>(a), activate<L::kAct>(b));
  }
}

/// A finished layer as the next layer's A fragments.
template <class T, class L>
__device__ __forceinline__ void wgPack(const unsigned char *smem,
                                       const float (&acc)[L::kOutPad / 2],
                                       uint32_t (&next)[L::kOutPad / 16][4],
                                       int t) {
#pragma unroll
  for (int j = 0; j < L::kOutPad / 16; ++j) {
    float lo[4], hi[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      lo[i] = acc[8 * j + i];
      hi[i] = acc[8 * j + 4 + i];
    }
    if constexpr (L::kBias) {
      const float *bias = reinterpret_cast<const float *>(smem + L::kBiasOffset);
      const float b0 = bias[16 * j + 2 * t], b1 = bias[16 * j + 2 * t + 1];
      const float b2 = bias[16 * j + 8 + 2 * t], b3 = bias[16 * j + 9 + 2 * t];
      lo[0] += b0, lo[1] += b1, lo[2] += b0, lo[3] += b1;
      hi[0] += b2, hi[1] += b3, hi[2] += b2, hi[3] += b3;
    }
    next[j][0] = wgPack2<T, L>(lo[0], lo[1]);
    next[j][1] = wgPack2<T, L>(lo[2], lo[3]);
    next[j][2] = wgPack2<T, L>(hi[0], hi[1]);
    next[j][3] = wgPack2<T, L>(hi[2], hi[3]);
  }
}

template <class L, int OUTC, class OutT>
__device__ __forceinline__ void wgStore(const unsigned char *smem,
                                        const float (&acc)[L::kOutPad / 2],
                                        OutT *__restrict__ y, long long base,
                                        long long rows, int g, int t,
                                        OutT *sink) {
  float v[L::kOutPad / 2];
#pragma unroll
  for (int nt = 0; nt < L::kOutPad / 8; ++nt) {
    const float4 e = wgEpilogue<L>(smem, acc, nt, t);
    v[4 * nt] = e.x;
    v[4 * nt + 1] = e.y;
    v[4 * nt + 2] = e.z;
    v[4 * nt + 3] = e.w;
  }
  storeFragments<OutT, OUTC, L::kOutPad / 8, L::kVecOut>(y, base, rows, g, t,
                                                         v, sink);
}

/// Layer L of the tile has been issued: finishes it and goes on.
template <class T, class OutT, int OUTC, class L, class... Rest>
__device__ __forceinline__ void
wgSingle(const unsigned char *smem, float (&acc)[L::kOutPad / 2],
         OutT *__restrict__ y, long long base, long long rows, int g, int t,
         OutT *sink) {
  wgmmaWait<0>();
  fenceRegisters(acc);
  if constexpr (sizeof...(Rest) == 0) {
    wgStore<L, OUTC>(smem, acc, y, base, rows, g, t, sink);
  } else {
    using N = typename FirstOf<Rest...>::type;
    uint32_t a[L::kOutPad / 16][4];
    float next[N::kOutPad / 2];
    wgPack<T, L>(smem, acc, a, t);
    wgIssue<T, N>(smem, next, a);
    wgSingle<T, OutT, OUTC, Rest...>(smem, next, y, base, rows, g, t, sink);
  }
}

#endif

template <class... Ls> struct LastOf;
template <class L> struct LastOf<L> { using type = L; };
template <class L, class... Ls> struct LastOf<L, Ls...> {
  using type = typename LastOf<Ls...>::type;
};

/// Programmatic dependent launch (sm_90; no-ops before): wait until the
/// previous grid of the stream has finished and its writes are visible, and
/// allow the next grid to be scheduled.
__device__ __forceinline__ void waitForPreviousGrid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void launchNextGrid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

/// A whole narrow chain in one kernel: the CTA copies every layer's weights
/// into shared memory once, then each warp takes tiles of MT x 16 rows in a
/// grid-stride loop (the grid is sized to fill the GPU once).
/// AHEAD: how many tiles ahead each warpgroup loads its inputs (sm_90a):
/// narrow, memory-bound chains need more bytes in flight than one tile.
/// RING > 0 (sm_90a, 16-bit inputs in the kVecIn layout): instead of
/// registers, the inputs of the next RING tiles land in shared memory by
/// cp.async, each thread copying the bytes it later reads itself, so more
/// bytes are in flight per SM than the registers would allow.
/// EARLY: the kernel may be launched while the previous kernel of the stream
/// still runs (programmatic dependent launch, sm_90): it copies its weights
/// (written once, at model creation) and only then waits for that kernel's
/// memory, and lets the next kernel launch once each CTA is on its last tile.
template <class T, class InT, class OutT, int MT, int IMAGE_BYTES, int AHEAD,
          int RING, bool EARLY, class L0, class... Ls>
__device__ __forceinline__ void runChain(const InT *__restrict__ x,
                                         OutT *__restrict__ y,
                                         const uint4 *__restrict__ image,
                                         long long rows) {
  MLPC_DYNAMIC_SHARED(uint4, chainSmem);
  for (int i = threadIdx.x; i < IMAGE_BYTES / 16; i += blockDim.x)
    chainSmem[i] = image[i];
#if defined(MLPC_WGMMA)
  // wgmma reads shared memory through the async proxy.
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
  __syncthreads();
  if constexpr (EARLY)
    waitForPreviousGrid();
  const unsigned char *smem = reinterpret_cast<const unsigned char *>(chainSmem);
  constexpr int OUTC = LastOf<L0, Ls...>::type::kOut;
  constexpr int KT = L0::kInPad / 16;
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
#if defined(MLPC_WGMMA)
  // Warpgroups of 4 warps take 64-row tiles; warp w of a group owns rows
  // 16 (w % 4) .. 16 (w % 4) + 15 of its tile.
  OutT *sink = reinterpret_cast<OutT *>(&storeSink);
  const long long groups = blockDim.x >> 7;
  const long long rowInTile = ((threadIdx.x >> 5) & 3) * 16;
  auto loadTile = [&](long long base, uint32_t (&dst)[KT][4]) {
    loadFragments<T, InT, L0::kIn, KT, L0::kVecIn>(x, base, rows, g, t, dst);
  };
  const long long tiles = (rows + 63) / 64;
  // A shuffled value is provably warp-uniform: ptxas keeps the wgmma
  // pipeline of a loop it knows does not diverge.
  const int group = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x >> 7), 0);
  const long long stride = gridDim.x * groups;
  long long tile = blockIdx.x * groups + group;
  // The next tiles' inputs load while this one computes: RING of them into
  // shared memory, or else AHEAD into registers (branch-free: past the batch
  // they read row 0 and are discarded, or zeros in the ring).
  static_assert(RING == 0 || (L0::kVecIn && sizeof(InT) == 2 &&
                              L0::kIn == L0::kInPad),
                "the input ring copies whole 16-bit rows");
  constexpr int kRowBytes = L0::kIn * 2, kTileBytes = 64 * kRowBytes;
  unsigned char *ring = reinterpret_cast<unsigned char *>(chainSmem) +
                        (IMAGE_BYTES + 15) / 16 * 16 +
                        group * RING * kTileBytes;
  // This thread's 8 KT bytes of rows g and g + 8 of its warp's 16.
  const int mine = static_cast<int>(rowInTile + g) * kRowBytes + t * 8 * KT;
  auto issue = [&](long long tile, int slot) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const long long row = tile * 64 + rowInTile + g + 8 * h;
      const bool inside = row < rows;
      const unsigned char *src = reinterpret_cast<const unsigned char *>(
                                     x + (inside ? row : 0) * L0::kIn) +
                                 t * 8 * KT;
      unsigned char *dst = ring + slot * kTileBytes + mine + h * 8 * kRowBytes;
#pragma unroll
      for (int i = 0; i < KT / 2; ++i)
        cpAsync<16>(dst + 16 * i, src + 16 * i, inside);
      if constexpr (KT % 2)
        cpAsync<8>(dst + 8 * (KT - 1), src + 8 * (KT - 1), inside);
    }
    asm volatile("cp.async.commit_group;\n" ::: "memory");
  };
  uint32_t ahead[RING > 0 ? 1 : AHEAD][KT][4];
#pragma unroll
  for (int s = 0; s < (RING > 0 ? RING : AHEAD); ++s) {
    if constexpr (RING > 0)
      issue(tile + s * stride, s);
    else
      loadTile((tile + s * stride) * 64 + rowInTile, ahead[s]);
  }
  for (int slot = 0; tile < tiles; tile += stride) {
    const long long base = tile * 64 + rowInTile;
    if (EARLY && tile + stride >= tiles)
      launchNextGrid();
    uint32_t a[KT][4];
    if constexpr (RING > 0) {
      asm volatile("cp.async.wait_group %0;\n" ::"n"(RING - 1) : "memory");
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const uint32_t *q = reinterpret_cast<const uint32_t *>(
            ring + slot * kTileBytes + mine + h * 8 * kRowBytes);
#pragma unroll
        for (int kt = 0; kt < KT; ++kt) {
          a[kt][h] = q[2 * kt];
          a[kt][2 + h] = q[2 * kt + 1];
        }
      }
    } else {
#pragma unroll
      for (int kt = 0; kt < KT; ++kt)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          a[kt][i] = ahead[0][kt][i];
#pragma unroll
          for (int s = 0; s + 1 < AHEAD; ++s)
            ahead[s][kt][i] = ahead[s + 1][kt][i];
        }
      loadTile(base + AHEAD * stride * 64, ahead[AHEAD - 1]);
    }
    float acc[L0::kOutPad / 2];
    wgIssue<T, L0>(smem, acc, a);
    wgSingle<T, OutT, OUTC, L0, Ls...>(smem, acc, y, base, rows, g, t, sink);
    if constexpr (RING > 0) {
      // The tile's words are in the wgmma's registers: the slot is free.
      issue(tile + RING * stride, slot);
      slot = slot + 1 == RING ? 0 : slot + 1;
    }
  }
#else
  const long long warps = blockDim.x >> 5;
  const long long tiles = (rows + MT * 16 - 1) / (MT * 16);
  for (long long tile = blockIdx.x * warps + (threadIdx.x >> 5); tile < tiles;
       tile += gridDim.x * warps) {
    const long long base = tile * MT * 16;
    uint32_t a[MT][KT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
      loadFragments<T, InT, L0::kIn, KT, L0::kVecIn>(x, base + mt * 16, rows,
                                                     g, t, a[mt]);
    chainLayer<T, OutT, MT, OUTC, L0, Ls...>(smem, a, y, base, rows, lane);
  }
#endif
}

// ---- general linear layers (any width, any precision) --------------------

/// y = act(x W^T + b) [* s] (+ r): a 64 x 64 output tile per CTA of 256
/// threads, 4 x 4 outputs per thread, fp32 accumulation. W is (N, K) in type
/// WT. The residual r, when present, has y's shape and type; s (SCALE) is a
/// row of N floats in the image at scaleOffset (a layer scale).
template <class InT, class WT, class OutT, int K, int N, int ACT, bool BIAS,
          bool RESID, bool SCALE = false>
__device__ __forceinline__ void
runLinear(const InT *__restrict__ x, const unsigned char *__restrict__ image,
          const OutT *__restrict__ r, OutT *__restrict__ y, long long rows,
          int biasOffset, long long row0 = -1, int col0 = -1,
          int scaleOffset = 0) {
  constexpr int BM = 64, BN = 64, BK = 16;
  __shared__ float xs[BK][BM + 4];
  __shared__ float ws[BK][BN + 4];
  const WT *w = reinterpret_cast<const WT *>(image);
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
  if (row0 < 0) {
    row0 = static_cast<long long>(blockIdx.x) * BM;
    col0 = blockIdx.y * BN;
  }
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
      if constexpr (SCALE)
        v *= reinterpret_cast<const float *>(image + scaleOffset)[col];
      if constexpr (RESID)
        v += toFloat(r[row * N + col]);
      y[row * N + col] = fromFloat<OutT>(v);
    }
  }
}

// ---- wide linear layers on tensor cores -----------------------------------
//
// y = act(x W^T + b) (+ r) for f16/bf16 x (K a multiple of 4): a 128 x BN
// output tile per CTA of two warpgroups (64 rows each), K in steps of 64
// through a STAGES-deep ring of shared-memory tiles filled by cp.async
// (16-byte chunks, zero-filled past the tensors' edges) and laid out as
// 8 x 8 core matrices for wgmma descriptors. The loads run STAGES - 2 steps
// ahead; a stage is refilled only after every warpgroup has waited for the
// wgmma that read it.

constexpr int kGemmBM = 128, kGemmBK = 64;

// The same tiles loaded by the Tensor Memory Accelerator (sm_90a, rows of a
// multiple of 8 elements): one thread issues two bulk copies per stage, and
// the stage's mbarrier counts their bytes in; a cp.async stage costs every
// thread 12 copies with their address arithmetic and guards.

/// A CUtensorMap (cuda.h): 128 opaque bytes the runtime encodes per launch
/// (cuTensorMapEncodeTiled: 2-D, box 64 x rows, 128-byte swizzle, zeros
/// outside the tensor), passed as a __grid_constant__ kernel parameter.
struct alignas(64) TensorMap {
  unsigned long long opaque[16];
};

__device__ __forceinline__ uint32_t sharedAddress(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mbarrierInit(uint64_t *bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(
                   sharedAddress(bar)),
               "r"(count)
               : "memory");
}

/// Waits until the barrier's phase of this parity has completed.
__device__ __forceinline__ void mbarrierWait(uint64_t *bar, uint32_t parity) {
  asm volatile("{\n"
               ".reg .pred done;\n"
               "WAIT:\n"
               "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
               "@!done bra.uni WAIT;\n"
               "}\n" ::"r"(sharedAddress(bar)),
               "r"(parity)
               : "memory");
}

/// Arrives on the barrier, announcing `bytes` of bulk copies to come.
__device__ __forceinline__ void mbarrierExpectBytes(uint64_t *bar,
                                                    uint32_t bytes) {
  asm volatile(
      "mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(
          sharedAddress(bar)),
      "r"(bytes)
      : "memory");
}

/// The box of `map` at (column c, row r) into shared memory at dst.
__device__ __forceinline__ void tmaLoad2d(void *dst, const TensorMap *map,
                                          int c, int r, uint64_t *bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::"
               "complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
                   sharedAddress(dst)),
               "l"(map), "r"(c), "r"(r), "r"(sharedAddress(bar))
               : "memory");
}

/// Copies rows [first, first + ROWS) x k [k0, k0 + 64) of a [limit, K]
/// matrix into a tile in the 128-byte swizzled K-major layout of wgmma:
/// row r's 128 bytes at r * 128, its 16-byte chunk c at chunk c ^ (r % 8)
/// (zeros outside the matrix). 8 consecutive threads copy one row, with
/// one 16-byte copy per chunk, or two 8-byte ones when K % 8 == 4 (then a
/// chunk's second half lies past K exactly when its first half ends it).
template <class T, int K, int ROWS>
__device__ __forceinline__ void gemmLoadTile(unsigned char *tile,
                                             const T *__restrict__ m,
                                             long long first, long long limit,
                                             int k0) {
  static_assert(K % 4 == 0, "rows must be 8-byte aligned");
#pragma unroll
  for (int c = 0; c < ROWS * kGemmBK / 8 / 256; ++c) {
    const int i = threadIdx.x + c * 256;
    const int chunk = i & 7, r = i >> 3;
    const long long row = first + r;
    const int k = k0 + chunk * 8;
    unsigned char *dst = tile + r * 128 + ((chunk ^ (r & 7)) * 16);
    if constexpr (K % 8 == 0) {
      const bool valid = row < limit && k < K;
      cpAsync<16>(dst, m + (valid ? row * K + k : 0), valid);
    } else {
      const bool lo = row < limit && k < K, hi = row < limit && k + 4 < K;
      cpAsync<8>(dst, m + (lo ? row * K + k : 0), lo);
      cpAsync<8>(dst + 8, m + (hi ? row * K + k + 4 : 0), hi);
    }
  }
}

/// A descriptor of a 128-byte swizzled K-major tile (1024-byte aligned):
/// 8-row groups 1024 bytes apart.
__device__ __forceinline__ uint64_t swizzledDescriptor(const void *p) {
  return smemDescriptor(p, 16, 1024) | (static_cast<uint64_t>(1) << 62);
}

/// wgmma m64nNk16 with both operands from shared memory (K-major); mlpc
/// emits the specializations a model needs, next to Wgmma's.
template <class T, int N> struct WgmmaSS;

/// The bias (0) and layer scale (1) of output columns col and col + 1 (past
/// N: 0 and 1).
template <int N, bool BIAS, bool SCALE>
__device__ __forceinline__ void columnParams(const float *bias,
                                             const float *scale, int col,
                                             float (&b)[2], float (&s)[2]) {
  b[0] = b[1] = 0.f;
  s[0] = s[1] = 1.f;
  if (BIAS && col < N) {
    b[0] = bias[col];
    b[1] = col + 1 < N ? bias[col + 1] : 0.f;
  }
  if (SCALE && col < N) {
    s[0] = scale[col];
    s[1] = col + 1 < N ? scale[col + 1] : 0.f;
  }
}

/// The V elements packed in `v` plus the V packed in `res`, in float.
template <class OutT, int V, class Pack>
__device__ __forceinline__ void addPacked(Pack &v, const Pack &res) {
  OutT *a = reinterpret_cast<OutT *>(&v);
  const OutT *b = reinterpret_cast<const OutT *>(&res);
#pragma unroll
  for (int e = 0; e < V; ++e)
    a[e] = fromFloat<OutT>(toFloat(a[e]) + toFloat(b[e]));
}

/// Stores the staged chunk `src` of 16 / sizeof(OutT) elements at (row, col)
/// of y (+ r's): 16-byte accesses where `aligned` (y and r 16-byte aligned,
/// N a multiple of the chunk); two 8-byte halves, each wholly inside or past
/// the row, where `halves` (rows of N % 8 == 4 halves: MLP-Mixer's 196
/// tokens); else element by element.
template <class OutT, int N, bool RESID>
__device__ __forceinline__ void storeStagedChunk(const OutT *src,
                                                 const OutT *__restrict__ r,
                                                 OutT *__restrict__ y,
                                                 long long row, int col,
                                                 bool aligned, bool halves) {
  constexpr int kVec = 16 / sizeof(OutT), kHalf = kVec / 2;
  OutT *dst = y + row * N + col;
  if (N % kVec == 0 && aligned) {
    uint4 v = *reinterpret_cast<const uint4 *>(src);
    if constexpr (RESID)
      addPacked<OutT, kVec>(
          v, __ldg(reinterpret_cast<const uint4 *>(r + row * N + col)));
    *reinterpret_cast<uint4 *>(dst) = v;
  } else if (N % kHalf == 0 && halves) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      if (col + h * kHalf >= N)
        break;
      uint2 v = *reinterpret_cast<const uint2 *>(src + h * kHalf);
      if constexpr (RESID)
        addPacked<OutT, kHalf>(v, __ldg(reinterpret_cast<const uint2 *>(
                                      r + row * N + col + h * kHalf)));
      *reinterpret_cast<uint2 *>(dst + h * kHalf) = v;
    }
  } else {
    for (int e = 0; e < kVec && col + e < N; ++e) {
      float v = toFloat(src[e]);
      if constexpr (RESID)
        v += toFloat(r[row * N + col + e]);
      dst[e] = fromFloat<OutT>(v);
    }
  }
}

/// The epilogue of a warpgroup's 64 x BN accumulators (rows from row0,
/// columns from col0): bias, activation, scale, residual, stores.
template <class OutT, int N, int ACT, bool BIAS, bool RESID, int BN,
          bool SCALE>
__device__ __forceinline__ void
gemmEpilogue(const float (&acc)[BN / 2], const unsigned char *__restrict__ image,
             int biasOffset, int scaleOffset, const OutT *__restrict__ r,
             OutT *__restrict__ y, long long rows, long long row0, int col0) {
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const long long rowBase = row0 + ((threadIdx.x >> 5) & 3) * 16 + g;
  const float *bias = reinterpret_cast<const float *>(image + biasOffset);
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt) {
    const int col = col0 + nt * 8 + 2 * t;
    float b[2], sc[2];
    columnParams<N, BIAS, SCALE>(
        bias, reinterpret_cast<const float *>(image + scaleOffset), col, b, sc);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const long long row = rowBase + 8 * h;
      float v0 = activate<ACT>(acc[4 * nt + 2 * h] + b[0]);
      float v1 = activate<ACT>(acc[4 * nt + 2 * h + 1] + b[1]);
      if constexpr (SCALE) {
        v0 *= sc[0];
        v1 *= sc[1];
      }
      if (RESID && row < rows && col < N) {
        const float2 res = load2<N>(r, row, col, rows);
        v0 += res.x;
        v1 += res.y;
      }
      store2<N>(y, row, col, rows, v0, v1);
    }
  }
}

/// gemmEpilogue through shared memory: both warpgroups write their
/// activated (scaled) tile into `tile` (128 x BN, rows padded by 16 bytes so
/// that the fragment writes hit 32 different banks), then every thread adds
/// the residual and stores 16-byte chunks of whole rows, which the warp's
/// lanes cover contiguously. Chunks at the right edge or of a misaligned
/// caller tensor go element by element.
template <class OutT, int N, int ACT, bool BIAS, bool RESID, int BN,
          bool SCALE>
__device__ __forceinline__ void
gemmEpilogueStaged(const float (&acc)[BN / 2], unsigned char *tile,
                   const unsigned char *__restrict__ image, int biasOffset,
                   int scaleOffset, const OutT *__restrict__ r,
                   OutT *__restrict__ y, long long rows, long long row0,
                   int col0, int group) {
  constexpr int kVec = 16 / sizeof(OutT); // elements per 16-byte chunk
  constexpr int kPitch = BN + kVec;       // elements per staged row
  OutT *out = reinterpret_cast<OutT *>(tile);
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int rowBase = group * 64 + ((threadIdx.x >> 5) & 3) * 16 + g;
  const float *bias = reinterpret_cast<const float *>(image + biasOffset);
  const float *scale = reinterpret_cast<const float *>(image + scaleOffset);
  __syncthreads(); // every wgmma has read the last stage
#pragma unroll
  for (int nt = 0; nt < BN / 8; ++nt) {
    const int c = nt * 8 + 2 * t;
    float b[2], sc[2];
    columnParams<N, BIAS, SCALE>(bias, scale, col0 + c, b, sc);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      OutT *q = out + (rowBase + 8 * h) * kPitch + c;
      q[0] = fromFloat<OutT>(activate<ACT>(acc[4 * nt + 2 * h] + b[0]) * sc[0]);
      q[1] = fromFloat<OutT>(activate<ACT>(acc[4 * nt + 2 * h + 1] + b[1]) * sc[1]);
    }
  }
  __syncthreads();
  const uintptr_t addresses =
      reinterpret_cast<uintptr_t>(y) | (RESID ? reinterpret_cast<uintptr_t>(r) : 0);
  const bool aligned = (addresses & 15) == 0;
  const bool halves = (addresses & 7) == 0;
  constexpr int kChunks = BN / kVec;
  for (int i = threadIdx.x; i < 128 * kChunks; i += blockDim.x) {
    const int rr = i / kChunks, c = (i % kChunks) * kVec;
    const long long row = row0 + rr;
    const int col = col0 + c;
    if (row < rows && col < N)
      storeStagedChunk<OutT, N, RESID>(out + rr * kPitch + c, r, y, row, col,
                                       aligned, halves);
  }
}

/// TMA: the tiles come through mapX (x: [rows, K], box 64 x 128) and mapW
/// (the weight: [N, K], box 64 x BN) instead of cp.async.
template <class T, class OutT, int K, int N, int ACT, bool BIAS, bool RESID,
          int STAGES, int BN, bool DEEP = false, bool SCALE = false,
          bool STAGED = false, bool TMA = false>
__device__ __forceinline__ void
runGemm(const T *__restrict__ x, const unsigned char *__restrict__ image,
        const OutT *__restrict__ r, OutT *__restrict__ y, long long rows,
        int biasOffset, int scaleOffset = 0, const TensorMap *mapX = nullptr,
        const TensorMap *mapW = nullptr) {
#if defined(MLPC_WGMMA)
  extern __shared__ uint4 gemmSmem[];
  // Swizzled tiles need 1024-byte alignment (the launch adds the slack).
  unsigned char *smem = reinterpret_cast<unsigned char *>(
      (reinterpret_cast<uintptr_t>(gemmSmem) + 1023) & ~uintptr_t(1023));
  const T *w = reinterpret_cast<const T *>(image);
  // Consecutive CTAs take the column tiles of one row tile, so the rows are
  // read from memory once and the weights stay in L2.
  const long long cta = static_cast<long long>(blockIdx.y) * gridDim.x + blockIdx.x;
  const long long row0 = cta / gridDim.y * kGemmBM;
  const int col0 = static_cast<int>(cta % gridDim.y) * BN;
  constexpr int kGemmStageBytes = (kGemmBM + BN) * kGemmBK * 2;
  const int group = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x >> 7), 0);
  constexpr int KT = (K + kGemmBK - 1) / kGemmBK;
  auto stageA = [&](int s) { return smem + s * kGemmStageBytes; };
  auto stageB = [&](int s) {
    return smem + s * kGemmStageBytes + kGemmBM * kGemmBK * 2;
  };
  __shared__ uint64_t full[TMA ? STAGES : 1]; // TMA: a stage's bytes landed
  auto load = [&](int kt) {
    if constexpr (TMA) {
      if (kt < KT && threadIdx.x == 0) {
        uint64_t *bar = &full[kt % STAGES];
        mbarrierExpectBytes(bar, kGemmStageBytes);
        tmaLoad2d(stageA(kt % STAGES), mapX, kt * kGemmBK,
                  static_cast<int>(row0), bar);
        tmaLoad2d(stageB(kt % STAGES), mapW, kt * kGemmBK, col0, bar);
      }
    } else {
      if (kt < KT) {
        gemmLoadTile<T, K, kGemmBM>(stageA(kt % STAGES), x, row0, rows,
                                    kt * kGemmBK);
        gemmLoadTile<T, K, BN>(stageB(kt % STAGES), w, col0, N, kt * kGemmBK);
      }
      asm volatile("cp.async.commit_group;\n" ::: "memory");
    }
  };
  if constexpr (TMA) {
    if (threadIdx.x == 0) {
#pragma unroll
      for (int s = 0; s < STAGES; ++s)
        mbarrierInit(&full[s], 1);
      asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();
  }
  // DEEP: loads run STAGES - 1 steps ahead, and each step waits for its
  // own wgmma (the other CTA on the SM fills the gap).
  constexpr int kAhead = DEEP ? STAGES - 1 : STAGES - 2;
#pragma unroll
  for (int s = 0; s < kAhead; ++s)
    load(s);
  float acc[BN / 2];
  for (int kt = 0; kt < KT; ++kt) {
    if constexpr (TMA) {
      mbarrierWait(&full[kt % STAGES], (kt / STAGES) & 1);
    } else {
      asm volatile("cp.async.wait_group %0;\n" ::"n"(kAhead - 1) : "memory");
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    // Every warpgroup is past the wgmma that read the stage refilled next.
    __syncthreads();
    load(kt + kAhead);
    const unsigned char *a = stageA(kt % STAGES) + group * 64 * 128;
    const unsigned char *b = stageB(kt % STAGES);
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
    // Within a swizzled row, k16 step j starts 32 bytes further.
#pragma unroll
    for (int k16 = 0; k16 < kGemmBK / 16; ++k16)
      WgmmaSS<T, BN>::mma(acc, swizzledDescriptor(a + k16 * 32),
                          swizzledDescriptor(b + k16 * 32), kt > 0 || k16 > 0);
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    wgmmaWait<DEEP ? 0 : 1>();
  }
  wgmmaWait<0>();
  fenceRegisters(acc);
  if constexpr (STAGED)
    gemmEpilogueStaged<OutT, N, ACT, BIAS, RESID, BN, SCALE>(
        acc, smem, image, biasOffset, scaleOffset, r, y, rows, row0, col0,
        group);
  else
    gemmEpilogue<OutT, N, ACT, BIAS, RESID, BN, SCALE>(
        acc, image, biasOffset, scaleOffset, r, y, rows, row0 + group * 64,
        col0);
#else
  // Before Hopper: the CUDA-core kernel, 64 x 64 tiles.
  for (int i = 0; i < (kGemmBM / 64) * (BN / 64); ++i) {
    runLinear<T, T, OutT, K, N, ACT, BIAS, RESID, SCALE>(
        x, image, r, y, rows, biasOffset,
        static_cast<long long>(blockIdx.x) * kGemmBM + (i % (kGemmBM / 64)) * 64,
        blockIdx.y * BN + (i / (kGemmBM / 64)) * 64, scaleOffset);
    __syncthreads();
  }
#endif
}

/// Arrives on the barrier (one of its expected arrivals).
__device__ __forceinline__ void mbarrierArrive(uint64_t *bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(
                   sharedAddress(bar))
               : "memory");
}

/// Synchronizes the 128 threads of one warpgroup (named barrier `id`).
__device__ __forceinline__ void warpgroupSync(int id) {
  asm volatile("bar.sync %0, 128;\n" ::"r"(id) : "memory");
}

/// The persistent, warp-specialized form of runGemm (sm_90a, TMA only, 16-bit
/// outputs): 384 threads, one CTA per SM. Warpgroup 0 is the producer: one
/// thread issues the TMA copies of the CTA's tiles, k-block after k-block,
/// into a STAGES-deep ring (`full` barriers count their bytes in, `empty`
/// ones the consumers' releases). Warpgroups 1 and 2 take the CTA's 128 x 128
/// output tiles in turn, each tile with its own accumulators, so one runs
/// its epilogue (bias, activation, residual; staged through shared memory
/// for 16-byte stores) while the other's wgmmas keep the tensor cores busy.
/// Only part of an exact GELU hides so: on 16384 x 1024 -> 4096 (H200) it
/// still adds about 27 us to the 197 us of the bias-only epilogue
/// (bench/gemm_probe.cu; the forms tried to shrink it: bench/RESULTS.md).
constexpr int kPingPongBM = 128, kPingPongBN = 128;

template <class T, class OutT, int K, int N, int ACT, bool BIAS, bool RESID,
          int STAGES, bool SCALE = false>
__device__ __forceinline__ void
runGemmPingPong(const unsigned char *__restrict__ image,
                const OutT *__restrict__ r, OutT *__restrict__ y,
                long long rows, int biasOffset, int scaleOffset,
                const TensorMap *mapX, const TensorMap *mapW) {
#if defined(MLPC_WGMMA)
  static_assert(sizeof(OutT) == 2, "staged 16-bit outputs");
  constexpr int BM = kPingPongBM, BN = kPingPongBN, BK = kGemmBK;
  constexpr int KT = (K + BK - 1) / BK, kColTiles = (N + BN - 1) / BN;
  constexpr int kStageBytes = (BM + BN) * BK * 2;
  constexpr int kVec = 8, kPitch = BN + kVec; // staged row: + 16 bytes
  extern __shared__ uint4 gemmSmem[];
  unsigned char *smem = reinterpret_cast<unsigned char *>(
      (reinterpret_cast<uintptr_t>(gemmSmem) + 1023) & ~uintptr_t(1023));
  auto stageA = [&](int s) { return smem + s * kStageBytes; };
  auto stageB = [&](int s) { return smem + s * kStageBytes + BM * BK * 2; };
  __shared__ uint64_t full[STAGES], empty[STAGES];
  // order[c]: consumer c may start its next main loop (the other one has
  // waited for every k-block of the tile before). Without it a consumer
  // would wait for a `full` phase two rounds ahead, which parity cannot
  // tell from the one before.
  __shared__ uint64_t order[2];
  const long long tiles = (rows + BM - 1) / BM * kColTiles;
  const int wg = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x >> 7), 0);
  if (threadIdx.x == 0) {
#pragma unroll
    for (int s = 0; s < STAGES; ++s) {
      mbarrierInit(&full[s], 1);
      mbarrierInit(&empty[s], 4); // a release per consumer warp
    }
    mbarrierInit(&order[0], 1);
    mbarrierInit(&order[1], 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();
  if (wg == 0) {
    if (threadIdx.x == 0) {
      int slot = 0, round = 0;
      for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int row0 = static_cast<int>(tile / kColTiles) * BM;
        const int col0 = static_cast<int>(tile % kColTiles) * BN;
        for (int kt = 0; kt < KT; ++kt) {
          if (round > 0) // the consumers released the slot's last use
            mbarrierWait(&empty[slot], (round - 1) & 1);
          mbarrierExpectBytes(&full[slot], kStageBytes);
          tmaLoad2d(stageA(slot), mapX, kt * BK, row0, &full[slot]);
          tmaLoad2d(stageB(slot), mapW, kt * BK, col0, &full[slot]);
          if (++slot == STAGES) {
            slot = 0;
            ++round;
          }
        }
      }
    }
    return; // the consumers synchronize among themselves only
  }
  const int consumer = wg - 1, lane = threadIdx.x & 31;
  const int warp = (threadIdx.x >> 5) & 3, g = lane >> 2, t = lane & 3;
  OutT *staged = reinterpret_cast<OutT *>(smem + STAGES * kStageBytes) +
                 consumer * BM * kPitch;
  const float *bias = reinterpret_cast<const float *>(image + biasOffset);
  const float *scale = reinterpret_cast<const float *>(image + scaleOffset);
  float acc[2][BN / 2];
  const uintptr_t addresses =
      reinterpret_cast<uintptr_t>(y) | (RESID ? reinterpret_cast<uintptr_t>(r) : 0);
  // This consumer's tiles are the CTA's 1st, 3rd, ... (or 2nd, 4th, ...);
  // k-block q of the CTA's sequence sits in slot q % STAGES.
  uint32_t turn = 0; // this consumer's tiles so far
  for (long long tile = blockIdx.x + consumer * gridDim.x, seq = consumer;
       tile < tiles; tile += 2 * gridDim.x, seq += 2, ++turn) {
    const long long row0 = tile / kColTiles * BM;
    const int col0 = static_cast<int>(tile % kColTiles) * BN;
    const long long q0 = seq * KT;
    // The main loops alternate: tile seq - 1's has seen all its k-blocks.
    if (seq > 0)
      mbarrierWait(&order[consumer], (consumer ? turn : turn - 1) & 1);
    for (int kt = 0; kt < KT; ++kt) {
      const long long q = q0 + kt;
      const int slot = static_cast<int>(q % STAGES);
      mbarrierWait(&full[slot], static_cast<uint32_t>(q / STAGES) & 1);
      const unsigned char *a = stageA(slot), *b = stageB(slot);
      asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
      for (int k16 = 0; k16 < BK / 16; ++k16) {
        const uint64_t db = swizzledDescriptor(b + k16 * 32);
        WgmmaSS<T, BN>::mma(acc[0], swizzledDescriptor(a + k16 * 32), db,
                            kt > 0 || k16 > 0);
        WgmmaSS<T, BN>::mma(acc[1], swizzledDescriptor(a + 64 * 128 + k16 * 32),
                            db, kt > 0 || k16 > 0);
      }
      asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
      // The previous k-block's wgmmas are done: its slot is free.
      wgmmaWait<1>();
      if (kt > 0 && lane == 0)
        mbarrierArrive(&empty[static_cast<int>((q - 1) % STAGES)]);
    }
    if ((threadIdx.x & 127) == 0)
      mbarrierArrive(&order[1 - consumer]);
    wgmmaWait<0>();
    if (lane == 0)
      mbarrierArrive(&empty[static_cast<int>((q0 + KT - 1) % STAGES)]);
    fenceRegisters(acc[0]);
    fenceRegisters(acc[1]);
    // Epilogue: activated values into the staging tile, then whole rows out.
    warpgroupSync(1 + consumer); // its previous tile's copy-out is done
#pragma unroll
    for (int nt = 0; nt < BN / 8; ++nt) {
      const int c = nt * 8 + 2 * t;
      float b[2], sc[2];
      columnParams<N, BIAS, SCALE>(bias, scale, col0 + c, b, sc);
#pragma unroll
      for (int half = 0; half < 2; ++half)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = half * 64 + warp * 16 + g + 8 * h;
          OutT pair[2] = {
              fromFloat<OutT>(activate<ACT>(acc[half][4 * nt + 2 * h] + b[0]) *
                              sc[0]),
              fromFloat<OutT>(activate<ACT>(acc[half][4 * nt + 2 * h + 1] + b[1]) *
                              sc[1])};
          *reinterpret_cast<uint32_t *>(staged + row * kPitch + c) =
              *reinterpret_cast<const uint32_t *>(pair);
        }
    }
    warpgroupSync(1 + consumer);
    const int tid = threadIdx.x & 127;
    constexpr int kChunks = BN / kVec;
#pragma unroll 4
    for (int i = tid; i < BM * kChunks; i += 128) {
      const int rr = i / kChunks, c = (i % kChunks) * kVec;
      const long long row = row0 + rr;
      const int col = col0 + c;
      if (row < rows && col < N)
        storeStagedChunk<OutT, N, RESID>(staged + rr * kPitch + c, r, y, row,
                                         col, (addresses & 15) == 0,
                                         (addresses & 7) == 0);
    }
  }
#endif
}

// ---- row-wise and elementwise kernels ------------------------------------

/// A row of C elements as each lane of a warp holds it, V at a time: in
/// registers when that is at most 32 elements a lane (the row is then loaded
/// and activated once), else reloaded by each pass.
template <int V, int C> struct RowCache {
  static constexpr int kChunks = (C + 32 * V - 1) / (32 * V);
  static constexpr bool kCached = kChunks * V <= 32;
  float v[kCached ? kChunks : 1][V];
};

/// Chunk i (columns (lane + 32 i) V ..) of the row through activation XACT:
/// from the cache, or loaded again.
template <int V, class InT, int C, int XACT>
__device__ __forceinline__ void rowChunk(const InT *__restrict__ xr,
                                         const RowCache<V, C> &cache, int i,
                                         float (&v)[V]) {
  if constexpr (RowCache<V, C>::kCached) {
#pragma unroll
    for (int k = 0; k < V; ++k)
      v[k] = cache.v[i][k];
  } else {
    loadPack<InT, V>(xr + ((threadIdx.x & 31) + 32 * i) * V, v);
#pragma unroll
    for (int k = 0; k < V; ++k)
      v[k] = activate<XACT>(v[k]);
  }
}

/// A warp's layer_norm statistics of one row of C elements (read through
/// activation XACT), in fp32 and two passes (the mean, then the mean square
/// deviation), with V-element loads (C and the row's address multiples of
/// V): every lane gets the mean and 1 / sqrt(variance + eps), and `cache`
/// the row (RowCache). An exact GELU left to this reader costs as much as
/// the loads.
template <int V, class InT, int C, int XACT>
__device__ __forceinline__ void rowStatistics(const InT *__restrict__ xr,
                                              float eps, float &mean,
                                              float &inv,
                                              RowCache<V, C> &cache) {
  using Cache = RowCache<V, C>;
  const int lane = threadIdx.x & 31;
  float v[V], sum = 0.f;
#pragma unroll
  for (int i = 0; i < Cache::kChunks; ++i) {
#pragma unroll
    for (int k = 0; k < V; ++k)
      v[k] = 0.f;
    if ((lane + 32 * i) * V < C) {
      loadPack<InT, V>(xr + (lane + 32 * i) * V, v);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        v[k] = activate<XACT>(v[k]);
        sum += v[k];
      }
    }
    if constexpr (Cache::kCached) {
#pragma unroll
      for (int k = 0; k < V; ++k)
        cache.v[i][k] = v[k];
    }
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    sum += __shfl_xor_sync(0xffffffffu, sum, o);
  mean = sum / C;
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < Cache::kChunks; ++i)
    if ((lane + 32 * i) * V < C) {
      rowChunk<V, InT, C, XACT>(xr, cache, i, v);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const float d = v[k] - mean;
        sq += d * d;
      }
    }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
    sq += __shfl_xor_sync(0xffffffffu, sq, o);
  inv = rsqrtf(sq / C + eps);
}

/// One row of layer_norm by a warp, V elements a lane at a time.
template <int V, class InT, class OutT, int C, bool WEIGHT, bool BIAS,
          int XACT>
__device__ __forceinline__ void normalizeRow(const InT *__restrict__ xr,
                                             const float *__restrict__ image,
                                             OutT *__restrict__ yr,
                                             float eps) {
  RowCache<V, C> cache;
  float mean, inv, v[V];
  rowStatistics<V, InT, C, XACT>(xr, eps, mean, inv, cache);
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < RowCache<V, C>::kChunks; ++i) {
    const int c = (lane + 32 * i) * V;
    if (c >= C)
      continue;
    rowChunk<V, InT, C, XACT>(xr, cache, i, v);
    // The weight and bias V floats at a time: one access each (8 scalar
    // ones per lane made L1 the bottleneck, 90 % busy at 15 % of DRAM's
    // bandwidth: ncu, H200).
    float gamma[V], beta[V];
    if constexpr (WEIGHT)
      loadPack<float, V>(image + c, gamma);
    if constexpr (BIAS)
      loadPack<float, V>(image + (WEIGHT ? C : 0) + c, beta);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      v[k] = (v[k] - mean) * inv;
      if constexpr (WEIGHT)
        v[k] *= gamma[k];
      if constexpr (BIAS)
        v[k] += beta[k];
    }
    storePack<OutT, V>(yr + c, v);
  }
}

/// layer_norm over the last axis (C), one warp per row, fp32 statistics
/// computed in two passes; the image holds gamma then beta as floats. XACT:
/// x is read through that activation (one its producer left to readers).
/// With PADDED > 0, y holds PADDED rows per sample: the first TOKENS are
/// x's rows, the rest zeros (the operand of a padded token-mixing GEMM);
/// `rows` counts y's rows.
template <class InT, class OutT, int C, bool WEIGHT, bool BIAS,
          int IN_STRIDE = C, int XACT = kIdentity, int TOKENS = 0,
          int PADDED = 0>
__device__ __forceinline__ void runLayerNorm(const InT *__restrict__ x,
                                             const float *__restrict__ image,
                                             OutT *__restrict__ y,
                                             long long rows, float eps) {
  constexpr int V = widthDividing(C, IN_STRIDE);
  // (The image's floats: 16-byte aligned, the bias C floats after.)
  const bool packed = alignedTo<V>(x) && alignedTo<V>(y) &&
                      alignedTo<V>(image) && C % 4 == 0;
  const long long warps = blockDim.x >> 5;
  for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
       row += gridDim.x * warps) {
    long long in = row;
    if constexpr (PADDED > 0) {
      const int t = static_cast<int>(row % PADDED);
      if (t >= TOKENS) {
        for (int c = threadIdx.x & 31; c < C; c += 32)
          y[row * C + c] = fromFloat<OutT>(0.f);
        continue;
      }
      in = row / PADDED * TOKENS + t;
    }
    const InT *xr = x + in * IN_STRIDE; // a column slice of a wider row
    if (packed)
      normalizeRow<V, InT, OutT, C, WEIGHT, BIAS, XACT>(xr, image, y + row * C,
                                                        eps);
    else
      normalizeRow<1, InT, OutT, C, WEIGHT, BIAS, XACT>(xr, image,
                                                        y + row * C, eps);
  }
}

/// Token mixing as a product from the left, y_b = act(W x_b (+ bias)) for
/// each sample b: x [batch, KP, C] and y [batch, NP, C] row-major (KP a multiple
/// of 16, C of 8), W (NP, KP) row-major at byte 0 of the image (zero
/// padded), the bias (BIAS_AT >= 0) the [NP, C] piece of T at byte BIAS_AT
/// whose row t repeats bias[t]. A CTA of 256 threads computes 64 x 128
/// tiles of one sample (`tiles` = batch * ceil(NP / 64) * ceil(C / 128)):
/// the kernel of the step that cuBLASLt's batched GEMM runs where the
/// runtime has the library. On the GPU: mma.sync, its 8 warps 32 x 32 of
/// the tile each, fp32 accumulation, operands staged through shared memory
/// (B read transposed by ldmatrix); on host threads (the emulation tests) the
/// same tiles in fp32 scalar code.
template <class T, int KP, int NP, int C, int BIAS_AT, int ACT = kIdentity>
__device__ __forceinline__ void runTokenMix(const T *__restrict__ x,
                                            const unsigned char *__restrict__ image,
                                            T *__restrict__ y,
                                            long long tiles) {
  constexpr int BT = 64, BC = 128, BK = 32;
  constexpr int kTilesN = (NP + BT - 1) / BT, kTilesC = (C + BC - 1) / BC;
  static_assert(KP % 16 == 0 && C % 8 == 0, "padded tokens, 16-byte rows");
  const T *w = reinterpret_cast<const T *>(image);
  // Rows padded by 16 bytes: ldmatrix's eight row addresses of a matrix
  // fall in distinct banks.
  alignas(16) __shared__ T ws[BT][BK + 8];
  alignas(16) __shared__ T xs[BK][BC + 8];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int wt = (warp >> 2) * 32, wc = (warp & 3) * 32;
  for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const long long b = tile / (kTilesN * kTilesC);
    const int t0 = static_cast<int>(tile / kTilesC % kTilesN) * BT,
              c0 = static_cast<int>(tile % kTilesC) * BC;
    float acc[2][4][4] = {};
    for (int s0 = 0; s0 < KP; s0 += BK) {
      { // W: 64 rows of 4 16-byte pieces, one per thread
        const int r = threadIdx.x / 4, piece = threadIdx.x % 4;
        const bool valid = t0 + r < NP && s0 + piece * 8 < KP;
        *reinterpret_cast<uint4 *>(&ws[r][piece * 8]) =
            valid ? *reinterpret_cast<const uint4 *>(w + (t0 + r) * KP + s0 +
                                                     piece * 8)
                  : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) { // x: 32 rows of 16 pieces
        const int k = threadIdx.x / 16 + 16 * i, piece = threadIdx.x % 16;
        const bool valid = s0 + k < KP && c0 + piece * 8 < C;
        *reinterpret_cast<uint4 *>(&xs[k][piece * 8]) =
            valid ? *reinterpret_cast<const uint4 *>(
                        x + (b * KP + s0 + k) * C + c0 + piece * 8)
                  : make_uint4(0, 0, 0, 0);
      }
      __syncthreads();
#if defined(__CUDA_ARCH__)
      // Lane l addresses row l % 8 + 8 (l / 8 % 2), column 8 (l / 16) of
      // its 16 x 16 block: A fragments (t, k) and, transposed, B (k, c).
      const int lr = (lane & 7) + ((lane >> 3) & 1) * 8, lc = (lane >> 4) * 8;
#pragma unroll
      for (int kk = 0; kk < BK; kk += 16) {
        uint32_t a[2][4];
#pragma unroll
        for (int mt = 0; mt < 2; ++mt)
          ldmatrixX4(a[mt], &ws[wt + 16 * mt + lr][kk + lc]);
#pragma unroll
        for (int np = 0; np < 2; ++np) {
          uint32_t q[4];
          ldmatrixX4Trans(q, &xs[kk + lr][wc + 16 * np + lc]);
#pragma unroll
          for (int mt = 0; mt < 2; ++mt) {
            mma16816<T>(acc[mt][2 * np], a[mt], q[0], q[1]);
            mma16816<T>(acc[mt][2 * np + 1], a[mt], q[2], q[3]);
          }
        }
      }
#else
      // acc[mt][nt] as the mma fragments: rows g, g + 8, columns 2q, 2q + 1.
      const int g = lane >> 2, q = lane & 3;
      for (int k = 0; k < BK; ++k)
        for (int mt = 0; mt < 2; ++mt)
          for (int nt = 0; nt < 4; ++nt)
            for (int e = 0; e < 4; ++e)
              acc[mt][nt][e] +=
                  toFloat(ws[wt + 16 * mt + g + 8 * (e / 2)][k]) *
                  toFloat(xs[k][wc + 8 * nt + 2 * q + e % 2]);
#endif
      __syncthreads();
    }
    const int g = lane >> 2, q = lane & 3;
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int t = t0 + wt + 16 * mt + g + 8 * h;
        if (t >= NP)
          continue;
        float bias = 0.f;
        if constexpr (BIAS_AT >= 0)
          bias = toFloat(reinterpret_cast<const T *>(image + BIAS_AT)[t * C]);
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          const int c = c0 + wc + 8 * nt + 2 * q;
          if (c >= C)
            continue;
          T pair[2] = {fromFloat<T>(activate<ACT>(acc[mt][nt][2 * h] + bias)),
                       fromFloat<T>(activate<ACT>(acc[mt][nt][2 * h + 1] + bias))};
          *reinterpret_cast<uint32_t *>(y + (b * NP + t) * C + c) =
              *reinterpret_cast<uint32_t *>(pair);
        }
      }
  }
}

/// Rows of C elements copied between per-sample row counts: y holds OUT_ROWS
/// rows a sample, of which the first LIVE are x's rows (x: IN_ROWS a sample,
/// IN_STRIDE apart, read through activation XACT) and the rest zeros.
/// Pads token mixing's GEMM operand (OUT_ROWS > IN_ROWS) or takes its
/// result back to the tensor's rows (OUT_ROWS < IN_ROWS); `rows` counts y's.
template <class InT, class OutT, int C, int IN_STRIDE, int XACT, int IN_ROWS,
          int OUT_ROWS, int LIVE>
__device__ __forceinline__ void runRemapRows(const InT *__restrict__ x,
                                             OutT *__restrict__ y,
                                             long long rows) {
  constexpr int V = widthDividing(C, IN_STRIDE);
  const bool packed = alignedTo<V>(x) && alignedTo<V>(y);
  const long long warps = blockDim.x >> 5;
  for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
       row += gridDim.x * warps) {
    const int t = static_cast<int>(row % OUT_ROWS);
    const InT *xr = x + (row / OUT_ROWS * IN_ROWS + t) * IN_STRIDE;
    for (int c = (threadIdx.x & 31) * V; c < C; c += 32 * V) {
      float v[V] = {};
      if (t < LIVE) {
        if (packed) {
          loadPack<InT, V>(xr + c, v);
        } else {
#pragma unroll
          for (int k = 0; k < V; ++k)
            v[k] = toFloat(xr[c + k]);
        }
#pragma unroll
        for (int k = 0; k < V; ++k)
          v[k] = activate<XACT>(v[k]);
      }
      if (packed) {
        storePack<OutT, V>(y + row * C + c, v);
      } else {
#pragma unroll
        for (int k = 0; k < V; ++k)
          y[row * C + c + k] = fromFloat<OutT>(v[k]);
      }
    }
  }
}

/// layer_norm statistics of `rows` rows of C elements (rows of IN_STRIDE:
/// a slice of wider rows), read through activation XACT, a warp per row:
/// stats[2 r] = mean, stats[2 r + 1] = 1 / sqrt(variance + eps). The first
/// pass of layer_norm written transposed: a warp per row keeps many rows in
/// flight, where statistics inside the transposing CTA waited on them.
template <class InT, int C, int IN_STRIDE, int XACT>
__device__ __forceinline__ void
runRowStatistics(const InT *__restrict__ x, float *__restrict__ stats,
                 long long rows, float eps) {
  constexpr int V = widthDividing(C, IN_STRIDE);
  const long long warps = blockDim.x >> 5;
  const bool packed = alignedTo<V>(x);
  for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
       row += gridDim.x * warps) {
    float mean, inv;
    if (packed) {
      RowCache<V, C> cache;
      rowStatistics<V, InT, C, XACT>(x + row * IN_STRIDE, eps, mean, inv,
                                     cache);
    } else {
      RowCache<1, C> cache;
      rowStatistics<1, InT, C, XACT>(x + row * IN_STRIDE, eps, mean, inv,
                                     cache);
    }
    if ((threadIdx.x & 31) == 0) {
      stats[2 * row] = mean;
      stats[2 * row + 1] = inv;
    }
  }
}

/// What a transpose applies to x as it loads V elements of row a, columns
/// b.. of sample n: nothing, ResMLP's Affine norm x * alpha[b] + beta[b], or
/// a layer_norm with the row statistics of runRowStatistics (rows of A per
/// sample) and the weight and bias of the image (C = B floats each).
struct PlainLoad {
  template <int V>
  __device__ __forceinline__ void apply(float (&)[V], long long, int,
                                        int) const {}
};
struct AffineLoad {
  const float *alpha, *beta;
  template <int V>
  __device__ __forceinline__ void apply(float (&v)[V], long long, int,
                                        int b) const {
#pragma unroll
    for (int k = 0; k < V; ++k)
      v[k] = fmaf(v[k], alpha[b + k], beta[b + k]);
  }
};
template <int A, int B, bool WEIGHT, bool BIAS, int XACT> struct LayerNormLoad {
  const float *stats, *image;
  template <int V>
  __device__ __forceinline__ void apply(float (&v)[V], long long n, int a,
                                        int b) const {
    const long long row = n * A + a;
    const float mean = stats[2 * row], inv = stats[2 * row + 1];
#pragma unroll
    for (int k = 0; k < V; ++k) {
      v[k] = (activate<XACT>(v[k]) - mean) * inv;
      if constexpr (WEIGHT)
        v[k] *= image[b + k];
      if constexpr (BIAS)
        v[k] += image[(WEIGHT ? B : 0) + b + k];
    }
  }
};

/// Tiles of the transposes: SA x SB elements through shared memory (64 x 64
/// unless the compiler chose extents that divide A and B more evenly: the
/// 196 tokens of the vision MLPs in two tiles of 104 and 92, not three of 64
/// and one of 4), read and written with the widest accesses the row lengths
/// allow (16 bytes where rows are multiples of 8 halves, 8 bytes for 196
/// tokens). Scalar accesses and 32 x 32 tiles ran these at a sixth of the
/// memory bandwidth.
constexpr int kTransposeTile = 64;

/// [batch, A, B] (rows of XSTRIDE) -> [batch, B, A], an SA x SB tile per CTA
/// iteration; x goes through LOAD as it is read; the output through the
/// scale, then the add or multiply with r (through RACT), as it is written.
template <int VI, int VO, int VR, int SA, int SB, class IT, class OT, int A,
          int B, int XSTRIDE, int OP, bool SCALE, class RT, int RSTRIDE,
          int RSTART, int RACT, class LOAD>
__device__ __forceinline__ void
transposeTiles(const IT *__restrict__ x, OT *__restrict__ y, long long tiles,
               const RT *__restrict__ r, const float *__restrict__ scale,
               const LOAD &load, float (*tile)[SA + 1] /* [SB][SA + 1]: [b][a] */) {
  static_assert(SA % VO == 0 && SB % VI == 0, "tiles of whole accesses");
  constexpr int TA = (A + SA - 1) / SA, TB = (B + SB - 1) / SB;
  for (long long w = blockIdx.x; w < tiles; w += gridDim.x) {
    const long long n = w / (TA * TB);
    const int a0 = static_cast<int>(w % (TA * TB)) / TB * SA,
              b0 = static_cast<int>(w % TB) * SB;
    for (int e = threadIdx.x; e < SA * (SB / VI); e += blockDim.x) {
      const int al = e / (SB / VI), bl = e % (SB / VI) * VI;
      const int a = a0 + al, b = b0 + bl;
      float v[VI] = {};
      if (a < A && b < B) {
        loadPack<IT, VI>(x + (n * A + a) * XSTRIDE + b, v);
        load.apply(v, n, a, b);
      }
#pragma unroll
      for (int k = 0; k < VI; ++k)
        tile[bl + k][al] = v[k];
    }
    __syncthreads();
    for (int e = threadIdx.x; e < SB * (SA / VO); e += blockDim.x) {
      const int bl = e / (SA / VO), al = e % (SA / VO) * VO;
      const int a = a0 + al, b = b0 + bl;
      if (a < A && b < B) {
        float v[VO];
#pragma unroll
        for (int k = 0; k < VO; ++k)
          v[k] = SCALE ? tile[bl][al + k] * scale[a + k] : tile[bl][al + k];
        if constexpr (OP != 0) {
          const RT *ro = r + (n * B + b) * RSTRIDE + RSTART + a;
#pragma unroll
          for (int k = 0; k < VO; k += VR) {
            float o[VR];
            loadPack<RT, VR>(ro + k, o);
#pragma unroll
            for (int j = 0; j < VR; ++j)
              v[k + j] = OP == 1 ? activate<RACT>(o[j]) + v[k + j]
                                 : activate<RACT>(o[j]) * v[k + j];
          }
        }
        storePack<OT, VO>(y + (n * B + b) * A + a, v);
      }
    }
    __syncthreads();
  }
}

/// transposeTiles with the widest accesses the shapes allow where the
/// pointers are aligned for them, else one element at a time.
template <int SA, int SB, class IT, class OT, int A, int B, int XSTRIDE,
          int OP, bool SCALE, class RT, int RSTRIDE, int RSTART, int RACT,
          class LOAD>
__device__ __forceinline__ void
transposeAligned(const IT *__restrict__ x, OT *__restrict__ y, long long tiles,
                 const RT *__restrict__ r, const float *__restrict__ scale,
                 const LOAD &load) {
  constexpr int VI = widthDividing(widthDividing(B, XSTRIDE), SB),
                VO = widthDividing(A, SA),
                VR = widthDividing(VO, widthDividing(RSTRIDE, RSTART));
  // One buffer for both variants (each declaring its own would add up).
  __shared__ float tile[SB][SA + 1];
  if (alignedTo<VI>(x) && alignedTo<VO>(y) && (OP == 0 || alignedTo<VR>(r)))
    transposeTiles<VI, VO, VR, SA, SB, IT, OT, A, B, XSTRIDE, OP, SCALE, RT,
                   RSTRIDE, RSTART, RACT>(x, y, tiles, r, scale, load, tile);
  else
    transposeTiles<1, 1, 1, SA, SB, IT, OT, A, B, XSTRIDE, OP, SCALE, RT,
                   RSTRIDE, RSTART, RACT>(x, y, tiles, r, scale, load, tile);
}

/// layer_norm over the last axis of [batch, T, C] (rows of IN_STRIDE: a
/// slice of wider rows, read through XACT), written transposed as [batch,
/// C, T] (the token-mixing input of MLP-Mixer and gMLP), given the row
/// statistics of runRowStatistics; `tiles` = batch * ceil(T / ST) *
/// ceil(C / SC) (tile extents, transposeTiles).
template <class InT, class OutT, int T, int C, bool WEIGHT, bool BIAS,
          int IN_STRIDE = C, int XACT = kIdentity, int ST = kTransposeTile,
          int SC = kTransposeTile>
__device__ __forceinline__ void
runLayerNormTranspose(const InT *__restrict__ x, const float *__restrict__ stats,
                      const float *__restrict__ image, OutT *__restrict__ y,
                      long long tiles) {
  transposeAligned<ST, SC, InT, OutT, T, C, IN_STRIDE, 0, false, OutT, T, 0,
                   kIdentity>(
      x, y, tiles, static_cast<const OutT *>(nullptr), nullptr,
      LayerNormLoad<T, C, WEIGHT, BIAS, XACT>{stats, image});
}

/// [batch, A, B] -> [batch, B, A]; `tiles` = batch * ceil(A / SA) *
/// ceil(B / SB) (tile extents, transposeTiles). The transpose back from token mixing may take what reads
/// it along: a scale per output column (SCALE: `scale`, A floats), then OP
/// 1 adds / 2 multiplies `r` [batch, B, A] (rows of RSTRIDE elements from
/// RSTART: a slice read in place, through RACT), as the residual add of
/// MLP-Mixer and ResMLP or the gating multiply of gMLP. PRE: x is read as
/// x * alpha[b] + beta[b] (ResMLP's Affine norm before its token mixing).
template <class IT, class OT, int A, int B, int OP = 0, bool SCALE = false,
          class RT = OT, int RSTRIDE = A, int RSTART = 0, bool PRE = false,
          int RACT = kIdentity, int SA = kTransposeTile,
          int SB = kTransposeTile>
__device__ __forceinline__ void
runTranspose(const IT *__restrict__ x, OT *__restrict__ y, long long tiles,
             const RT *__restrict__ r = nullptr,
             const float *__restrict__ scale = nullptr,
             const float *__restrict__ alpha = nullptr,
             const float *__restrict__ beta = nullptr) {
  if constexpr (PRE)
    transposeAligned<SA, SB, IT, OT, A, B, B, OP, SCALE, RT, RSTRIDE, RSTART, RACT>(
        x, y, tiles, r, scale, AffineLoad{alpha, beta});
  else
    transposeAligned<SA, SB, IT, OT, A, B, B, OP, SCALE, RT, RSTRIDE, RSTART, RACT>(
        x, y, tiles, r, scale, PlainLoad{});
}

/// y[n, c] = mean over t of x[n, t, c]; `count` = batch * C outputs.
template <class IT, class OT, int T, int C>
__device__ __forceinline__ void runMeanTokens(const IT *__restrict__ x,
                                              OT *__restrict__ y,
                                              long long count) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       i < count; i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long n = i / C;
    const int c = static_cast<int>(i % C);
    float sum = 0.f;
    for (int t = 0; t < T; ++t)
      sum += toFloat(x[(n * T + t) * C + c]);
    y[i] = fromFloat<OT>(sum / T);
  }
}

/// Patches of an [N, CIN, H, W] image as rows of [N * P, CIN * PH * PW]
/// (features in (c, i, j) order, as the convolution weight flattens).
/// `count` = N * CIN * H * W / 4: each thread reads 4 consecutive pixels of
/// an image row (coalesced across the warp) and writes them into their
/// patch's row.
template <class IT, class OT, int CIN, int H, int W, int PH, int PW>
__device__ __forceinline__ void runIm2col(const IT *__restrict__ x,
                                          OT *__restrict__ y, long long count) {
  static_assert(W % 4 == 0 && PW % 4 == 0, "pixels go in fours");
  constexpr int PX = W / PW, P = (H / PH) * PX, K = CIN * PH * PW;
  for (long long q = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       q < count; q += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long plane = q / (H * W / 4); // n * CIN + c
    const int rest = static_cast<int>(q - plane * (H * W / 4));
    const int row = rest / (W / 4), col = (rest % (W / 4)) * 4;
    const long long n = plane / CIN;
    const int c = static_cast<int>(plane % CIN);
    const IT *src = x + (plane * H + row) * W + col;
    const int p = (row / PH) * PX + col / PW;
    OT *dst = y + (n * P + p) * K + (c * PH + row % PH) * PW + col % PW;
#pragma unroll
    for (int j = 0; j < 4; ++j)
      dst[j] = fromFloat<OT>(toFloat(src[j]));
  }
}

/// y[r, :] = x[r, START : START + COUT] for rows of CIN elements;
/// `count` = rows * COUT.
template <class IT, class OT, int CIN, int START, int COUT>
__device__ __forceinline__ void runSliceCols(const IT *__restrict__ x,
                                             OT *__restrict__ y,
                                             long long count) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
       i < count; i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long r = i / COUT;
    y[i] = fromFloat<OT>(toFloat(x[r * CIN + START + (i - r * COUT)]));
  }
}

enum BinaryOp : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
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
      v = OP == kAdd ? v + w : OP == kSub ? v - w : OP == kMul ? v * w : v / w;
    }
    y[i] = fromFloat<OutT>(activate<ACT>(v));
  }
}

} // namespace mlpc

#endif // MLPC_KERNELS_CUH
