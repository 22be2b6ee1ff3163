//===- LowerSpatialOps.cpp - conv2d and avg_pool2d to linalg --------------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// The element of the channels-last `input` (N, H, W, C) at row `y` and
/// column `x` (index values that may lie outside the image) for batch `n` and
/// channel `c`, read at indices clamped into the image, and whether (y, x) is
/// inside it: callers select zero (or skip) outside.
std::pair<Value, Value> readPadded(OpBuilder &b, Location l, Value input,
                                   Value n, Value y, Value x, Value c) {
  auto type = cast<RankedTensorType>(input.getType());
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(l, v).getResult();
  };
  Value inside;
  SmallVector<Value> at = {n, y, x, c};
  for (int d : {1, 2}) {
    int64_t size = type.getDimSize(d);
    Value v = at[d];
    Value ok = b.create<arith::AndIOp>(
        l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, v, index(0)),
        b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, v, index(size)));
    inside = inside ? b.create<arith::AndIOp>(l, inside, ok).getResult() : ok;
    at[d] = b.create<arith::MinSIOp>(
        l, b.create<arith::MaxSIOp>(l, v, index(0)), index(size - 1));
  }
  return {b.create<tensor::ExtractOp>(l, input, at), inside};
}

/// im2col + matmul. A generic over the patches (N, OH, OW, C, kh, kw) reads
/// the input at (oh stride + i - padding, ow stride + j - padding), zero
/// outside the image (tensor.extract at clamped indices: no padded copy of
/// the input); the patches, viewed as (N, OH, OW, C kh kw), multiply the
/// weight transposed to (C, kh, kw, O) (which -mlp-cpu-pack-weights moves
/// into the weight store) and viewed as a (C kh kw, O) matrix. A 1 x 1
/// convolution (stride 1, no padding) skips the patches.
struct Conv2DLowering : public OpConversionPattern<mlp::Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(op.getType());
    Type elementType = type.getElementType();
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    int64_t outChannels = weightType.getDimSize(0),
            channels = weightType.getDimSize(1), kh = weightType.getDimSize(2),
            kw = weightType.getDimSize(3);
    auto stride = static_cast<int64_t>(op.getStride());
    auto padding = static_cast<int64_t>(op.getPadding());
    int64_t oh = type.getDimSize(1), ow = type.getDimSize(2);

    auto weightMatrix = [&]() -> Value {
      Value transposed =
          rewriter
              .create<linalg::TransposeOp>(
                  loc, adaptor.getWeight(),
                  rewriter.create<tensor::EmptyOp>(
                      loc, ArrayRef<int64_t>{channels, kh, kw, outChannels},
                      elementType),
                  ArrayRef<int64_t>{1, 2, 3, 0})
              .getResult()[0];
      return reshapeTo(
          rewriter, loc, transposed,
          RankedTensorType::get({channels * kh * kw, outChannels}, elementType),
          {rewriter.getIndexAttr(channels * kh * kw),
           rewriter.getIndexAttr(outChannels)});
    };
    // A pointwise convolution is a matmul of the input as it is.
    if (kh == 1 && kw == 1 && stride == 1 && padding == 0) {
      rewriter.replaceOp(op, buildRowMatmul(rewriter, loc, input, weightMatrix,
                                            adaptor.getBias(), type));
      return success();
    }

    auto patchesType = RankedTensorType::get(
        {inputType.getDimSize(0), oh, ow, channels, kh, kw}, elementType);
    Value init =
        emptyTensor(rewriter, loc, patchesType, input, {0, -1, -1, -1, -1, -1});
    auto patches = rewriter.create<linalg::GenericOp>(
        loc, patchesType, ValueRange(), init,
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(6)}, parallel(6),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> idx;
          for (int64_t i = 0; i < 6; ++i)
            idx.push_back(b.create<linalg::IndexOp>(l, i));
          auto position = [&](Value out, Value k) -> Value {
            Value v = b.create<arith::MulIOp>(
                l, out, b.create<arith::ConstantIndexOp>(l, stride));
            v = b.create<arith::AddIOp>(l, v, k);
            return b.create<arith::SubIOp>(
                l, v, b.create<arith::ConstantIndexOp>(l, padding));
          };
          auto [value, inside] =
              readPadded(b, l, input, idx[0], position(idx[1], idx[4]),
                         position(idx[2], idx[5]), idx[3]);
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, inside, value,
                                                      constantF32(b, l, 0.0))});
        });
    int64_t features = channels * kh * kw;
    Value rows =
        reshapeTo(rewriter, loc, patches.getResult(0),
                  RankedTensorType::get(
                      {inputType.getDimSize(0), oh, ow, features}, elementType),
                  {tensor::getMixedSize(rewriter, loc, input, 0),
                   rewriter.getIndexAttr(oh), rewriter.getIndexAttr(ow),
                   rewriter.getIndexAttr(features)});
    rewriter.replaceOp(op, buildRowMatmul(rewriter, loc, rows, weightMatrix,
                                          adaptor.getBias(), type));
    return success();
  }
};

/// One generic over the output: the kernel x kernel window is unrolled in
/// the body; each tap reads the input at clamped indices and counts only if
/// inside the image (unless count_include_pad).
struct AvgPool2DLowering : public OpConversionPattern<mlp::AvgPool2DOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::AvgPool2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(op.getType());
    auto kernel = static_cast<int64_t>(op.getKernel());
    auto stride = static_cast<int64_t>(op.getStride());
    auto padding = static_cast<int64_t>(op.getPadding());
    bool includePad = op.getCountIncludePad();
    Value init = emptyTensor(rewriter, loc, type, input, {0, -1, -1, -1});
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange(), init,
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(4)}, parallel(4),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> idx;
          for (int64_t i = 0; i < 4; ++i)
            idx.push_back(b.create<linalg::IndexOp>(l, i));
          auto origin = [&](Value out) -> Value {
            return b.create<arith::SubIOp>(
                l,
                b.create<arith::MulIOp>(
                    l, out, b.create<arith::ConstantIndexOp>(l, stride)),
                b.create<arith::ConstantIndexOp>(l, padding));
          };
          Value y0 = origin(idx[1]), x0 = origin(idx[2]);
          Value zero = constantF32(b, l, 0.0), one = constantF32(b, l, 1.0);
          Value sum = zero, count = zero;
          for (int64_t i = 0; i < kernel; ++i) {
            for (int64_t j = 0; j < kernel; ++j) {
              Value y = b.create<arith::AddIOp>(
                  l, y0, b.create<arith::ConstantIndexOp>(l, i));
              Value x = b.create<arith::AddIOp>(
                  l, x0, b.create<arith::ConstantIndexOp>(l, j));
              auto [value, inside] =
                  readPadded(b, l, input, idx[0], y, x, idx[3]);
              sum = b.create<arith::AddFOp>(
                  l, sum, b.create<arith::SelectOp>(l, inside, value, zero));
              if (!includePad)
                count = b.create<arith::AddFOp>(
                    l, count, b.create<arith::SelectOp>(l, inside, one, zero));
            }
          }
          if (includePad)
            count = constantF32(b, l, double(kernel * kernel));
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::DivFOp>(l, sum, count)});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerSpatialOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<Conv2DLowering, AvgPool2DLowering>(patterns.getContext());
}
