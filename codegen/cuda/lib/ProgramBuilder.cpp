//===- ProgramBuilder.cpp - mlp ops to fused CUDA kernel launches ---------===//
//
// Walks the model function once, in order, and forms fused groups:
//  - f16/bf16: maximal chains of narrow layers (linear [+ bias] [+ activation],
//    every width <= 256) become one tensor-core kernel whose activations stay
//    in registers; a chain is split where its weights would not fit in
//    shared memory;
//  - any other linear: one kernel with its bias, activation and a following
//    residual add fused into the epilogue;
//  - layer_norm, activations and elementwise add/sub/mul: one kernel each.
// Every kernel is an instantiation of codegen/cuda/kernels/mlpc_kernels.cuh
// with the group's shapes as template arguments.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CUDA/Program.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include "llvm/Support/raw_ostream.h"
#include <set>

using namespace mlir;
using namespace mlp::cuda;

namespace {

/// The kernels header, as text (generated from mlpc_kernels.cuh by CMake).
const char kKernelsHeader[] =
#include "mlpc_kernels.cuh.inc"
    ;

/// Shared memory one chain's weights may take: fits sm_80's 163 KiB with
/// room for a second CTA's worth of registers to matter more than smem.
constexpr uint64_t kChainSharedBudget = 160 * 1024;
constexpr int64_t kChainMaxWidth = 256;
/// Reductions up to this length use the tensor-core linear kernel's
/// two-CTAs-per-SM configuration.
constexpr int64_t kGemmShortK = 1024;

uint64_t alignTo16(uint64_t n) { return (n + 15) / 16 * 16; }
uint64_t alignTo128(uint64_t n) { return (n + 127) / 128 * 128; }
int64_t pad16(int64_t n) { return (n + 15) / 16 * 16; }

/// The element types CUDA kernels take ("" for others, f64 and integers).
std::string dtypeName(Type type) {
  std::string name = mlp::dtypeName(type);
  return name == "float32" || name == "float16" || name == "bfloat16" ? name
                                                                       : "";
}

const char *cType(llvm::StringRef dtype) {
  if (dtype == "float16")
    return "__half";
  if (dtype == "bfloat16")
    return "__nv_bfloat16";
  return "float";
}

const char *computeDtype(Precision p) {
  return p == Precision::F16    ? "float16"
         : p == Precision::BF16 ? "bfloat16"
                                : "float32";
}

uint64_t dtypeBytes(llvm::StringRef dtype) {
  return dtype == "float32" ? 4 : 2;
}

/// The activation code of mlpc_kernels.cuh for an activation op, or -1.
int activationOf(Operation *op) {
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
static bool isBatchMatrix(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  if (!type || type.getRank() < 2 || !type.isDynamicDim(0) ||
      dtypeName(type.getElementType()).empty())
    return false;
  for (int64_t i = 1; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      return false;
  return true;
}

static int64_t rowsPerBatchOf(Type t) {
  auto type = cast<RankedTensorType>(t);
  int64_t rows = 1;
  for (int64_t i = 1; i + 1 < type.getRank(); ++i)
    rows *= type.getDimSize(i);
  return rows;
}

static int64_t colsOf(Type t) {
  auto type = cast<RankedTensorType>(t);
  return type.getDimSize(type.getRank() - 1);
}

/// mlpc::Wgmma<T, N> (A from registers) and mlpc::WgmmaSS<T, N> (A from
/// shared memory) for each shape a model uses: the inline PTX names every
/// one of the N / 2 accumulator registers, so each N is its own text.
std::string
wgmmaSpecializations(const std::set<std::pair<std::string, int64_t>> &shapes,
                     const std::set<std::pair<std::string, int64_t>> &ssShapes) {
  if (shapes.empty() && ssShapes.empty())
    return "";
  std::string out = "\n#if defined(MLPC_WGMMA)\nnamespace mlpc {\n";
  auto emit = [&](const std::string &type, int64_t n, bool aInRegisters) {
    const char *ptxType = type == "__half" ? "f16" : "bf16";
    const int64_t regs = n / 2;
    std::string list, constraints;
    for (int64_t i = 0; i < regs; ++i) {
      list += (i ? ", %" : "%") + std::to_string(i);
      constraints +=
          (i ? ", \"+f\"(d[" : "\"+f\"(d[") + std::to_string(i) + "])";
    }
    auto op = [&](int64_t k) { return "%" + std::to_string(regs + k); };
    // Operands after the accumulators: A (4 registers or a descriptor), the
    // B descriptor, the accumulate flag.
    const int64_t aCount = aInRegisters ? 4 : 1;
    std::string aList = aInRegisters
                            ? "{" + op(0) + ", " + op(1) + ", " + op(2) + ", " +
                                  op(3) + "}"
                            : op(0);
    out += std::string("template <> struct ") +
           (aInRegisters ? "Wgmma<" : "WgmmaSS<") + type + ", " +
           std::to_string(n) +
           "> {\n  static __device__ __forceinline__ void mma(float (&d)[" +
           std::to_string(regs) + "], " +
           (aInRegisters ? "const uint32_t (&a)[4]" : "uint64_t a") +
           ", uint64_t desc,\n                  int accumulate) {\n    asm "
           "volatile(\n        \"{\\n.reg .pred p;\\nsetp.ne.b32 p, " +
           op(aCount + 1) +
           ", 0;\\n\"\n        \"wgmma.mma_async.sync.aligned.m64n" +
           std::to_string(n) + "k16.f32." + ptxType + "." + ptxType + " {" +
           list + "}, " + aList + ", " + op(aCount) + ", p, 1, 1, " +
           (aInRegisters ? "0" : "0, 0") + ";\\n}\\n\"\n        : " +
           constraints + "\n        : " +
           (aInRegisters ? "\"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3]), "
                         : "\"l\"(a), ") +
           "\"l\"(desc), \"r\"(accumulate)\n        : \"memory\");\n  }\n};\n";
  };
  for (const auto &[type, n] : shapes)
    emit(type, n, /*aInRegisters=*/true);
  for (const auto &[type, n] : ssShapes)
    emit(type, n, /*aInRegisters=*/false);
  return out + "} // namespace mlpc\n#endif\n";
}

struct Layer {
  Operation *linear = nullptr; // linear (or patch_embed) op, for diagnostics
  Value input;                 // its input, unless inputIndex is set
  int inputIndex = -1;         // a value the builder made (im2col)
  int64_t in = 0, out = 0;
  int act = 0;
  std::string weight, bias;      // param names ("" = no bias)
  bool weightTransposed = false; // matmul: the weight is stored (in, out)
  Value result;                  // after the activation, if any
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
  bool isNarrow(const Layer &l) const {
    return precision != Precision::F32 && l.in <= kChainMaxWidth &&
           l.out <= kChainMaxWidth;
  }
  static uint64_t chainLayerBytes(const Layer &l, uint64_t elem) {
    return alignTo128(pad16(l.out) * pad16(l.in) * elem) +
           (l.bias.empty() ? 0 : alignTo16(pad16(l.out) * 4));
  }

  LogicalResult emitChain(std::vector<Layer> &layers);
  LogicalResult emitLinear(Layer layer, Value residual);
  LogicalResult emitLayerNorm(mlp::LayerNormOp op);
  LogicalResult emitElementwise(Operation *op);
  LogicalResult emitTranspose(mlp::TransposeOp op);
  LogicalResult emitReshape(mlp::ReshapeOp op);
  LogicalResult emitSlice(mlp::SliceOp op);
  LogicalResult emitMean(mlp::MeanOp op);
  LogicalResult emitPatchEmbed(mlp::PatchEmbedOp op);
  int newTemp(int64_t rowsPerBatch, int64_t cols);
  std::string newKernel(std::string what, Step &step);
  /// Writes the step's kernel, `extern "C" NAME(params) { body }` (`body`
  /// instantiates a template of mlpc_kernels.cuh), and appends the step.
  void addStep(const Step &step, const llvm::Twine &params,
               const llvm::Twine &body);
  /// The row-count argument of kernels acting on value `v`'s last axis.
  Arg rowsOf(int v) const {
    Arg a{Arg::Rows};
    a.perBatch = program.values[v].rowsPerBatch;
    return a;
  }

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
};

LogicalResult ProgramBuilder::bindSignature() {
  for (auto [i, arg] : llvm::enumerate(model.getArguments())) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    std::string dtype = type ? dtypeName(type.getElementType()) : "";
    if (!isBatchMatrix(arg.getType()))
      return model.emitError("the CUDA backend takes float inputs of shape "
                             "[N, ...] with static dims after the batch so "
                             "far; input #")
             << i << " is " << arg.getType();
    values[arg] = program.values.size();
    program.values.push_back({mlp::cuda::Buffer::Input, static_cast<int>(i),
                              colsOf(type), dtype, rowsPerBatchOf(type)});
  }
  auto ret = cast<func::ReturnOp>(model.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    if (outputIndex.count(v) || isa<BlockArgument>(v))
      return ret.emitError("the CUDA backend cannot yet return an input or "
                           "the same tensor twice (output #")
             << i << ")";
    outputIndex[v] = i;
  }
  return success();
}

/// The tensor `v` that `user` reads; it must be a [N, C] float tensor
/// computed by an earlier step.
FailureOr<int> ProgramBuilder::valueOf(Value v, Operation *user) {
  auto it = values.find(v);
  if (it != values.end())
    return it->second;
  return user->emitError("the CUDA backend cannot compute this operand (")
         << v.getType() << ") yet";
}

/// Registers the [N, C] result of a step: the caller's output buffer if the
/// model returns it, else a new intermediate.
int ProgramBuilder::defineResult(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  mlp::cuda::Buffer value;
  value.cols = colsOf(type);
  value.rowsPerBatch = rowsPerBatchOf(type);
  auto out = outputIndex.find(v);
  if (out != outputIndex.end()) {
    value.kind = mlp::cuda::Buffer::Output;
    value.index = out->second;
    value.dtype = dtypeName(type.getElementType());
  } else {
    value.kind = mlp::cuda::Buffer::Temp;
    value.index = temps++;
    // Intermediates are kept in the compute type: half the bytes in f16.
    value.dtype = computeDtype(precision);
  }
  values[v] = program.values.size();
  program.values.push_back(value);
  return values[v];
}

FailureOr<std::string> ProgramBuilder::paramName(Value v, Operation *user,
                                                 StringRef role) {
  if (auto param = v.getDefiningOp<mlp::ParamOp>())
    return param.getName().str();
  return user->emitError("the CUDA backend needs the ")
         << role << " to be a parameter (mlp.param)";
}

FailureOr<Layer> ProgramBuilder::layerAt(Operation *op) {
  auto linear = dyn_cast<mlp::LinearOp>(op);
  auto matmul = dyn_cast<mlp::MatmulOp>(op);
  Value input = linear ? linear.getInput() : matmul.getInput();
  Value weightValue = linear ? linear.getWeight() : matmul.getWeight();
  Value biasValue = linear ? linear.getBias() : matmul.getBias();
  Value result = op->getResult(0);
  if (!isBatchMatrix(input.getType()) || !isBatchMatrix(result.getType()))
    return op->emitError("the CUDA backend runs linear layers on batched "
                         "tensors with static feature dims, not ")
           << input.getType();
  Layer layer;
  layer.linear = op;
  layer.input = input;
  auto weightType = cast<RankedTensorType>(weightValue.getType());
  layer.weightTransposed = static_cast<bool>(matmul);
  layer.out = weightType.getDimSize(matmul ? 1 : 0);
  layer.in = weightType.getDimSize(matmul ? 0 : 1);
  auto weight = paramName(weightValue, op, "weight");
  if (failed(weight))
    return failure();
  layer.weight = *weight;
  if (biasValue) {
    auto bias = paramName(biasValue, op, "bias");
    if (failed(bias))
      return failure();
    layer.bias = *bias;
  }
  layer.result = result;
  // An activation that is the result's only user runs in the epilogue.
  if (layer.result.hasOneUse()) {
    Operation *user = *layer.result.getUsers().begin();
    int act = activationOf(user);
    if (act >= 0) {
      layer.act = act;
      layer.result = user->getResult(0);
      consumed.insert(user);
    }
  }
  return layer;
}

void ProgramBuilder::addStep(const Step &step, const llvm::Twine &params,
                             const llvm::Twine &body) {
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what
     << "\nextern \"C\" __global__ void __launch_bounds__(" << step.threads
     << ")\n"
     << step.kernel << "(" << params << ") {\n  " << body << "\n}\n";
  program.steps.push_back(step);
}

std::string ProgramBuilder::newKernel(std::string what, Step &step) {
  step.kernel = "mlpc_step" + std::to_string(program.steps.size());
  step.what = std::move(what);
  return step.kernel;
}

LogicalResult ProgramBuilder::emitChain(std::vector<Layer> &layers) {
  const char *t = cType(computeDtype(precision));
  const uint64_t elem = 2;
  Image image;
  std::string layerTypes;
  int64_t widest = 0;
  // 16-byte fragment loads and stores where the tensors allow them: the
  // first layer's columns and the last layer's rows are permuted to match.
  auto in0 = valueOf(layers.front().input, layers.front().linear);
  if (failed(in0))
    return failure();
  const std::string compute = computeDtype(precision);
  const std::string outType =
      outputIndex.count(layers.back().result)
          ? dtypeName(cast<RankedTensorType>(layers.back().result.getType())
                          .getElementType())
          : compute;
  const bool vecIn =
      layers.front().in % 16 == 0 && program.values[*in0].dtype == compute;
  const bool vecOut = layers.back().out % 16 == 0 && outType == compute;
  for (Layer &l : layers) {
    uint64_t weightOffset = alignTo128(image.bytes);
    ImagePiece w{l.weight,     computeDtype(precision),
                 l.out,        l.in,
                 pad16(l.out), pad16(l.in),
                 weightOffset, ImagePiece::CoreMatrices};
    w.transposed = l.weightTransposed;
    const bool first = &l == &layers.front(), last = &l == &layers.back();
    if (first && vecIn)
      w.colPerm = ImagePiece::AFragments;
    if (last && vecOut)
      w.rowPerm = ImagePiece::CFragments;
    image.pieces.push_back(w);
    image.bytes = alignTo16(weightOffset + w.paddedRows * w.rowStride * elem);
    wgmmaShapes.insert({t, pad16(l.out)});
    uint64_t biasOffset = 0;
    if (!l.bias.empty()) {
      biasOffset = image.bytes;
      ImagePiece b{l.bias, "float32", 1, l.out, 1, pad16(l.out), biasOffset};
      if (last && vecOut)
        b.colPerm = ImagePiece::CFragments;
      image.pieces.push_back(b);
      image.bytes = alignTo16(biasOffset + pad16(l.out) * 4);
    }
    layerTypes +=
        (layerTypes.empty() ? "" : ",\n    ") +
        ("mlpc::ChainLayer<" + llvm::Twine(l.in) + ", " + llvm::Twine(l.out) +
         ", " + llvm::Twine(l.act) + ", " +
         (l.bias.empty() ? "false" : "true") + ", " +
         llvm::Twine(weightOffset) + ", " + llvm::Twine(biasOffset) + ", " +
         llvm::Twine((first && vecIn ? 1 : 0) | (last && vecOut ? 2 : 0)) + ">")
            .str();
    widest = std::max({widest, l.in, l.out});
  }
  auto in = in0;
  int out = defineResult(layers.back().result);
  // Two m16 row tiles per warp reuse each weight fragment twice where the
  // registers allow it (accumulators of a 256-wide layer fill them alone).
  const int mt = tuning.chainRowTiles ? tuning.chainRowTiles
                 : widest <= 128      ? 2
                                      : 1;
  Step step;
  // Measured on H200 (bench/gpu_bench.py variants): three warpgroups per CTA
  // for narrow chains, two once the registers of wide layers limit them.
  step.threads = tuning.chainThreads ? tuning.chainThreads
                 : widest <= 64      ? 384
                                     : 256;
  std::string name =
      newKernel("chain of " + std::to_string(layers.size()) +
                    (layers.size() == 1 ? " linear layer" : " linear layers"),
                step);
  step.sharedBytes = image.bytes;
  step.grid = Step::Persistent;
  step.rowsPerCta = (step.threads / 32) * mt * 16;
  program.images.push_back(image);
  step.args = {{Arg::ValueRef, *in},
               {Arg::ValueRef, out},
               {Arg::ImageRef, static_cast<int>(program.images.size() - 1)},
               rowsOf(*in)};
  const auto &inV = program.values[*in], &outV = program.values[out];
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what << ": " << layers.front().in;
  for (Layer &l : layers)
    os << " -> " << l.out;
  os << "\nextern \"C\" __global__ void __launch_bounds__(" << step.threads
     << ")\n"
     << name << "(const " << cType(inV.dtype) << " *x, " << cType(outV.dtype)
     << " *y, const uint4 *image, long long rows) {\n  mlpc::runChain<" << t
     << ", " << cType(inV.dtype) << ", " << cType(outV.dtype) << ", " << mt
     << ", " << image.bytes << ",\n    " << layerTypes
     << ">(x, y, image, rows);\n}\n";
  program.steps.push_back(step);
  return success();
}

LogicalResult ProgramBuilder::emitLinear(Layer l, Value residual) {
  std::string wt = computeDtype(precision);
  Image image;
  ImagePiece weightPiece{l.weight, wt, l.out, l.in, l.out, l.in, 0};
  weightPiece.transposed = l.weightTransposed;
  image.pieces.push_back(weightPiece);
  image.bytes = alignTo16(l.out * l.in * dtypeBytes(wt));
  uint64_t biasOffset = 0;
  if (!l.bias.empty()) {
    biasOffset = image.bytes;
    image.pieces.push_back({l.bias, "float32", 1, l.out, 1, l.out, biasOffset});
    image.bytes = alignTo16(biasOffset + l.out * 4);
  }
  auto in = l.inputIndex >= 0 ? FailureOr<int>(l.inputIndex)
                              : valueOf(l.input, l.linear);
  if (failed(in))
    return failure();
  int resid = -1;
  if (residual) {
    auto r = valueOf(residual, l.linear);
    if (failed(r))
      return failure();
    resid = *r;
  }
  Value result = l.result;
  if (residual)
    result = (*l.result.getUsers().begin())->getResult(0);
  int out = defineResult(result);
  // Tensor cores (wgmma on sm_90a) where the operands allow 16-byte copies.
  const bool tensorCores = precision != Precision::F32 && l.in % 8 == 0 &&
                           l.out >= 64 && program.values[*in].dtype == wt;
  Step step;
  std::string name = newKernel(
      "linear " + std::to_string(l.in) + " -> " + std::to_string(l.out), step);
  step.threads = 256;
  step.grid = Step::RowTiles;
  step.rowsPerCta = tensorCores ? 128 : 64;
  // Short reductions: 128-wide tiles, 3 stages, so two CTAs share an SM and
  // one's epilogue overlaps the other's main loop; long ones: 256-wide
  // tiles, 4 stages, one CTA per SM (measured on H200, bench/RESULTS.md).
  const bool shortK = l.in <= kGemmShortK;
  const int64_t colsPerCta = !tensorCores ? 64 : shortK ? 128 : 256;
  const int stages = shortK ? 3 : 4;
  step.gridY = (l.out + colsPerCta - 1) / colsPerCta;
  if (tensorCores) { // 128 x 64 + BN x 64 halves a stage, + 1 KiB alignment
    step.sharedBytes = stages * (128 + colsPerCta) * 64 * 2 + 1024;
    wgmmaSSShapes.insert({cType(wt), colsPerCta});
  }
  program.images.push_back(image);
  step.args = {{Arg::ValueRef, *in},
               {Arg::ImageRef, static_cast<int>(program.images.size() - 1)},
               {Arg::ValueRef, resid >= 0 ? resid : out},
               {Arg::ValueRef, out},
               rowsOf(*in)};
  const auto &inV = program.values[*in], &outV = program.values[out];
  if (resid >= 0 && program.values[resid].dtype != outV.dtype)
    return l.linear->emitError("the CUDA backend needs a residual of the "
                               "output's element type");
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what << (residual ? " + residual" : "")
     << "\nextern \"C\" __global__ void __launch_bounds__(256)\n"
     << name << "(const " << cType(inV.dtype)
     << " *x, const unsigned char *image, const " << cType(outV.dtype)
     << " *r, " << cType(outV.dtype) << " *y, long long rows) {\n  ";
  if (tensorCores)
    os << "mlpc::runGemm<" << cType(wt) << ", " << cType(outV.dtype) << ", "
       << l.in << ", " << l.out << ", " << l.act << ", "
       << (l.bias.empty() ? "false" : "true") << ", "
       << (residual ? "true" : "false") << ", " << stages << ", "
       << colsPerCta;
  else
    os << "mlpc::runLinear<" << cType(inV.dtype) << ", " << cType(wt) << ", "
       << cType(outV.dtype) << ", " << l.in << ", " << l.out << ", " << l.act
       << ", " << (l.bias.empty() ? "false" : "true") << ", "
       << (residual ? "true" : "false");
  os << ">(x, image, r, y, rows, " << biasOffset << ");\n}\n";
  program.steps.push_back(step);
  return success();
}

LogicalResult ProgramBuilder::emitLayerNorm(mlp::LayerNormOp op) {
  if (!isBatchMatrix(op.getInput().getType()))
    return op.emitError("the CUDA backend runs layer_norm on [N, features] "
                        "tensors so far");
  int64_t c = colsOf(op.getInput().getType());
  Image image;
  for (Value p : {op.getWeight(), op.getBias()}) {
    if (!p)
      continue;
    auto name = paramName(p, op, "layer_norm weight and bias");
    if (failed(name))
      return failure();
    image.pieces.push_back({*name, "float32", 1, c, 1, c, image.bytes});
    image.bytes += c * 4;
  }
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int out = defineResult(op.getResult());
  Step step;
  std::string name = newKernel("layer_norm over " + std::to_string(c), step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 8;
  int imageIndex = -1;
  if (!image.pieces.empty()) {
    image.bytes = alignTo16(image.bytes);
    program.images.push_back(image);
    imageIndex = program.images.size() - 1;
  }
  step.args = {{Arg::ValueRef, *in},
               {Arg::ImageRef, imageIndex},
               {Arg::ValueRef, out},
               rowsOf(*in),
               {Arg::F32, 0, op.getEps().convertToDouble()}};
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what
     << "\nextern \"C\" __global__ void __launch_bounds__(256)\n"
     << name << "(const " << cType(program.values[*in].dtype)
     << " *x, const float *image, " << cType(program.values[out].dtype)
     << " *y, long long rows, float eps) {\n  mlpc::runLayerNorm<"
     << cType(program.values[*in].dtype) << ", "
     << cType(program.values[out].dtype) << ", " << c << ", "
     << (op.getWeight() ? "true" : "false") << ", "
     << (op.getBias() ? "true" : "false") << ">(x, image, y, rows, eps);\n}\n";
  program.steps.push_back(step);
  return success();
}

LogicalResult ProgramBuilder::emitElementwise(Operation *op) {
  int act = activationOf(op);
  bool binary = act < 0;
  int code = !binary || isa<mlp::AddOp>(op) ? 0
             : isa<mlp::SubOp>(op)          ? 1
             : isa<mlp::MulOp>(op)          ? 2
                                            : 3;
  Value a = op->getOperand(0), b = binary ? op->getOperand(1) : Value();
  if (!isBatchMatrix(op->getResult(0).getType()))
    return op->emitError("the CUDA backend runs elementwise ops on "
                         "[N, features] tensors so far");
  // A parameter or constant on the left of a commutative op moves right.
  if (binary && (code == 0 || code == 2) &&
      (a.getDefiningOp<mlp::ParamOp>() || a.getDefiningOp<mlp::ConstantOp>()))
    std::swap(a, b);
  int64_t c = colsOf(op->getResult(0).getType());
  // The kernel indexes `a` as the result: no broadcasting of it.
  if (cast<RankedTensorType>(a.getType()).getShape() !=
      cast<RankedTensorType>(op->getResult(0).getType()).getShape())
    return op->emitError("the CUDA backend does not broadcast ")
           << a.getType() << " to " << op->getResult(0).getType() << " yet";
  // Operand kinds of mlpc_kernels.cuh: none, tensor, row param, scalar.
  enum { None, Tensor, RowParam, Scalar } kind = binary ? Tensor : None;
  int imageIndex = -1, bIndex = -1;
  double scalar = 0;
  if (binary) {
    if (auto param = b.getDefiningOp<mlp::ParamOp>()) {
      auto type = cast<RankedTensorType>(b.getType());
      bool row = type.getNumElements() == c && type.getRank() >= 1 &&
                 type.getDimSize(type.getRank() - 1) == c;
      if (!row)
        return op->emitError("the CUDA backend broadcasts only a parameter "
                             "of shape [")
               << c << "] (or [1, ..., " << c << "]) over the rows so far";
      Image image;
      image.pieces.push_back({param.getName().str(), "float32", 1, c, 1, c, 0});
      image.bytes = alignTo16(c * 4);
      program.images.push_back(image);
      imageIndex = program.images.size() - 1;
      kind = RowParam;
    } else if (auto constant = b.getDefiningOp<mlp::ConstantOp>()) {
      scalar = constant.getValue().convertToDouble();
      kind = Scalar;
    } else if (cast<RankedTensorType>(b.getType()).getShape() !=
               cast<RankedTensorType>(a.getType()).getShape()) {
      return op->emitError("the CUDA backend does not broadcast ")
             << b.getType() << " against " << a.getType() << " yet";
    }
  }
  auto in = valueOf(a, op);
  if (failed(in))
    return failure();
  if (kind == Tensor) {
    auto bv = valueOf(b, op);
    if (failed(bv))
      return failure();
    bIndex = *bv;
  }
  int out = defineResult(op->getResult(0));
  Step step;
  std::string name = newKernel(
      op->getName().getStringRef().str() + " over " + std::to_string(c), step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = std::max<int64_t>(1, 256 / c);
  step.args.push_back({Arg::ValueRef, *in});
  if (kind == Tensor)
    step.args.push_back({Arg::ValueRef, bIndex});
  else
    step.args.push_back({Arg::ImageRef, imageIndex}); // null unless RowParam
  step.args.push_back({Arg::F32, 0, scalar});
  step.args.push_back({Arg::ValueRef, out});
  step.args.push_back(rowsOf(*in));
  std::string at = cType(program.values[*in].dtype);
  std::string bt =
      kind == Tensor ? cType(program.values[bIndex].dtype) : "float";
  std::string ot = cType(program.values[out].dtype);
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what
     << "\nextern \"C\" __global__ void __launch_bounds__(256)\n"
     << name << "(const " << at << " *a, const " << bt << " *b, float s, " << ot
     << " *y, long long rows) {\n  mlpc::runElementwise<" << at << ", " << bt
     << ", " << ot << ", " << c << ", " << (binary ? 0 : act) << ", " << code
     << ", " << static_cast<int>(kind) << ">(a, b, s, y, rows);\n}\n";
  program.steps.push_back(step);
  return success();
}

int ProgramBuilder::newTemp(int64_t rowsPerBatch, int64_t cols) {
  mlp::cuda::Buffer value{mlp::cuda::Buffer::Temp, temps++, cols,
                          computeDtype(precision), rowsPerBatch};
  program.values.push_back(value);
  return program.values.size() - 1;
}

/// [N, A, B] -> [N, B, A] through shared-memory tiles (token mixing).
LogicalResult ProgramBuilder::emitTranspose(mlp::TransposeOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  if (!type || type.getRank() != 3 || !mlp::swapsLastTwoAxes(op) ||
      !isBatchMatrix(type))
    return op.emitError("the CUDA backend transposes only the last two axes "
                        "of [N, A, B] tensors so far");
  const int64_t a = type.getDimSize(1), b = type.getDimSize(2);
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int out = defineResult(op.getResult());
  Step step;
  std::string name = newKernel("transpose [N, " + std::to_string(a) + ", " +
                                   std::to_string(b) + "]",
                               step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 1;
  Arg work{Arg::Rows};
  work.perBatch = ((a + 31) / 32) * ((b + 31) / 32); // 32 x 32 tiles
  step.args = {{Arg::ValueRef, *in}, {Arg::ValueRef, out}, work};
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long tiles";
  llvm::raw_string_ostream(body) << "mlpc::runTranspose<" << it << ", " << ot
                                 << ", " << a << ", " << b << ">(x, y, tiles);";
  addStep(step, params, body);
  return success();
}

/// A reshape that keeps the batch leading is the same bytes: a copy into
/// the result's buffer (which has the result's row width).
LogicalResult ProgramBuilder::emitReshape(mlp::ReshapeOp op) {
  if (!isBatchMatrix(op.getInput().getType()) ||
      !isBatchMatrix(op.getResult().getType()))
    return op.emitError("the CUDA backend reshapes only tensors whose "
                        "leading axis is the batch");
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int out = defineResult(op.getResult());
  const int64_t c = program.values[out].cols;
  Step step;
  std::string name = newKernel("reshape (copy)", step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = std::max<int64_t>(1, 256 / c);
  step.args = {{Arg::ValueRef, *in},
               {Arg::ImageRef, -1},
               {Arg::F32, 0, 0.0},
               {Arg::ValueRef, out},
               rowsOf(out)};
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *a, const float *b, float s, " << ot
      << " *y, long long rows";
  llvm::raw_string_ostream(body)
      << "mlpc::runElementwise<" << it << ", float, " << ot << ", " << c
      << ", 0, 0, 0>(a, b, s, y, rows);";
  addStep(step, params, body);
  return success();
}

/// A slice of the last axis (gMLP's spatial gating splits channels).
LogicalResult ProgramBuilder::emitSlice(mlp::SliceOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  int64_t axis = op.getAxis();
  if (type && axis < 0)
    axis += type.getRank();
  if (!type || !isBatchMatrix(type) || axis != type.getRank() - 1)
    return op.emitError("the CUDA backend slices only the last axis of "
                        "batched tensors so far");
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int out = defineResult(op.getResult());
  const int64_t cin = program.values[*in].cols, cout = program.values[out].cols;
  Step step;
  std::string name = newKernel("slice [" + std::to_string(op.getStart()) +
                                   ", " + std::to_string(op.getStart() + cout) +
                                   ") of " + std::to_string(cin),
                               step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = std::max<int64_t>(1, 256 / cout);
  step.args = {{Arg::ValueRef, *in}, {Arg::ValueRef, out}, rowsOf(*in)};
  step.args.back().perBatch *= cout; // one thread per output element
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runSliceCols<" << it << ", " << ot << ", " << cin << ", "
      << op.getStart() << ", " << cout << ">(x, y, n);";
  addStep(step, params, body);
  return success();
}

/// mean over the tokens of [N, T, C] (axis 1).
LogicalResult ProgramBuilder::emitMean(mlp::MeanOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  int64_t axis = op.getAxis();
  if (type && axis < 0)
    axis += type.getRank();
  if (!type || type.getRank() != 3 || axis != 1 || !isBatchMatrix(type))
    return op.emitError("the CUDA backend averages only axis 1 of [N, T, C] "
                        "tensors so far");
  const int64_t t = type.getDimSize(1), c = type.getDimSize(2);
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int out = defineResult(op.getResult());
  Step step;
  std::string name =
      newKernel("mean over " + std::to_string(t) + " tokens", step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  Arg work{Arg::Rows};
  work.perBatch = c; // one thread per output element
  step.args = {{Arg::ValueRef, *in}, {Arg::ValueRef, out}, work};
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body) << "mlpc::runMeanTokens<" << it << ", " << ot
                                 << ", " << t << ", " << c << ">(x, y, n);";
  addStep(step, params, body);
  return success();
}

/// patch_embed = im2col into [N * patches, C * ph * pw] + a linear layer
/// with the convolution weight viewed as (D, C * ph * pw).
LogicalResult ProgramBuilder::emitPatchEmbed(mlp::PatchEmbedOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  auto wtype = cast<RankedTensorType>(op.getWeight().getType());
  if (!type || type.getRank() != 4 || !isBatchMatrix(type))
    return op.emitError("the CUDA backend needs an [N, C, H, W] image");
  const int64_t c = type.getDimSize(1), h = type.getDimSize(2),
                w = type.getDimSize(3), d = wtype.getDimSize(0),
                ph = wtype.getDimSize(2), pw = wtype.getDimSize(3);
  const int64_t patches = (h / ph) * (w / pw), k = c * ph * pw;
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int cols = newTemp(patches, k);
  Step step;
  std::string name = newKernel("im2col of " + std::to_string(ph) + "x" +
                                   std::to_string(pw) + " patches",
                               step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  if (w % 4 != 0 || pw % 4 != 0)
    return op.emitError("the CUDA backend needs the image width and the patch "
                        "width to be multiples of 4");
  Arg work{Arg::Rows};
  work.perBatch = c * h * w / 4; // four pixels each
  step.args = {{Arg::ValueRef, *in}, {Arg::ValueRef, cols}, work};
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[cols].dtype);
  {
    llvm::raw_string_ostream os(kernels);
    os << "\n// " << step.what
       << "\nextern \"C\" __global__ void __launch_bounds__(256)\n"
       << name << "(const " << it << " *x, " << ot
       << " *y, long long n) {\n  mlpc::runIm2col<" << it << ", " << ot << ", "
       << c << ", " << h << ", " << w << ", " << ph << ", " << pw
       << ">(x, y, n);\n}\n";
  }
  program.steps.push_back(step);
  Layer layer;
  layer.linear = op;
  layer.inputIndex = cols;
  layer.in = k;
  layer.out = d;
  auto weight = paramName(op.getWeight(), op, "weight");
  if (failed(weight))
    return failure();
  layer.weight = *weight;
  if (op.getBias()) {
    auto bias = paramName(op.getBias(), op, "bias");
    if (failed(bias))
      return failure();
    layer.bias = *bias;
  }
  layer.result = op.getResult();
  return emitLinear(layer, Value());
}

FailureOr<Program> ProgramBuilder::build() {
  program.precision = precision;
  if (failed(bindSignature()))
    return failure();
  for (Operation &op : model.getBody().front()) {
    if (consumed.contains(&op) ||
        isa<mlp::ParamOp, mlp::ConstantOp, func::ReturnOp>(op))
      continue;
    if (isa<mlp::LinearOp, mlp::MatmulOp>(op)) {
      auto first = layerAt(&op);
      if (failed(first))
        return failure();
      if (isNarrow(*first)) {
        std::vector<Layer> chain = {*first};
        uint64_t bytes = chainLayerBytes(*first, 2);
        while (chain.back().result.hasOneUse() &&
               !outputIndex.count(chain.back().result)) {
          Operation *next = *chain.back().result.getUsers().begin();
          if (!isa<mlp::LinearOp, mlp::MatmulOp>(next) ||
              next->getOperand(0) != chain.back().result)
            break;
          auto layer = layerAt(next);
          if (failed(layer))
            return failure();
          uint64_t more = chainLayerBytes(*layer, 2);
          if (!isNarrow(*layer) || bytes + more > kChainSharedBudget) {
            // Give the activation back: the next group starts at `next`.
            if (layer->result != next->getResult(0))
              consumed.erase(*next->getResult(0).getUsers().begin());
            break;
          }
          consumed.insert(next);
          chain.push_back(*layer);
          bytes += more;
        }
        if (failed(emitChain(chain)))
          return failure();
        continue;
      }
      // A residual add right after the layer joins its epilogue when the
      // other operand is already computed.
      Value residual;
      if (first->result.hasOneUse() && !outputIndex.count(first->result)) {
        auto add = dyn_cast<mlp::AddOp>(*first->result.getUsers().begin());
        if (add && add.getType() == first->result.getType()) {
          Value other =
              add.getLhs() == first->result ? add.getRhs() : add.getLhs();
          // The epilogue reads the residual in the output's element type.
          std::string addType = outputIndex.count(add.getResult())
                                    ? dtypeName(add.getType().getElementType())
                                    : computeDtype(precision);
          if (other != first->result && other.getType() == add.getType() &&
              values.count(other) &&
              program.values[values[other]].dtype == addType) {
            residual = other;
            consumed.insert(add);
          }
        }
      }
      if (failed(emitLinear(*first, residual)))
        return failure();
      continue;
    }
    LogicalResult emitted =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](mlp::TransposeOp o) { return emitTranspose(o); })
            .Case([&](mlp::SliceOp o) { return emitSlice(o); })
            .Case([&](mlp::ReshapeOp o) { return emitReshape(o); })
            .Case([&](mlp::MeanOp o) { return emitMean(o); })
            .Case([&](mlp::PatchEmbedOp o) { return emitPatchEmbed(o); })
            .Case([&](mlp::LayerNormOp o) { return emitLayerNorm(o); })
            .Case<mlp::AddOp, mlp::SubOp, mlp::MulOp, mlp::DivOp>(
                [&](Operation *o) { return emitElementwise(o); })
            .Default([&](Operation *o) -> LogicalResult {
              if (activationOf(o) >= 0)
                return emitElementwise(o);
              return o->emitError("'") << o->getName()
                                       << "' is not supported by the CUDA "
                                          "backend yet";
            });
    if (failed(emitted))
      return failure();
  }
  std::string source = "// Generated by mlpc for model '" +
                       model.getSymName().str() + "' (precision " +
                       precisionName(precision) + ").\n";
  source += kKernelsHeader;
  source += wgmmaSpecializations(wgmmaShapes, wgmmaSSShapes);
  source += kernels;
  program.source = std::move(source);
  return program;
}

} // namespace

bool mlp::cuda::parsePrecision(llvm::StringRef text, Precision &out) {
  if (text == "f32")
    out = Precision::F32;
  else if (text == "f16")
    out = Precision::F16;
  else if (text == "bf16")
    out = Precision::BF16;
  else
    return false;
  return true;
}

const char *mlp::cuda::precisionName(Precision precision) {
  return precision == Precision::F16    ? "f16"
         : precision == Precision::BF16 ? "bf16"
                                        : "f32";
}

FailureOr<Program> mlp::cuda::buildProgram(func::FuncOp model,
                                           Precision precision,
                                           const Tuning &tuning) {
  return ProgramBuilder(model, precision, tuning).build();
}
