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

/// producer linear -> elementwise ops on the hidden axis -> consumer linear,
/// where the hidden neurons between them can be removed: activations, an
/// eval-mode batch_norm, and add/sub/mul/div by a per-channel parameter or a
/// scalar. Each of them acts on every neuron alone, so keeping a subset of
/// the neurons and slicing the per-channel parameters the same way computes
/// exactly the kept neurons of the unpruned model.
struct Layer {
  mlp::LinearOp producer, consumer;
  SmallVector<Operation *> chain; // ops on the hidden axis, consumer side first
  // Parameters indexed by the hidden neuron along their last axis (biases,
  // scales, batch_norm statistics) that are sliced with the neurons.
  SmallVector<mlp::ParamOp> channelParams;
  mlp::ParamOp producerWeight, producerBias, consumerWeight;
};

/// A pair of linears that looked prunable but is not, and why.
struct Skipped {
  std::string producer, consumer, reason;
};

bool isUnaryElementwise(Operation *op) {
  return isa<mlp::ReluOp, mlp::GeluOp, mlp::SiluOp, mlp::SigmoidOp, mlp::TanhOp,
             mlp::SinOp, mlp::CosOp, mlp::ExpOp, mlp::SqrtOp>(op);
}

bool isBinaryElementwise(Operation *op) {
  return isa<mlp::AddOp, mlp::SubOp, mlp::MulOp, mlp::DivOp>(op);
}

/// The parameter op behind `value` if nothing else uses it.
mlp::ParamOp ownParam(Value value) {
  auto param = value ? value.getDefiningOp<mlp::ParamOp>() : nullptr;
  return param && param->hasOneUse() ? param : nullptr;
}

std::string paramName(Value value) {
  auto param = value ? value.getDefiningOp<mlp::ParamOp>() : nullptr;
  return param ? param.getName().str() : std::string();
}

std::string opName(Operation *op) { return op->getName().getStringRef().str(); }

/// Walks from `consumer`'s input back to the linear that produces its hidden
/// neurons. Returns false when there is no such producer (the pair is not a
/// candidate at all); otherwise fills `layer`, and `reason` when the neurons
/// cannot be removed after all.
bool traceLayer(mlp::LinearOp consumer, Layer &layer, std::string &reason) {
  layer.consumer = consumer;
  auto note = [&](const std::string &why) {
    if (reason.empty())
      reason = why;
  };
  Value value = consumer.getInput();
  while (Operation *def = value.getDefiningOp()) {
    if (isa<mlp::LinearOp>(def))
      break;
    auto hidden = cast<RankedTensorType>(value.getType()).getShape().back();
    if (!value.hasOneUse())
      note("the output of " + opName(def) + " has other users");
    Value next;
    if (isUnaryElementwise(def)) {
      next = def->getOperand(0);
    } else if (auto norm = dyn_cast<mlp::BatchNormOp>(def)) {
      // Running statistics and affine parameters are per neuron.
      for (Value operand : {norm.getMean(), norm.getVariance(),
                            norm.getWeight(), norm.getBias()}) {
        if (!operand)
          continue;
        if (mlp::ParamOp param = ownParam(operand))
          layer.channelParams.push_back(param);
        else
          note("parameter '" + paramName(operand) + "' of " + opName(def) +
               " is shared or not a parameter");
      }
      next = norm.getInput();
    } else if (auto norm = dyn_cast<mlp::LayerNormOp>(def)) {
      note(opName(def) + " normalizes over the hidden neurons: removing some "
                         "would change its mean and variance");
      next = norm.getInput();
    } else if (isBinaryElementwise(def)) {
      Value lhs = def->getOperand(0), rhs = def->getOperand(1);
      auto isSide = [](Value v) {
        return v.getDefiningOp<mlp::ParamOp>() ||
               v.getDefiningOp<mlp::ConstantOp>();
      };
      Value side;
      if (isSide(rhs) || !isSide(lhs)) {
        next = lhs;
        side = isSide(rhs) ? rhs : Value();
      } else {
        next = rhs;
        side = lhs;
      }
      auto sideType =
          side ? cast<RankedTensorType>(side.getType()) : RankedTensorType();
      if (!side) {
        note(opName(def) + " combines the hidden neurons with another "
                           "activation, not a per-channel parameter");
      } else if (def->getResult(0).getType() != next.getType()) {
        note(opName(def) + " broadcasts the hidden activations to " +
             "another shape");
      } else if (sideType.getRank() > 0 &&
                 sideType.getShape().back() == hidden && hidden != 1) {
        if (mlp::ParamOp param = ownParam(side))
          layer.channelParams.push_back(param);
        else
          note("parameter '" + paramName(side) + "' of " + opName(def) +
               " is shared");
      }
      // Otherwise a scalar, or a parameter broadcast along the neurons.
    } else {
      return false;
    }
    layer.chain.push_back(def);
    value = next;
  }
  layer.producer = value.getDefiningOp<mlp::LinearOp>();
  if (!layer.producer)
    return false;
  if (!value.hasOneUse())
    note("the producer's outputs have other users");
  layer.producerWeight = ownParam(layer.producer.getWeight());
  layer.producerBias = ownParam(layer.producer.getBias());
  layer.consumerWeight = ownParam(consumer.getWeight());
  if (!layer.producerWeight || !layer.consumerWeight ||
      (layer.producer.getBias() && !layer.producerBias))
    note("a weight or bias is shared or not a parameter");
  return true;
}

