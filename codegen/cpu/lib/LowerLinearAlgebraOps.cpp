//===- LowerLinearAlgebraOps.cpp - matmul and patch_embed to linalg -------===//
#include "LinalgBuilders.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// The (in, out) weight is what linalg.matmul reads: no transpose, so the
/// weight store keeps the checkpoint's layout.
struct MatmulLowering : public OpConversionPattern<mlp::MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildRowMatmul(
                               rewriter, op.getLoc(), adaptor.getInput(),
                               [&] { return adaptor.getWeight(); },
                               adaptor.getBias(),
                               cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// Patchify + matmul. The image (N, C, Hp*ph, Wp*pw) is viewed as
/// (N, C, Hp, ph, Wp, pw), transposed to (N, Hp, Wp, C, ph, pw) and viewed as
/// (N, Hp*Wp, C*ph*pw) rows; the weight (D, C, ph, pw) is transposed to
/// (C, ph, pw, D), which -mlp-cpu-pack-weights moves into the weight store,
/// and viewed as the (C*ph*pw, D) matrix of the matmul. The views next to
/// the matmul are tensor.reshape (see reshapeTo).
struct PatchEmbedLowering : public OpConversionPattern<mlp::PatchEmbedOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(mlp::PatchEmbedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value image = adaptor.getInput();
    auto imageType = cast<RankedTensorType>(image.getType());
    Type elementType = imageType.getElementType();
    ArrayRef<int64_t> shape = imageType.getShape();
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    int64_t channels = shape[1], ph = weightType.getDimSize(2),
            pw = weightType.getDimSize(3), hp = shape[2] / ph,
            wp = shape[3] / pw, dim = weightType.getDimSize(0);

    SmallVector<OpFoldResult> sixD = {
        tensor::getMixedSize(rewriter, loc, image, 0),
        rewriter.getIndexAttr(channels),
        rewriter.getIndexAttr(hp),
        rewriter.getIndexAttr(ph),
        rewriter.getIndexAttr(wp),
        rewriter.getIndexAttr(pw)};
    auto sixDType = RankedTensorType::get({shape[0], channels, hp, ph, wp, pw},
                                          elementType);
    Value blocks = rewriter.create<tensor::ExpandShapeOp>(
        loc, sixDType, image,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}}, sixD);
    auto patchesType = RankedTensorType::get(
        {shape[0], hp, wp, channels, ph, pw}, elementType);
    Value patches = rewriter
                        .create<linalg::TransposeOp>(
                            loc, blocks,
                            emptyTensor(rewriter, loc, patchesType, blocks,
                                        {0, -1, -1, -1, -1, -1}),
                            ArrayRef<int64_t>{0, 2, 4, 1, 3, 5})
                        .getResult()[0];
    int64_t tokens = hp * wp, features = channels * ph * pw;
    Value rows = reshapeTo(
        rewriter, loc, patches,
        RankedTensorType::get({shape[0], tokens, features}, elementType),
        {sixD[0], rewriter.getIndexAttr(tokens),
         rewriter.getIndexAttr(features)});

    auto weightMatrix = [&]() -> Value {
      auto transposedType =
          RankedTensorType::get({channels, ph, pw, dim}, elementType);
      Value transposed =
          rewriter
              .create<linalg::TransposeOp>(
                  loc, adaptor.getWeight(),
                  rewriter.create<tensor::EmptyOp>(
                      loc, transposedType.getShape(), elementType),
                  ArrayRef<int64_t>{1, 2, 3, 0})
              .getResult()[0];
      return reshapeTo(
          rewriter, loc, transposed,
          RankedTensorType::get({features, dim}, elementType),
          {rewriter.getIndexAttr(features), rewriter.getIndexAttr(dim)});
    };
    rewriter.replaceOp(
        op, buildRowMatmul(rewriter, loc, rows, weightMatrix, adaptor.getBias(),
                           cast<RankedTensorType>(op.getType())));
    return success();
  }
};

} // namespace

void mlp::cpu::populateLowerLinearAlgebraOpsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MatmulLowering, PatchEmbedLowering>(patterns.getContext());
}
