//===- CheckWeights.cpp - mlp.param against the weights file --------------===//
#include "mlp/IR/MLPOps.h"
#include "mlp/IR/ShapeRules.h"
#include "mlp/Passes/Passes.h"
#include "mlp/Passes/WeightStore.h"

#include "llvm/Support/Path.h"

namespace mlp {
#define GEN_PASS_DEF_MLPCHECKWEIGHTS
#include "mlp/Passes/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

/// The checkpoint's name of an element type ("?" for none).
std::string dtypeOf(Type type) {
  std::string name = mlp::dtypeName(type);
  return name.empty() ? "?" : name;
}

struct CheckWeights : public mlp::impl::MLPCheckWeightsBase<CheckWeights> {
  using MLPCheckWeightsBase::MLPCheckWeightsBase;
  explicit CheckWeights(const mlp::WeightStore &store) : store(&store) {}

  void runOnOperation() override {
    std::unique_ptr<mlp::WeightStore> opened;
    if (!store) {
      std::string error;
      opened = mlp::WeightStore::open(weightsPath, error);
      if (!opened) {
        getOperation().emitError(error);
        return signalPassFailure();
      }
    }
    const mlp::WeightStore &file = store ? *store : *opened;
    std::string fileName = llvm::sys::path::filename(file.path()).str();
    bool ok = true;
    getOperation().walk([&](mlp::ParamOp op) {
      const mlp::TensorView *tensor = file.find(op.getName().str());
      auto type = op.getType();
      if (!tensor) {
        op.emitError("weight '") << op.getName() << "' is missing from "
                                 << fileName;
        ok = false;
        return;
      }
      if (tensor->dtype != dtypeOf(type.getElementType())) {
        op.emitError("weight '")
            << op.getName() << "' has dtype " << tensor->dtype << " in "
            << fileName << ", but the model expects "
            << dtypeOf(type.getElementType());
        ok = false;
        return;
      }
      if (llvm::ArrayRef<int64_t>(tensor->shape) != type.getShape()) {
        op.emitError("weight '")
            << op.getName() << "' has shape "
            << mlp::shape::format(tensor->shape) << " in " << fileName
            << ", but the model expects " << mlp::shape::format(type.getShape());
        ok = false;
      }
    });
    if (!ok)
      signalPassFailure();
  }

  const mlp::WeightStore *store = nullptr;
};
} // namespace

std::unique_ptr<Pass>
mlp::createMLPCheckWeights(const WeightStore &store) {
  return std::make_unique<CheckWeights>(store);
}
