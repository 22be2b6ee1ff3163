//===- OutlineKernels.cpp - one function per distinct kernel --------------===//
//
// Every linalg op on tensors of a function (with the fill or broadcast that
// initializes its accumulator) moves into a private kernel function that it
// then calls, destination-passing style: the kernel takes the destination
// tensor and returns it, so bufferization writes the result straight into the
// caller's buffer. Kernels of the same structure (ops, attributes, operand
// types, bodies) are one function: the 30 identical blocks of a `repeat` are
// tiled, vectorized and compiled by LLVM once, and called 30 times with
// different weights and activations. A kernel called more than once is kept
// out of line (LLVM's `noinline`), or LLVM could undo the sharing.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

namespace mlp {
#define GEN_PASS_DEF_MLPOUTLINEKERNELS
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kKernelAttr = "mlp.kernel";

bool isKernelOp(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.hasPureTensorSemantics() &&
         op->getNumResults() > 0;
}

/// Scalar constants are cloned into the kernel rather than passed: the
/// kernel's code then sees the value (a fill of zero stays a fill of zero),
/// and two kernels that differ only in such a constant stay apart.
bool isClonedConstant(Value value) {
  Operation *def = value.getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>() &&
         def->getNumResults() == 1 && !isa<ShapedType>(value.getType());
}

/// Views of a tensor (slices, reshapes) are cloned into the kernel with
/// their sources: after bufferization a view is a strided memref, which
/// cannot be passed where the kernel expects an identity layout, and inside
/// the kernel its static strides stay visible to the vectorizer.
bool isClonedView(Value value) {
  Operation *def = value.getDefiningOp();
  return def && isa<tensor::ExtractSliceOp, tensor::ExpandShapeOp,
                    tensor::CollapseShapeOp, tensor::CastOp>(def);
}

/// Whether `value` is a slice of a larger tensor, or a reshape of one: it
/// bufferizes to a strided view, not to a whole buffer.
bool isSlice(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  if (isa<tensor::ExtractSliceOp>(def))
    return true;
  return isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
             def) &&
         isSlice(def->getOperand(0));
}

/// An op whose destination is a slice of a larger tensor stays where it is:
/// the kernel would have to take the strided view of the caller's buffer,
/// where its argument is a whole buffer. (A reshaped whole tensor is fine.)
bool writesIntoSlice(Operation *op) {
  auto dps = dyn_cast<DestinationStyleOpInterface>(op);
  return dps && llvm::any_of(dps.getDpsInits(), [](Value init) {
           if (isSlice(init))
             return true;
           // Through the fill or broadcast that goes with the op.
           Operation *def = init.getDefiningOp();
           return def && isa<linalg::FillOp, linalg::BroadcastOp>(def) &&
                  writesIntoSlice(def);
         });
}

/// The op that computes the initial value of `op`'s destination, if it is a
/// fill or broadcast used only there: it belongs to the same kernel. So does
/// the contraction whose result a fused epilogue (mlp.epilogue) rewrites in
/// place.
Operation *initProducer(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1)
    return nullptr;
  Value init = op.getDpsInitOperand(0)->get();
  Operation *def = init.getDefiningOp();
  if (!def || !isKernelOp(def) || !init.hasOneUse() ||
      def->getBlock() != op->getBlock())
    return nullptr;
  if (isa<linalg::FillOp, linalg::BroadcastOp>(def))
    return def;
  if (op->hasAttr(mlp::kEpilogueAttr) && isa<linalg::LinalgOp>(def) &&
      !writesIntoSlice(def))
    return def;
  return nullptr;
}

