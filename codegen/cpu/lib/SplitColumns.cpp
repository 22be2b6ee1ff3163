//===- SplitColumns.cpp - column-chunk variants of kernels ----------------===//
//
// A batch of a few rows is one row block, so it would run on one thread. The
// runtime instead splits each layer's output columns across its threads
// (-mlp-cpu-column-entry); this pass gives every kernel that allows it a
// variant computing one static-width chunk of its output columns. Static,
// so that -mlp-cpu-tile-and-vectorize tiles it exactly like the kernel:
// every output element is the same FMAs in the same order, bit-identical to
// the row-block path.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace mlp {
#define GEN_PASS_DEF_MLPSPLITCOLUMNS
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

/// Where each operand of each op is indexed by the output columns, or
/// failure if the kernel is not a chain of ops writing one [rows, N]
/// destination, N a multiple of `chunk` with at least two chunks.
struct ColumnUses {
  SmallVector<linalg::LinalgOp> ops;
  // Per op, per operand: the operand's dim indexed by the columns (-1: none).
  SmallVector<SmallVector<int64_t>> columnDim;
};

FailureOr<ColumnUses> analyze(func::FuncOp kernel, int64_t chunk) {
  if (kernel.getNumResults() != 1 || !kernel.getBody().hasOneBlock())
    return failure();
  auto result = dyn_cast<RankedTensorType>(kernel.getResultTypes()[0]);
  if (!result || result.getRank() != 2 || !result.isDynamicDim(0) ||
      result.isDynamicDim(1) || result.getDimSize(1) % chunk != 0 ||
      result.getDimSize(1) < 2 * chunk)
    return failure();
  ColumnUses uses;
  Block &body = kernel.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (op.hasTrait<OpTrait::ConstantLike>() &&
        !isa<ShapedType>(op.getResult(0).getType()))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(&op);
    if (!linalgOp || linalgOp.getNumDpsInits() != 1 ||
        op.getNumResults() != 1 || op.getResult(0).getType() != result)
      return failure();
    // The loop that walks the output columns.
    OpOperand *init = linalgOp.getDpsInitOperand(0);
    auto columns = dyn_cast<AffineDimExpr>(
        linalgOp.getMatchingIndexingMap(init).getResult(1));
    if (!columns)
      return failure();
    SmallVector<int64_t> dims;
    for (OpOperand &operand : op.getOpOperands()) {
      Value value = operand.get();
      AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
      int64_t dim = -1;
      for (unsigned i = 0; i < map.getNumResults(); ++i) {
        AffineExpr expr = map.getResult(i);
        if (expr == columns)
          dim = i;
        else if (expr.isFunctionOfDim(columns.getPosition()))
          return failure(); // a shifted or mixed index: not a plain slice
      }
      // The chain's own values are already chunks, with the columns last;
      // anything else is an argument (sliced if indexed by the columns) or
      // a scalar constant.
      Operation *def = value.getDefiningOp();
      bool chained =
          def && def->getBlock() == &body && isa<linalg::LinalgOp>(def);
      if (chained && dim != 1)
        return failure();
      if (!chained && !isa<BlockArgument>(value) &&
          (isa<ShapedType>(value.getType()) || !def ||
           !def->hasTrait<OpTrait::ConstantLike>()))
        return failure();
      // The chain starts from the destination argument and ends in the
      // result, so that the chunk is written in place.
      if (&operand == init && !chained &&
          (!isa<BlockArgument>(value) || !uses.ops.empty() || dim != 1))
        return failure();
      // One value read along two different dims would need two slices
      // under one mapping.
      for (auto [other, otherDim] :
           llvm::zip(op.getOperands().take_front(dims.size()), dims))
        if (other == value && otherDim != dim)
          return failure();
      dims.push_back(dim);
    }
    uses.ops.push_back(linalgOp);
    uses.columnDim.push_back(std::move(dims));
  }
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (uses.ops.empty() ||
      ret.getOperand(0).getDefiningOp() != uses.ops.back().getOperation())
    return failure();
  // The chain: each op's destination is the previous op's result.
  for (size_t i = 1; i < uses.ops.size(); ++i)
    if (uses.ops[i].getDpsInitOperand(0)->get().getDefiningOp() !=
        uses.ops[i - 1].getOperation())
      return failure();
  return uses;
}

