//===- FuseElementwise.cpp - elementwise producers into their consumers ---===//
//
// Upstream's -linalg-fuse-elementwise-ops, restricted to consumers that read
// the producer through a permutation of their loops, i.e. once per element.
// A consumer whose map skips some of its loops (a token-mixing contraction
// reads x[b, k, c] while also looping over its output rows i; a batched
// op reads a batch-free [1, k] value, such as FinalMLP's gates computed
// from parameters, as g[0, j] on every row n) would otherwise
// - recompute the producer once per skipped iteration (the LayerNorm before
//   MLP-Mixer's token MLP, 256 times per element: 7x slower end to end), and
// - if the producer updates its destination in place (an epilogue such as
//   GELU on a matmul's result), apply that update once per skipped
//   iteration, because the destination becomes a result of the fused op:
//   wrong numbers, hidden for ReLU, which is idempotent.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlp {
#define GEN_PASS_DEF_MLPFUSEELEMENTWISE
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

bool mayFuse(OpOperand *use) {
  Operation *producer = use->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(use->getOwner());
  return !consumer || consumer.getMatchingIndexingMap(use).isPermutation();
}

struct FuseElementwise
    : public mlp::impl::MLPFuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, mayFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, mayFuse);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, mayFuse);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                            config)))
      return signalPassFailure();
  }
};

} // namespace
