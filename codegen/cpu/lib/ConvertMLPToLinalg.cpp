//===- ConvertMLPToLinalg.cpp - mlp ops to linalg on tensors --------------===//
//
// Every mlp op becomes linalg on tensors. Dynamic (batch) sizes of results are
// read from the operand that carries them, so one kernel serves any batch.
//
//===----------------------------------------------------------------------===//
#include "LinalgBuilders.h"
#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace mlp {
#define GEN_PASS_DEF_CONVERTMLPTOLINALG
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;
using namespace mlp::cpu;

//===----------------------------------------------------------------------===//
// Helpers (LinalgBuilders.h)
//===----------------------------------------------------------------------===//

namespace mlp::cpu {

/// tensor.empty of `type`, taking dynamic sizes from `source` at the positions
/// given by `sourceDims` (sourceDims[i] is the source dim of result dim i, or
/// -1 where the result dim is static).
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  Value source, ArrayRef<int64_t> sourceDims) {
  SmallVector<Value> dynamicSizes;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(
          b.create<tensor::DimOp>(loc, source, sourceDims[i]));
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                   dynamicSizes);
}

/// Result dim i comes from source dim i.
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                Value source) {
  SmallVector<int64_t> dims(type.getRank());
  for (int64_t i = 0; i < type.getRank(); ++i)
    dims[i] = i;
  return emptyTensor(b, loc, type, source, dims);
}

void appendAffineOperands(SmallVectorImpl<Value> &inputs,
                          SmallVectorImpl<AffineMap> &maps, Value weight,
                          Value bias, AffineMap map) {
  for (Value v : {weight, bias}) {
    if (v) {
      inputs.push_back(v);
      maps.push_back(map);
    }
  }
}

Value constantF32(OpBuilder &b, Location loc, double value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
}

SmallVector<utils::IteratorType> parallel(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

/// An elementwise linalg.generic over `inputs` (already shaped like the
/// result) whose body is `body(args)`.
Value elementwise(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    Value init) {
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  auto generic = b.create<linalg::GenericOp>(
      loc, type, inputs, init, maps, parallel(type.getRank()),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args));
      });
  return generic.getResult(0);
}

} // namespace mlp::cpu

namespace {

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

Value sigmoidOf(OpBuilder &b, Location loc, Value x) {
  Value one = constantF32(b, loc, 1.0);
  Value negX = b.create<arith::NegFOp>(loc, x);
  Value denom = b.create<arith::AddFOp>(loc, one, b.create<math::ExpOp>(loc, negX));
  return b.create<arith::DivFOp>(loc, one, denom);
}

Value geluOf(OpBuilder &b, Location loc, Value x, bool tanhForm) {
  Value half = constantF32(b, loc, 0.5);
  Value one = constantF32(b, loc, 1.0);
  Value inner;
  if (tanhForm) {
    // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
    Value x3 = b.create<arith::MulFOp>(loc, x, b.create<arith::MulFOp>(loc, x, x));
    Value poly = b.create<arith::AddFOp>(
        loc, x, b.create<arith::MulFOp>(loc, constantF32(b, loc, 0.044715), x3));
    inner = b.create<math::TanhOp>(
        loc, b.create<arith::MulFOp>(
                 loc, constantF32(b, loc, std::sqrt(2.0 / M_PI)), poly));
  } else {
    inner = b.create<math::ErfOp>(
        loc, b.create<arith::MulFOp>(loc, x, constantF32(b, loc, M_SQRT1_2)));
  }
  Value scaled = b.create<arith::MulFOp>(loc, half, x);
  return b.create<arith::MulFOp>(loc, scaled,
                                 b.create<arith::AddFOp>(loc, one, inner));
}

template <typename OpTy>
struct UnaryLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Adaptor = typename OpConversionPattern<OpTy>::OpAdaptor;

  LogicalResult
  matchAndRewrite(OpTy op, Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value input = adaptor.getInput();
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = elementwise(
        rewriter, loc, type, input, id,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return compute(op, b, l, args[0]);
        },
        emptyLike(rewriter, loc, type, input));
    rewriter.replaceOp(op, result);
    return success();
  }

  static Value compute(OpTy op, OpBuilder &b, Location loc, Value x);
};

