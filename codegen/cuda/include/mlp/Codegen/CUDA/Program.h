//===- Program.h - a model as a sequence of CUDA kernel launches -*- C++
//-*-===//
//
// The CUDA backend turns the model function (mlp dialect, after the
// optimization passes) into a Program: fused groups of ops, each one kernel
// specialized to its shapes (CUDA C++ source), plus what the runtime needs to
// run them: the intermediate tensors, the weight images it builds from the
// parameters at model creation, and the launch of every step. The runtime
// reads it from the "cuda" section of the model metadata
// (docs/runtime-abi.md).
//
//===----------------------------------------------------------------------===//
#ifndef MLP_CODEGEN_CUDA_PROGRAM_H
#define MLP_CODEGEN_CUDA_PROGRAM_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LogicalResult.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlp::cuda {

/// The arithmetic of matrix products: fp32 (CUDA cores), or fp16/bf16
/// operands on tensor cores with fp32 accumulation.
enum class Precision { F32, F16, BF16 };

/// Parses "f32" / "f16" / "bf16".
bool parsePrecision(llvm::StringRef text, Precision &out);
const char *precisionName(Precision precision);

/// A [batch, ..., cols] tensor that steps read or write: a model input or
/// output (the caller's buffer) or an intermediate the runtime allocates per
/// run. It holds batch * rowsPerBatch rows of `cols` elements ([batch] has
/// one column). A temp without a batch (`batched` false, computed from
/// parameters only) holds rowsPerBatch rows whatever the batch.
struct Buffer {
  enum Kind { Input, Output, Temp } kind;
  int index; // position among the model's inputs / outputs / temps
  int64_t cols;
  // "float32", "float16", "bfloat16"; inputs may be "int32", "int64"
  std::string dtype;
  int64_t rowsPerBatch = 1; // product of the dims between batch and cols
  bool batched = true;
};

/// One parameter converted into a weight image: viewed as a (rows, cols)
/// matrix (a vector is 1 x n), zero padded to `paddedRows` x `rowStride`
/// elements of `dtype` at byte `offset`, stored row-major (Rows) or as 8 x 8
/// core matrices, row-block major (CoreMatrices: element (r, c) at
/// ((r / 8) * (rowStride / 8) + c / 8) * 64 + (r % 8) * 8 + c % 8), the
/// layout that ldmatrix and wgmma read without bank conflicts.
struct ImagePiece {
  std::string param;
  std::string dtype;
  int64_t rows = 1, cols = 1;
  int64_t paddedRows = 1, rowStride = 1;
  uint64_t offset = 0;
  enum Layout { Rows, CoreMatrices } layout = Rows;
  /// Row / column permutations matching the chain kernels' vectorized
  /// fragment I/O (mlpc_kernels.cuh): position p of the piece holds the
  /// parameter's row / column perm(p).
  enum Permutation { Identity, AFragments, CFragments };
  Permutation rowPerm = Identity, colPerm = Identity;
  /// The parameter is stored (cols, rows): element (r, c) reads its (c, r)
  /// (a `matmul` weight, (in, out), used as (out, in)).
  bool transposed = false;
  /// Parameters ("" = none) multiplying element (r, c) by their element r /
  /// c: a layer scale folded into a weight (rows) and its bias (cols).
  std::string rowScale, colScale;
  /// A bias with an affine map of the layer's input folded in: element c
  /// plus sum_k productMatrix[c, k] * productVector[k] (the weight, (out,
  /// in), or (in, out) when productTransposed), before the scales.
  std::string productMatrix, productVector;
  bool productTransposed = false;
  /// The parameter is a vector of `rows` values and element (r, c) its
  /// element r: each row repeats one value (a per-token bias that cuBLASLt
  /// adds as its C matrix).
  bool repeatInRow = false;
};

/// A device buffer the runtime builds once, at model creation.
struct Image {
  std::vector<ImagePiece> pieces;
  uint64_t bytes = 0;
};

/// One argument of a kernel, in order.
///  - TensorMap: a CUtensorMap the runtime encodes for the Tensor Memory
///    Accelerator: the 2-D row-major matrix [rows, cols] of a value (rows =
///    batch * perBatch, at each launch) or of the piece at byte 0 of an
///    image (rows = perBatch, once), read in boxes of 64 columns x boxRows
///    rows with the 128-byte swizzle.
///  - TmaReady: an int, 1 when the runtime encoded every TensorMap of the
///    step (else the kernel takes its cp.async path).
struct Arg {
  enum Kind { ValueRef, ImageRef, Rows, F32, Count, TensorMap, TmaReady } kind;
  int index = 0;        // value or image index
  double number = 0;    // F32
  int64_t perBatch = 1; // Rows: the kernel gets batch * perBatch; Count: this
  bool ofImage = false; // TensorMap: of image `index`, not value `index`
  int64_t cols = 0, boxRows = 0; // TensorMap
};

