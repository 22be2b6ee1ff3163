//===- Prune.cpp - width, 2:4 and magnitude pruning -----------------------===//
#include "Calibration.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/Passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace mlp {
#define GEN_PASS_DEF_MLPPRUNE
#include "mlp/Passes/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

/// producer linear -> elementwise activations -> consumer linear, where the
/// hidden neurons between them can be removed.
struct Layer {
  mlp::LinearOp producer, consumer;
  SmallVector<Operation *> chain; // activations, consumer side first
  mlp::ParamOp producerWeight, producerBias, consumerWeight;
};

bool isActivation(Operation *op) {
  return isa<mlp::ReluOp, mlp::GeluOp, mlp::SiluOp, mlp::SigmoidOp,
             mlp::TanhOp>(op);
}

/// The parameter op behind `value` if nothing else uses it.
mlp::ParamOp ownParam(Value value) {
  auto param = value ? value.getDefiningOp<mlp::ParamOp>() : nullptr;
  return param && param->hasOneUse() ? param : nullptr;
}

SmallVector<Layer> findLayers(func::FuncOp model,
                              ArrayRef<std::string> exclude) {
  SmallVector<Layer> layers;
  model.walk([&](mlp::LinearOp consumer) {
    Layer layer;
    layer.consumer = consumer;
    Value value = consumer.getInput();
    while (Operation *def = value.getDefiningOp()) {
      if (!isActivation(def) || !value.hasOneUse())
        break;
      layer.chain.push_back(def);
      value = def->getOperand(0);
    }
    layer.producer = value.getDefiningOp<mlp::LinearOp>();
    if (!layer.producer || !value.hasOneUse())
      return;
    layer.producerWeight = ownParam(layer.producer.getWeight());
    layer.producerBias = ownParam(layer.producer.getBias());
    layer.consumerWeight = ownParam(consumer.getWeight());
    if (!layer.producerWeight || !layer.consumerWeight ||
        (layer.producer.getBias() && !layer.producerBias))
      return;
    std::string name = layer.producerWeight.getName().str();
    for (const std::string &prefix : exclude)
      if (llvm::StringRef(name).starts_with(prefix))
        return;
    layers.push_back(layer);
  });
  return layers;
}

void setLastDim(Value value, int64_t size) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = size;
  value.setType(RankedTensorType::get(shape, type.getElementType()));
}

void setShape(Value value, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  value.setType(RankedTensorType::get(shape, type.getElementType()));
}

std::vector<float> toFloat(const std::vector<double> &values) {
  return std::vector<float>(values.begin(), values.end());
}

