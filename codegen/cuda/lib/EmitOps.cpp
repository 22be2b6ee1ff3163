//===- EmitOps.cpp - layer_norm, elementwise and data movement steps ------===//
//
// One kernel each: layer_norm, activations and add/sub/mul/div with a
// tensor, a parameter row or a scalar, transposes of the last two axes,
// reshape (a copy), slices of the last axis and the mean over tokens.
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

/// The extent of transpose tiles along an axis of n elements: 64 where that
/// divides n (or n is smaller), else n split evenly into tiles of at most
/// 104, rounded up to whole 16-byte accesses (196 tokens: 104 + 92 rather
/// than 3 x 64 + 4, a quarter of the CTA iterations nearly empty).
static int64_t transposeTileExtent(int64_t n) {
  if (n % 64 == 0 || n <= 64)
    return 64;
  const int64_t tiles = (n + 103) / 104;
  return ((n + tiles - 1) / tiles + 7) / 8 * 8;
}

/// A transpose of [N, a, b] as a persistent grid walking its tiles
/// (transposeTiles of mlpc_kernels.cuh): the step's launch, its work
/// argument and the template arguments of the tile extents.
static Arg transposeWork(Step &step, int64_t a, int64_t b,
                         std::string &extents) {
  const int64_t ta = transposeTileExtent(a), tb = transposeTileExtent(b);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 1;
  Arg work{Arg::Rows};
  work.perBatch = ((a + ta - 1) / ta) * ((b + tb - 1) / tb);
  extents = std::to_string(ta) + ", " + std::to_string(tb);
  return work;
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
  auto strided = stridedOf(op.getInput(), op, /*readsActivation=*/true);
  if (failed(strided))
    return failure();
  const int *in = &strided->value;
  // A transpose of [N, T, C] that is the only reader joins the kernel,
  // which then writes [N, C, T] (token mixing).
  mlp::TransposeOp transpose;
  auto type = cast<RankedTensorType>(op.getType());
  if (type.getRank() == 3 && op.getResult().hasOneUse() &&
      !outputIndex.count(op.getResult()))
    if (auto t = dyn_cast<mlp::TransposeOp>(*op.getResult().getUsers().begin());
        t && mlp::swapsLastTwoAxes(t))
      transpose = t;
  // A transpose that starts token mixing as a batched GEMM stays: the
  // kernel writes [N, T, C] with the GEMM's padding rows.
  int64_t padded = 0;
  if (transpose && tokenGemmAt(transpose)) {
    padded = paddedTokens(type.getDimSize(1));
    transpose = nullptr;
  }
  const int64_t tokens = transpose || padded ? type.getDimSize(1) : 0;
  if (transpose)
    consumed.insert(transpose);
  int out = padded ? newTemp(padded, c)
                   : defineResult(transpose ? transpose.getResult()
                                            : op.getResult());
  if (padded)
    paddedValues[op.getResult()] = {out, tokens};
  int imageIndex = -1;
  if (!image.pieces.empty()) {
    image.bytes = alignTo16(image.bytes);
    program.images.push_back(image);
    imageIndex = program.images.size() - 1;
  }
  const std::string over =
      std::to_string(c) +
      (strided->stride != c
           ? " (a slice of " + std::to_string(strided->stride) + ")"
           : "");
  const std::string what = "layer_norm over " + over +
                           (strided->act ? " of the deferred activation" : "");
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  const std::string flags = std::string(op.getWeight() ? "true" : "false") +
                            ", " + (op.getBias() ? "true" : "false") + ", " +
                            std::to_string(strided->stride) + ", " +
                            std::to_string(strided->act);
  if (transpose) {
    // Two kernels: the row statistics, a warp per row, then a tiled
    // transpose normalizing as it reads (one CTA doing both waited on the
    // statistics: 3 to 6x the memory time, H200).
    int stats = newTemp(tokens, 2, "float32");
    Step first;
    newKernel("layer_norm statistics over " + over, first);
    first.threads = 256;
    first.grid = Step::Persistent;
    first.rowsPerCta = 8;
    first.args = {{Arg::ValueRef, *in},
                  {Arg::ValueRef, stats},
                  rowsOf(*in),
                  {Arg::F32, 0, op.getEps().convertToDouble()}};
    std::string params, body;
    llvm::raw_string_ostream(params) << "const " << it
                                     << " *x, float *stats, long long rows, "
                                        "float eps";
    llvm::raw_string_ostream(body)
        << "mlpc::runRowStatistics<" << it << ", " << c << ", "
        << strided->stride << ", " << strided->act << ">(x + "
        << strided->start << ", stats, rows, eps);";
    addStep(first, params, body);
    Step step;
    newKernel(what + ", transposed to [N, " + std::to_string(c) + ", " +
                  std::to_string(tokens) + "]",
              step);
    std::string extents;
    Arg work = transposeWork(step, tokens, c, extents);
    step.args = {{Arg::ValueRef, *in},
                 {Arg::ValueRef, stats},
                 {Arg::ImageRef, imageIndex},
                 {Arg::ValueRef, out},
                 work};
    params.clear();
    body.clear();
    llvm::raw_string_ostream(params)
        << "const " << it << " *x, const float *stats, const float *image, "
        << ot << " *y, long long tiles";
    llvm::raw_string_ostream(body)
        << "mlpc::runLayerNormTranspose<" << it << ", " << ot << ", " << tokens
        << ", " << c << ", " << flags << ", " << extents << ">(x + "
        << strided->start << ", stats, image, y, tiles);";
    addStep(step, params, body);
    return success();
  }
  Step step;
  newKernel(padded ? what + ", written with " + std::to_string(padded) +
                         " rows a sample (token mixing)"
                   : what,
            step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 8;
  step.args = {{Arg::ValueRef, *in},
               {Arg::ImageRef, imageIndex},
               {Arg::ValueRef, out},
               rowsOf(out), // the output's: with padding rows, more
               {Arg::F32, 0, op.getEps().convertToDouble()}};
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, const float *image, " << ot
      << " *y, long long rows, float eps";
  llvm::raw_string_ostream(body)
      << "mlpc::runLayerNorm<" << it << ", " << ot << ", " << c << ", "
      << flags
      << (padded ? ", " + std::to_string(tokens) + ", " + std::to_string(padded)
                 : std::string())
      << ">(x + " << strided->start << ", image, y, rows, eps);";
  addStep(step, params, body);
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
  // Other shapes, broadcasts and tensors without a batch: EmitGeneric.cpp.
  if (!isBatchMatrix(op->getResult(0).getType()))
    return emitGenericElementwise(op);
  // A parameter or constant on the left of a commutative op moves right.
  if (binary && (code == 0 || code == 2) &&
      (a.getDefiningOp<mlp::ParamOp>() || a.getDefiningOp<mlp::ConstantOp>()))
    std::swap(a, b);
  int64_t c = colsOf(op->getResult(0).getType());
  // The kernel indexes `a` as the result: no broadcasting of it.
  if (cast<RankedTensorType>(a.getType()).getShape() !=
      cast<RankedTensorType>(op->getResult(0).getType()).getShape())
    return emitGenericElementwise(op);
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
        return emitGenericElementwise(op);
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
      return emitGenericElementwise(op);
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
     << " *y, long long rows) {\n  " << waitFirst(step)
     << "mlpc::runElementwise<" << at << ", " << bt
     << ", " << ot << ", " << c << ", " << (binary ? 0 : act) << ", " << code
     << ", " << static_cast<int>(kind) << ">(a, b, s, y, rows);\n}\n";
  program.steps.push_back(step);
  return success();
}

int ProgramBuilder::newTemp(int64_t rowsPerBatch, int64_t cols,
                            StringRef dtype) {
  mlp::cuda::Buffer value{mlp::cuda::Buffer::Temp, temps++, cols,
                          dtype.empty() ? computeDtype(precision) : dtype.str(),
                          rowsPerBatch};
  program.values.push_back(value);
  return program.values.size() - 1;
}

bool ProgramBuilder::deferAffine(mlp::MulOp mul) {
  auto type = dyn_cast<RankedTensorType>(mul.getType());
  if (!type || type.getRank() != 3 || !isBatchMatrix(type) ||
      !mul.getResult().hasOneUse() || outputIndex.count(mul.getResult()))
    return false;
  const int64_t c = type.getDimSize(2);
  auto alpha = rowParam(mul.getRhs(), c);
  auto add = dyn_cast<mlp::AddOp>(*mul.getResult().getUsers().begin());
  if (!alpha || mul.getLhs().getType() != type || !add ||
      add.getLhs() != mul.getResult() || !add.getResult().hasOneUse() ||
      outputIndex.count(add.getResult()))
    return false;
  auto beta = rowParam(add.getRhs(), c);
  Operation *user = *add.getResult().getUsers().begin();
  auto transpose = dyn_cast<mlp::TransposeOp>(user);
  // A linear layer with a bias takes it into its weight image instead
  // (layerAt): W diag(alpha) and b + W beta.
  const bool linear =
      isa<mlp::LinearOp, mlp::MatmulOp>(user) &&
      user->getOperand(0) == add.getResult() && user->getNumOperands() == 3 &&
      user->getOperand(2) && !needsGenericMatmul(user);
  if (!beta || !(linear || (transpose && mlp::swapsLastTwoAxes(transpose) &&
                            !tokenGemmAt(transpose))) ||
      !isAvailable(mul.getLhs()))
    return false;
  // Only where the layer reads x as it would have read the affine map's
  // result, in the compute type (a caller's f32 input would move an f16
  // layer off the tensor cores).
  if (linear) {
    auto x = values.find(mul.getLhs());
    if (x == values.end() ||
        program.values[x->second].dtype != computeDtype(precision))
      return false;
  }
  deferredAffines[add.getResult()] = {mul.getLhs(), alpha.getName().str(),
                                      beta.getName().str()};
  consumed.insert(add);
  return true;
}

/// [N, A, B] -> [N, B, A] through shared-memory tiles (token mixing).
LogicalResult ProgramBuilder::emitTranspose(mlp::TransposeOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  if (!type || type.getRank() != 3 || !mlp::swapsLastTwoAxes(op) ||
      !isBatchMatrix(type))
    return emitGenericTranspose(op);
  if (auto gemm = tokenGemmAt(op))
    return emitTokenGemm(*gemm);
  const int64_t a = type.getDimSize(1), b = type.getDimSize(2);
  // An affine map of x deferred to here is applied as x is read.
  auto affine = deferredAffines.find(op.getInput());
  const bool pre = affine != deferredAffines.end();
  auto in = valueOf(pre ? affine->second.x : op.getInput(), op);
  if (failed(in))
    return failure();
  // What reads the transposed tensor may join the kernel: a scale per
  // column (ResMLP's layer scale), then an add or a multiply with a tensor
  // computed before (a residual, gMLP's gate), read where it lies.
  Value result = op.getResult();
  auto soleUser = [&](Value v) -> Operation * {
    return v.hasOneUse() && !outputIndex.count(v) ? *v.getUsers().begin()
                                                  : nullptr;
  };
  std::string scale;
  if (auto mul = dyn_cast_or_null<mlp::MulOp>(soleUser(result));
      mul && mul.getType() == result.getType()) {
    Value other = mul.getLhs() == result ? mul.getRhs() : mul.getLhs();
    if (auto param = rowParam(other, a)) {
      scale = param.getName().str();
      result = mul.getResult();
      consumed.insert(mul);
    }
  }
  int combine = 0; // 1 add, 2 multiply
  std::optional<Strided> other;
  if (Operation *user = soleUser(result);
      user && isa<mlp::AddOp, mlp::MulOp>(user) &&
      user->getResult(0).getType() == result.getType()) {
    Value o = user->getOperand(0) == result ? user->getOperand(1)
                                            : user->getOperand(0);
    if (o != result && o.getType() == result.getType() && isAvailable(o)) {
      auto strided = stridedOf(o, user, /*readsActivation=*/true);
      if (failed(strided))
        return failure();
      other = *strided;
      combine = isa<mlp::AddOp>(user) ? 1 : 2;
      result = user->getResult(0);
      consumed.insert(user);
    }
  }
  int out = defineResult(result);
  Step step;
  std::string name = newKernel(std::string(pre ? "x * alpha + beta, " : "") +
                                   "transpose [N, " + std::to_string(a) + ", " +
                                   std::to_string(b) + "]" +
                                   (scale.empty() ? "" : " * scale") +
                                   (combine == 1   ? " + tensor"
                                    : combine == 2 ? " * tensor"
                                                   : "") +
                                   (other && other->act
                                        ? " (through its deferred activation)"
                                        : ""),
                               step);
  std::string extents;
  Arg work = transposeWork(step, a, b, extents);
  step.args = {{Arg::ValueRef, *in},
               {Arg::ValueRef, out},
               work,
               {Arg::ValueRef, other ? other->value : out},
               {Arg::ImageRef, scale.empty() ? -1 : paramImage(scale, a)},
               {Arg::ImageRef, pre ? paramImage(affine->second.alpha, b) : -1},
               {Arg::ImageRef, pre ? paramImage(affine->second.beta, b) : -1}};
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype),
             *rt = other ? cType(program.values[other->value].dtype) : ot;
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long tiles, const " << rt
      << " *r, const float *scale, const float *alpha, const float *beta";
  llvm::raw_string_ostream(body)
      << "mlpc::runTranspose<" << it << ", " << ot << ", " << a << ", " << b
      << ", " << combine << ", " << (scale.empty() ? "false" : "true") << ", "
      << rt << ", " << (other ? other->stride : a) << ", "
      << (other ? other->start : 0) << ", " << (pre ? "true" : "false")
      << ", " << (other ? other->act : 0) << ", " << extents
      << ">(x, y, tiles, r, scale, alpha, beta);";
  addStep(step, params, body);
  return success();
}

/// A reshape that keeps the batch leading is the same bytes: a copy into
/// the result's buffer (which has the result's row width).
LogicalResult ProgramBuilder::emitReshape(mlp::ReshapeOp op) {
  // Keeping the last axis keeps the bytes in place: the result is the same
  // value (the caller's output buffer still gets a copy).
  Type inType = op.getInput().getType(), outType = op.getResult().getType();
  if (isBatched(inType) && isBatched(outType) &&
      colsOf(inType) == colsOf(outType) &&
      rowsPerBatchOf(inType) == rowsPerBatchOf(outType) &&
      !outputIndex.count(op.getResult())) {
    auto in = valueOf(op.getInput(), op);
    if (failed(in))
      return failure();
    values[op.getResult()] = *in;
    return success();
  }
  if (!isBatchMatrix(op.getInput().getType()) ||
      !isBatchMatrix(op.getResult().getType()))
    return emitGenericReshape(op);
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
    return emitGenericSlice(op);
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
    return emitReduce(op, op.getInput(), axis, /*mode=*/1);
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
