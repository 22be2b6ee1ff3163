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

/// The contraction of a token-mixing group, loops (batch..., i, c, k): the
/// weight W[i, k] is the broadcast operand, the activations x[.., k, c] the
/// vector one, as A and B of a matmul.
bool isTokenMatmul(linalg::LinalgOp op) {
  return op->hasAttr(mlp::kTokenMatmulAttr);
}

/// The register tile -mlp-tile recorded on a matmul, if any.
std::optional<std::pair<int64_t, int64_t>> recordedTile(linalg::LinalgOp op) {
  auto tile = op->getAttrOfType<DictionaryAttr>(mlp::kTileAttr);
  if (!tile)
    return std::nullopt;
  auto sizes = tile.getAs<DenseI64ArrayAttr>("register");
  if (!sizes || sizes.size() != 3 || sizes[0] < 1 || sizes[1] < 1)
    return std::nullopt;
  return std::make_pair(sizes[0], sizes[1]);
}

struct TileAndVectorize
    : public mlp::impl::MLPTileAndVectorizeBase<TileAndVectorize> {
  using MLPTileAndVectorizeBase::MLPTileAndVectorizeBase;

  /// Register tile per loop of an op whose shape is static (0 = untiled).
  SmallVector<int64_t> registerTile(linalg::LinalgOp op) const {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (isMatmul(op)) {
      // (m, n, k): the rows are already a row tile; accumulators for rows x
      // 2 vectors stay in registers across the reduction, one k at a time.
      int64_t cols = 2 * vectorWidth;
      if (auto tile = recordedTile(op))
        cols = tile->second;
      return {0, std::min<int64_t>(cols, ranges[1]), 1};
    }
    if (isTokenMatmul(op)) {
      // Batch loops are one row already; rows x 2 vectors of accumulators.
      int64_t loops = ranges.size();
      SmallVector<int64_t> tiles(loops, 0);
      tiles[loops - 3] = std::min<int64_t>(rowTile, ranges[loops - 3]);
      tiles[loops - 2] = std::min<int64_t>(2 * vectorWidth, ranges[loops - 2]);
      tiles[loops - 1] = 1;
      return tiles;
    }
    // Innermost loop in vector lanes, every other loop one at a time.
    SmallVector<int64_t> tiles(ranges.size(), 1);
    if (!ranges.empty())
      tiles.back() = std::min<int64_t>(vectorWidth, ranges.back());
    return tiles;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    // 1. Rows. A matmul takes row-tile rows at a time, peeled so that the
    // main loop's tiles are static; every other op takes one row at a time. The row loops are outer
    // loops, so a remainder row runs the same vector code as a full tile:
    // every row is computed by the same FMAs in the same order, and its
    // result never depends on the batch size or the runtime's row blocks.
    // 0. Cache panels: a matmul whose B is larger than its L2 share sweeps
    // B one panel of columns at a time (the outermost loop), so the panel
    // stays in cache while every row tile of the block reads it.
    SmallVector<linalg::LinalgOp> panelled;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && isMatmul(op))
        panelled.push_back(op);
    });
    for (linalg::LinalgOp op : panelled) {
      auto tile = op->getAttrOfType<DictionaryAttr>(mlp::kTileAttr);
      auto cache = tile ? tile.getAs<DenseI64ArrayAttr>("cache") : nullptr;
      if (!cache || cache.size() != 3)
        continue;
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      if (ShapedType::isDynamic(ranges[1]) || cache[1] <= 0 ||
          cache[1] >= ranges[1])
        continue;
      tileAndPeel(rewriter, op, {0, cache[1], 0}, /*peel=*/true);
    }
    if (failed(canonicalize(func)))
      return signalPassFailure();

    // The remainder of a matmul goes in halving tiles (4, 2, 1 rows after
    // 8), so that 7 rows read the weights 3 or 4 times rather than 7.
    auto matmulRows = [&](linalg::LinalgOp op) {
      auto tile = recordedTile(op);
      return tile ? tile->first : static_cast<int64_t>(rowTile);
    };
    for (int level = 0; level < 6; ++level)
      if (failed(tileLoops(func, /*dynamicLoops=*/true, /*peel=*/true,
                           [&](linalg::LinalgOp op, int64_t) -> int64_t {
                             return isMatmul(op)
                                        ? std::max<int64_t>(
                                              1, matmulRows(op) >> level)
                                        : 1;
                           })))
        return signalPassFailure();

    // 2. Register tiles of the (now static) ops, static remainders peeled.
    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && !op.hasDynamicShape())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      tileAndPeel(rewriter, op, registerTile(op), /*peel=*/true);
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

  /// Tiles `op` with `sizes` (0 = untiled) and, if `peel`, peels every
  /// generated loop so that its main part has static tiles.
  void tileAndPeel(IRRewriter &rewriter, linalg::LinalgOp op,
                   ArrayRef<int64_t> sizes, bool peel) {
    if (llvm::all_of(sizes, [](int64_t s) { return s == 0; }))
      return;
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
    rewriter.setInsertionPoint(op);
    auto tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return;
    rewriter.replaceOp(op, tiled->replacements);
    if (!peel)
      return;
    for (LoopLikeOpInterface loop : tiled->loops) {
      auto forOp = dyn_cast<scf::ForOp>(loop.getOperation());
      if (!forOp)
        continue;
      scf::ForOp remainder;
      rewriter.setInsertionPoint(forOp);
      (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, remainder);
    }
  }

  /// Tiles the dynamic loops of every linalg op on tensors that has them,
  /// by size(op, range); static loops stay whole.
  LogicalResult
  tileLoops(func::FuncOp func, bool dynamicLoops, bool peel,
            function_ref<int64_t(linalg::LinalgOp, int64_t)> size) {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.hasDynamicShape())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops) {
      SmallVector<int64_t> tiles;
      for (int64_t range : op.getStaticLoopRanges())
        tiles.push_back(ShapedType::isDynamic(range) == dynamicLoops
                            ? size(op, range)
                            : 0);
      tileAndPeel(rewriter, op, tiles, peel);
    }
    return canonicalize(func);
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
