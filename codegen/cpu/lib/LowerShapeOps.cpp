//===- LowerShapeOps.cpp - concat and slice to linalg and tensor ----------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// Sizes of all dims of `value`, dynamic ones read with tensor.dim.
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

/// One linalg.generic over the result: along the axis, position j reads
/// input i at j - offset_i for the input whose range holds j (a chain of
/// selects; the other inputs' indices are clamped into their bounds). The
/// inputs are read with tensor.extract, so the result is computed, never
/// assembled from strided slices: inserting a tensor into a slice of the
/// result (insert_slice) can leave a strided memref.copy after bufferization,
/// which lowers to a call of the MLIR runtime's memrefCopy, absent from the
/// generated libraries.
struct ConcatLowering : public OpConversionPattern<mlp::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto axis = static_cast<int64_t>(op.getAxis());
    SmallVector<Value> inputs(adaptor.getInputs());
    Value init = emptyLike(rewriter, loc, type, inputs.front());
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange(), init,
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        parallel(rank), [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> indices;
          for (int64_t i = 0; i < rank; ++i)
            indices.push_back(b.create<linalg::IndexOp>(l, i));
          Value j = indices[axis];
          auto index = [&](int64_t v) {
            return b.create<arith::ConstantIndexOp>(l, v).getResult();
          };
          // Input i's element at position j, its index clamped into bounds.
          auto read = [&](size_t i, int64_t offset) {
            int64_t size =
                cast<RankedTensorType>(inputs[i].getType()).getDimSize(axis);
            Value k = offset ? b.create<arith::SubIOp>(l, j, index(offset)) : j;
            if (i != 0)
              k = b.create<arith::MaxSIOp>(l, k, index(0));
            if (i + 1 != inputs.size())
              k = b.create<arith::MinSIOp>(l, k, index(size - 1));
            SmallVector<Value> at(indices);
            at[axis] = k;
            return b.create<tensor::ExtractOp>(l, inputs[i], at).getResult();
          };
          SmallVector<int64_t> offsets;
          int64_t offset = 0;
          for (Value input : inputs) {
            offsets.push_back(offset);
            offset += cast<RankedTensorType>(input.getType()).getDimSize(axis);
          }
          Value value = read(inputs.size() - 1, offsets.back());
          for (size_t i = inputs.size() - 1; i-- > 0;) {
            Value inside = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt,
                                                   j, index(offsets[i + 1]));
            value = b.create<arith::SelectOp>(l, inside, read(i, offsets[i]),
                                              value);
          }
          b.create<linalg::YieldOp>(l, value);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A tensor.extract_slice, which consumers read in place; but a slice that
/// is an output of the model is computed by a linalg.generic reading the
/// input with tensor.extract, as it would otherwise be copied from a strided
/// view into the output buffer (see ConcatLowering). (A generic reading the
/// input through an offset map, (d + start), would avoid the extracts, but
/// tiling such maps applies the offset twice.)
struct SliceLowering : public OpConversionPattern<mlp::SliceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto axis = static_cast<int64_t>(op.getAxis());
    auto start = static_cast<int64_t>(op.getStart());
    bool isOutput = llvm::any_of(op->getUsers(), [](Operation *user) {
      return isa<func::ReturnOp>(user);
    });
    if (isOutput) {
      auto generic = rewriter.create<linalg::GenericOp>(
          loc, type, ValueRange(), emptyLike(rewriter, loc, type, input),
          ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
          parallel(rank), [&](OpBuilder &b, Location l, ValueRange) {
            SmallVector<Value> at;
            for (int64_t i = 0; i < rank; ++i)
              at.push_back(b.create<linalg::IndexOp>(l, i));
            at[axis] = b.create<arith::AddIOp>(
                l, at[axis], b.create<arith::ConstantIndexOp>(l, start));
            b.create<linalg::YieldOp>(
                l, b.create<tensor::ExtractOp>(l, input, at).getResult());
          });
      rewriter.replaceOp(op, generic.getResult(0));
      return success();
    }
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    offsets[axis] = rewriter.getIndexAttr(start);
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, input);
    sizes[axis] = rewriter.getIndexAttr(type.getDimSize(axis));
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, type, input, offsets, sizes, strides);
    return success();
  }
};

/// A generic that reads the input through its broadcasting map (a constant 0
/// along stretched dimensions, none for missing leading ones).
struct BroadcastToLowering : public OpConversionPattern<mlp::BroadcastToOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::BroadcastToOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> inputShape =
        cast<RankedTensorType>(input.getType()).getShape();
    int64_t offset = type.getRank() - inputShape.size();
    SmallVector<AffineExpr> exprs;
    SmallVector<int64_t> sourceDims(type.getRank(), -1);
    for (auto [i, size] : llvm::enumerate(inputShape)) {
      int64_t dim = i + offset;
      bool stretched = size == 1 && type.getDimSize(dim) != 1;
      exprs.push_back(stretched ? rewriter.getAffineConstantExpr(0)
                                : rewriter.getAffineDimExpr(dim));
      if (type.isDynamicDim(dim))
        sourceDims[dim] = i;
    }
    AffineMap map = AffineMap::get(type.getRank(), 0, exprs, getContext());
    Value result = elementwise(
        rewriter, loc, type, input, map,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; },
        emptyTensor(rewriter, loc, type, input, sourceDims));
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerShapeOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<BroadcastToLowering, ConcatLowering, SliceLowering>(
      patterns.getContext());
}
