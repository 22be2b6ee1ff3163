//===- LowerBasisOps.cpp - bspline_basis to linalg ------------------------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// One linalg.generic over the result (..., f, j) reading the feature x at
/// (..., f): the body loads the order + 2 knots grid[f, j .. j + order + 1]
/// (tensor.extract) and runs the Cox-de Boor recursion for basis j, unrolled:
/// the order + 1 indicators of degree 0, then each degree from the one below.
struct BSplineBasisLowering : public OpConversionPattern<mlp::BSplineBasisOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::BSplineBasisOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    Value input = adaptor.getInput(), grid = adaptor.getGrid();
    auto order = static_cast<int64_t>(op.getOrder());

    SmallVector<AffineExpr> featureExprs;
    SmallVector<int64_t> sourceDims;
    for (int64_t i = 0; i + 1 < rank; ++i) {
      featureExprs.push_back(rewriter.getAffineDimExpr(i));
      sourceDims.push_back(i);
    }
    sourceDims.push_back(-1);
    AffineMap feature = AffineMap::get(rank, 0, featureExprs, getContext());
    Value init = emptyTensor(rewriter, loc, type, input, sourceDims);
    Value result = elementwise(
        rewriter, loc, type, input, feature,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = args[0];
          Value f = b.create<linalg::IndexOp>(l, rank - 2);
          Value j = b.create<linalg::IndexOp>(l, rank - 1);
          SmallVector<Value> knots;
          for (int64_t t = 0; t <= order + 1; ++t) {
            Value at = t == 0
                           ? j
                           : b.create<arith::AddIOp>(
                                  l, j, b.create<arith::ConstantIndexOp>(l, t))
                                 .getResult();
            knots.push_back(
                b.create<tensor::ExtractOp>(l, grid, ValueRange{f, at}));
          }
          Value one = constantF32(b, l, 1.0), zero = constantF32(b, l, 0.0);
          SmallVector<Value> bases;
          for (int64_t t = 0; t <= order; ++t) {
            Value above = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE,
                                                  x, knots[t]);
            Value below = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT,
                                                  x, knots[t + 1]);
            Value inside = b.create<arith::AndIOp>(l, above, below);
            bases.push_back(b.create<arith::SelectOp>(l, inside, one, zero));
          }
          for (int64_t p = 1; p <= order; ++p) {
            for (int64_t t = 0; t + p <= order; ++t) {
              // (x - g[t]) / (g[t+p] - g[t]) * B[t]
              //   + (g[t+p+1] - x) / (g[t+p+1] - g[t+1]) * B[t+1]
              Value left = b.create<arith::DivFOp>(
                  l, b.create<arith::SubFOp>(l, x, knots[t]),
                  b.create<arith::SubFOp>(l, knots[t + p], knots[t]));
              Value right = b.create<arith::DivFOp>(
                  l, b.create<arith::SubFOp>(l, knots[t + p + 1], x),
                  b.create<arith::SubFOp>(l, knots[t + p + 1], knots[t + 1]));
              bases[t] = b.create<arith::AddFOp>(
                  l, b.create<arith::MulFOp>(l, left, bases[t]),
                  b.create<arith::MulFOp>(l, right, bases[t + 1]));
            }
          }
          return bases[0];
        },
        init);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerBasisOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<BSplineBasisLowering>(patterns.getContext());
}