/// A linear layer that cuBLASLt can compute in place of its step's kernel:
/// y = act(x W^T + bias) + residual, with W (n, k) row-major at byte 0 of
/// `image` and the bias (n elements of y's type) at `biasOffset`. The
/// runtime launches the kernel instead when it cannot load cuBLASLt.
///
/// With `tokens`, a token-mixing layer: y_b = act(W x_b + bias) for each sample
/// b, x holding k rows a sample and y n rows (both of the same columns, W
/// (n, k)), the bias the (n, y.cols) piece at `biasOffset` whose row t
/// repeats bias[t]: cuBLASLt's strided batched GEMM with the bias as C.
struct LibraryGemm {
  bool tokens = false;
  int x = -1, y = -1, residual = -1; // values (residual -1: none)
  int image = -1;
  int64_t k = 0, n = 0;
  int64_t biasOffset = -1; // -1: no bias
  /// cuBLASLt's epilogues; its GELU is the tanh approximation, so only
  /// gelu(approximate="tanh") maps to it. The exact GELU runs after the
  /// product and bias as a kernel of its own, `afterKernel` (y in place).
  enum Activation { None, Relu, GeluTanh, Gelu } activation = None;
  std::string afterKernel;
};

/// Another kernel for a step, with the same arguments, that the runtime
/// launches instead where it can: the warp-specialized GEMM where the TMA
/// reads the tensors. A persistent grid over (row tiles of the step's
/// rowsPerCta) x colTiles output tiles.
struct StepVariant {
  std::string kernel;
  int threads = 384;
  uint64_t sharedBytes = 0;
  int64_t colTiles = 1;
};

/// One kernel launch. Grid: `Persistent` runs as many CTAs as fit on the
/// GPU at once (capped by the row tiles), `RowTiles` one CTA per `rowsPerCta`
/// rows; y is `gridY` either way.
struct Step {
  std::string kernel; // extern "C" name in the fatbin
  std::string what;   // for humans: "chain of 5 linear layers", ...
  std::vector<Arg> args;
  int threads = 256;
  uint64_t sharedBytes = 0; // dynamic shared memory
  enum Grid { Persistent, RowTiles } grid = Persistent;
  int64_t rowsPerCta = 1;
  int64_t gridY = 1;
  /// The kernel waits for the previous kernel's memory itself (before it
  /// touches global memory other than its weight image): the runtime may
  /// launch it while the previous kernel finishes (sm_90).
  bool earlyLaunch = false;
  std::optional<LibraryGemm> gemm; // cuBLASLt may run it instead
  std::optional<StepVariant> pingPong; // with TMA tensor maps
};

struct Program {
  Precision precision = Precision::F32;
  std::vector<Buffer> values;
  std::vector<Image> images;
  std::vector<Step> steps;
  std::string source; // the CUDA C++ translation unit
};

/// Knobs of the generated kernels (0: the builder's own choice).
struct Tuning {
  int chainRowTiles = 0; // m16 row tiles each warp of a chain kernel owns
  int chainThreads = 0;  // threads per CTA of a chain kernel
  int chainPrefetch = 0; // input tiles a chain's warpgroup loads ahead
  int chainMinCtas = 0;  // CTAs per SM the registers must allow (0: any)
  /// Input tiles each warpgroup of a chain kernel keeps in flight through
  /// shared memory (cp.async) instead of registers (0: registers, -1: the
  /// builder's choice).
  int chainRing = -1;
  /// Kernels launch while the previous kernel finishes (Step's
  /// earlyLaunch): each waits for the previous kernel's memory first.
  bool earlyLaunch = true;
  /// Tensor-core linear kernel (EmitMatmul.cpp): 0 the builder's choice,
  /// 1 the choice without loading STAGES - 1 steps ahead and without the
  /// epilogue through shared memory, 3 the "pair"
  /// configuration everywhere, 4 the "wide" one everywhere.
  int gemmKernel = 0;
  /// Wide f16/bf16 linear layers whose epilogue cuBLASLt has (bias, ReLU,
  /// tanh GELU, a residual add, a foldable layer scale) also get a cuBLASLt
  /// description, which the runtime runs when it can load the library.
  bool cublasLt = false;
  /// With cublasLt: token mixing (transpose, a linear layer over the
  /// tokens, transpose back) as cuBLASLt's batched GEMM on [N, T, C].
  bool tokenGemm = true;
  /// Tensor-core linear kernels load their tiles through the Tensor Memory
  /// Accelerator where rows allow it (sm_90a).
  bool gemmTma = true;
  /// With gemmTma: the warp-specialized, persistent ping-pong form of the
  /// tensor-core linear kernels (16-bit outputs).
  bool gemmPingPong = true;
};

/// Builds the program of the model function. Ops the backend cannot run
/// yet are reported at their location.
mlir::FailureOr<Program> buildProgram(mlir::func::FuncOp model,
                                      Precision precision,
                                      const Tuning &tuning = {});

/// The "cuda" section of the metadata JSON; params are referred to by their
/// index in the metadata's "params" list (`paramIndex`).
std::string toJson(const Program &program,
                   const std::map<std::string, int> &paramIndex,
                   uint64_t fatbinBytes);

/// Compiles `source` with nvcc into a fatbin holding SASS for each of
/// `archs` ("80", "90a", ...) and PTX for the first; false and a message
/// (nvcc's diagnostics included) on failure.
bool compileFatbin(const std::string &source, const std::string &workDir,
                   const std::vector<std::string> &archs,
                   std::string &fatbinPath, std::string &error);

/// nvcc to use: $MLPC_NVCC, else `nvcc` on PATH, else /usr/local/cuda/bin.
std::string findNvcc();

} // namespace mlp::cuda

#endif // MLP_CODEGEN_CUDA_PROGRAM_H
