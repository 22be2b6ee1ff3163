//===- LowerReductionOps.cpp - sum and softmax to linalg ------------------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// A reduction generic into a zero-filled tensor, as mean's sums.
struct SumLowering : public OpConversionPattern<mlp::SumOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::SumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto axis = static_cast<int64_t>(op.getAxis());
    Value input = adaptor.getInput();
    int64_t count = cast<RankedTensorType>(input.getType()).getDimSize(axis);
    rewriter.replaceOp(
        op, sumOverAxis(rewriter, op.getLoc(), input, axis, Value(), count));
    return success();
  }
};

/// Three passes along the axis: the maximum (a reduction from -inf), the
/// sum of exp(x - max), and exp(x - max) / sum, elementwise; subtracting the
/// maximum keeps exp from overflowing.
struct SoftmaxLowering : public OpConversionPattern<mlp::SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    auto axis = static_cast<int64_t>(op.getAxis());

    SmallVector<int64_t> reducedShape, sourceDims;
    SmallVector<AffineExpr> reducedExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < rank; ++i) {
      iterators.push_back(i == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (i == axis)
        continue;
      reducedShape.push_back(type.getDimSize(i));
      sourceDims.push_back(i);
      reducedExprs.push_back(rewriter.getAffineDimExpr(i));
    }
    auto reducedType =
        RankedTensorType::get(reducedShape, type.getElementType());
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reduced = AffineMap::get(rank, 0, reducedExprs, getContext());

    // max over the axis
    Value lowest = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getFloatAttr(type.getElementType(),
                                   -std::numeric_limits<double>::infinity()));
    Value init = emptyTensor(rewriter, loc, reducedType, input, sourceDims);
    Value filled =
        rewriter.create<linalg::FillOp>(loc, lowest, init).getResult(0);
    Value max = rewriter
                    .create<linalg::GenericOp>(
                        loc, reducedType, input, filled,
                        ArrayRef<AffineMap>{id, reduced}, iterators,
                        [&](OpBuilder &b, Location l, ValueRange args) {
                          b.create<linalg::YieldOp>(
                              l, ValueRange{b.create<arith::MaximumFOp>(
                                     l, args[0], args[1])});
                        })
                    .getResult(0);
    // exp(x - max), then its sum over the axis
    Value shifted = elementwise(
        rewriter, loc, type, {input, max}, {id, reduced},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return b.create<math::ExpOp>(
              l, b.create<arith::SubFOp>(l, args[0], args[1]));
        },
        emptyLike(rewriter, loc, type, input));
    int64_t count = type.getDimSize(axis);
    Value sum = sumOverAxis(rewriter, loc, shifted, axis, Value(), count);
    Value result = elementwise(
        rewriter, loc, type, {shifted, sum}, {id, reduced},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return b.create<arith::DivFOp>(l, args[0], args[1]);
        },
        emptyLike(rewriter, loc, type, input));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerReductionOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<SumLowering, SoftmaxLowering>(patterns.getContext());
}