template <>
Value UnaryLowering<mlp::ReluOp>::compute(mlp::ReluOp, OpBuilder &b,
                                          Location loc, Value x) {
  return b.create<arith::MaximumFOp>(loc, x, constantF32(b, loc, 0.0));
}
template <>
Value UnaryLowering<mlp::GeluOp>::compute(mlp::GeluOp op, OpBuilder &b,
                                          Location loc, Value x) {
  return geluOf(b, loc, x, op.getApproximate() == "tanh");
}
template <>
Value UnaryLowering<mlp::SiluOp>::compute(mlp::SiluOp, OpBuilder &b,
                                          Location loc, Value x) {
  return b.create<arith::MulFOp>(loc, x, sigmoidOf(b, loc, x));
}
template <>
Value UnaryLowering<mlp::SigmoidOp>::compute(mlp::SigmoidOp, OpBuilder &b,
                                             Location loc, Value x) {
  return sigmoidOf(b, loc, x);
}
template <>
Value UnaryLowering<mlp::TanhOp>::compute(mlp::TanhOp, OpBuilder &b,
                                          Location loc, Value x) {
  return b.create<math::TanhOp>(loc, x);
}

} // namespace

Value mlp::cpu::applyElementwise(OpBuilder &b, Location loc, Operation *op,
                                 Value x, Value other, bool xIsLhs) {
  if (auto relu = dyn_cast<mlp::ReluOp>(op))
    return UnaryLowering<mlp::ReluOp>::compute(relu, b, loc, x);
  if (auto gelu = dyn_cast<mlp::GeluOp>(op))
    return UnaryLowering<mlp::GeluOp>::compute(gelu, b, loc, x);
  if (auto silu = dyn_cast<mlp::SiluOp>(op))
    return UnaryLowering<mlp::SiluOp>::compute(silu, b, loc, x);
  if (auto sigmoid = dyn_cast<mlp::SigmoidOp>(op))
    return UnaryLowering<mlp::SigmoidOp>::compute(sigmoid, b, loc, x);
  if (auto tanh = dyn_cast<mlp::TanhOp>(op))
    return UnaryLowering<mlp::TanhOp>::compute(tanh, b, loc, x);
  Value lhs = xIsLhs ? x : other, rhs = xIsLhs ? other : x;
  if (isa<mlp::AddOp>(op))
    return b.create<arith::AddFOp>(loc, lhs, rhs);
  if (isa<mlp::SubOp>(op))
    return b.create<arith::SubFOp>(loc, lhs, rhs);
  if (isa<mlp::MulOp>(op))
    return b.create<arith::MulFOp>(loc, lhs, rhs);
  assert(isa<mlp::DivOp>(op) && "not an elementwise op of an epilogue");
  return b.create<arith::DivFOp>(loc, lhs, rhs);
}

namespace {

//===----------------------------------------------------------------------===//
// Broadcasting binary ops
//===----------------------------------------------------------------------===//

/// Indexing map of an operand broadcast (NumPy rules) to `resultShape`.
AffineMap broadcastMap(OpBuilder &b, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape) {
  int64_t offset = resultShape.size() - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(operandShape)) {
    bool stretched = size == 1 && resultShape[i + offset] != 1;
    exprs.push_back(stretched ? b.getAffineConstantExpr(0)
                              : b.getAffineDimExpr(i + offset));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, b.getContext());
}

/// tensor.empty for a broadcast result: each dynamic size is read from an
/// operand that is not stretched along it.
Value broadcastInit(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange operands) {
  SmallVector<Value> dynamicSizes;
  for (auto [i, size] : llvm::enumerate(type.getShape())) {
    if (!ShapedType::isDynamic(size))
      continue;
    for (Value operand : operands) {
      auto shape = cast<RankedTensorType>(operand.getType()).getShape();
      int64_t dim = i - (type.getRank() - shape.size());
      if (dim >= 0 && ShapedType::isDynamic(shape[dim])) {
        dynamicSizes.push_back(b.create<tensor::DimOp>(loc, operand, dim));
        break;
      }
    }
  }
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                   dynamicSizes);
}