struct SplitColumns : public mlp::impl::MLPSplitColumnsBase<SplitColumns> {
  using MLPSplitColumnsBase::MLPSplitColumnsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // Only the column-parallel entry of a row-independent model calls the
    // variants (-mlp-cpu-column-entry): other models need none.
    if (llvm::none_of(module.getOps<func::FuncOp>(), [](func::FuncOp f) {
          return f->hasAttr(mlp::kRowsIndependentAttr);
        }))
      return;
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr("mlp.kernel") && !func->hasAttr(mlp::kColumnKernelAttr))
        kernels.push_back(func);
    for (func::FuncOp kernel : kernels) {
      auto uses = analyze(kernel, chunk);
      if (failed(uses))
        continue;
      func::FuncOp variant = build(kernel, *uses);
      symbols.insert(variant);
      kernel->setAttr(mlp::kColumnKernelAttr,
                      FlatSymbolRefAttr::get(variant.getSymNameAttr()));
      Builder b(&getContext());
      kernel->setAttr(mlp::kColumnChunkAttr, b.getI64IntegerAttr(chunk));
      int64_t width =
          cast<RankedTensorType>(kernel.getResultTypes()[0]).getDimSize(1);
      kernel->setAttr(mlp::kColumnCountAttr,
                      b.getI64IntegerAttr(width / chunk));
    }
  }

  func::FuncOp build(func::FuncOp kernel, ColumnUses &uses) {
    OpBuilder b(kernel);
    b.setInsertionPointAfter(kernel);
    Location loc = kernel.getLoc();
    SmallVector<Type> inputs(kernel.getArgumentTypes());
    inputs.push_back(b.getIndexType());
    auto variant = b.create<func::FuncOp>(
        loc, (kernel.getSymName() + "_columns").str(),
        b.getFunctionType(inputs, kernel.getResultTypes()));
    for (NamedAttribute attr : kernel->getAttrs())
      if (attr.getName() != SymbolTable::getSymbolAttrName() &&
          attr.getName() != variant.getFunctionTypeAttrName() &&
          attr.getName() != "no_inline")
        variant->setAttr(attr.getName(), attr.getValue());
    // Called in a loop over chunks: keep it out of line, like a shared kernel.
    variant->setAttr("no_inline", b.getUnitAttr());

    Block *body = variant.addEntryBlock();
    Value col = body->getArguments().back();
    IRMapping mapping;
    for (auto [from, to] :
         llvm::zip(kernel.getArguments(), body->getArguments().drop_back()))
      mapping.map(from, to);
    OpBuilder vb = OpBuilder::atBlockBegin(body);

    // One slice per (argument, column dim), shared by the ops that read it.
    llvm::DenseMap<std::pair<Value, int64_t>, Value> slices;
    auto slice = [&](Value arg, int64_t dim) -> Value {
      auto key = std::make_pair(arg, dim);
      if (Value found = slices.lookup(key))
        return found;
      auto type = cast<RankedTensorType>(arg.getType());
      SmallVector<OpFoldResult> offsets, sizes, strides;
      for (int64_t i = 0; i < type.getRank(); ++i) {
        strides.push_back(vb.getIndexAttr(1));
        if (i == dim) {
          offsets.push_back(col);
          sizes.push_back(vb.getIndexAttr(chunk));
        } else {
          offsets.push_back(vb.getIndexAttr(0));
          sizes.push_back(
              type.isDynamicDim(i)
                  ? OpFoldResult(
                        vb.create<tensor::DimOp>(loc, arg, i).getResult())
                  : OpFoldResult(vb.getIndexAttr(type.getDimSize(i))));
        }
      }
      Value value =
          vb.create<tensor::ExtractSliceOp>(loc, arg, offsets, sizes, strides);
      slices[key] = value;
      return value;
    };

    Block &source = kernel.getBody().front();
    size_t next = 0;
    Value dest, last;
    for (Operation &op : source.without_terminator()) {
      if (next >= uses.ops.size() || &op != uses.ops[next].getOperation()) {
        vb.clone(op, mapping); // a scalar constant
        continue;
      }
      const SmallVector<int64_t> &dims = uses.columnDim[next++];
      // The op's region may read the kernel's constants: clone it with the
      // kernel's mapping, its column-indexed arguments replaced by slices.
      IRMapping local = mapping;
      for (auto [operand, dim] : llvm::zip(op.getOperands(), dims))
        if (isa<BlockArgument>(operand) && dim >= 0)
          local.map(operand, slice(mapping.lookup(operand), dim));
      if (!dest)
        dest = mapping.lookup(
            cast<linalg::LinalgOp>(op).getDpsInitOperand(0)->get());
      Operation *chunkOp = vb.clone(op, local);
      chunkOp->getResult(0).setType(cast<linalg::LinalgOp>(chunkOp)
                                        .getDpsInitOperand(0)
                                        ->get()
                                        .getType());
      mapping.map(op.getResult(0), chunkOp->getResult(0));
      last = chunkOp->getResult(0);
    }
    // Back into the destination: bufferizes to writes into its columns, as
    // the analysis sees the same offsets and sizes (the same SSA values) as
    // those of the destination's slice.
    auto destSlice =
        cast<tensor::ExtractSliceOp>(slice(dest, 1).getDefiningOp());
    Value written = vb.create<tensor::InsertSliceOp>(
        loc, last, dest, destSlice.getMixedOffsets(), destSlice.getMixedSizes(),
        destSlice.getMixedStrides());
    vb.create<func::ReturnOp>(loc, written);
    return variant;
  }
};
} // namespace
