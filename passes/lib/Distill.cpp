//===- Distill.cpp - least-squares refit against the teacher --------------===//
#include "Calibration.h"
#include "LogitDistill.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/Passes/Passes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlp {
#define GEN_PASS_DEF_MLPDISTILL
#include "mlp/Passes/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

/// Solves G X = R in place (G symmetric positive definite, n x n; R n x m,
/// row-major) by Cholesky. False if G is not positive definite.
bool choleskySolve(std::vector<double> &g, std::vector<double> &r, int64_t n,
                   int64_t m) {
  for (int64_t j = 0; j < n; ++j) {
    double d = g[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      d -= g[j * n + k] * g[j * n + k];
    if (!(d > 0))
      return false;
    d = std::sqrt(d);
    g[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double v = g[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        v -= g[i * n + k] * g[j * n + k];
      g[i * n + j] = v / d;
    }
  }
  for (int64_t c = 0; c < m; ++c) {
    for (int64_t i = 0; i < n; ++i) { // L y = r
      double v = r[i * m + c];
      for (int64_t k = 0; k < i; ++k)
        v -= g[i * n + k] * r[k * m + c];
      r[i * m + c] = v / g[i * n + i];
    }
    for (int64_t i = n - 1; i >= 0; --i) { // L^T x = y
      double v = r[i * m + c];
      for (int64_t k = i + 1; k < n; ++k)
        v -= g[k * n + i] * r[k * m + c];
      r[i * m + c] = v / g[i * n + i];
    }
  }
  return true;
}

struct OutputError {
  double relativeL2 = 0;
  double kl = -1; // < 0: not a classifier output
};

OutputError compare(const std::vector<mlp::HostTensor> &teacher,
                    const std::vector<mlp::HostTensor> &student) {
  OutputError e;
  double diff = 0, norm = 0;
  for (size_t o = 0; o < teacher.size(); ++o)
    for (size_t i = 0; i < teacher[o].data.size(); ++i) {
      double d = student[o].data[i] - teacher[o].data[i];
      diff += d * d;
      norm += teacher[o].data[i] * teacher[o].data[i];
    }
  e.relativeL2 = std::sqrt(diff / std::max(norm, 1e-300));
  const mlp::HostTensor &t = teacher.front(), &s = student.front();
  int64_t c = t.shape.empty() ? 1 : t.shape.back();
  if (c < 2)
    return e;
  int64_t rows = t.numElements() / c;
  double kl = 0;
  for (int64_t r = 0; r < rows; ++r) {
    auto logSoftmax = [&](const mlp::HostTensor &x, std::vector<double> &out) {
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < c; ++j)
        mx = std::max(mx, x.data[r * c + j]);
      for (int64_t j = 0; j < c; ++j)
        sum += std::exp(x.data[r * c + j] - mx);
      out.resize(c);
      for (int64_t j = 0; j < c; ++j)
        out[j] = x.data[r * c + j] - mx - std::log(sum);
    };
    std::vector<double> lt, ls;
    logSoftmax(t, lt);
    logSoftmax(s, ls);
    for (int64_t j = 0; j < c; ++j)
      kl += std::exp(lt[j]) * (lt[j] - ls[j]);
  }
  e.kl = kl / rows;
  return e;
}

void report(llvm::raw_ostream &os, const char *when, const OutputError &e) {
  os << "  output error vs teacher " << when << ": relative L2 "
     << llvm::format("%.6g", e.relativeL2);
  if (e.kl >= 0)
    os << ", KL " << llvm::format("%.6g", e.kl);
  os << "\n";
}

/// Above this many unknowns per output the ridge strength is not
/// cross-validated (each candidate costs a Cholesky factorization per fold).
constexpr int64_t kMaxCrossValidatedWidth = 1024;

struct Distill : public mlp::impl::MLPDistillBase<Distill> {
  using MLPDistillBase::MLPDistillBase;
  Distill(const mlp::MLPDistillOptions &options, mlp::WeightStore &store)
      : MLPDistillBase(options), given(&store) {}

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    func::FuncOp model = mlp::calibration::findModel(module);
    if (!model)
      return failure();
    auto teacher = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        module, StringAttr::get(&getContext(),
                                (model.getSymName() + "__teacher").str()));
    if (!teacher || !teacher->hasAttr(mlp::kTeacherAttr))
      return model.emitError("-mlp-distill needs the teacher that "
                             "-mlp-prune (mode=width) leaves; prune first");
    store = mlp::calibration::storeFor(given, weightsPath, owned, module);
    if (!store)
      return failure();
    int64_t samples = 0;
    auto inputs = mlp::calibration::load(model, calibrationPath, samples);
    if (failed(inputs))
      return failure();

    // The pruned layers, and the teacher's output of each.
    SmallVector<mlp::LinearOp> layers;
    model.walk([&](mlp::LinearOp op) {
      if (op->hasAttr(mlp::kPrunedAttr))
        layers.push_back(op);
    });
    auto weightName = [](mlp::LinearOp op) {
      auto p = op.getWeight().getDefiningOp<mlp::ParamOp>();
      return p ? p.getName().str() : std::string();
    };
    llvm::StringMap<mlp::HostTensor> targets;
    std::vector<mlp::HostTensor> teacherOut, studentOut;
    if (failed(mlp::interpret(teacher, *store, *inputs, teacherOut,
                              [&](Value v, const mlp::HostTensor &t) {
                                if (auto l = v.getDefiningOp<mlp::LinearOp>())
                                  targets[weightName(l)] = t;
                              })) ||
        failed(mlp::interpret(model, *store, *inputs, studentOut)))
      return failure();
    llvm::errs() << "mlp-distill: least-squares refit of " << layers.size()
                 << " pruned layer(s) on " << samples << " samples\n";
    OutputError before = compare(teacherOut, studentOut);

    for (mlp::LinearOp layer : layers)
      if (failed(refit(model, layer, targets[weightName(layer)], *inputs)))
        return failure();

    if (failed(mlp::interpret(model, *store, *inputs, studentOut)))
      return failure();
    OutputError afterRefit = compare(teacherOut, studentOut);
    bool trained = false;
    if (epochs > 0) {
      mlp::LogitDistillOptions kl;
      kl.epochs = epochs;
      kl.learningRate = learningRate;
      kl.temperature = temperature;
      if (failed(mlp::logitDistill(model, *store, inputs->front(),
                                   teacherOut.front(), kl, trained)))
        return failure();
      if (!trained)
        llvm::errs() << "mlp-distill: logit distillation needs a chain of "
                        "linears, activations, batch norms and per-channel "
                        "scales; skipped\n";
      else if (failed(mlp::interpret(model, *store, *inputs, studentOut)))
        return failure();
    }
    report(llvm::errs(), "before distillation", before);
    if (trained)
      report(llvm::errs(), "after least squares", afterRefit);
    report(llvm::errs(), "after distillation", compare(teacherOut, studentOut));
    teacher.erase();
    return success();
  }

  /// Ridge least squares: [X 1] [W b]^T ~ Y, X the pruned model's input of
  /// this layer, Y the teacher's output of it.
  LogicalResult refit(func::FuncOp model, mlp::LinearOp layer,
                      const mlp::HostTensor &target,
                      ArrayRef<mlp::HostTensor> inputs) {
    mlp::HostTensor x;
    std::vector<mlp::HostTensor> unused;
    if (failed(mlp::interpret(model, *store, inputs, unused,
                              [&](Value v, const mlp::HostTensor &t) {
                                if (v == layer.getInput())
                                  x = t;
                              })))
      return failure();
    auto weight = layer.getWeight().getDefiningOp<mlp::ParamOp>();
    auto bias = layer.getBias() ? layer.getBias().getDefiningOp<mlp::ParamOp>()
                                : nullptr;
    int64_t k = weight.getType().getDimSize(1);
    int64_t out = weight.getType().getDimSize(0);
    int64_t rows = x.numElements() / k;
    int64_t n = k + (bias ? 1 : 0);
    if (rows < n)
      return layer.emitError("distillation of '")
             << weight.getName() << "' needs at least " << n
             << " calibration rows (its pruned width" << (bias ? " + 1" : "")
             << "), got " << rows;
    // The teacher's outputs of this layer that the pruned layer still has
    // (all, unless the layer's own outputs were pruned too).
    std::vector<int64_t> columns;
    int64_t teacherOut = target.shape.back();
    if (auto kept = layer->getAttrOfType<DenseI64ArrayAttr>(mlp::kKeptAttr))
      columns.assign(kept.asArrayRef().begin(), kept.asArrayRef().end());
    else
      for (int64_t o = 0; o < teacherOut; ++o)
        columns.push_back(o);
    if (static_cast<int64_t>(columns.size()) != out)
      return layer.emitError("distillation: the teacher's layer has ")
             << teacherOut << " outputs, the pruned one " << out;
    // The normal equations, accumulated per fold of the calibration rows
    // (row s in fold s % folds) so that the ridge strength can be chosen by
    // cross-validation: fold f's held-out error of a solution S fitted on
    // the other folds is S^T G_f S - 2 S^T R_f + |Y_f|^2.
    int64_t folds = ridgeFolds >= 2 && rows >= 2 * ridgeFolds &&
                            n <= kMaxCrossValidatedWidth
                        ? ridgeFolds
                        : 1;
    std::vector<std::vector<double>> gf(folds, std::vector<double>(n * n)),
        rf(folds, std::vector<double>(n * out));
    std::vector<double> yy(folds, 0.0);
    std::vector<double> a(n);
    for (int64_t s = 0; s < rows; ++s) {
      std::vector<double> &g = gf[s % folds], &r = rf[s % folds];
      for (int64_t j = 0; j < k; ++j)
        a[j] = x.data[s * k + j];
      if (bias)
        a[k] = 1.0;
      const double *y = &target.data[s * teacherOut];
      for (int64_t o = 0; o < out; ++o)
        yy[s % folds] += y[columns[o]] * y[columns[o]];
      for (int64_t i = 0; i < n; ++i) {
        if (a[i] == 0.0)
          continue;
        for (int64_t j = 0; j <= i; ++j)
          g[i * n + j] += a[i] * a[j];
        for (int64_t o = 0; o < out; ++o)
          r[i * out + o] += a[i] * y[columns[o]];
      }
    }
    for (std::vector<double> &g : gf)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j)
          g[i * n + j] = g[j * n + i];
    auto sum = [](const std::vector<std::vector<double>> &parts, int64_t skip) {
      std::vector<double> total(parts.front().size(), 0.0);
      for (size_t p = 0; p < parts.size(); ++p)
        if (static_cast<int64_t>(p) != skip)
          for (size_t i = 0; i < total.size(); ++i)
            total[i] += parts[p][i];
      return total;
    };
    // Ridge lambda relative to the mean diagonal of the Gram matrix; the
    // bias is not regularized.
    auto regularize = [&](std::vector<double> &g, double relative) {
      double trace = 0;
      for (int64_t i = 0; i < n; ++i)
        trace += g[i * n + i];
      double lambda = relative * trace / n + 1e-12;
      for (int64_t i = 0; i < k; ++i)
        g[i * n + i] += lambda;
    };
    double strength = ridge;
    if (folds > 1) {
      double bestError = INFINITY;
      for (double candidate :
           {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1}) {
        double error = 0;
        for (int64_t f = 0; f < folds && std::isfinite(error); ++f) {
          std::vector<double> g = sum(gf, f), r = sum(rf, f);
          regularize(g, candidate);
          if (!choleskySolve(g, r, n, out)) {
            error = INFINITY;
            break;
          }
          const std::vector<double> &gh = gf[f], &rh = rf[f];
          error += yy[f];
          for (int64_t o = 0; o < out; ++o)
            for (int64_t i = 0; i < n; ++i) {
              double si = r[i * out + o], quad = 0;
              for (int64_t j = 0; j < n; ++j)
                quad += gh[i * n + j] * r[j * out + o];
              error += si * (quad - 2 * rh[i * out + o]);
            }
        }
        if (error < bestError) {
          bestError = error;
          strength = candidate;
        }
      }
    }
    std::vector<double> g = sum(gf, -1), r = sum(rf, -1);
    regularize(g, strength);
    llvm::errs() << "  refit " << weight.getName() << ": ridge "
                 << llvm::format("%g", strength)
                 << (folds > 1 ? " (chosen by " + std::to_string(folds) +
                                     "-fold cross-validation)"
                               : std::string())
                 << "\n";
    if (!choleskySolve(g, r, n, out))
      return layer.emitError("distillation of '")
             << weight.getName() << "': the normal equations are singular";
    std::vector<float> w(out * k), b(out);
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t j = 0; j < k; ++j)
        w[o * k + j] = static_cast<float>(r[j * out + o]);
      if (bias)
        b[o] = static_cast<float>(r[k * out + o]);
    }
    store->setFloat32(weight.getName().str(), {out, k}, std::move(w));
    if (bias)
      store->setFloat32(bias.getName().str(), {out}, std::move(b));
    return success();
  }

  mlp::WeightStore *given = nullptr;
  mlp::WeightStore *store = nullptr;
  std::shared_ptr<mlp::WeightStore> owned;
};
} // namespace

std::unique_ptr<Pass> mlp::createMLPDistill(const MLPDistillOptions &options,
                                            WeightStore &store) {
  return std::make_unique<Distill>(options, store);
}
