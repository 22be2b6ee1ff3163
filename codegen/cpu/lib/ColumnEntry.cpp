//===- ColumnEntry.cpp - the column-parallel entry for tiny batches -------===//
//
// A batch of a few rows is one row block; the runtime would run it on one
// thread. This pass adds a second entry that a team of threads runs at
// once: each kernel with a column variant (-mlp-cpu-split-columns) computes
// this thread's share of the output columns, and a barrier separates each
// step from the next, which reads all columns. Fork/join per layer would
// need the kernels' arguments packed for the runtime; SPMD needs only the
// shared scratch buffer and a barrier.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlp {
#define GEN_PASS_DEF_MLPCOLUMNENTRY
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;

/// Whether `value` is the batch: the leading dim of a batched argument.
bool isBatch(Value value) {
  auto dim = value.getDefiningOp<memref::DimOp>();
  if (!dim || !isa<BlockArgument>(dim.getSource()))
    return false;
  auto index = dim.getConstantIndex();
  auto type = cast<MemRefType>(dim.getSource().getType());
  return index && *index == 0 && type.isDynamicDim(0);
}

/// Bytes per batch row of an allocation shaped [batch, static...] with the
/// identity layout, or 0 if it is anything else.
int64_t rowBytes(memref::AllocOp alloc) {
  MemRefType type = alloc.getType();
  if (!type.getLayout().isIdentity() || type.getRank() == 0 ||
      !type.isDynamicDim(0) || alloc.getDynamicSizes().size() != 1 ||
      !isBatch(alloc.getDynamicSizes()[0]) ||
      !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0 || type.getMemorySpace())
    return 0;
  int64_t bytes = type.getElementTypeBitWidth() / 8;
  for (int64_t d : type.getShape().drop_front())
    bytes *= d;
  return bytes;
}

/// How the SPMD entry treats an op of the model's body.
enum class Kind { Everyone, Columns, Serial, Alloc, Dealloc, Unsupported };

Kind classify(Operation &op, SymbolTable &symbols) {
  if (isa<memref::AllocOp>(op))
    return rowBytes(cast<memref::AllocOp>(op)) > 0 ? Kind::Alloc
                                                   : Kind::Unsupported;
  if (isa<memref::DeallocOp>(op))
    return Kind::Dealloc;
  if (op.getNumRegions() > 0)
    return Kind::Unsupported;
  if (auto call = dyn_cast<func::CallOp>(op)) {
    auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
    if (!callee || !callee->hasAttr("mlp.kernel") || call.getNumResults())
      return Kind::Unsupported;
    return callee->hasAttr(mlp::kColumnKernelAttr) ? Kind::Columns
                                                   : Kind::Serial;
  }
  if (isMemoryEffectFree(&op))
    return Kind::Everyone;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (effects && !effects.hasEffect<MemoryEffects::Allocate>() &&
      !effects.hasEffect<MemoryEffects::Free>())
    return Kind::Serial; // reads and writes: once, on thread 0
  return Kind::Unsupported;
}

