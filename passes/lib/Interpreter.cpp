//===- Interpreter.cpp - evaluating mlp IR on calibration data ------------===//
#include "mlp/Passes/Interpreter.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/Passes/WeightStore.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>

using namespace mlir;
using mlp::HostTensor;

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

HostTensor unary(const HostTensor &x, double (*f)(double)) {
  HostTensor y = x;
  for (double &v : y.data)
    v = f(v);
  return y;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// NumPy broadcasting of two operands.
HostTensor broadcast(const HostTensor &a, const HostTensor &b,
                     double (*f)(double, double)) {
  size_t rank = std::max(a.shape.size(), b.shape.size());
  auto padded = [&](const HostTensor &t) {
    std::vector<int64_t> s(rank - t.shape.size(), 1);
    s.insert(s.end(), t.shape.begin(), t.shape.end());
    return s;
  };
  std::vector<int64_t> sa = padded(a), sb = padded(b), shape(rank);
  for (size_t i = 0; i < rank; ++i)
    shape[i] = std::max(sa[i], sb[i]);
  std::vector<int64_t> ta = stridesOf(sa), tb = stridesOf(sb);
  HostTensor out{shape, {}};
  out.data.resize(out.numElements());
  std::vector<int64_t> index(rank, 0);
  for (size_t n = 0; n < out.data.size(); ++n) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < rank; ++i) {
      ia += (sa[i] == 1 ? 0 : index[i]) * ta[i];
      ib += (sb[i] == 1 ? 0 : index[i]) * tb[i];
    }
    out.data[n] = f(a.data[ia], b.data[ib]);
    for (size_t i = rank; i-- > 0;) {
      if (++index[i] < shape[i])
        break;
      index[i] = 0;
    }
  }
  return out;
}

HostTensor linear(const HostTensor &x, const HostTensor &w,
                  const HostTensor *b) {
  int64_t in = w.shape[1], out = w.shape[0];
  int64_t rows = x.numElements() / in;
  HostTensor y{x.shape, std::vector<double>(rows * out)};
  y.shape.back() = out;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b ? b->data[o] : 0.0;
      const double *xr = &x.data[r * in], *wr = &w.data[o * in];
      for (int64_t k = 0; k < in; ++k)
        acc += xr[k] * wr[k];
      y.data[r * out + o] = acc;
    }
  return y;
}

HostTensor layerNorm(const HostTensor &x, const HostTensor *w,
                     const HostTensor *b, double eps) {
  int64_t c = x.shape.back(), rows = x.numElements() / c;
  HostTensor y = x;
  for (int64_t r = 0; r < rows; ++r) {
    double *v = &y.data[r * c];
    double mean = 0, var = 0;
    for (int64_t i = 0; i < c; ++i)
      mean += v[i];
    mean /= c;
    for (int64_t i = 0; i < c; ++i)
      var += (v[i] - mean) * (v[i] - mean);
    var /= c;
    for (int64_t i = 0; i < c; ++i) {
      v[i] = (v[i] - mean) / std::sqrt(var + eps);
      if (w)
        v[i] *= w->data[i];
      if (b)
        v[i] += b->data[i];
    }
  }
  return y;
}

HostTensor batchNorm(const HostTensor &x, const HostTensor &mean,
                     const HostTensor &var, const HostTensor *w,
                     const HostTensor *b, double eps) {
  int64_t c = x.shape.back(), rows = x.numElements() / c;
  HostTensor y = x;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < c; ++i) {
      double &v = y.data[r * c + i];
      v = (v - mean.data[i]) / std::sqrt(var.data[i] + eps);
      if (w)
        v *= w->data[i];
      if (b)
        v += b->data[i];
    }
  return y;
}

HostTensor transpose(const HostTensor &x, ArrayRef<int64_t> perm) {
  std::vector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(x.shape[p]);
  std::vector<int64_t> strides = stridesOf(x.shape);
  HostTensor y{shape, std::vector<double>(x.data.size())};
  std::vector<int64_t> index(shape.size(), 0);
  for (size_t n = 0; n < y.data.size(); ++n) {
    int64_t offset = 0;
    for (size_t i = 0; i < shape.size(); ++i)
      offset += index[i] * strides[perm[i]];
    y.data[n] = x.data[offset];
    for (size_t i = shape.size(); i-- > 0;) {
      if (++index[i] < shape[i])
        break;
      index[i] = 0;
    }
  }
  return y;
}

HostTensor mean(const HostTensor &x, int64_t axis) {
  int64_t outer = 1, inner = 1, n = x.shape[axis];
  for (int64_t i = 0; i < axis; ++i)
    outer *= x.shape[i];
  for (size_t i = axis + 1; i < x.shape.size(); ++i)
    inner *= x.shape[i];
  HostTensor y{x.shape, std::vector<double>(outer * inner, 0.0)};
  y.shape.erase(y.shape.begin() + axis);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i)
        y.data[o * inner + i] += x.data[(o * n + k) * inner + i] / n;
  return y;
}

} // namespace

