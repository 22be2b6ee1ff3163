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
      // A tile of few rows (a small batch, a remainder) is bound by reading
      // B, not by FMAs: it takes as many columns as its accumulators, the
      // broadcasts of A and a spare register allow (B's vectors are FMA
      // memory operands), at least 8 accumulators to hide the FMA latency.
      // Wider tiles read longer runs of each row of B, which the L2
      // prefetcher streams better (batch 1: 1 x 256 is 10 % faster than
      // 1 x 128 here). Each element still sums over k in the same order, so
      // results do not change.
      int64_t rows = ranges[0];
      if (!ShapedType::isDynamic(rows) && rows > 0 && rows < 4) {
        int64_t registers = vectorWidth >= 16 ? 32 : 16;
        int64_t vectors = std::min<int64_t>(
            16, static_cast<int64_t>(llvm::bit_floor(
                    static_cast<uint64_t>((registers - rows - 1) / rows))));
        cols = std::max(cols, vectors * vectorWidth);
      }
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

    auto matmulRows = [&](linalg::LinalgOp op) {
      auto tile = recordedTile(op);
      return tile ? tile->first : static_cast<int64_t>(rowTile);
    };
    if (failed(tileLoops(func, /*dynamicLoops=*/true, /*peel=*/true,
                         [&](linalg::LinalgOp op, int64_t) -> int64_t {
                           return isMatmul(op) ? matmulRows(op) : 1;
                         })))
      return signalPassFailure();
    // The remainder of a matmul (r < row-tile rows) is one static tile of
    // exactly r rows, chosen at run time: 7 rows do 7/8 of a full tile's
    // FMAs and read the weights once, where halving tiles (4 + 2 + 1) read
    // them three times.
    SmallVector<linalg::LinalgOp> remainders;
    func.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && isMatmul(op) && op.hasDynamicShape())
        remainders.push_back(op);
    });
    for (linalg::LinalgOp op : remainders)
      switchOnRows(rewriter, op, matmulRows(op));
    if (failed(canonicalize(func)))
      return signalPassFailure();
    // Whatever is still dynamic goes in halving tiles (4, 2, 1 rows after
    // 8), so that 7 rows read the weights 3 or 4 times rather than 7.
    for (int level = 1; level < 6; ++level)
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

  /// Replaces a matmul whose only dynamic loop is its rows, known to be
  /// fewer than `maxRows`, by a switch on the row count with one static
  /// clone per count. Each case writes its rows into the op's destination
  /// and yields the whole destination, so every case bufferizes in place.
  void switchOnRows(IRRewriter &rewriter, linalg::LinalgOp op,
                    int64_t maxRows) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (maxRows < 2 || op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
        !ShapedType::isDynamic(ranges[0]))
      return;
    for (int64_t r : ArrayRef<int64_t>(ranges).drop_front())
      if (ShapedType::isDynamic(r))
        return;
    // Operands indexed by the rows (A and C) have them as their first dim.
    AffineExpr rowsDim = getAffineDimExpr(0, op.getContext());
    SmallVector<bool> byRow;
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      if (!isa<RankedTensorType>(operand.get().getType()))
        return;
      for (unsigned i = 1; i < map.getNumResults(); ++i)
        if (map.getResult(i) == rowsDim)
          return;
      byRow.push_back(map.getNumResults() > 0 && map.getResult(0) == rowsDim);
    }
    Location loc = op.getLoc();
    Value init = op.getDpsInits()[0];
    rewriter.setInsertionPoint(op);
    Value rows = rewriter.create<tensor::DimOp>(loc, init, 0);
    SmallVector<int64_t> cases;
    for (int64_t r = 1; r < maxRows; ++r)
      cases.push_back(r);
    auto sw = rewriter.create<scf::IndexSwitchOp>(
        loc, TypeRange{init.getType()}, rows, cases, cases.size());
    // Never taken: the peeled remainder has 1 to maxRows - 1 rows.
    Block &fallback = sw.getDefaultRegion().emplaceBlock();
    rewriter.setInsertionPointToStart(&fallback);
    rewriter.create<scf::YieldOp>(loc, init);
    // Offsets 0, strides 1 and the given static sizes.
    auto box = [&](ArrayRef<int64_t> shape) {
      SmallVector<OpFoldResult> zeros(shape.size(), rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> ones(shape.size(), rewriter.getIndexAttr(1));
      SmallVector<OpFoldResult> sizes;
      for (int64_t d : shape)
        sizes.push_back(rewriter.getIndexAttr(d));
      return std::make_tuple(zeros, sizes, ones);
    };
    for (auto [region, r] : llvm::zip(sw.getCaseRegions(), cases)) {
      Block &block = region.emplaceBlock();
      rewriter.setInsertionPointToStart(&block);
      SmallVector<Value> operands;
      for (auto [operand, isRow] : llvm::zip(op->getOpOperands(), byRow)) {
        Value value = operand.get();
        if (isRow) {
          SmallVector<int64_t> shape(
              cast<RankedTensorType>(value.getType()).getShape());
          shape[0] = r;
          auto [offsets, sizes, strides] = box(shape);
          value = rewriter.create<tensor::ExtractSliceOp>(loc, value, offsets,
                                                          sizes, strides);
        }
        operands.push_back(value);
      }
      Value dest = operands.back();
      Operation *tile =
          mlir::clone(rewriter, op, TypeRange{dest.getType()}, operands);
      auto [offsets, sizes, strides] =
          box(cast<RankedTensorType>(dest.getType()).getShape());
      Value written = rewriter.create<tensor::InsertSliceOp>(
          loc, tile->getResult(0), init, offsets, sizes, strides);
      rewriter.create<scf::YieldOp>(loc, written);
    }
    rewriter.replaceOp(op, sw.getResults());
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