struct ColumnEntry : public mlp::impl::MLPColumnEntryBase<ColumnEntry> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    called.clear();
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (!func->hasAttr(mlp::kModelAttr) ||
          !func->hasAttr(mlp::kRowsIndependentAttr) ||
          !func.getBody().hasOneBlock() || func.getNumResults() != 0)
        continue;
      bool columns = false, supported = true;
      for (Operation &op : func.getBody().front().without_terminator()) {
        Kind kind = classify(op, symbols);
        supported &= kind != Kind::Unsupported;
        columns |= kind == Kind::Columns;
      }
      if (supported && columns)
        build(func, symbols);
    }
    // Variants no entry calls (the model did not qualify) would only cost
    // LLVM time and code size.
    for (auto kernel : llvm::to_vector(module.getOps<func::FuncOp>())) {
      auto ref =
          kernel->getAttrOfType<FlatSymbolRefAttr>(mlp::kColumnKernelAttr);
      if (!ref)
        continue;
      kernel->removeAttr(mlp::kColumnKernelAttr);
      kernel->removeAttr(mlp::kColumnChunkAttr);
      kernel->removeAttr(mlp::kColumnCountAttr);
      auto variant = symbols.lookup<func::FuncOp>(ref.getValue());
      if (variant && !called.contains(variant.getOperation()))
        symbols.erase(variant);
    }
  }
  llvm::SmallPtrSet<Operation *, 8> called;

  void build(func::FuncOp model, SymbolTable &symbols) {
    MLIRContext *ctx = &getContext();
    ModuleOp module = getOperation();
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    Location loc = model.getLoc();
    auto barrier = symbols.lookup<func::FuncOp>(mlp::kColumnBarrierFn);
    if (!barrier) {
      barrier = mb.create<func::FuncOp>(loc, mlp::kColumnBarrierFn,
                                        mb.getFunctionType({}, {}));
      barrier.setPrivate();
      symbols.insert(barrier);
    }

    auto scratchType = MemRefType::get({ShapedType::kDynamic}, mb.getI8Type());
    SmallVector<Type> inputs(model.getArgumentTypes());
    inputs.append({scratchType, mb.getIndexType(), mb.getIndexType()});
    auto entry =
        mb.create<func::FuncOp>(loc, (model.getSymName() + "_columns").str(),
                                mb.getFunctionType(inputs, {}));
    entry->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
    symbols.insert(entry);
    Block *body = entry.addEntryBlock();
    Value scratch = body->getArgument(model.getNumArguments());
    Value thread = body->getArgument(model.getNumArguments() + 1);
    Value threads = body->getArgument(model.getNumArguments() + 2);
    IRMapping mapping;
    for (auto [from, to] :
         llvm::zip(model.getArguments(),
                   body->getArguments().take_front(model.getNumArguments())))
      mapping.map(from, to);

    OpBuilder b = OpBuilder::atBlockBegin(body);
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value one = b.create<arith::ConstantIndexOp>(loc, 1);
    Value first =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, thread, zero);
    // Which thread wrote what last: a step must wait (barrier) for a step
    // of other threads before it, never for thread 0's own serial steps.
    enum class Last { Nothing, Columns, Serial } last = Last::Nothing;
    auto sync = [&](Kind kind) {
      if (last == Last::Columns ||
          (last == Last::Serial && kind == Kind::Columns))
        b.create<func::CallOp>(loc, barrier, ValueRange{});
      last = kind == Kind::Columns ? Last::Columns : Last::Serial;
    };
    int64_t scratchPerRow = 0;
    for (Operation &op : model.getBody().front().without_terminator()) {
      switch (classify(op, symbols)) {
      case Kind::Everyone:
        b.clone(op, mapping);
        break;
      case Kind::Dealloc:
        break; // the scratch outlives the run
      case Kind::Alloc: {
        // Buffers follow each other in the scratch, each 64-byte aligned:
        // offset = batch * (bytes per row of the buffers before, rounded).
        auto alloc = cast<memref::AllocOp>(op);
        Value rows = mapping.lookup(alloc.getDynamicSizes()[0]);
        Value perRow = b.create<arith::ConstantIndexOp>(loc, scratchPerRow);
        Value offset = b.create<arith::MulIOp>(loc, rows, perRow);
        Value view = b.create<memref::ViewOp>(loc, alloc.getType(), scratch,
                                              offset, ValueRange{rows});
        mapping.map(alloc.getResult(), view);
        scratchPerRow += llvm::alignTo(rowBytes(alloc), kAlignment);
        break;
      }
      case Kind::Serial: {
        sync(Kind::Serial);
        auto guard = b.create<scf::IfOp>(loc, first, /*withElse=*/false);
        OpBuilder gb = guard.getThenBodyBuilder();
        gb.clone(op, mapping);
        break;
      }
      case Kind::Columns: {
        sync(Kind::Columns);
        auto call = cast<func::CallOp>(op);
        auto kernel = symbols.lookup<func::FuncOp>(call.getCallee());
        auto variant = symbols.lookup<func::FuncOp>(
            kernel->getAttrOfType<FlatSymbolRefAttr>(mlp::kColumnKernelAttr)
                .getValue());
        int64_t chunk =
            kernel->getAttrOfType<IntegerAttr>(mlp::kColumnChunkAttr).getInt();
        // Thread t takes chunks [t * n / T, (t + 1) * n / T): even shares.
        Value chunks = b.create<arith::ConstantIndexOp>(
            loc,
            kernel->getAttrOfType<IntegerAttr>(mlp::kColumnCountAttr).getInt());
        auto share = [&](Value t) {
          Value scaled = b.create<arith::MulIOp>(loc, t, chunks);
          return b.create<arith::DivUIOp>(loc, scaled, threads).getResult();
        };
        Value lo = share(thread);
        Value hi = share(b.create<arith::AddIOp>(loc, thread, one));
        auto loop = b.create<scf::ForOp>(loc, lo, hi, one);
        OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
        Value col = lb.create<arith::MulIOp>(
            loc, loop.getInductionVar(),
            lb.create<arith::ConstantIndexOp>(loc, chunk));
        SmallVector<Value> operands;
        for (Value operand : call.getOperands())
          operands.push_back(mapping.lookup(operand));
        operands.push_back(col);
        lb.create<func::CallOp>(loc, variant, operands);
        called.insert(variant.getOperation());
        break;
      }
      case Kind::Unsupported:
        llvm_unreachable("checked before");
      }
    }
    b.create<func::ReturnOp>(loc);
    module->setAttr(mlp::kColumnScratchAttr,
                    IntegerAttr::get(IntegerType::get(ctx, 64), scratchPerRow));
  }
};
} // namespace
