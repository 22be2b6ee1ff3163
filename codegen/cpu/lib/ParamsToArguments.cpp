//===- ParamsToArguments.cpp - weights become function arguments ----------===//
#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/IR/Builders.h"

namespace mlp {
#define GEN_PASS_DEF_MLPPARAMSTOARGUMENTS
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

/// True if the batch is the leading dim of every input and output and no op
/// moves it elsewhere: then row i of every output depends only on row i of
/// the inputs, and the runtime may split a batch into row blocks.
bool rowsAreIndependent(func::FuncOp func) {
  auto batchLeading = [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || tensor.getRank() == 0 || !tensor.isDynamicDim(0))
      return false;
    return llvm::count_if(tensor.getShape(), ShapedType::isDynamic) == 1;
  };
  for (BlockArgument arg : func.getArguments())
    if (!func.getArgAttr(arg.getArgNumber(), mlp::kParamAttr) &&
        !batchLeading(arg.getType()))
      return false;
  if (!llvm::all_of(func.getResultTypes(), batchLeading))
    return false;
  // A transpose of a static tensor (a weight) cannot move the batch.
  WalkResult moved = func.walk([](mlp::TransposeOp op) {
    return op.getPermutation()[0] == 0 || op.getInput().getType().hasStaticShape()
               ? WalkResult::advance()
               : WalkResult::interrupt();
  });
  return !moved.wasInterrupted();
}

struct ParamsToArguments
    : public mlp::impl::MLPParamsToArgumentsBase<ParamsToArguments> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(convert(func)))
        return signalPassFailure();
    }
  }

  LogicalResult convert(func::FuncOp func) {
    Block &entry = func.getBody().front();
    llvm::StringMap<Value> argumentByName;
    SmallVector<Attribute> names;
    SmallVector<mlp::ParamOp> params;
    func.walk([&](mlp::ParamOp op) { params.push_back(op); });
    for (mlp::ParamOp op : params) {
      auto [it, inserted] = argumentByName.try_emplace(op.getName(), Value());
      if (inserted) {
        unsigned index = func.getNumArguments();
        auto nameAttr = StringAttr::get(&getContext(), op.getName());
        func.insertArgument(
            index, op.getType(),
            DictionaryAttr::get(
                &getContext(),
                {NamedAttribute(
                    StringAttr::get(&getContext(), mlp::kParamAttr),
                    nameAttr)}),
            op.getLoc());
        it->second = entry.getArgument(index);
        names.push_back(nameAttr);
      } else if (it->second.getType() != op.getType()) {
        return op.emitOpError("parameter '")
               << op.getName() << "' is used with types " << op.getType()
               << " and " << it->second.getType();
      }
      op.replaceAllUsesWith(it->second);
      op.erase();
    }
    func->setAttr(mlp::kParamsAttr, ArrayAttr::get(&getContext(), names));
    if (rowsAreIndependent(func))
      func->setAttr(mlp::kRowsIndependentAttr, UnitAttr::get(&getContext()));
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
    // Inputs belong to the caller and weights may live in read-only memory:
    // bufferization must never write into either.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttr(i, "bufferization.writable",
                      BoolAttr::get(&getContext(), false));
    return success();
  }
};
} // namespace
