//===- LowerEmbeddingOps.cpp - embedding and padding_mask to linalg -------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// One generic over the result (..., d) reading the id at (...): the row is
/// extracted from the table (tensor.extract) at a clamped index, and an id
/// outside the table gives 0, so no read ever leaves the table.
struct EmbeddingLowering : public OpConversionPattern<mlp::EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    Value ids = adaptor.getIds(), table = adaptor.getTable();
    int64_t vocabulary = cast<RankedTensorType>(table.getType()).getDimSize(0);
    SmallVector<AffineExpr> idExprs;
    SmallVector<int64_t> sourceDims;
    for (int64_t i = 0; i + 1 < rank; ++i) {
      idExprs.push_back(rewriter.getAffineDimExpr(i));
      sourceDims.push_back(i);
    }
    sourceDims.push_back(-1);
    AffineMap idMap = AffineMap::get(rank, 0, idExprs, getContext());
    Value result = elementwise(
        rewriter, loc, type, ids, idMap,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value row =
              b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0]);
          Value zero = b.create<arith::ConstantIndexOp>(l, 0);
          Value inside = b.create<arith::AndIOp>(
              l,
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, row, zero),
              b.create<arith::CmpIOp>(
                  l, arith::CmpIPredicate::slt, row,
                  b.create<arith::ConstantIndexOp>(l, vocabulary)));
          Value safe = b.create<arith::SelectOp>(l, inside, row, zero);
          Value column = b.create<linalg::IndexOp>(l, rank - 1);
          Value value =
              b.create<tensor::ExtractOp>(l, table, ValueRange{safe, column});
          return b.create<arith::SelectOp>(l, inside, value,
                                           constantF32(b, l, 0.0));
        },
        emptyTensor(rewriter, loc, type, ids, sourceDims));
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct PaddingMaskLowering : public OpConversionPattern<mlp::PaddingMaskOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::PaddingMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Value ids = adaptor.getIds();
    auto idType = cast<RankedTensorType>(ids.getType()).getElementType();
    auto padding = static_cast<int64_t>(op.getPaddingIdx());
    Value result = elementwise(
        rewriter, loc, type, ids,
        rewriter.getMultiDimIdentityMap(type.getRank()),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value pad =
              b.create<arith::ConstantOp>(l, b.getIntegerAttr(idType, padding));
          Value real = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne,
                                               args[0], pad);
          return b.create<arith::SelectOp>(l, real, constantF32(b, l, 1.0),
                                           constantF32(b, l, 0.0));
        },
        emptyLike(rewriter, loc, type, ids));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerEmbeddingOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<EmbeddingLowering, PaddingMaskLowering>(patterns.getContext());
}
