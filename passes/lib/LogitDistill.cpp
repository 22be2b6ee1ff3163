//===- LogitDistill.cpp - a few epochs of KL distillation -----------------===//
#include "LogitDistill.h"
#include "mlp/IR/MLPOps.h"

#include <cmath>
#include <numeric>
#include <optional>
#include <random>

using namespace mlir;

namespace {

enum class Act { None, Relu, GeluErf, GeluTanh, Silu, Sigmoid, Tanh };

/// What follows a linear before the next one, per output neuron: an
/// activation, or a fixed affine map x * scale + shift (an eval-mode
/// batch_norm, or add/sub/mul/div by a per-channel parameter or a scalar),
/// which is not trained.
struct Step {
  Act act = Act::None; // None: the affine map
  std::vector<double> scale, shift;
};

struct Layer {
  mlp::ParamOp weight, bias;
  int64_t in = 0, out = 0;
  std::vector<Step> steps;
  std::vector<double> w, b, mw, vw, mb, vb;
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double apply(Act act, double z) {
  switch (act) {
  case Act::None:
    return z;
  case Act::Relu:
    return z > 0 ? z : 0;
  case Act::GeluErf:
    return 0.5 * z * (1 + std::erf(z / std::sqrt(2.0)));
  case Act::GeluTanh:
    return 0.5 * z *
           (1 + std::tanh(std::sqrt(2 / M_PI) * (z + 0.044715 * z * z * z)));
  case Act::Silu:
    return z * sigmoid(z);
  case Act::Sigmoid:
    return sigmoid(z);
  case Act::Tanh:
    return std::tanh(z);
  }
  return z;
}

double derivative(Act act, double z) {
  switch (act) {
  case Act::None:
    return 1;
  case Act::Relu:
    return z > 0 ? 1 : 0;
  case Act::GeluErf:
    return 0.5 * (1 + std::erf(z / std::sqrt(2.0))) +
           z * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
  case Act::GeluTanh: {
    double k = std::sqrt(2 / M_PI), u = k * (z + 0.044715 * z * z * z);
    double t = std::tanh(u);
    return 0.5 * (1 + t) +
           0.5 * z * (1 - t * t) * k * (1 + 3 * 0.044715 * z * z);
  }
  case Act::Silu: {
    double s = sigmoid(z);
    return s + z * s * (1 - s);
  }
  case Act::Sigmoid: {
    double s = sigmoid(z);
    return s * (1 - s);
  }
  case Act::Tanh: {
    double t = std::tanh(z);
    return 1 - t * t;
  }
  }
  return 1;
}

/// `value` as one number per neuron of a layer `out` wide: a scalar, or a
/// parameter that broadcasts along the last axis only. Empty if neither.
std::vector<double> perNeuron(Value value, int64_t out,
                              const mlp::WeightStore &store) {
  if (auto constant = value.getDefiningOp<mlp::ConstantOp>())
    return std::vector<double>(out, constant.getValue().convertToDouble());
  auto param = value.getDefiningOp<mlp::ParamOp>();
  if (!param)
    return {};
  ArrayRef<int64_t> shape = param.getType().getShape();
  for (size_t i = 0; i + 1 < shape.size(); ++i)
    if (shape[i] != 1)
      return {};
  int64_t n = shape.empty() ? 1 : shape.back();
  std::vector<double> values = store.readAsDouble(param.getName().str());
  if (static_cast<int64_t>(values.size()) != n || (n != 1 && n != out))
    return {};
  return n == out ? values : std::vector<double>(out, values.front());
}

/// The affine map of `op` applied to `current`, or nullopt.
std::optional<Step> affineStep(Operation &op, Value current, int64_t out,
                               const mlp::WeightStore &store) {
  Step step;
  if (auto norm = dyn_cast<mlp::BatchNormOp>(op)) {
    std::vector<double> mean = perNeuron(norm.getMean(), out, store),
                        var = perNeuron(norm.getVariance(), out, store);
    std::vector<double> w = norm.getWeight()
                                ? perNeuron(norm.getWeight(), out, store)
                                : std::vector<double>(out, 1.0);
    std::vector<double> b = norm.getBias()
                                ? perNeuron(norm.getBias(), out, store)
                                : std::vector<double>(out, 0.0);
    if (mean.empty() || var.empty() || w.empty() || b.empty())
      return std::nullopt;
    double eps = norm.getEps().convertToDouble();
    for (int64_t o = 0; o < out; ++o) {
      step.scale.push_back(w[o] / std::sqrt(var[o] + eps));
      step.shift.push_back(b[o] - mean[o] * step.scale.back());
    }
    return step;
  }
  if (!isa<mlp::AddOp, mlp::SubOp, mlp::MulOp, mlp::DivOp>(op) ||
      op.getResult(0).getType() != current.getType())
    return std::nullopt;
  bool left = op.getOperand(0) == current;
  if (!left && op.getOperand(1) != current)
    return std::nullopt;
  std::vector<double> c = perNeuron(op.getOperand(left ? 1 : 0), out, store);
  if (c.empty())
    return std::nullopt;
  step.scale.assign(out, 1.0);
  step.shift.assign(out, 0.0);
  if (isa<mlp::AddOp>(op))
    step.shift = c;
  else if (isa<mlp::MulOp>(op))
    step.scale = c;
  else if (isa<mlp::SubOp>(op))
    for (int64_t o = 0; o < out; ++o) {
      step.scale[o] = left ? 1.0 : -1.0;
      step.shift[o] = left ? -c[o] : c[o];
    }
  else if (left) // x / c; c / x is not affine
    for (int64_t o = 0; o < out; ++o)
      step.scale[o] = 1.0 / c[o];
  else
    return std::nullopt;
  return step;
}

/// The chain x -> linear -> (activations and per-neuron affine maps) ->
/// linear -> ... -> output, or empty.
std::vector<Layer> chainOf(func::FuncOp model, const mlp::WeightStore &store) {
  std::vector<Layer> layers;
  if (model.getNumArguments() != 1 || model.getNumResults() != 1)
    return {};
  Value current = model.getArgument(0);
  for (Operation &op : model.getBody().front()) {
    if (isa<mlp::ParamOp, mlp::ConstantOp>(op))
      continue;
    if (auto ret = dyn_cast<func::ReturnOp>(op))
      return ret.getOperand(0) == current ? layers : std::vector<Layer>();
    if (auto linear = dyn_cast<mlp::LinearOp>(op)) {
      if (linear.getInput() != current)
        return {};
      Layer layer;
      layer.weight = linear.getWeight().getDefiningOp<mlp::ParamOp>();
      layer.bias = linear.getBias()
                       ? linear.getBias().getDefiningOp<mlp::ParamOp>()
                       : nullptr;
      if (!layer.weight || (linear.getBias() && !layer.bias))
        return {};
      layer.out = layer.weight.getType().getDimSize(0);
      layer.in = layer.weight.getType().getDimSize(1);
      layers.push_back(layer);
      current = linear.getResult();
      continue;
    }
    if (layers.empty())
      return {};
    if (std::optional<Step> step =
            affineStep(op, current, layers.back().out, store)) {
      layers.back().steps.push_back(std::move(*step));
      current = op.getResult(0);
      continue;
    }
    if (op.getNumOperands() != 1 || op.getOperand(0) != current)
      return {};
    Act act =
        isa<mlp::ReluOp>(op)      ? Act::Relu
        : isa<mlp::SiluOp>(op)    ? Act::Silu
        : isa<mlp::SigmoidOp>(op) ? Act::Sigmoid
        : isa<mlp::TanhOp>(op)    ? Act::Tanh
        : isa<mlp::GeluOp>(op)
            ? (cast<mlp::GeluOp>(op).getApproximate() == "tanh" ? Act::GeluTanh
                                                                : Act::GeluErf)
            : Act::None;
    if (act == Act::None)
      return {};
    Step step;
    step.act = act;
    layers.back().steps.push_back(std::move(step));
    current = op.getResult(0);
  }
  return {};
}

void softmax(const double *z, double *p, int64_t c, double temperature) {
  double mx = -1e300, sum = 0;
  for (int64_t j = 0; j < c; ++j)
    mx = std::max(mx, z[j] / temperature);
  for (int64_t j = 0; j < c; ++j)
    sum += p[j] = std::exp(z[j] / temperature - mx);
  for (int64_t j = 0; j < c; ++j)
    p[j] /= sum;
}

} // namespace

LogicalResult mlp::logitDistill(func::FuncOp model, WeightStore &store,
                                const HostTensor &input,
                                const HostTensor &teacherLogits,
                                const LogitDistillOptions &options,
                                bool &applied) {
  applied = false;
  std::vector<Layer> layers = chainOf(model, store);
  if (layers.empty() || options.epochs <= 0 || input.shape.size() != 2)
    return success();
  for (Layer &l : layers) {
    l.w = store.readAsDouble(l.weight.getName().str());
    l.b = l.bias ? store.readAsDouble(l.bias.getName().str())
                 : std::vector<double>(l.out, 0.0);
    l.mw.assign(l.w.size(), 0);
    l.vw.assign(l.w.size(), 0);
    l.mb.assign(l.b.size(), 0);
    l.vb.assign(l.b.size(), 0);
  }
  const int64_t total = input.shape[0], c = layers.back().out;
  const double t = options.temperature;
  // With enough calibration rows, a tenth of them (fixed, chosen at random)
  // is held out: training keeps the weights of the epoch with the lowest
  // held-out loss, so --distill-epochs is a budget rather than a setting to
  // tune. Below 50 held-out rows their loss is too noisy to choose by.
  std::vector<int64_t> order(total);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 split(1);
  std::shuffle(order.begin(), order.end(), split);
  const int64_t held = total >= 500 ? total / 10 : 0;
  const std::vector<int64_t> heldOut(order.end() - held, order.end());
  order.resize(total - held);
  const int64_t rows = static_cast<int64_t>(order.size());
  // T^2 KL(teacher || student) averaged over the held-out rows.
  auto heldOutLoss = [&]() {
    double loss = 0;
    std::vector<double> h, next, ps(c), pt(c);
    for (int64_t row : heldOut) {
      h.assign(&input.data[row * layers[0].in],
               &input.data[row * layers[0].in] + layers[0].in);
      for (const Layer &l : layers) {
        next.assign(l.b.begin(), l.b.end());
        for (int64_t o = 0; o < l.out; ++o)
          for (int64_t k = 0; k < l.in; ++k)
            next[o] += l.w[o * l.in + k] * h[k];
        for (const Step &s : l.steps)
          for (int64_t o = 0; o < l.out; ++o)
            next[o] = s.act != Act::None ? apply(s.act, next[o])
                                         : next[o] * s.scale[o] + s.shift[o];
        h.swap(next);
      }
      softmax(h.data(), ps.data(), c, t);
      softmax(&teacherLogits.data[row * c], pt.data(), c, t);
      for (int64_t j = 0; j < c; ++j)
        if (pt[j] > 0)
          loss += t * t * pt[j] * std::log(pt[j] / std::max(ps[j], 1e-300));
    }
    return held ? loss / held : 0.0;
  };
  double best = held ? heldOutLoss() : 0.0;
  std::vector<std::vector<double>> bestW, bestB;
  auto keep = [&]() {
    bestW.clear();
    bestB.clear();
    for (const Layer &l : layers) {
      bestW.push_back(l.w);
      bestB.push_back(l.b);
    }
  };
  keep();
  std::mt19937 rng(0);
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t start = 0; start < rows; start += options.batch) {
      int64_t n = std::min(options.batch, rows - start);
      // Forward, keeping every layer's input and each activation's input.
      // The loops run along contiguous rows so that the compiler vectorizes
      // them.
      std::vector<std::vector<double>> h(layers.size() + 1);
      std::vector<std::vector<std::vector<double>>> actIn(layers.size());
      h[0].resize(n * layers[0].in);
      for (int64_t r = 0; r < n; ++r)
        std::copy_n(&input.data[order[start + r] * layers[0].in], layers[0].in,
                    &h[0][r * layers[0].in]);
      for (size_t li = 0; li < layers.size(); ++li) {
        const Layer &l = layers[li];
        std::vector<double> wt(l.in * l.out);
        for (int64_t o = 0; o < l.out; ++o)
          for (int64_t k = 0; k < l.in; ++k)
            wt[k * l.out + o] = l.w[o * l.in + k];
        std::vector<double> &v = h[li + 1];
        v.resize(n * l.out);
        for (int64_t r = 0; r < n; ++r) {
          double *zr = &v[r * l.out];
          std::copy(l.b.begin(), l.b.end(), zr);
          for (int64_t k = 0; k < l.in; ++k) {
            double a = h[li][r * l.in + k];
            if (a == 0.0)
              continue;
            const double *wk = &wt[k * l.out];
            for (int64_t o = 0; o < l.out; ++o)
              zr[o] += a * wk[o];
          }
        }
        actIn[li].resize(l.steps.size());
        for (size_t si = 0; si < l.steps.size(); ++si) {
          const Step &s = l.steps[si];
          if (s.act != Act::None) {
            actIn[li][si] = v;
            for (double &e : v)
              e = apply(s.act, e);
            continue;
          }
          for (int64_t r = 0; r < n; ++r)
            for (int64_t o = 0; o < l.out; ++o)
              v[r * l.out + o] = v[r * l.out + o] * s.scale[o] + s.shift[o];
        }
      }
      // d(T^2 KL)/d logits = T (p_student - p_teacher), averaged over rows.
      std::vector<double> g(n * c), ps(c), pt(c);
      for (int64_t r = 0; r < n; ++r) {
        softmax(&h.back()[r * c], ps.data(), c, t);
        softmax(&teacherLogits.data[order[start + r] * c], pt.data(), c, t);
        for (int64_t j = 0; j < c; ++j)
          g[r * c + j] = t * (ps[j] - pt[j]) / n;
      }
      ++step;
      for (size_t li = layers.size(); li-- > 0;) {
        Layer &l = layers[li];
        for (size_t si = l.steps.size(); si-- > 0;) {
          const Step &s = l.steps[si];
          if (s.act != Act::None)
            for (int64_t i = 0; i < n * l.out; ++i)
              g[i] *= derivative(s.act, actIn[li][si][i]);
          else
            for (int64_t r = 0; r < n; ++r)
              for (int64_t o = 0; o < l.out; ++o)
                g[r * l.out + o] *= s.scale[o];
        }
        std::vector<double> gw(l.w.size(), 0.0), gb(l.out, 0.0),
            gin(li > 0 ? n * l.in : 0, 0.0);
        for (int64_t r = 0; r < n; ++r) {
          const double *hr = &h[li][r * l.in];
          for (int64_t o = 0; o < l.out; ++o) {
            double go = g[r * l.out + o];
            if (go == 0.0)
              continue;
            gb[o] += go;
            double *gwo = &gw[o * l.in];
            for (int64_t k = 0; k < l.in; ++k)
              gwo[k] += go * hr[k];
            if (li == 0)
              continue;
            double *gr = &gin[r * l.in];
            const double *wo = &l.w[o * l.in];
            for (int64_t k = 0; k < l.in; ++k)
              gr[k] += go * wo[k];
          }
        }
        auto adam = [&](std::vector<double> &p, std::vector<double> &m,
                        std::vector<double> &v,
                        const std::vector<double> &grad) {
          const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
          const double c1 = 1 - std::pow(b1, step), c2 = 1 - std::pow(b2, step);
          for (size_t i = 0; i < p.size(); ++i) {
            m[i] = b1 * m[i] + (1 - b1) * grad[i];
            v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
            p[i] -= options.learningRate * (m[i] / c1) /
                    (std::sqrt(v[i] / c2) + eps);
          }
        };
        adam(l.w, l.mw, l.vw, gw);
        if (l.bias)
          adam(l.b, l.mb, l.vb, gb);
        g = std::move(gin);
      }
    }
    if (held) {
      double loss = heldOutLoss();
      if (loss < best) {
        best = loss;
        keep();
      }
    } else {
      keep();
    }
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].w = bestW[i];
    layers[i].b = bestB[i];
  }
  for (Layer &l : layers) {
    store.setFloat32(l.weight.getName().str(), {l.out, l.in},
                     std::vector<float>(l.w.begin(), l.w.end()));
    if (l.bias)
      store.setFloat32(l.bias.getName().str(), {l.out},
                       std::vector<float>(l.b.begin(), l.b.end()));
  }
  applied = true;
  return success();
}