template <typename OpTy, typename ArithOp>
struct BinaryLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Adaptor = typename OpConversionPattern<OpTy>::OpAdaptor;

  LogicalResult
  matchAndRewrite(OpTy op, Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto shapeOf = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getShape();
    };
    SmallVector<AffineMap> maps = {
        broadcastMap(rewriter, shapeOf(lhs), type.getShape()),
        broadcastMap(rewriter, shapeOf(rhs), type.getShape())};
    Value result = elementwise(
        rewriter, loc, type, {lhs, rhs}, maps,
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return b.create<ArithOp>(l, args[0], args[1]);
        },
        broadcastInit(rewriter, loc, type, {lhs, rhs}));
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

} // namespace

/// Reassociation that folds all leading dims into one: [[0..r-2], [r-1]].
SmallVector<ReassociationIndices> mlp::cpu::collapseLeading(int64_t rank) {
  ReassociationIndices leading;
  for (int64_t i = 0; i + 1 < rank; ++i)
    leading.push_back(i);
  return {leading, {rank - 1}};
}

/// `value` reshaped (row-major) to `type`, whose dims are `sizes`, with
/// tensor.reshape rather than collapse_shape / expand_shape: elementwise
/// fusion folds those reshapes into a neighbouring linalg.matmul by expanding
/// it into a higher-rank linalg.generic contraction, which the CPU tiler does
/// not register-tile (a linear on (N, 196, 512) ran ~400x slower than on
/// (N * 196, 512)). tensor.reshape bufferizes to a view (memref.reshape).
Value mlp::cpu::reshapeTo(OpBuilder &b, Location loc, Value value,
                          RankedTensorType type,
                          ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dims;
  for (OpFoldResult size : sizes)
    dims.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  Value shape = b.create<tensor::FromElementsOp>(loc, dims);
  return b.create<tensor::ReshapeOp>(loc, type, value, shape);
}

Value mlp::cpu::buildRowMatmul(OpBuilder &b, Location loc, Value input,
                               function_ref<Value()> weight, Value bias,
                               RankedTensorType resultType,
                               function_ref<Value(Value)> epilogue) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  Type f32 = inputType.getElementType();
  int64_t out = resultType.getShape().back();

  // View the input as a matrix (rows, in).
  Value rows2d = input;
  if (rank == 1) {
    auto type = RankedTensorType::get({1, inputType.getShape()[0]}, f32);
    rows2d = b.create<tensor::ExpandShapeOp>(
        loc, type, input, SmallVector<ReassociationIndices>{{0, 1}});
  } else if (rank > 2) {
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
    int64_t staticRows = 1;
    Value dynamicRows;
    for (OpFoldResult size : ArrayRef<OpFoldResult>(sizes).drop_back()) {
      if (std::optional<int64_t> known = getConstantIntValue(size)) {
        staticRows *= *known;
        continue;
      }
      Value v = cast<Value>(size);
      dynamicRows = dynamicRows ? b.create<arith::MulIOp>(loc, dynamicRows, v)
                                : v;
    }
    OpFoldResult rows = b.getIndexAttr(staticRows);
    int64_t rowsDim = staticRows;
    if (dynamicRows) {
      rows = b.create<arith::MulIOp>(
                  loc, dynamicRows,
                  b.create<arith::ConstantIndexOp>(loc, staticRows))
                 .getResult();
      rowsDim = ShapedType::kDynamic;
    }
    rows2d = reshapeTo(
        b, loc, input,
        RankedTensorType::get({rowsDim, inputType.getShape().back()}, f32),
        {rows, sizes.back()});
  }
  auto rowsType = cast<RankedTensorType>(rows2d.getType());
  auto accType = RankedTensorType::get({rowsType.getShape()[0], out}, f32);
  Value init = emptyTensor(b, loc, accType, rows2d, {0, -1});

  // The accumulator starts as the broadcast bias (or zero): the bias add is
  // free and there is no separate epilogue pass over the result.
  Value acc;
  if (bias) {
    acc = b.create<linalg::BroadcastOp>(loc, bias, init, ArrayRef<int64_t>{0})
              .getResult()[0];
  } else {
    acc = b.create<linalg::FillOp>(loc, constantF32(b, loc, 0.0), init)
              .getResult(0);
  }
  Value product =
      b.create<linalg::MatmulOp>(loc, accType, ValueRange{rows2d, weight()},
                                 acc)
          .getResult(0);
  if (epilogue)
    product = epilogue(product);

  if (rank == 1)
    return b.create<tensor::CollapseShapeOp>(
        loc, resultType, product, SmallVector<ReassociationIndices>{{0, 1}});
  if (rank > 2) {
    SmallVector<OpFoldResult> outputShape =
        tensor::getMixedSizes(b, loc, input);
    outputShape.back() = b.getIndexAttr(out);
    return reshapeTo(b, loc, product, resultType, outputShape);
  }
  return product;
}

