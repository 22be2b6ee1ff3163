//===- PackWeights.cpp - weights in the layout the kernels read -----------===//
#include "mlp/Codegen/CPU/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlp {
#define GEN_PASS_DEF_MLPPACKWEIGHTS
#include "mlp/Codegen/CPU/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {
struct PackWeights : public mlp::impl::MLPPackWeightsBase<PackWeights> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      for (BlockArgument arg : func.getArguments())
        pack(func, arg);
    }
  }

  /// Folds the transposes of `arg` into its layout if every use is the
  /// same transpose of a parameter that has no layout yet.
  void pack(func::FuncOp func, BlockArgument arg) {
    unsigned index = arg.getArgNumber();
    if (!func.getArgAttr(index, mlp::kParamAttr) ||
        func.getArgAttr(index, mlp::kLayoutAttr) || arg.use_empty())
      return;
    SmallVector<linalg::TransposeOp> transposes;
    for (OpOperand &use : arg.getUses()) {
      auto transpose = dyn_cast<linalg::TransposeOp>(use.getOwner());
      if (!transpose || !transpose.hasPureTensorSemantics() ||
          use.get() != transpose.getInput() ||
          (!transposes.empty() &&
           transposes.front().getPermutation() != transpose.getPermutation()))
        return;
      transposes.push_back(transpose);
    }
    ArrayRef<int64_t> perm = transposes.front().getPermutation();
    Type packed = transposes.front().getResult()[0].getType();
    arg.setType(packed);
    SmallVector<Type> inputs(func.getArgumentTypes());
    inputs[index] = packed;
    func.setFunctionType(FunctionType::get(&getContext(), inputs,
                                           func.getResultTypes()));
    func.setArgAttr(index, mlp::kLayoutAttr,
                    DenseI64ArrayAttr::get(&getContext(), perm));
    for (linalg::TransposeOp transpose : transposes) {
      transpose.getResult()[0].replaceAllUsesWith(arg);
      transpose.erase();
    }
  }
};
} // namespace
