//===- LowerVectors.cpp - vector ops to 1-D FMAs --------------------------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlp {
#define GEN_PASS_DEF_MLPLOWERVECTORS
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {
struct LowerVectors : public mlp::impl::MLPLowerVectorsBase<LowerVectors> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    func::FuncOp func = getOperation();

    // (a) Contractions to outer products ("dot" is ~10x slower here),
    // transfers and reductions to 1-D forms.
    RewritePatternSet lowering(ctx);
    vector::VectorTransformsOptions options;
    options.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    options.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle1D);
    vector::populateVectorContractLoweringPatterns(lowering, options);
    vector::populateVectorTransferPermutationMapLoweringPatterns(lowering);
    vector::populateVectorMultiReductionLoweringPatterns(
        lowering, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorTransferLoweringPatterns(lowering,
                                                   /*maxTransferRank=*/1);
    vector::populateVectorShapeCastLoweringPatterns(lowering);
    // Row tiles are vector<1xN>: drop the unit dims so that elementwise math
    // (erf, tanh through libm) sees 1-D vectors.
    vector::populateCastAwayVectorLeadingOneDimPatterns(lowering);
    vector::populateVectorTransposeLoweringPatterns(lowering, options);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(lowering))))
      return signalPassFailure();

    // (b) Outer products to FMAs, broadcasts to splats; erf and tanh on
    // vectors as polynomials (libm would scalarize every lane into a call).
    RewritePatternSet fma(ctx);
    populatePolynomialApproximateErfPattern(fma);
    populatePolynomialApproximateTanhPattern(fma);
    vector::populateVectorOuterProductLoweringPatterns(fma);
    vector::populateVectorBroadcastLoweringPatterns(fma);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(fma))))
      return signalPassFailure();
  }
};
} // namespace