namespace {

struct LinearLowering : public OpConversionPattern<mlp::LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // The weight is transposed to (in, out) so that the matmul reads it along
    // rows; -mlp-cpu-pack-weights moves this transpose into the weight store.
    auto transposed = [&]() -> Value {
      Value weight = adaptor.getWeight();
      auto weightType = cast<RankedTensorType>(weight.getType());
      Type elementType = weightType.getElementType();
      SmallVector<int64_t> shape = {weightType.getShape()[1],
                                    weightType.getShape()[0]};
      return rewriter
          .create<linalg::TransposeOp>(
              loc, weight,
              rewriter.create<tensor::EmptyOp>(loc, shape, elementType),
              ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    rewriter.replaceOp(
        op, buildRowMatmul(rewriter, loc, adaptor.getInput(), transposed,
                           adaptor.getBias(),
                           cast<RankedTensorType>(op.getType())));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reductions: layer_norm and mean
//===----------------------------------------------------------------------===//

} // namespace

Value mlp::cpu::sumOverAxis(OpBuilder &b, Location loc, Value input,
                            int64_t axis, Value center, int64_t count) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape, sourceDims;
  SmallVector<AffineExpr> reducedExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    iterators.push_back(i == axis ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
    if (i == axis)
      continue;
    shape.push_back(type.getShape()[i]);
    sourceDims.push_back(i);
    reducedExprs.push_back(b.getAffineDimExpr(i));
  }
  auto reducedType = RankedTensorType::get(shape, type.getElementType());
  Value init = emptyTensor(b, loc, reducedType, input, sourceDims);
  Value zero =
      b.create<linalg::FillOp>(loc, constantF32(b, loc, 0.0), init).getResult(0);
  AffineMap full = b.getMultiDimIdentityMap(rank);
  AffineMap reduced = AffineMap::get(rank, 0, reducedExprs, b.getContext());
  SmallVector<Value> inputs = {input};
  SmallVector<AffineMap> maps = {full};
  if (center) {
    inputs.push_back(center);
    maps.push_back(reduced);
  }
  maps.push_back(reduced);
  return b
      .create<linalg::GenericOp>(
          loc, reducedType, inputs, zero, maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value x = args[0];
            if (center) {
              Value mean = nb.create<arith::DivFOp>(
                  l, args[1], constantF32(nb, l, double(count)));
              Value d = nb.create<arith::SubFOp>(l, x, mean);
              x = nb.create<arith::MulFOp>(l, d, d);
            }
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::AddFOp>(l, x, args.back())});
          })
      .getResult(0);
}

namespace {

struct LayerNormLowering : public OpConversionPattern<mlp::LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = rank - 1;
    int64_t count = type.getShape().back();
    Value input = adaptor.getInput();
    // Two passes (mean, then centred variance) keep fp32 accurate.
    Value sum = sumOverAxis(rewriter, loc, input, axis, Value(), count);
    Value sqsum = sumOverAxis(rewriter, loc, input, axis, sum, count);

