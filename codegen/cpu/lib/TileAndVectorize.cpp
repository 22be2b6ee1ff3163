//===- TileAndVectorize.cpp - register tiles and vectors ------------------===//
//
// The schedule of reference/cpu-codegen.md, in C++: register-tile matmuls
// (row-tile x 2 vectors, reduction step 1), row-of-lanes tiles for
// everything else, peel remainders, vectorize the static tiles.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlp {
#define GEN_PASS_DEF_MLPTILEANDVECTORIZE
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

bool isMatmul(linalg::LinalgOp op) {
  return isa<linalg::MatmulOp, linalg::MatmulTransposeBOp>(op.getOperation());
}

struct TileAndVectorize
    : public mlp::impl::MLPTileAndVectorizeBase<TileAndVectorize> {
  using MLPTileAndVectorizeBase::MLPTileAndVectorizeBase;

  /// Tile sizes per loop; 0 leaves a loop untiled.
  SmallVector<int64_t> chooseTileSizes(linalg::LinalgOp op) const {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 1);
    auto clamp = [](int64_t tile, int64_t range) {
      return ShapedType::isDynamic(range) ? tile : std::min(tile, range);
    };
    if (isMatmul(op)) {
      // (m, n, k): accumulators for row-tile x 2 vectors stay in registers.
      tiles = {clamp(rowTile, ranges[0]), clamp(2 * vectorWidth, ranges[1]), 1};
      return tiles;
    }
    // Innermost loop in vector lanes, every other loop one at a time.
    if (!ranges.empty())
      tiles.back() = clamp(vectorWidth, ranges.back());
    return tiles;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      scf::SCFTilingOptions options;
      options.setTileSizes(
          getAsIndexOpFoldResult(&getContext(), chooseTileSizes(op)));
      rewriter.setInsertionPoint(op);
      auto tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue;
      rewriter.replaceOp(op, tiled->replacements);
      // Peel every loop whose trip count may not be a multiple of its step,
      // so the main loop body has static tile shapes.
      for (LoopLikeOpInterface loop : tiled->loops) {
        auto forOp = dyn_cast<scf::ForOp>(loop.getOperation());
        if (!forOp)
          continue;
        scf::ForOp remainder;
        rewriter.setInsertionPoint(forOp);
        (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, remainder);
      }
    }
    if (failed(canonicalize(func)))
      return signalPassFailure();

    // Peeled remainders (the last batch % row-tile rows) still have a
    // dynamic size: run them one row at a time through the same vector code,
    // so that every row is computed by the same FMAs in the same order and
    // a row's result never depends on the batch size or the row blocks.
    SmallVector<linalg::LinalgOp> remainders;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.hasDynamicShape())
        remainders.push_back(op);
    });
    for (linalg::LinalgOp op : remainders) {
      SmallVector<int64_t> tiles;
      for (int64_t range : op.getStaticLoopRanges())
        tiles.push_back(ShapedType::isDynamic(range) ? 1 : 0);
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tiles));
      rewriter.setInsertionPoint(op);
      auto tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (succeeded(tiled))
        rewriter.replaceOp(op, tiled->replacements);
    }
    if (failed(canonicalize(func)))
      return signalPassFailure();

    // Vectorize every linalg op whose tile became static.
    SmallVector<linalg::LinalgOp> tiles;
    func.walk([&](linalg::LinalgOp op) { tiles.push_back(op); });
    for (linalg::LinalgOp op : tiles) {
      if (!op.hasPureTensorSemantics() || op.hasDynamicShape() ||
          failed(linalg::vectorizeOpPrecondition(op)))
        continue;
      rewriter.setInsertionPoint(op);
      (void)linalg::vectorize(rewriter, op);
    }

    // mul + reduction -> vector.contract, so contractions lower to FMAs.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorReductionToContractPatterns(patterns);
    // Broadcasting transfer_reads become reads + vector.broadcast, which
    // the contraction then absorbs into its indexing maps.
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateFoldArithExtensionPatterns(patterns);
    addCanonicalizations(patterns);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }

  void addCanonicalizations(RewritePatternSet &patterns) {
    for (Dialect *dialect : getContext().getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName op : getContext().getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, &getContext());
  }

  LogicalResult canonicalize(func::FuncOp func) {
    RewritePatternSet patterns(&getContext());
    addCanonicalizations(patterns);
    return applyPatternsAndFoldGreedily(func, std::move(patterns));
  }
};
} // namespace
