//===- LowerShapeOps.cpp - concat to linalg -------------------------------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// Sizes of all dims of `value`, dynamic ones read with tensor.dim.
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

/// Each input is copied by a linalg.copy into its slice of the result
/// (extract_slice, copy, insert_slice): after bufferization every copy writes
/// straight into the result buffer. A named copy, unlike an identity generic,
/// survives canonicalization; without it an input would be inserted as is and
/// bufferization would copy it with a strided memref.copy, which lowers to a
/// call of the MLIR runtime's memrefCopy, absent from generated libraries.
struct ConcatLowering : public OpConversionPattern<mlp::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis();
    ValueRange inputs = adaptor.getInputs();
    Value result = emptyLike(rewriter, loc, type, inputs.front());
    int64_t offset = 0;
    for (Value input : inputs) {
      auto inputType = cast<RankedTensorType>(input.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, input);
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      Value slice = rewriter.create<tensor::ExtractSliceOp>(
          loc, inputType, result, offsets, sizes, strides);
      Value copy =
          rewriter.create<linalg::CopyOp>(loc, input, slice).getResult(0);
      result = rewriter.create<tensor::InsertSliceOp>(loc, copy, result,
                                                      offsets, sizes, strides);
      offset += inputType.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerShapeOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<ConcatLowering>(patterns.getContext());
}