    SmallVector<AffineExpr> rowExprs;
    for (int64_t i = 0; i < axis; ++i)
      rowExprs.push_back(rewriter.getAffineDimExpr(i));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap row = AffineMap::get(rank, 0, rowExprs, getContext());
    AffineMap channel = AffineMap::get(
        rank, 0, rewriter.getAffineDimExpr(axis), getContext());
    SmallVector<Value> inputs = {input, sum, sqsum};
    SmallVector<AffineMap> maps = {id, row, row};
    Value weight = adaptor.getWeight(), bias = adaptor.getBias();
    appendAffineOperands(inputs, maps, weight, bias, channel);
    double eps = op.getEps().convertToDouble();
    Value result = elementwise(
        rewriter, loc, type, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value n = constantF32(b, l, double(count));
          Value mean = b.create<arith::DivFOp>(l, args[1], n);
          Value var = b.create<arith::DivFOp>(l, args[2], n);
          Value denom = b.create<math::SqrtOp>(
              l, b.create<arith::AddFOp>(l, var, constantF32(b, l, eps)));
          Value y = b.create<arith::DivFOp>(
              l, b.create<arith::SubFOp>(l, args[0], mean), denom);
          unsigned next = 3;
          if (weight)
            y = b.create<arith::MulFOp>(l, y, args[next++]);
          if (bias)
            y = b.create<arith::AddFOp>(l, y, args[next++]);
          return y;
        },
        emptyLike(rewriter, loc, type, input));
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct MeanLowering : public OpConversionPattern<mlp::MeanOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::MeanOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t axis = op.getAxis();
    if (axis < 0)
      axis += inputType.getRank();
    int64_t count = inputType.getShape()[axis];
    Value sum = sumOverAxis(rewriter, loc, input, axis, Value(), count);
    auto type = cast<RankedTensorType>(op.getType());
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    Value result = elementwise(
        rewriter, loc, type, sum, id,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return b.create<arith::DivFOp>(l, args[0],
                                         constantF32(b, l, double(count)));
        },
        emptyLike(rewriter, loc, type, sum));
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Transpose and reshape
//===----------------------------------------------------------------------===//

struct TransposeLowering : public OpConversionPattern<mlp::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value init = emptyTensor(rewriter, loc, type, adaptor.getInput(),
                             op.getPermutation());
    auto transpose = rewriter.create<linalg::TransposeOp>(
        loc, adaptor.getInput(), init, op.getPermutation());
    rewriter.replaceOp(op, transpose.getResult()[0]);
    return success();
  }
};

