//===- LowerElementwiseOps.cpp - math functions and constants to linalg ---===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// An elementwise generic whose body is one math op.
template <typename OpTy, typename MathOp>
struct MathLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Adaptor = typename OpConversionPattern<OpTy>::OpAdaptor;

  LogicalResult
  matchAndRewrite(OpTy op, Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value input = adaptor.getInput();
    Value result = elementwise(
        rewriter, loc, type, input,
        rewriter.getMultiDimIdentityMap(type.getRank()),
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          return b.create<MathOp>(l, args[0]);
        },
        emptyLike(rewriter, loc, type, input));
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A rank-0 dense constant: the generics that read it broadcast it, and
/// elementwise fusion folds it into their bodies as a scalar.
struct ConstantLowering : public OpConversionPattern<mlp::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto floatType = cast<FloatType>(type.getElementType());
    bool losesInfo = false;
    APFloat value = op.getValueAttr().getValue();
    value.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &losesInfo);
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, value));
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerElementwiseOpsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MathLowering<mlp::SinOp, math::SinOp>,
               MathLowering<mlp::CosOp, math::CosOp>,
               MathLowering<mlp::ExpOp, math::ExpOp>,
               MathLowering<mlp::SqrtOp, math::SqrtOp>, ConstantLowering>(
      patterns.getContext());
}
