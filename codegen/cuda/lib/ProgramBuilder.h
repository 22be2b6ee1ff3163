//===- ProgramBuilder.h - shared state of the CUDA program builder -*- C++
//-*-===//
//
// Private to codegen/cuda/lib: the builder walks the model function once and
// forms fused groups (ProgramBuilder.cpp); the emitters of each kind of
// group live in their own files (EmitMatmul.cpp, EmitOps.cpp, ...). Every
// kernel is an instantiation of codegen/cuda/kernels/mlpc_kernels.cuh with
// the group's shapes as template arguments.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_CODEGEN_CUDA_LIB_PROGRAMBUILDER_H
#define MLP_CODEGEN_CUDA_LIB_PROGRAMBUILDER_H

#include "mlp/Codegen/CUDA/Program.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

#include <optional>
#include <set>

namespace mlp::cuda::detail {

using namespace mlir;

/// Shared memory one chain's weights may take: fits sm_80's 163 KiB with
/// room for a second CTA's worth of registers to matter more than smem.
inline constexpr uint64_t kChainSharedBudget = 160 * 1024;
inline constexpr int64_t kChainMaxWidth = 256;
/// Reductions up to this length use the tensor-core linear kernel's
/// two-CTAs-per-SM configuration.
inline constexpr int64_t kGemmShortK = 1024;

inline uint64_t alignTo16(uint64_t n) { return (n + 15) / 16 * 16; }
inline uint64_t alignTo128(uint64_t n) { return (n + 127) / 128 * 128; }
inline int64_t pad16(int64_t n) { return (n + 15) / 16 * 16; }

/// The element types CUDA kernels take ("" for others, f64 and integers).
inline std::string kernelDtypeName(Type type) {
  std::string name = mlp::dtypeName(type);
  return name == "float32" || name == "float16" || name == "bfloat16" ? name
                                                                      : "";
}

inline const char *cType(llvm::StringRef dtype) {
  if (dtype == "float16")
    return "__half";
  if (dtype == "bfloat16")
    return "__nv_bfloat16";
  return "float";
}

inline const char *computeDtype(Precision p) {
  return p == Precision::F16    ? "float16"
         : p == Precision::BF16 ? "bfloat16"
                                : "float32";
}

inline uint64_t dtypeBytes(llvm::StringRef dtype) {
  return dtype == "float32" ? 4 : 2;
}

/// The activation code of mlpc_kernels.cuh for an activation op, or -1.
inline int activationOf(Operation *op) {
  if (isa<mlp::ReluOp>(op))
    return 1;
  if (auto gelu = dyn_cast<mlp::GeluOp>(op))
    return gelu.getApproximate() == "tanh" ? 3 : 2;
  if (isa<mlp::SiluOp>(op))
    return 4;
  if (isa<mlp::SigmoidOp>(op))
    return 5;
  if (isa<mlp::TanhOp>(op))
    return 6;
  if (isa<mlp::SinOp>(op))
    return 7;
  if (isa<mlp::CosOp>(op))
    return 8;
  if (isa<mlp::ExpOp>(op))
    return 9;
  if (isa<mlp::SqrtOp>(op))
    return 10;
  return -1;
}

/// [batch, d1, ..., cols] with static dims after the batch: kernels that
/// act on the last axis see batch * d1 * ... rows of `cols`.
inline bool isBatchMatrix(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  if (!type || type.getRank() < 2 || !type.isDynamicDim(0) ||
      kernelDtypeName(type.getElementType()).empty())
    return false;
  for (int64_t i = 1; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      return false;
  return true;
}

/// [batch, ...] with static dims after the batch, of any rank >= 1 ([N]
/// is one column per batch row): what the general kernels take.
inline bool isBatched(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  if (!type || type.getRank() < 1 || !type.isDynamicDim(0))
    return false;
  for (int64_t i = 1; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      return false;
  return true;
}

inline int64_t rowsPerBatchOf(Type t) {
  auto type = cast<RankedTensorType>(t);
  int64_t rows = 1;
  for (int64_t i = 1; i + 1 < type.getRank(); ++i)
    rows *= type.getDimSize(i);
  return rows;
}

inline int64_t colsOf(Type t) {
  auto type = cast<RankedTensorType>(t);
  if (type.getRank() == 1 && type.isDynamicDim(0))
    return 1; // [N]
  return type.getDimSize(type.getRank() - 1);
}

/// `v` if it is a parameter holding one row of `c` values ([c] or
/// [1, ..., c]), else null.
inline mlp::ParamOp rowParam(Value v, int64_t c) {
  auto param = v.getDefiningOp<mlp::ParamOp>();
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return param && type && type.getRank() >= 1 && type.getNumElements() == c &&
                 type.getDimSize(type.getRank() - 1) == c
             ? param
             : nullptr;
}

/// The kernel `name` that applies the exact GELU in place to y (n elements
/// of `type`) after cuBLASLt's product, whose epilogue has only the tanh one.
inline std::string exactGeluAfter(const std::string &name, const char *type) {
  return "\n// the exact GELU after cuBLASLt\nextern \"C\" __global__ void "
         "__launch_bounds__(256)\n" +
         name + "(" + type + " *y, long long n) {\n  mlpc::runActivateInPlace<" +
         type + ", 2>(y, n);\n}\n";
}

struct Layer {
  Operation *linear = nullptr; // linear (or patch_embed) op, for diagnostics
  Value input;                 // its input, unless inputIndex is set
  int inputIndex = -1;         // a value the builder made (im2col)
  int64_t in = 0, out = 0;
  int act = 0;
  std::string weight, bias; // param names ("" = no bias)
  std::string scale; // a per-column scale after the activation ("" = none)
  bool weightTransposed = false; // matmul: the weight is stored (in, out)
  /// The weight's columns when `in` counts zero padding after them (0: in).
  int64_t weightCols = 0;
  Value result; // after the activation and scale, if any
  /// ResMLP's Affine norm x * alpha + beta on the input, folded into the
  /// image: the weight's columns times alpha, the bias plus W beta.
  std::string inputAlpha, inputBeta;

  /// The image pieces of the weight and the bias with the folds above.
  void foldInputAffine(ImagePiece &weight) const {
    weight.colScale = inputAlpha;
  }
  void foldInputAffineIntoBias(ImagePiece &bias) const {
    if (inputBeta.empty())
      return;
    bias.productMatrix = weight;
    bias.productVector = inputBeta;
    bias.productTransposed = weightTransposed;
  }
};

class ProgramBuilder {
public:
  ProgramBuilder(func::FuncOp model, Precision precision, Tuning tuning)
      : model(model), precision(precision), tuning(tuning) {}
  FailureOr<Program> build();

private:
  LogicalResult bindSignature();
  FailureOr<int> valueOf(Value v, Operation *user);
  int defineResult(Value v);
  FailureOr<std::string> paramName(Value v, Operation *user, StringRef role);
  FailureOr<Layer> layerAt(Operation *op); // linear or matmul
  /// The linear layer of a convolution (patch_embed, conv2d) whose weight,
  /// viewed as (out, in), multiplies its patches.
  FailureOr<Layer> convolutionLayer(Operation *op, Value weight, Value bias,
                                    int64_t in, int64_t out);
  bool isNarrow(const Layer &l) const {
    return precision != Precision::F32 && l.in <= kChainMaxWidth &&
           l.out <= kChainMaxWidth;
  }
  static uint64_t chainLayerBytes(const Layer &l, uint64_t elem) {
    return alignTo128(pad16(l.out) * pad16(l.in) * elem) +
           (l.bias.empty() ? 0 : alignTo16(pad16(l.out) * 4));
  }

  Value absorbScaleAndResidual(Layer &layer);
  LogicalResult emitChain(std::vector<Layer> &layers);
  LogicalResult emitLinear(Layer layer, Value residual);
  LogicalResult emitLayerNorm(mlp::LayerNormOp op);
  LogicalResult emitElementwise(Operation *op);
  struct ChainOp;
  /// Whether `op` can continue a run of elementwise ops whose running value
  /// is `running` (EmitElementwiseChain.cpp); fills `out`.
  bool chainableOperand(Operation *op, Value running, ChainOp &out);
  /// The run of elementwise ops starting at `first` as one kernel; false
  /// (nothing emitted) when `first` cannot start one.
  FailureOr<bool> emitElementwiseChain(Operation *first);
  LogicalResult emitTranspose(mlp::TransposeOp op);
  /// x * alpha + beta (parameter rows) read only by a transpose of the last
  /// two axes or by a linear layer with a bias: recorded for the transpose
  /// to apply as it reads x, or for the layer to fold into its weight image
  /// (ResMLP's Affine norms); true if `mul` starts one (nothing emitted).
  bool deferAffine(mlp::MulOp mul);
  struct Affine {
    Value x;
    std::string alpha, beta;
  };
  llvm::DenseMap<Value, Affine> deferredAffines;
  LogicalResult emitReshape(mlp::ReshapeOp op);
  LogicalResult emitSlice(mlp::SliceOp op);
  LogicalResult emitMean(mlp::MeanOp op);
  /// group_norm as the frontend writes it, starting at its first mean
  /// (EmitGroupNorm.cpp); false (nothing emitted) when `first` is not one.
  FailureOr<bool> emitGroupNorm(mlp::MeanOp first);
  LogicalResult emitPatchEmbed(mlp::PatchEmbedOp op);
  /// A new intermediate of `dtype` ("": the compute type).
  int newTemp(int64_t rowsPerBatch, int64_t cols, StringRef dtype = "");

  // The general kernels (EmitGeneric.cpp, EmitSpatial.cpp,
  // kernels/mlpc_generic.cuh): any shape, broadcasting, no batch.
public:
  struct Operand; // a value, a parameter's image or a scalar
  struct Strides; // an operand's element strides over an iteration space

private:
  FailureOr<Operand> operandOf(Value v, Operation *user);
  int paramImage(StringRef param, int64_t count);
  int defineAny(Value v);
  void addCountArg(Step &step, Type iteration, int64_t perBatchCount);
  /// A runMapped copy of `a` into value `out`: the elements `dims` (the
  /// work counted as `counted` iterates), written at `dst`, read at `src`.
  void emitMappedCopy(const std::string &what, const Operand &a, int out,
                      RankedTensorType counted, ArrayRef<int64_t> dims,
                      const Strides &dst, const Strides &src);
  LogicalResult emitGenericElementwise(Operation *op);
  LogicalResult emitGenericCopy(Operation *op, Value input, Value result);
  LogicalResult emitGenericTranspose(mlp::TransposeOp op);
  LogicalResult emitGenericReshape(mlp::ReshapeOp op);
  LogicalResult emitGenericSlice(mlp::SliceOp op);
  LogicalResult emitConcat(mlp::ConcatOp op);
  LogicalResult emitReduce(Operation *op, Value input, int64_t axis, int mode);
  LogicalResult emitSoftmax(mlp::SoftmaxOp op);
  LogicalResult emitEmbedding(mlp::EmbeddingOp op);
  LogicalResult emitPaddingMask(mlp::PaddingMaskOp op);
  LogicalResult emitBatchNorm(mlp::BatchNormOp op);
  LogicalResult emitBSpline(mlp::BSplineBasisOp op);
  LogicalResult emitAvgPool(mlp::AvgPool2DOp op);
  LogicalResult emitConv2D(mlp::Conv2DOp op);
  /// linear / matmul that the linear kernels do not take: no batch, or a
  /// weight the model computes.
  bool needsGenericMatmul(Operation *op) const;
  LogicalResult emitGenericMatmul(Operation *op);
  std::string newKernel(std::string what, Step &step);
  /// The statement a kernel body starts with to launch early (waiting for
  /// the previous kernel's memory; Step::earlyLaunch), empty without it.
  const char *waitFirst(Step &step) const;
  /// Writes the step's kernel, `extern "C" NAME(params) { body }` (`body`
  /// instantiates a template of mlpc_kernels.cuh), and appends the step.
  void addStep(Step step, const llvm::Twine &params,
               const llvm::Twine &body);
  /// The row-count argument of kernels acting on value `v`'s last axis.
  Arg rowsOf(int v) const {
    Arg a{Arg::Rows};
    a.perBatch = program.values[v].rowsPerBatch;
    return a;
  }

  /// Slices of the last axis are not copied until a reader needs a
  /// contiguous tensor (valueOf copies them then): readers that take a row
  /// stride (layer_norm, elementwise runs) read the source in place.
  llvm::DenseMap<Value, mlp::SliceOp> deferredSlices;
  /// An exact GELU after a linear layer whose readers (through slices: gMLP)
  /// apply it as they read, sparing the pass over the hidden tensor that
  /// cuBLASLt's product needs otherwise: the activation's result -> the
  /// layer's result and the activation code. valueOf computes it for the
  /// readers that do not.
  llvm::DenseMap<Value, std::pair<Value, int>> deferredActivations;
  bool readersTakeActivation(Value v) const;
  bool isAvailable(Value v) const {
    return values.count(v) || deferredSlices.count(v) ||
           deferredActivations.count(v) || paddedValues.count(v);
  }
  /// Where a reader that takes a row stride finds `v`: a buffer, the first
  /// column in it and its row stride; with `readsActivation`, a buffer still
  /// to go through activation `act` (a deferred one) as it is read.
  struct Strided {
    int value;
    int64_t start, stride;
    int act = 0;
    /// A buffer with padding rows (token mixing's GEMM results): each
    /// sample's `live` rows lie first among its `padded` (0: none).
    int64_t live = 0, padded = 0;
  };
  /// `takesPadding`: the reader indexes rows through `live` and `padded`;
  /// for others a padded value is copied out first (valueOf).
  FailureOr<Strided> stridedOf(Value v, Operation *user,
                               bool readsActivation = false,
                               bool takesPadding = false);

  // Token mixing through cuBLASLt (EmitTokenMixing.cpp).
  /// transpose(1, 2) -> linear layers over the tokens (with activations
  /// between: MLP-Mixer's token MLP) -> transpose(1, 2), as batched GEMMs
  /// y_b = act(W x_b + bias) on [N, T, C] as it lies.
  struct TokenGemm {
    mlp::TransposeOp in, out;
    /// The linear layers over the tokens and the activation after each
    /// (0: none; relu, the tanh GELU or the exact one).
    std::vector<std::pair<mlp::LinearOp, int>> layers;
    int64_t tokens, channels;
  };
  std::optional<TokenGemm> tokenGemmAt(mlp::TransposeOp op) const;
  LogicalResult emitTokenGemm(TokenGemm g);
  /// Tokens padded to a multiple of 16: cuBLASLt's batched GEMM over 196
  /// tokens ran at 40 % of its speed over 208 (H200, bench/RESULTS.md).
  static int64_t paddedTokens(int64_t t) { return pad16(t); }
  /// Values held with zero rows after each sample's rows (the GEMM's
  /// operands and results): the buffer and the tensor's rows a sample.
  struct Padded {
    int value;
    int64_t rows;
  };
  llvm::DenseMap<Value, Padded> paddedValues;
  /// A runRemapRows step copying `in` (rows of `out`'s columns, `inRows` a
  /// sample) into `out` (`outRows` a sample, the first `live` copied, the
  /// rest zeros).
  void emitRemapRows(const Strided &in, int out, int64_t inRows,
                     int64_t outRows, int64_t live);

  func::FuncOp model;
  Precision precision;
  Tuning tuning;
  Program program;
  llvm::DenseMap<Value, int> values;
  llvm::DenseMap<Value, int> outputIndex;
  llvm::DenseSet<Operation *> consumed;
  std::string kernels; // the translation unit's step kernels
  int temps = 0;
  /// (type, N) of every wgmma the chains issue on sm_90a.
  std::set<std::pair<std::string, int64_t>> wgmmaShapes;
  /// (type, N) of the tensor-core linear kernels' shared-memory wgmma.
  std::set<std::pair<std::string, int64_t>> wgmmaSSShapes;
  /// Images of whole parameters as floats (general kernels), by name.
  llvm::StringMap<int> paramImages;
  /// Values that are a parameter under another shape (reshape of a
  /// parameter): the parameter's name.
  llvm::DenseMap<Value, std::string> paramViews;
};

} // namespace mlp::cuda::detail

#endif // MLP_CODEGEN_CUDA_LIB_PROGRAMBUILDER_H
