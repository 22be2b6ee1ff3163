//===- CublasLt.cpp - cuBLASLt, loaded at run time ------------------------===//
//
// Row-major y[M, n] = x[M, k] W^T, with W (n, k) row-major, is column-major
// y^T (n x M) = op_T(W) (n x k) * x^T (k x M): cuBLASLt's A is W read
// transposed (a k x n column-major matrix, ld k), its B is x (k x M, ld k),
// and C and D are y (n x M, ld n). The bias then runs along D's rows, as
// cuBLASLt's bias epilogue wants.
//
//===----------------------------------------------------------------------===//
#include "CublasLt.h"

#include <cstdlib>

namespace mlp::rt::cublaslt {
namespace {

Library load() {
  Library l;
  std::vector<std::string> paths;
  if (const char *path = std::getenv("MLPC_CUBLASLT_LIBRARY"); path && *path)
    paths = {path};
  else
    paths = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};
  void *lib = nullptr;
  for (const std::string &p : paths)
    if ((lib = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL)))
      break;
  if (!lib) {
    const char *why = dlerror();
    l.error = "cannot load " + paths.front() + " (" +
              (why ? why : "unknown reason") + ")";
    return l;
  }
  std::string missing;
  using cuda::bindSymbol;
  bindSymbol(lib, "cublasLtCreate", l.create, missing);
  bindSymbol(lib, "cublasLtDestroy", l.destroy, missing);
  bindSymbol(lib, "cublasLtMatmulDescCreate", l.matmulDescCreate, missing);
  bindSymbol(lib, "cublasLtMatmulDescDestroy", l.matmulDescDestroy, missing);
  bindSymbol(lib, "cublasLtMatmulDescSetAttribute", l.matmulDescSetAttribute,
             missing);
  bindSymbol(lib, "cublasLtMatrixLayoutCreate", l.matrixLayoutCreate, missing);
  bindSymbol(lib, "cublasLtMatrixLayoutDestroy", l.matrixLayoutDestroy,
             missing);
  bindSymbol(lib, "cublasLtMatrixLayoutSetAttribute",
             l.matrixLayoutSetAttribute, missing);
  bindSymbol(lib, "cublasLtMatmulPreferenceCreate", l.preferenceCreate,
             missing);
  bindSymbol(lib, "cublasLtMatmulPreferenceDestroy", l.preferenceDestroy,
             missing);
  bindSymbol(lib, "cublasLtMatmulPreferenceSetAttribute",
             l.preferenceSetAttribute, missing);
  bindSymbol(lib, "cublasLtMatmulAlgoGetHeuristic", l.algoGetHeuristic,
             missing);
  bindSymbol(lib, "cublasLtMatmul", l.matmul, missing);
  if (!missing.empty()) {
    l.error = "libcublasLt lacks " + missing;
    return l;
  }
  l.loaded = true;
  return l;
}

int dataType(const std::string &dtype) {
  return dtype == "float16" ? kR16F : dtype == "bfloat16" ? kR16BF : kR32F;
}

/// The largest power of two (up to 256) dividing the address.
unsigned alignmentOf(cuda::CUdeviceptr p) {
  unsigned a = 256;
  while (a > 1 && p % a)
    a /= 2;
  return a;
}

} // namespace

const Library &Library::get() {
  static const Library library = load(); // never unloaded
  return library;
}