LogicalResult
mlp::interpret(func::FuncOp func, const WeightStore &weights,
               ArrayRef<HostTensor> inputs, std::vector<HostTensor> &outputs,
               function_ref<void(Value, const HostTensor &)> observe) {
  llvm::DenseMap<Value, HostTensor> env;
  for (auto [arg, input] : llvm::zip(func.getArguments(), inputs))
    env[arg] = input;
  auto get = [&](Value v) -> const HostTensor & { return env[v]; };
  auto optional = [&](Value v) -> const HostTensor * {
    return v ? &env[v] : nullptr;
  };
  for (Operation &op : func.getBody().front()) {
    HostTensor result;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      outputs.clear();
      for (Value v : ret.getOperands())
        outputs.push_back(get(v));
      return success();
    }
    if (auto param = dyn_cast<mlp::ParamOp>(op)) {
      // The teacher of -mlp-distill reads the weights as they were.
      result.data = weights.readAsDouble(param.getName().str(),
                                         param->hasAttr("mlp.teacher"));
      result.shape.assign(param.getType().getShape().begin(),
                          param.getType().getShape().end());
      if (static_cast<int64_t>(result.data.size()) != result.numElements())
        return op.emitError("calibration needs float32 weight '")
               << param.getName() << "' of shape " << param.getType()
               << " in the weights file";
    } else if (auto l = dyn_cast<mlp::LinearOp>(op)) {
      result =
          linear(get(l.getInput()), get(l.getWeight()), optional(l.getBias()));
    } else if (auto r = dyn_cast<mlp::ReluOp>(op)) {
      result =
          unary(get(r.getInput()), [](double x) { return x > 0 ? x : 0.0; });
    } else if (auto g = dyn_cast<mlp::GeluOp>(op)) {
      result = g.getApproximate() == "tanh"
                   ? unary(get(g.getInput()),
                           [](double x) {
                             return 0.5 * x *
                                    (1 + std::tanh(std::sqrt(2 / M_PI) *
                                                   (x + 0.044715 * x * x * x)));
                           })
                   : unary(get(g.getInput()), [](double x) {
                       return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
                     });
    } else if (auto s = dyn_cast<mlp::SiluOp>(op)) {
      result =
          unary(get(s.getInput()), [](double x) { return x * sigmoid(x); });
    } else if (auto s = dyn_cast<mlp::SigmoidOp>(op)) {
      result = unary(get(s.getInput()), sigmoid);
    } else if (auto t = dyn_cast<mlp::TanhOp>(op)) {
      result = unary(get(t.getInput()), [](double x) { return std::tanh(x); });
    } else if (auto a = dyn_cast<mlp::AddOp>(op)) {
      result = broadcast(get(a.getLhs()), get(a.getRhs()),
                         [](double x, double y) { return x + y; });
    } else if (auto s = dyn_cast<mlp::SubOp>(op)) {
      result = broadcast(get(s.getLhs()), get(s.getRhs()),
                         [](double x, double y) { return x - y; });
    } else if (auto m = dyn_cast<mlp::MulOp>(op)) {
      result = broadcast(get(m.getLhs()), get(m.getRhs()),
                         [](double x, double y) { return x * y; });
    } else if (auto d = dyn_cast<mlp::DivOp>(op)) {
      result = broadcast(get(d.getLhs()), get(d.getRhs()),
                         [](double x, double y) { return x / y; });
    } else if (auto s = dyn_cast<mlp::SinOp>(op)) {
      result = unary(get(s.getInput()), [](double x) { return std::sin(x); });
    } else if (auto c = dyn_cast<mlp::CosOp>(op)) {
      result = unary(get(c.getInput()), [](double x) { return std::cos(x); });
    } else if (auto e = dyn_cast<mlp::ExpOp>(op)) {
      result = unary(get(e.getInput()), [](double x) { return std::exp(x); });
    } else if (auto s = dyn_cast<mlp::SqrtOp>(op)) {
      result = unary(get(s.getInput()), [](double x) { return std::sqrt(x); });
    } else if (auto c = dyn_cast<mlp::ConstantOp>(op)) {
      result.data = {c.getValue().convertToDouble()};
    } else if (auto n = dyn_cast<mlp::BatchNormOp>(op)) {
      result = batchNorm(get(n.getInput()), get(n.getMean()),
                         get(n.getVariance()), optional(n.getWeight()),
                         optional(n.getBias()), n.getEps().convertToDouble());
    } else if (auto n = dyn_cast<mlp::LayerNormOp>(op)) {
      result = layerNorm(get(n.getInput()), optional(n.getWeight()),
                         optional(n.getBias()), n.getEps().convertToDouble());
    } else if (auto t = dyn_cast<mlp::TransposeOp>(op)) {
      result = transpose(get(t.getInput()), t.getPermutation());
    } else if (auto m = dyn_cast<mlp::MeanOp>(op)) {
      const HostTensor &x = get(m.getInput());
      int64_t axis = m.getAxis();
      result = mean(x, axis < 0 ? axis + x.shape.size() : axis);
    } else if (auto r = dyn_cast<mlp::ReshapeOp>(op)) {
      result = get(r.getInput());
      auto target = r.getType().getShape();
      result.shape.assign(target.begin(), target.end());
      int64_t known = 1;
      for (int64_t d : target)
        known *= ShapedType::isDynamic(d) ? 1 : d;
      for (int64_t &d : result.shape)
        if (ShapedType::isDynamic(d))
          d = static_cast<int64_t>(result.data.size()) / known;
    } else {
      return op.emitError("calibration cannot evaluate '")
             << op.getName() << "' yet";
    }
    if (observe)
      observe(op.getResult(0), result);
    env[op.getResult(0)] = std::move(result);
  }
  return func.emitError("model function has no return");
}