struct OutlineKernels
    : public mlp::impl::MLPOutlineKernelsBase<OutlineKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    // Distinct kernels, keyed by their printed structure (kernels are
    // numbered in order of creation, so names are deterministic).
    llvm::StringMap<func::FuncOp> kernels;
    llvm::DenseMap<func::FuncOp, unsigned> calls;

    SmallVector<func::FuncOp> functions;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && !func->hasAttr(kKernelAttr))
        functions.push_back(func);

    for (func::FuncOp func : functions) {
      SmallVector<SmallVector<Operation *, 2>> groups;
      llvm::DenseSet<Operation *> absorbed;
      // Ops of the function body only: a value defined in a nested region
      // (a loop's iteration argument, say) may bufferize to a strided view.
      for (Operation &bodyOp : func.getBody().getOps()) {
        Operation *op = &bodyOp;
        if (!isKernelOp(op) || writesIntoSlice(op))
          continue;
        SmallVector<Operation *, 2> group = {op};
        for (Operation *init = initProducer(cast<linalg::LinalgOp>(op)); init;
             init = initProducer(cast<linalg::LinalgOp>(init))) {
          group.insert(group.begin(), init);
          absorbed.insert(init);
        }
        groups.push_back(std::move(group));
      }
      for (auto &group : groups) {
        // A fill or broadcast that initializes another kernel's accumulator
        // (or a matmul with its epilogue) goes with that kernel, not on its
        // own.
        if (absorbed.contains(group.back()))
          continue;
        func::FuncOp kernel = outline(func, group, symbols, kernels);
        ++calls[kernel];
      }
    }

    // Shared kernels are compiled once: LLVM must not inline them back.
    MLIRContext *ctx = &getContext();
    for (auto &entry : kernels) {
      func::FuncOp kernel = entry.second;
      if (calls.lookup(kernel) > 1)
        kernel->setAttr("no_inline", UnitAttr::get(ctx));
    }
  }

  /// Moves `group` (ops of one block, in order; the last one's results are
  /// the only values used outside) into a kernel function and replaces it by a
  /// call. Returns the kernel, an existing one if the structure matches.
  func::FuncOp outline(func::FuncOp parent, ArrayRef<Operation *> group,
                       SymbolTable &symbols,
                       llvm::StringMap<func::FuncOp> &kernels) {
    Operation *root = group.back();
    llvm::SmallPtrSet<Operation *, 4> inGroup(group.begin(), group.end());

    // Values from outside: operands first, then values captured by regions,
    // each once, in order of first use. Views of tensors are cloned along
    // (see isClonedView), so the kernel reads the tensors they view.
    llvm::SetVector<Value> captured;
    llvm::SetVector<Operation *> cloned;
    std::function<void(Value)> capture = [&](Value value) {
      Operation *def = value.getDefiningOp();
      if (def && (inGroup.contains(def) || cloned.contains(def)))
        return;
      if (isClonedConstant(value)) {
        cloned.insert(def);
        return;
      }
      if (isClonedView(value)) {
        for (Value operand : def->getOperands())
          capture(operand);
        cloned.insert(def);
        return;
      }
      captured.insert(value);
    };
    for (Operation *op : group) {
      for (OpOperand &operand : op->getOpOperands()) {
        // A destination stays whole: the kernel returns it, and the result
        // must be the argument itself to be written in place.
        auto dps = dyn_cast<DestinationStyleOpInterface>(op);
        if (dps && dps.isDpsInit(&operand)) {
          Operation *def = operand.get().getDefiningOp();
          if (!def || !inGroup.contains(def))
            captured.insert(operand.get());
          continue;
        }
        capture(operand.get());
      }
      llvm::SetVector<Value> above;
      getUsedValuesDefinedAbove(op->getRegions(), above);
      for (Value value : above)
        capture(value);
    }

    OpBuilder b(parent);
    SmallVector<Type> argTypes;
    for (Value value : captured)
      argTypes.push_back(value.getType());
    auto kernel = b.create<func::FuncOp>(
        root->getLoc(), "kernel",
        b.getFunctionType(argTypes, root->getResultTypes()));
    kernel.setPrivate();
    kernel->setAttr(kKernelAttr, b.getUnitAttr());
    // Private in LLVM too: unused descriptor fields can go, and a kernel
    // called once may be inlined where it is called.
    kernel->setAttr(
        "llvm.linkage",
        LLVM::LinkageAttr::get(b.getContext(), LLVM::Linkage::Internal));
    Block *body = kernel.addEntryBlock();
    IRMapping mapping;
    for (auto [value, arg] : llvm::zip(captured, body->getArguments()))
      mapping.map(value, arg);
    OpBuilder kb = OpBuilder::atBlockBegin(body);
    for (Operation *op : cloned)
      kb.clone(*op, mapping);
    for (Operation *op : group)
      kb.clone(*op, mapping);
    SmallVector<Value> results;
    for (Value result : root->getResults())
      results.push_back(mapping.lookup(result));
    kb.create<func::ReturnOp>(root->getLoc(), results);

    // The structure, without names or locations, is the kernel's identity.
    std::string key;
    {
      llvm::raw_string_ostream os(key);
      kernel.print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
    }
    func::FuncOp target;
    auto found = kernels.find(key);
    if (found != kernels.end()) {
      kernel.erase();
      target = found->second;
    } else {
      // A fused epilogue's kernel is named after its contraction.
      Operation *named = root;
      if (root->hasAttr(mlp::kEpilogueAttr) && group.size() > 1)
        named = group[group.size() - 2];
      std::string name =
          (parent.getSymName() + "_kernel" + llvm::Twine(kernels.size()) + "_" +
           named->getName().stripDialect())
              .str();
      std::replace(name.begin(), name.end(), '.', '_');
      kernel.setSymName(name);
      symbols.insert(kernel); // renames on a clash
      kernels[key] = kernel;
      target = kernel;
    }

    OpBuilder cb(root);
    auto call =
        cb.create<func::CallOp>(root->getLoc(), target, captured.getArrayRef());
    root->replaceAllUsesWith(call.getResults());
    for (Operation *op : llvm::reverse(group))
      op->erase();
    // Views now read only inside the kernel.
    for (Operation *op : llvm::reverse(cloned))
      if (op->use_empty())
        op->erase();
    return target;
  }
};
} // namespace