/// Row-major reshape through a rank-1 (static) or rank-2 [batch, rest]
/// (dynamic) intermediate, so that every dynamic size stays inferable.
struct ReshapeLowering : public OpConversionPattern<mlp::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(op.getType());
    bool batched = inputType.getRank() > 0 && inputType.isDynamicDim(0);
    // The operand of a contraction: a tensor.reshape, which elementwise
    // fusion does not fold into the matmul (see reshapeTo). So is a reshape
    // from or to the batch alone ([N] <-> [N, 1]), which has no reassociation
    // besides the batch's.
    bool batchOnly =
        batched && (inputType.getRank() == 1 || type.getRank() == 1);
    if (batchOnly || llvm::any_of(op->getUsers(), [](Operation *user) {
          return isa<mlp::LinearOp, mlp::MatmulOp, mlp::PatchEmbedOp>(user);
        })) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t size : type.getShape())
        sizes.push_back(ShapedType::isDynamic(size)
                            ? OpFoldResult(
                                  rewriter.create<tensor::DimOp>(loc, input, 0)
                                      .getResult())
                            : rewriter.getIndexAttr(size));
      rewriter.replaceOp(op, reshapeTo(rewriter, loc, input, type, sizes));
      return success();
    }
    int64_t keep = batched ? 1 : 0;
    if (inputType.getRank() == keep || type.getRank() == keep)
      return rewriter.notifyMatchFailure(op, "rank-0 reshape");

    auto group = [&](int64_t rank) {
      SmallVector<ReassociationIndices> groups;
      if (batched)
        groups.push_back({0});
      ReassociationIndices rest;
      for (int64_t i = keep; i < rank; ++i)
        rest.push_back(i);
      groups.push_back(rest);
      return groups;
    };
    Value flat = input;
    if (inputType.getRank() != keep + 1)
      flat = rewriter.create<tensor::CollapseShapeOp>(
          loc, input, group(inputType.getRank()));
    Value result = flat;
    if (type.getRank() != keep + 1) {
      SmallVector<OpFoldResult> outputShape;
      for (auto [i, size] : llvm::enumerate(type.getShape()))
        outputShape.push_back(
            ShapedType::isDynamic(size)
                ? OpFoldResult(rewriter.create<tensor::DimOp>(loc, input, i)
                                   .getResult())
                : rewriter.getIndexAttr(size));
      result = rewriter.create<tensor::ExpandShapeOp>(
          loc, type, flat, group(type.getRank()), outputShape);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertMLPToLinalg
    : public mlp::impl::ConvertMLPToLinalgBase<ConvertMLPToLinalg> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Report unsupported element types at the op that has them, before the
    // conversion fails with a generic message.
    WalkResult typeCheck = module.walk([](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() != "mlp")
        return WalkResult::advance();
      for (Type type : op->getResultTypes()) {
        if (!getElementTypeOrSelf(type).isF32()) {
          op->emitError("the CPU backend supports only f32 tensors, but '")
              << op->getName() << "' produces " << type;
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (typeCheck.wasInterrupted())
      return signalPassFailure();
    // Groups of -mlp-fuse first, with what the group allows; their ops
    // outside the special forms are inlined for the patterns below.
    if (failed(lowerFusedGroups(module)))
      return signalPassFailure();

    ConversionTarget target(getContext());
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect,
                           func::FuncDialect>();
    target.addIllegalDialect<mlp::MLPDialect>();

    RewritePatternSet patterns(&getContext());
    patterns.add<UnaryLowering<mlp::ReluOp>, UnaryLowering<mlp::GeluOp>,
                 UnaryLowering<mlp::SiluOp>, UnaryLowering<mlp::SigmoidOp>,
                 UnaryLowering<mlp::TanhOp>,
                 BinaryLowering<mlp::AddOp, arith::AddFOp>,
                 BinaryLowering<mlp::SubOp, arith::SubFOp>,
                 BinaryLowering<mlp::MulOp, arith::MulFOp>,
                 BinaryLowering<mlp::DivOp, arith::DivFOp>, LinearLowering,
                 LayerNormLowering, MeanLowering, TransposeLowering,
                 ReshapeLowering>(&getContext());
    populateLowerBasisOpsPatterns(patterns);
    populateLowerNormalizationOpsPatterns(patterns);
    populateLowerReductionOpsPatterns(patterns);
    populateLowerElementwiseOpsPatterns(patterns);
    populateLowerEmbeddingOpsPatterns(patterns);
    populateLowerLinearAlgebraOpsPatterns(patterns);
    populateLowerShapeOpsPatterns(patterns);
    populateLowerSpatialOpsPatterns(patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    module.walk([](func::ReturnOp ret) { copyReturnedArguments(ret); });
  }

  /// An output that is an input or a weight unchanged must still be written
  /// into the caller's output buffer: return a copy, which bufferization
  /// writes there, instead of the argument itself (a result equivalent to an
  /// argument would be dropped from the signature).
  static void copyReturnedArguments(func::ReturnOp ret) {
    OpBuilder b(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      auto arg = dyn_cast<BlockArgument>(operand.get());
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!arg || !type)
        continue;
      // alloc_tensor with a copy, unlike linalg.copy, survives the folds
      // that would turn a vectorized full copy back into its source.
      operand.set(b.create<bufferization::AllocTensorOp>(
          ret.getLoc(), type, ValueRange(), arg));
    }
  }
};

} // namespace
