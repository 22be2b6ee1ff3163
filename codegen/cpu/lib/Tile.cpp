//===- Tile.cpp - tile sizes from a cost model or the autotune cache ------===//
#include "mlp/Codegen/CPU/CostModel.h"
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>

namespace mlp {
#define GEN_PASS_DEF_MLPTILE
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

/// Bytes of intermediate tensors per batch row: every buffer the generated
/// code allocates starts as a tensor.empty or a bufferization.alloc_tensor,
/// and those sized by the batch scale with it.
uint64_t scratchBytesPerRow(func::FuncOp func) {
  uint64_t total = 0;
  func.walk([&](Operation *op) {
    if (!isa<tensor::EmptyOp, bufferization::AllocTensorOp>(op))
      return;
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    if (type.getRank() == 0 || !type.isDynamicDim(0))
      return;
    uint64_t bytes = type.getElementTypeBitWidth() / 8;
    for (int64_t d : type.getShape().drop_front())
      bytes *= ShapedType::isDynamic(d) ? 1 : d;
    total += bytes;
  });
  return total;
}

struct Tile : public mlp::impl::MLPTileBase<Tile> {
  using MLPTileBase::MLPTileBase;

  void runOnOperation() override {
    mlp::cpu::CpuTarget target;
    target.name = cpu;
    target.vectorWidth = vectorWidth;
    target.vectorRegisters = vectorRegisters;
    target.l2Bytes = l2Bytes;
    nlohmann::json cache = readCache();
    MLIRContext *ctx = &getContext();
    Builder b(ctx);

    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      func.walk([&](linalg::MatmulOp op) {
        auto bType = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
        if (!bType || !bType.hasStaticShape())
          return;
        int64_t k = bType.getShape()[0], n = bType.getShape()[1];
        auto ranked = mlp::cpu::rankRegisterTiles(target, k, n);
        int64_t rows = ranked.front().rows, cols = ranked.front().cols;
        StringRef source = "cost-model";
        std::string key = mlp::cpu::autotuneKey(target, k, n);
        if (cache.contains(key) && cache[key].is_array() &&
            cache[key].size() == 2 && cache[key][0].is_number_integer() &&
            cache[key][1].is_number_integer() && cache[key][0] > 0 &&
            cache[key][1] > 0) {
          rows = cache[key][0].get<int64_t>();
          cols = cache[key][1].get<int64_t>();
          source = "autotune";
        }
        // Columns of B per cache panel: the panel (k x panel) stays in a
        // quarter of L2 while every row tile of the block sweeps it.
        int64_t panel = n;
        if (k * n * 4 > static_cast<int64_t>(target.l2Bytes) / 4)
          panel = std::max<int64_t>(
              cols, static_cast<int64_t>(target.l2Bytes) / 4 / (k * 4) /
                        cols * cols);
        op->setAttr(mlp::kTileAttr,
                    b.getDictionaryAttr(
                        {b.getNamedAttr("cache",
                                        b.getDenseI64ArrayAttr({0, panel, 0})),
                         b.getNamedAttr("register",
                                        b.getDenseI64ArrayAttr({rows, cols, 1})),
                         b.getNamedAttr("source", b.getStringAttr(source))}));
      });
      if (!func->hasAttr(mlp::kModelAttr))
        continue;
      uint64_t scratch = scratchBytesPerRow(func);
      func->setAttr(mlp::kScratchAttr, b.getI64IntegerAttr(scratch));
      if (func->hasAttr(mlp::kRowsIndependentAttr))
        func->setAttr(mlp::kRowsPerBlockAttr,
                      b.getI64IntegerAttr(
                          mlp::cpu::chooseRowsPerBlock(target, scratch)));
    }
  }

  /// The autotune cache, or an empty object if there is none or it is not
  /// readable JSON (a cache is an optimization, never a reason to fail).
  nlohmann::json readCache() {
    if (cachePath.empty())
      return nlohmann::json::object();
    auto buffer = llvm::MemoryBuffer::getFile(cachePath);
    if (!buffer)
      return nlohmann::json::object();
    nlohmann::json json = nlohmann::json::parse(
        (*buffer)->getBuffer().begin(), (*buffer)->getBuffer().end(), nullptr,
        /*allow_exceptions=*/false);
    return json.is_object() ? json : nlohmann::json::object();
  }
};
} // namespace