SmallVector<Layer> findLayers(func::FuncOp model, ArrayRef<std::string> exclude,
                              SmallVectorImpl<Skipped> &skipped) {
  SmallVector<Layer> layers;
  model.walk([&](mlp::LinearOp consumer) {
    Layer layer;
    std::string reason;
    if (!traceLayer(consumer, layer, reason))
      return;
    std::string producer = paramName(layer.producer.getWeight());
    for (const std::string &prefix : exclude)
      if (llvm::StringRef(producer).starts_with(prefix))
        return;
    if (!reason.empty()) {
      skipped.push_back(
          {producer, paramName(consumer.getWeight()), std::move(reason)});
      return;
    }
    layers.push_back(layer);
  });
  return layers;
}

void reportSkipped(ArrayRef<Skipped> skipped) {
  for (const Skipped &s : skipped)
    llvm::errs() << "  " << s.producer << " -> " << s.consumer
                 << ": not pruned: " << s.reason << "\n";
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
      return model.emitError("pruning ratio must be in (0, 1], got ") << ratio;
    SmallVector<Skipped> skipped;
    SmallVector<Layer> layers = findLayers(model, exclude, skipped);
    if (layers.empty()) {
      reportSkipped(skipped);
      return model.emitError("no prunable layer (a linear feeding another "
                             "linear through activations, batch norms and "
                             "per-channel scales or biases only)");
    }
    int64_t samples = 0;
    auto inputs = mlp::calibration::load(model, calibrationPath, samples);
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
      reportSkipped(skipped);
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
    reportSkipped(skipped);
    return success();
  }

  void slice(Layer &layer, const std::vector<double> &score) {
    auto weightType = layer.producerWeight.getType();
    int64_t hidden = weightType.getDimSize(0), in = weightType.getDimSize(1);
    int64_t keep = width > 0
                       ? std::min<int64_t>(width, hidden)
                       : std::max<int64_t>(1, std::llround(hidden * ratio));
    for (const std::string &entry : layerWidths) {
      auto [prefix, count] = llvm::StringRef(entry).split('=');
      int64_t n = 0;
      if (layer.producerWeight.getName().starts_with(prefix) &&
          !count.getAsInteger(10, n) && n > 0)
        keep = std::min<int64_t>(n, hidden);
    }
    std::vector<int64_t> order(hidden);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return score[a] > score[b]; });
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

    // Biases, scales and norm statistics on the way, along their last axis.
    for (mlp::ParamOp param : layer.channelParams) {
      std::string name = param.getName().str();
      std::vector<double> values = store->readAsDouble(name), sliced;
      std::vector<int64_t> shape(param.getType().getShape().begin(),
                                 param.getType().getShape().end());
      int64_t outer = static_cast<int64_t>(values.size()) / hidden;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j : kept)
          sliced.push_back(values[o * hidden + j]);
      shape.back() = keep;
      store->setFloat32(name, shape, toFloat(sliced));
      setShape(param.getResult(), shape);
    }
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
    llvm::errs() << "  " << w1 << " -> " << w2 << ": width " << hidden << " -> "
                 << keep << "\n";
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
        param->setAttr(
            mlp::kSparsityAttr,
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
