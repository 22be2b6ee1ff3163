//===- Calibration.cpp - calibration inputs and shared helpers ------------===//
#include "Calibration.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

using namespace mlir;

func::FuncOp mlp::calibration::findModel(ModuleOp module) {
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr("mlp.model"))
      return func;
  module.emitError("no model function (mlp.model) to prune");
  return nullptr;
}

FailureOr<std::vector<mlp::HostTensor>>
mlp::calibration::load(func::FuncOp model, const std::string &path,
                       int64_t &samples) {
  if (path.empty())
    return model.emitError("pruning by width needs calibration inputs "
                           "(--calibration FILE.safetensors)");
  std::string error;
  auto file = SafetensorsFile::open(path, error);
  if (!file)
    return model.emitError("calibration: ") << error;
  std::vector<HostTensor> inputs;
  samples = -1;
  for (BlockArgument arg : model.getArguments()) {
    auto nameAttr = model.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                       "mlp.name");
    std::string name = nameAttr ? nameAttr.str() : "";
    auto type = cast<RankedTensorType>(arg.getType());
    const TensorView *t = file->find(name);
    if (!t)
      return model.emitError("calibration file ")
             << path << " has no tensor for input '" << name << "'";
    if (t->dtype != "float32")
      return model.emitError("calibration input '")
             << name << "' must be float32, got " << t->dtype;
    if (t->shape.size() != static_cast<size_t>(type.getRank()))
      return model.emitError("calibration input '")
             << name << "' must have rank " << type.getRank() << ", got "
             << t->shape.size();
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (type.isDynamicDim(i)) {
        if (samples >= 0 && t->shape[i] != samples)
          return model.emitError("calibration input '")
                 << name << "' has " << t->shape[i]
                 << " samples, but the other inputs have " << samples;
        samples = t->shape[i];
      } else if (t->shape[i] != type.getDimSize(i)) {
        return model.emitError("calibration input '")
               << name << "' has dimension " << i << " of size "
               << t->shape[i] << ", the model expects " << type.getDimSize(i);
      }
    }
    HostTensor tensor;
    tensor.shape = t->shape;
    tensor.data.resize(t->nbytes / sizeof(float));
    for (size_t i = 0; i < tensor.data.size(); ++i) {
      float v;
      std::memcpy(&v, t->data + i * sizeof(float), sizeof v);
      if (!std::isfinite(v))
        return model.emitError("calibration input '")
               << name << "' holds a non-finite value (NaN or Inf) at element "
               << i;
      tensor.data[i] = v;
    }
    inputs.push_back(std::move(tensor));
  }
  if (samples < 1)
    return model.emitError("calibration inputs hold no samples");
  return inputs;
}

mlp::WeightStore *
mlp::calibration::storeFor(WeightStore *given, const std::string &path,
                           std::shared_ptr<WeightStore> &owned,
                           Operation *anchor) {
  if (given)
    return given;
  if (path.empty()) {
    anchor->emitError("pruning needs the weights (weights=FILE)");
    return nullptr;
  }
  // In mlp-opt, -mlp-prune and -mlp-distill of one pipeline name the same
  // file and must see each other's changes: one store per path.
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<WeightStore>> open;
  std::lock_guard<std::mutex> lock(mutex);
  owned = open[path].lock();
  if (!owned) {
    std::string error;
    owned = WeightStore::open(path, error);
    if (!owned) {
      anchor->emitError(error);
      return nullptr;
    }
    open[path] = owned;
  }
  return owned.get();
}
