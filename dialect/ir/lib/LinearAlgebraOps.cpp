//===- LinearAlgebraOps.cpp - matmul and patch_embed ----------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/IR/ShapeRules.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlp;

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  std::string error;
  auto expected =
      shape::matmul(detail::shapeOf(getInput()), detail::shapeOf(getWeight()),
                    detail::optionalShapeOf(getBias()), error);
  return detail::verifyResult(*this, expected, error);
}

namespace {
/// add(matmul(x, w), b) == matmul(x, w, b) for a bias vector b of the result's
/// last dimension: the bias then initializes the accumulator.
struct FoldBiasIntoMatmul : public OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto [product, bias] : {std::pair{add.getLhs(), add.getRhs()},
                                 std::pair{add.getRhs(), add.getLhs()}}) {
      auto matmul = product.getDefiningOp<MatmulOp>();
      if (!matmul || matmul.getBias() || !matmul->hasOneUse() ||
          matmul.getType() != add.getType())
        continue;
      auto biasType = cast<RankedTensorType>(bias.getType());
      if (biasType.getRank() != 1 ||
          biasType.getDimSize(0) != matmul.getType().getShape().back())
        continue;
      rewriter.replaceOpWithNewOp<MatmulOp>(
          add, add.getType(), matmul.getInput(), matmul.getWeight(), bias);
      rewriter.eraseOp(matmul);
      return success();
    }
    return failure();
  }
};
} // namespace

void MatmulOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<FoldBiasIntoMatmul>(context);
}

//===----------------------------------------------------------------------===//
// PatchEmbedOp
//===----------------------------------------------------------------------===//

LogicalResult PatchEmbedOp::verify() {
  std::string error;
  auto expected = shape::patchEmbed(detail::shapeOf(getInput()),
                                    detail::shapeOf(getWeight()),
                                    detail::optionalShapeOf(getBias()), error);
  return detail::verifyResult(*this, expected, error);
}
