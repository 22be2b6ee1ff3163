//===- CudaPlan.h - the "cuda" section of the model metadata ----*- C++ -*-===//
//
// What the compiler's CUDA backend tells the runtime (codegen/cuda,
// docs/runtime-abi.md): the tensors its kernels read and write, the weight
// images to build from the parameters, and every kernel launch in order.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_CUDAPLAN_H
#define MLP_RUNTIME_CUDAPLAN_H

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mlp::rt {

struct CudaValue {
  enum Kind { Input, Output, Temp } kind = Temp;
  int index = 0;
  int64_t cols = 0;
  int64_t rowsPerBatch = 1; // rows = batch * rowsPerBatch
  bool batched = true;      // false: rowsPerBatch rows whatever the batch
  std::string dtype;
  int elemBytes = 4;
};

struct CudaImagePiece {
  int param = 0;
  std::string dtype; // float32 | float16 | bfloat16
  int64_t rows = 0, cols = 0, paddedRows = 0, rowStride = 0;
  uint64_t offset = 0;
  /// Row-major, or 8 x 8 core matrices (codegen/cuda/Program.h).
  bool coreMatrices = false;
  /// Position p of the piece holds the parameter's row / column perm(p):
  /// the chain kernels' fragment orders (mlpc_kernels.cuh).
  enum Permutation { Identity, AFragments, CFragments };
  Permutation rowPerm = Identity, colPerm = Identity;
  /// The parameter is stored (cols, rows).
  bool transposed = false;
  /// Params (-1: none) scaling element (r, c) by their element r / c.
  int rowScale = -1, colScale = -1;
  /// Params (-1: none) of an affine map folded into a bias: element c plus
  /// sum_k matrix[c, k] * vector[k] ((k, c) when productTransposed), before
  /// the scales.
  int productMatrix = -1, productVector = -1;
  bool productTransposed = false;
  /// The param is a vector of `rows` values; element (r, c) is its r.
  bool repeatInRow = false;

  /// perm(p) for positions 0 .. padded - 1 (padded: the padded extent).
  static int64_t permute(Permutation perm, int64_t p, int64_t padded) {
    if (perm == AFragments) // padded = 16 KT
      return (p % 8 / 2) * (padded / 4) + 2 * (2 * (p / 16) + p % 16 / 8) +
             p % 2;
    if (perm == CFragments) // padded = 8 NT
      return (p % 8 / 2) * (padded / 4) + 2 * (p / 8) + p % 2;
    return p;
  }

  /// Element index of (r, c) within the piece.
  int64_t index(int64_t r, int64_t c) const {
    if (!coreMatrices)
      return r * rowStride + c;
    return ((r / 8) * (rowStride / 8) + c / 8) * 64 + (r % 8) * 8 + c % 8;
  }
};

struct CudaImage {
  uint64_t bytes = 0;
  std::vector<CudaImagePiece> pieces;
};

/// TensorMap: a CUtensorMap of the row-major [rows, cols] matrix of value
/// `index` (rows = batch * perBatch) or of image `index`'s start (rows =
/// perBatch), boxes of 64 columns x boxRows rows, 128-byte swizzle
/// (codegen/cuda Program.h). TmaReady: an int, 1 when every map of the step
/// was encoded.
struct CudaArg {
  enum Kind { Value, Image, Rows, F32, Count, TensorMap, TmaReady } kind = Rows;
  int index = 0; // value or image (-1: a null pointer)
  float number = 0;
  int64_t perBatch = 1; // Rows: the kernel gets batch * perBatch; Count: this
  bool ofImage = false;
  int64_t cols = 0, boxRows = 0;
  int elemBytes = 2;
  bool bfloat16 = false;
};

/// A linear layer cuBLASLt may compute instead of the step's kernel:
/// y = act(x W^T + bias) + residual, W (n, k) row-major at byte 0 of the
/// image, the bias (n elements of y's type) at biasOffset.
///
/// With `tokens`: token mixing, y_b = act(W x_b + bias) per sample b, x holding
/// k rows a sample and y n rows of the same columns, the bias the (n,
/// y.cols) piece at biasOffset that repeats bias[t] along row t.
struct CudaGemm {
  bool tokens = false;
  int x = 0, y = 0, residual = -1, image = 0;
  int64_t k = 0, n = 0, biasOffset = -1;
  /// Gelu: the exact GELU, by `afterKernel` on y after cuBLASLt.
  enum Activation { None, Relu, GeluTanh, Gelu } activation = None;
  std::string afterKernel;
};

struct CudaStep {
  std::string kernel, what;
  int threads = 256;
  uint64_t sharedBytes = 0;
  bool persistent = true;
  /// The kernel waits for the previous kernel's memory itself: it may be
  /// launched while that kernel finishes (programmatic dependent launch).
  bool earlyLaunch = false;
  int64_t rowsPerCta = 1, gridY = 1;
  /// The warp-specialized form of a GEMM step (same arguments), launched
  /// instead where its TMA tensor maps are ready: a persistent grid over
  /// row tiles x pingPongColTiles tiles. Empty: none.
  std::string pingPongKernel;
  int pingPongThreads = 0;
  uint64_t pingPongSharedBytes = 0;
  int64_t pingPongColTiles = 0;
  std::vector<CudaArg> args;
  bool hasGemm = false;
  CudaGemm gemm;
};

struct CudaPlan {
  std::string precision;
  uint64_t fatbinBytes = 0;
  int numTemps = 0;
  std::vector<CudaValue> values;
  std::vector<CudaImage> images;
  std::vector<CudaStep> steps;
};

struct ModelMetadata;

/// Parses and validates the section against the model's tensors (`meta`'s
/// inputs, outputs and params are already parsed); false and a message on
/// any inconsistency.
bool parseCudaPlan(const nlohmann::json &j, const ModelMetadata &meta,
                   CudaPlan &out, std::string &error);

} // namespace mlp::rt

#endif // MLP_RUNTIME_CUDAPLAN_H