bool Gemms::init(const CudaPlan &plan,
                 const std::vector<cuda::CUdeviceptr> &images,
                 const std::string &only, std::string &why) {
  const Library &l = Library::get();
  if (!l.loaded) {
    why = l.error;
    return false;
  }
  if (l.create(&handle_) != kSuccess) {
    handle_ = nullptr;
    why = "cublasLtCreate failed";
    return false;
  }
  lib_ = &l;
  ops_.resize(plan.steps.size());
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const CudaStep &step = plan.steps[s];
    static const char *names[] = {"none", "relu", "gelu_tanh", "gelu"};
    if (!step.hasGemm ||
        (!only.empty() &&
         ("," + only + ",")
                 .find(std::string(",") + names[step.gemm.activation] + ",") ==
             std::string::npos))
      continue;
    Op &op = ops_[s];
    op.gemm = step.gemm;
    op.rowsPerBatch = plan.values[op.gemm.x].rowsPerBatch;
    op.channels = plan.values[op.gemm.x].cols;
    op.xType = dataType(plan.values[op.gemm.x].dtype);
    op.yType = dataType(plan.values[op.gemm.y].dtype);
    op.weight = images[op.gemm.image];
    // Token mixing multiplies x_b^T (C x k) by W^T (k x n), both as stored.
    const int transA = op.gemm.tokens ? kOpN : kOpT, transB = kOpN;
    // CudaGemm::Gelu: the product and bias here, the GELU by a kernel after.
    int epilogue = op.gemm.activation == CudaGemm::Relu       ? kEpilogueRelu
                   : op.gemm.activation == CudaGemm::GeluTanh ? kEpilogueGelu
                                                              : 0;
    cuda::CUdeviceptr bias = 0;
    if (op.gemm.biasOffset >= 0 && !op.gemm.tokens) { // tokens: C is the bias
      epilogue |= kEpilogueBias;
      bias = op.weight + op.gemm.biasOffset;
    }
    if (!epilogue)
      epilogue = kEpilogueDefault;
    MatmulDesc desc = nullptr;
    bool ok = l.matmulDescCreate(&desc, kCompute32F, kR32F) == kSuccess;
    ok = ok &&
         l.matmulDescSetAttribute(desc, kDescTransA, &transA, sizeof transA) ==
             kSuccess &&
         l.matmulDescSetAttribute(desc, kDescTransB, &transB, sizeof transB) ==
             kSuccess &&
         l.matmulDescSetAttribute(desc, kDescEpilogue, &epilogue,
                                  sizeof epilogue) == kSuccess &&
         (!bias || l.matmulDescSetAttribute(desc, kDescBiasPointer, &bias,
                                            sizeof bias) == kSuccess) &&
         (op.gemm.tokens || // its layouts depend on the batch (makeTokenPlan)
          l.matrixLayoutCreate(&op.weightLayout, op.xType, op.gemm.k,
                               op.gemm.n, op.gemm.k) == kSuccess);
    if (!ok) { // this step keeps its kernel
      if (desc)
        l.matmulDescDestroy(desc);
      continue;
    }
    op.desc = desc;
  }
  return true;
}

bool Gemms::makePlan(const Op &op, int64_t rows, unsigned alignments,
                     Plan &out) {
  if (op.gemm.tokens)
    return makeTokenPlan(op, rows, alignments, out);
  const Library &l = *lib_;
  const uint64_t m = uint64_t(rows) * op.rowsPerBatch;
  if (l.matrixLayoutCreate(&out.x, op.xType, op.gemm.k, m, op.gemm.k) !=
      kSuccess) {
    out.x = nullptr;
    return false;
  }
  if (l.matrixLayoutCreate(&out.y, op.yType, op.gemm.n, m, op.gemm.n) !=
      kSuccess) {
    out.y = nullptr;
    return false;
  }
  // The weight image is 256-byte aligned; x, residual and y as they come.
  return chooseAlgorithm(op, {op.weightLayout, out.x, out.y, out.y},
                         {256, alignments & 0x1ff, (alignments >> 9) & 0x1ff,
                          (alignments >> 18) & 0x1ff},
                         out);
}

bool Gemms::chooseAlgorithm(const Op &op,
                            const std::array<MatrixLayout, 4> &abcd,
                            const std::array<uint32_t, 4> &alignments,
                            Plan &out) {
  const Library &l = *lib_;
  Preference pref = nullptr;
  if (l.preferenceCreate(&pref) != kSuccess)
    return false;
  const uint64_t workspace = kWorkspaceBytes;
  bool ok = l.preferenceSetAttribute(pref, kPrefMaxWorkspace, &workspace,
                                     sizeof workspace) == kSuccess;
  const int keys[4] = {kPrefMinAlignmentA, kPrefMinAlignmentB,
                       kPrefMinAlignmentC, kPrefMinAlignmentD};
  for (int i = 0; i < 4; ++i)
    ok = ok && l.preferenceSetAttribute(pref, keys[i], &alignments[i],
                                        sizeof alignments[i]) == kSuccess;
  HeuristicResult result{};
  int found = 0;
  ok = ok &&
       l.algoGetHeuristic(handle_, op.desc, abcd[0], abcd[1], abcd[2],
                          abcd[3], pref, 1, &result, &found) == kSuccess &&
       found > 0 && result.state == kSuccess &&
       result.workspaceSize <= kWorkspaceBytes;
  l.preferenceDestroy(pref);
  out.found = ok;
  out.algo = result.algo;
  return ok;
}