struct Prune : public mlp::impl::MLPPruneBase<Prune> {
  using MLPPruneBase::MLPPruneBase;
  Prune(const mlp::MLPPruneOptions &options, mlp::WeightStore &store)
      : MLPPruneBase(options), given(&store) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp model = mlp::calibration::findModel(module);
    if (!model)
      return signalPassFailure();
    store = mlp::calibration::storeFor(given, weightsPath, owned, module);
    if (!store)
      return signalPassFailure();
    LogicalResult result = failure();
    if (mode == "width")
      result = pruneWidth(module, model);
    else if (mode == "2:4" || mode == "magnitude")
      result = pruneWeights(model);
    else
      result = module.emitError("unknown pruning mode '")
               << mode << "' (expected width, 2:4 or magnitude)";
    if (failed(result))
      signalPassFailure();
  }

  LogicalResult pruneWidth(ModuleOp module, func::FuncOp model) {
    for (const std::string &entry : layerWidths) {
      auto [prefix, count] = llvm::StringRef(entry).split('=');
      int64_t n = 0;
      if (prefix.empty() || count.getAsInteger(10, n) || n <= 0)
        return model.emitError("layer width '")
               << entry << "' is not PREFIX=NEURONS";
    }
    if (width <= 0 && !(ratio > 0.0 && ratio <= 1.0))
      return model.emitError("pruning ratio must be in (0, 1], got ")
             << ratio;
    SmallVector<Layer> layers = findLayers(model, exclude);
    if (layers.empty())
      return model.emitError("no prunable layer (a linear feeding another "
                             "linear through activations only)");
    int64_t samples = 0;
    auto inputs =
        mlp::calibration::load(model, calibrationPath, samples);
    if (failed(inputs))
      return failure();

    // Importance of each hidden neuron, from the activations at each
    // consumer's input.
    llvm::DenseMap<Value, size_t> layerOf;
    for (auto [i, layer] : llvm::enumerate(layers))
      layerOf[layer.consumer.getInput()] = i;
    std::vector<std::vector<double>> importance(layers.size());
    std::vector<mlp::HostTensor> outputs;
    if (failed(mlp::interpret(
            model, *store, *inputs, outputs,
            [&](Value value, const mlp::HostTensor &t) {
              auto it = layerOf.find(value);
              if (it == layerOf.end())
                return;
              int64_t hidden = t.shape.back();
              int64_t tokens = t.numElements() / (samples * hidden);
              std::vector<double> &score = importance[it->second];
              score.assign(hidden, 0.0);
              for (int64_t s = 0; s < samples; ++s)
                for (int64_t j = 0; j < hidden; ++j) {
                  double mean = 0;
                  for (int64_t k = 0; k < tokens; ++k)
                    mean += std::abs(t.data[(s * tokens + k) * hidden + j]);
                  mean /= tokens;
                  score[j] += mean * mean;
                }
              for (double &v : score)
                v = std::sqrt(v);
            })))
      return failure();

    // The unpruned model stays as the teacher of -mlp-distill.
    if (!keepTeacher) {
      llvm::errs() << "mlp-prune: width pruning (Minitron importance) on "
                   << samples << " calibration samples\n";
      for (auto [i, layer] : llvm::enumerate(layers))
        slice(layer, importance[i]);
      return success();
    }
    OpBuilder b(model);
    auto teacher = cast<func::FuncOp>(b.clone(*model));
    teacher.setSymName((model.getSymName() + "__teacher").str());
    teacher->removeAttr("mlp.model");
    teacher->setAttr(mlp::kTeacherAttr, b.getUnitAttr());
    teacher.setPrivate();
    teacher.walk([&](mlp::ParamOp param) {
      param->setAttr(mlp::kTeacherAttr, b.getUnitAttr());
    });

    llvm::errs() << "mlp-prune: width pruning (Minitron importance) on "
                 << samples << " calibration samples\n";
    for (auto [i, layer] : llvm::enumerate(layers))
      slice(layer, importance[i]);
    return success();
  }

  void slice(Layer &layer, const std::vector<double> &score) {
    auto weightType = layer.producerWeight.getType();
    int64_t hidden = weightType.getDimSize(0), in = weightType.getDimSize(1);
    int64_t keep = width > 0 ? std::min<int64_t>(width, hidden)
                             : std::max<int64_t>(
                                   1, std::llround(hidden * ratio));
    for (const std::string &entry : layerWidths) {
      auto [prefix, count] = llvm::StringRef(entry).split('=');
      int64_t n = 0;
      if (layer.producerWeight.getName().starts_with(prefix) &&
          !count.getAsInteger(10, n) && n > 0)
        keep = std::min<int64_t>(n, hidden);
    }
    std::vector<int64_t> order(hidden);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return score[a] > score[b];
    });
    std::vector<int64_t> kept(order.begin(), order.begin() + keep);
    std::sort(kept.begin(), kept.end());

    std::string w1 = layer.producerWeight.getName().str();
    std::vector<double> producer = store->readAsDouble(w1);
    std::vector<double> rows;
    for (int64_t j : kept)
      rows.insert(rows.end(), producer.begin() + j * in,
                  producer.begin() + (j + 1) * in);
    store->setFloat32(w1, {keep, in}, toFloat(rows));
    setShape(layer.producerWeight.getResult(), {keep, in});
    if (layer.producerBias) {
      std::string b1 = layer.producerBias.getName().str();
      std::vector<double> bias = store->readAsDouble(b1), sliced;
      for (int64_t j : kept)
        sliced.push_back(bias[j]);
      store->setFloat32(b1, {keep}, toFloat(sliced));
      setShape(layer.producerBias.getResult(), {keep});
    }
    std::string w2 = layer.consumerWeight.getName().str();
    int64_t out = layer.consumerWeight.getType().getDimSize(0);
    std::vector<double> consumer = store->readAsDouble(w2), cols;
    for (int64_t o = 0; o < out; ++o)
      for (int64_t j : kept)
        cols.push_back(consumer[o * hidden + j]);
    store->setFloat32(w2, {out, keep}, toFloat(cols));
    setShape(layer.consumerWeight.getResult(), {out, keep});

    setLastDim(layer.producer.getResult(), keep);
    for (Operation *op : layer.chain)
      setLastDim(op->getResult(0), keep);
    Builder b(layer.consumer.getContext());
    // Which of its outputs the producer keeps: -mlp-distill compares them
    // with the teacher's.
    layer.producer->setAttr(mlp::kKeptAttr, b.getDenseI64ArrayAttr(kept));
    layer.consumer->setAttr(
        mlp::kPrunedAttr,
        b.getDictionaryAttr(
            {b.getNamedAttr("width_before", b.getI64IntegerAttr(hidden)),
             b.getNamedAttr("width_after", b.getI64IntegerAttr(keep))}));
    llvm::errs() << "  " << w1 << " -> " << w2 << ": width " << hidden
                 << " -> " << keep << "\n";
  }

  /// 2:4 or magnitude pruning of every linear weight, in place.
  LogicalResult pruneWeights(func::FuncOp model) {
    if (mode == "magnitude" && !(ratio >= 0.0 && ratio < 1.0))
      return model.emitError("magnitude pruning ratio must be in [0, 1), got ")
             << ratio;
    llvm::StringSet<> done;
    Builder b(model.getContext());
    WalkResult walk = model.walk([&](mlp::LinearOp linear) {
      auto param = linear.getWeight().getDefiningOp<mlp::ParamOp>();
      if (!param || !done.insert(param.getName()).second)
        return WalkResult::advance();
      std::string name = param.getName().str();
      for (const std::string &prefix : exclude)
        if (llvm::StringRef(name).starts_with(prefix))
          return WalkResult::advance();
      std::vector<double> w = store->readAsDouble(name);
      if (w.empty()) {
        param.emitError("pruning needs float32 weight '") << name << "'";
        return WalkResult::interrupt();
      }
      int64_t in = param.getType().getDimSize(1);
      if (mode == "2:4") {
        if (in % 4 != 0) {
          param.emitError("2:4 pruning needs a reduction size divisible by "
                          "4, '")
              << name << "' has " << in;
          return WalkResult::interrupt();
        }
        for (size_t g = 0; g < w.size(); g += 4) {
          std::array<size_t, 4> idx = {g, g + 1, g + 2, g + 3};
          std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t c) {
            return std::abs(w[a]) > std::abs(w[c]);
          });
          w[idx[2]] = w[idx[3]] = 0.0;
        }
        param->setAttr(mlp::kSparsityAttr, b.getStringAttr("2:4"));
      } else {
        std::vector<double> magnitude(w.size());
        for (size_t i = 0; i < w.size(); ++i)
          magnitude[i] = std::abs(w[i]);
        size_t zeroed = static_cast<size_t>(std::llround(w.size() * ratio));
        if (zeroed > 0) {
          std::nth_element(magnitude.begin(), magnitude.begin() + zeroed - 1,
                           magnitude.end());
          double threshold = magnitude[zeroed - 1];
          size_t count = 0;
          for (double &v : w)
            if (count < zeroed && std::abs(v) <= threshold) {
              v = 0.0;
              ++count;
            }
        }
        param->setAttr(mlp::kSparsityAttr,
                       b.getStringAttr("unstructured:" + std::to_string(ratio)));
      }
      store->setFloat32(name, {param.getType().getDimSize(0), in}, toFloat(w));
      llvm::errs() << "mlp-prune: " << mode << " pruned " << name << "\n";
      return WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }

  mlp::WeightStore *given = nullptr;
  mlp::WeightStore *store = nullptr;
  std::shared_ptr<mlp::WeightStore> owned;
};
} // namespace

std::unique_ptr<Pass> mlp::createMLPPrune(const MLPPruneOptions &options,
                                          WeightStore &store) {
  return std::make_unique<Prune>(options, store);
}