/// Token mixing over a batch of `rows` samples, in cuBLASLt's column-major
/// terms per sample: y_b^T (C x n) = x_b^T (C x k) * W^T (k x n) + bias
/// (C x n, the same for every sample: batch stride 0).
bool Gemms::makeTokenPlan(const Op &op, int64_t rows, unsigned alignments,
                          Plan &out) {
  const Library &l = *lib_;
  if (rows < 1 || rows > 0x7fffffff)
    return false;
  const int count = static_cast<int>(rows);
  const uint64_t c = op.channels, k = op.gemm.k, n = op.gemm.n;
  auto layout = [&](MatrixLayout &m, int type, uint64_t r, uint64_t cols,
                    int64_t stride) {
    if (l.matrixLayoutCreate(&m, type, r, cols, static_cast<int64_t>(r)) !=
        kSuccess) {
      m = nullptr;
      return false;
    }
    return l.matrixLayoutSetAttribute(m, kLayoutBatchCount, &count,
                                      sizeof count) == kSuccess &&
           l.matrixLayoutSetAttribute(m, kLayoutStridedBatchOffset, &stride,
                                      sizeof stride) == kSuccess;
  };
  if (!layout(out.x, op.xType, c, k, int64_t(k * c)) ||
      !layout(out.w, op.xType, k, n, 0) ||
      !layout(out.y, op.yType, c, n, int64_t(n * c)) ||
      (op.gemm.biasOffset >= 0 && !layout(out.bias, op.yType, c, n, 0)))
    return false;
  // x and y as they come; the image is 256-byte aligned, the bias 16.
  const uint32_t alignD = (alignments >> 18) & 0x1ff;
  return chooseAlgorithm(
      op, {out.x, out.w, out.bias ? out.bias : out.y, out.y},
      {alignments & 0x1ff, 256, op.gemm.biasOffset >= 0 ? 16 : alignD, alignD},
      out);
}

void Gemms::destroyPlan(Plan &plan) {
  for (MatrixLayout *m : {&plan.x, &plan.y, &plan.w, &plan.bias}) {
    if (*m)
      lib_->matrixLayoutDestroy(*m);
    *m = nullptr;
  }
}

bool Gemms::run(size_t step, int64_t rows, cuda::CUdeviceptr x,
                cuda::CUdeviceptr residual, cuda::CUdeviceptr y,
                cuda::CUdeviceptr workspace, cuda::CUstream stream) {
  const Op &op = ops_[step];
  const float alpha = 1.0f, beta = residual ? 1.0f : 0.0f;
  const unsigned alignments = alignmentOf(x) |
                              alignmentOf(residual ? residual : y) << 9 |
                              alignmentOf(y) << 18;
  std::lock_guard<std::mutex> lock(mutex_);
  // A few batch sizes are the rule; past 256 plans, plan each call anew.
  Plan scratch;
  Plan *plan = &scratch;
  const Key key{step, rows, alignments};
  auto it = plans_.find(key);
  if (it != plans_.end()) {
    plan = &it->second;
  } else {
    if (plans_.size() < 256)
      plan = &plans_[key];
    makePlan(op, rows, alignments, *plan);
  }
  if (op.gemm.tokens) { // A = x, B = W, C = the bias (or y, beta 0)
    const float tokenBeta = op.gemm.biasOffset >= 0 ? 1.0f : 0.0f;
    const cuda::CUdeviceptr c =
        op.gemm.biasOffset >= 0 ? op.weight + op.gemm.biasOffset : y;
    bool ok = plan->found &&
              lib_->matmul(handle_, op.desc, &alpha,
                           reinterpret_cast<const void *>(x), plan->x,
                           reinterpret_cast<const void *>(op.weight), plan->w,
                           &tokenBeta, reinterpret_cast<const void *>(c),
                           plan->bias ? plan->bias : plan->y,
                           reinterpret_cast<void *>(y), plan->y, &plan->algo,
                           reinterpret_cast<void *>(workspace),
                           kWorkspaceBytes, stream) == kSuccess;
    if (plan == &scratch)
      destroyPlan(scratch);
    return ok;
  }
  bool ok =
      plan->found &&
      lib_->matmul(handle_, op.desc, &alpha,
                   reinterpret_cast<const void *>(op.weight), op.weightLayout,
                   reinterpret_cast<const void *>(x), plan->x, &beta,
                   reinterpret_cast<const void *>(residual ? residual : y),
                   plan->y, reinterpret_cast<void *>(y), plan->y, &plan->algo,
                   reinterpret_cast<void *>(workspace), kWorkspaceBytes,
                   stream) == kSuccess;
  if (plan == &scratch)
    destroyPlan(scratch);
  return ok;
}

Gemms::~Gemms() {
  if (!handle_)
    return;
  for (auto &[key, plan] : plans_)
    destroyPlan(plan);
  for (Op &op : ops_) {
    if (op.weightLayout)
      lib_->matrixLayoutDestroy(op.weightLayout);
    if (op.desc)
      lib_->matmulDescDestroy(op.desc);
  }
  lib_->destroy(handle_);
}

} // namespace mlp::rt::cublaslt
