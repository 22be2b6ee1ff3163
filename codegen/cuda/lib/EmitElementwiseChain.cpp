//===- EmitElementwiseChain.cpp - runs of elementwise ops as one kernel ---===//
//
// Elementwise ops run in kernels of runs: a value that only feeds the next
// elementwise op never reaches memory, so a
// run such as ResMLP's affine (x * alpha + beta) or a layer scale and its
// residual (t * gamma + x) becomes one kernel that reads each input once and
// writes the last result. Each op of the run combines the running value with
// nothing (an activation), a tensor of the same shape, a parameter row
// broadcast over the rows, or a constant.
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <functional>

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

namespace {

bool isElementwise(Operation *op) {
  return activationOf(op) >= 0 ||
         isa<mlp::AddOp, mlp::SubOp, mlp::MulOp, mlp::DivOp>(op);
}

const char *binarySymbol(Operation *op) {
  return isa<mlp::AddOp>(op)   ? "+"
         : isa<mlp::SubOp>(op) ? "-"
         : isa<mlp::MulOp>(op) ? "*"
                               : "/";
}

bool isRowParam(Value v, int64_t c) {
  return static_cast<bool>(rowParam(v, c));
}

std::string floatLiteral(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", v);
  std::string s = text;
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s + "f";
}

} // namespace

/// One op of a run: how it combines the running value `v` with its other
/// operand, as CUDA C++.
struct ProgramBuilder::ChainOp {
  Operation *op = nullptr;
  Value other; // the operand that is not the running value
  bool runningOnLeft = true;
  bool bothRunning = false; // x * x
};

bool ProgramBuilder::chainableOperand(Operation *op, Value running,
                                      ChainOp &out) {
  if (!isElementwise(op) || op->getNumResults() != 1 ||
      op->getResult(0).getType() != running.getType())
    return false;
  out = ChainOp{op, Value(), true};
  if (activationOf(op) >= 0)
    return op->getOperand(0) == running;
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  if (lhs == rhs) {
    out.bothRunning = lhs == running;
    return out.bothRunning;
  }
  out.runningOnLeft = lhs == running;
  out.other = out.runningOnLeft ? rhs : lhs;
  const int64_t c = colsOf(running.getType());
  if (out.other.getDefiningOp<mlp::ConstantOp>() || isRowParam(out.other, c))
    return true;
  return out.other.getType() == running.getType() && isAvailable(out.other);
}

/// Emits the run that starts at `first` (one op or more); false, with
/// nothing emitted, when `first` cannot start one (its operands broadcast
/// in other ways: emitElementwise's business).
FailureOr<bool> ProgramBuilder::emitElementwiseChain(Operation *first) {
  Value result = first->getResult(0);
  if (!isElementwise(first) || !isBatchMatrix(result.getType()))
    return false;
  // The running value enters as the first op's non-broadcast operand.
  Value running = first->getOperand(0);
  if (activationOf(first) < 0) {
    Value lhs = first->getOperand(0), rhs = first->getOperand(1);
    const int64_t c = colsOf(result.getType());
    if (lhs.getType() != result.getType() ||
        (isRowParam(lhs, c) || lhs.getDefiningOp<mlp::ConstantOp>()))
      running = rhs;
  }
  if (!isAvailable(running))
    return false;
  std::vector<ChainOp> ops(1);
  if (!chainableOperand(first, running, ops[0]))
    return false;
  Value last = result;
  while (last.hasOneUse() && !outputIndex.count(last)) {
    ChainOp next;
    if (!chainableOperand(*last.getUsers().begin(), last, next))
      break;
    ops.push_back(next);
    last = next.op->getResult(0);
  }

  const int64_t c = colsOf(result.getType());
  // Each tensor is read at element i of the result, through a row stride
  // when it is a column slice of a wider buffer, past padding rows when it
  // has them (token mixing's results), through an activation its producer
  // left to its readers.
  auto at = [&](const Strided &s, const std::string &col) -> std::string {
    if (s.start == 0 && s.stride == c && !s.padded)
      return "i"; // element i itself
    const std::string row = "(i / " + std::to_string(c) + ")";
    const std::string bufferRow =
        s.padded ? "(" + row + " / " + std::to_string(s.live) + " * " +
                       std::to_string(s.padded) + " + " + row + " % " +
                       std::to_string(s.live) + ")"
                 : row;
    return bufferRow + " * " + std::to_string(s.stride) + " + " +
           std::to_string(s.start) + " + " + col;
  };
  auto activated = [](const std::string &v, const Strided &s) {
    return s.act ? "mlpc::activate<" + std::to_string(s.act) + ">(" + v + ")"
                 : v;
  };
  // The ops, with `operand(k)` the k-th tensor's element as a float.
  Image image;
  std::vector<Strided> tensors;
  struct Line {
    std::string lhs, symbol, rhs; // v = lhs symbol rhs; "" symbol: v = lhs
    int tensor = -1;              // lhs or rhs is this tensor ("@")
  };
  std::vector<Line> code;
  std::vector<uint64_t> params; // float offsets of the parameter rows
  for (ChainOp &op : ops) {
    if (op.bothRunning) {
      code.push_back({"v", binarySymbol(op.op), "v"});
      continue;
    }
    if (!op.other) {
      code.push_back(
          {"mlpc::activate<" + std::to_string(activationOf(op.op)) + ">(v)",
           "", ""});
      continue;
    }
    std::string w;
    int tensor = -1;
    if (auto constant = op.other.getDefiningOp<mlp::ConstantOp>()) {
      w = floatLiteral(constant.getValue().convertToDouble());
    } else if (auto param = op.other.getDefiningOp<mlp::ParamOp>()) {
      image.pieces.push_back(
          {param.getName().str(), "float32", 1, c, 1, c, image.bytes});
      w = "p[" + std::to_string(image.bytes / 4) + " + c]";
      params.push_back(image.bytes / 4);
      image.bytes += alignTo16(c * 4);
    } else {
      auto t = stridedOf(op.other, op.op, /*readsActivation=*/true,
                         /*takesPadding=*/true);
      if (failed(t))
        return failure();
      tensor = static_cast<int>(tensors.size());
      tensors.push_back(*t);
      w = "@";
    }
    code.push_back({op.runningOnLeft ? "v" : w, binarySymbol(op.op),
                    op.runningOnLeft ? w : "v", tensor});
  }
  auto body = [&](const std::function<std::string(int)> &operand) {
    std::string text;
    for (const Line &s : code) {
      auto side = [&](const std::string &e) {
        return e == "@" ? operand(s.tensor) : e;
      };
      text += "      v = " + side(s.lhs) +
              (s.symbol.empty() ? "" : " " + s.symbol + " " + side(s.rhs)) +
              ";\n";
    }
    return text;
  };
  for (ChainOp &op : ops)
    consumed.insert(op.op);
  auto x = stridedOf(running, first, /*readsActivation=*/true,
                     /*takesPadding=*/true);
  if (failed(x))
    return failure();
  const int in = x->value;
  const int out = defineResult(last);
  int imageIndex = -1;
  if (!image.pieces.empty()) {
    program.images.push_back(image);
    imageIndex = program.images.size() - 1;
  }
  Step step;
  std::string what = "elementwise";
  for (ChainOp &op : ops)
    what += " " + op.op->getName().getStringRef().drop_front(4).str();
  newKernel(what + " over " + std::to_string(c), step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256; // elements
  step.args = {{Arg::ValueRef, in}, {Arg::ImageRef, imageIndex}};
  std::string signature;
  llvm::raw_string_ostream ps(signature);
  const char *xt = cType(program.values[in].dtype);
  ps << "const " << xt << " *__restrict__ x, const float *__restrict__ p";
  for (size_t k = 0; k < tensors.size(); ++k) {
    step.args.push_back({Arg::ValueRef, tensors[k].value});
    ps << ", const " << cType(program.values[tensors[k].value].dtype)
       << " *__restrict__ t" << k;
  }
  const char *ot = cType(program.values[out].dtype);
  ps << ", " << ot << " *__restrict__ y, long long n";
  step.args.push_back({Arg::ValueRef, out});
  Arg count = rowsOf(out);
  count.perBatch *= c; // elements
  step.args.push_back(count);
  // V elements a thread with V-element loads and stores where every row
  // start allows them (and the pointers, checked at run time), one else.
  int v = 8;
  auto allows = [&](const Strided &s) {
    return s.stride % v == 0 && s.start % v == 0;
  };
  while (v > 1 && (c % v || !allows(*x) ||
                   !llvm::all_of(tensors, allows)))
    v /= 2;
  const std::string vs = std::to_string(v);
  std::string kernel;
  llvm::raw_string_ostream ks(kernel);
  const std::string loop =
      "blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; ";
  const std::string stride = "static_cast<long long>(gridDim.x) * blockDim.x";
  if (v > 1) {
    ks << "if (mlpc::alignedTo<" << vs << ">(x) && mlpc::alignedTo<" << vs
       << ">(y) && mlpc::alignedTo<" << vs << ">(p)";
    for (size_t k = 0; k < tensors.size(); ++k)
      ks << " && mlpc::alignedTo<" << vs << ">(t" << k << ")";
    ks << ") {\n    for (long long g = " << loop << "g < n / " << vs
       << "; g += " << stride << ") {\n      const long long i = g * " << vs
       << ";\n      const int c0 = static_cast<int>(i % " << c
       << ");\n      float xv[" << vs << "], yv[" << vs << "];\n"
       << "      mlpc::loadPack<" << xt << ", " << vs << ">(x + "
       << at(*x, "c0") << ", xv);\n";
    for (size_t k = 0; k < tensors.size(); ++k)
      ks << "      float tv" << k << "[" << vs << "];\n      mlpc::loadPack<"
         << cType(program.values[tensors[k].value].dtype) << ", " << vs
         << ">(t" << k << " + " << at(tensors[k], "c0") << ", tv" << k
         << ");\n";
    // Parameter rows V floats at a time too (scalar loads of them made L1
    // the bottleneck of layer_norm, ncu).
    std::string vectorBody = body([&](int k) {
      return activated("tv" + std::to_string(k) + "[k]", tensors[k]);
    });
    for (uint64_t at : params) {
      const std::string name = "pv" + std::to_string(at);
      ks << "      float " << name << "[" << vs << "];\n      mlpc::loadPack<float, "
         << vs << ">(p + " << at << " + c0, " << name << ");\n";
      const std::string scalar = "p[" + std::to_string(at) + " + c]";
      for (size_t i; (i = vectorBody.find(scalar)) != std::string::npos;)
        vectorBody.replace(i, scalar.size(), name + "[k]");
    }
    ks << "#pragma unroll\n      for (int k = 0; k < " << vs
       << "; ++k) {\n      const int c = c0 + k;\n      (void)c;\n"
       << "      float v = " << activated("xv[k]", *x) << ";\n"
       << vectorBody
       << "      yv[k] = v;\n      }\n      mlpc::storePack<" << ot << ", "
       << vs << ">(y + i, yv);\n    }\n    return;\n  }\n  ";
  }
  ks << "for (long long i = " << loop << "i < n;\n       i += " << stride
     << ") {\n    const int c = static_cast<int>(i % " << c
     << ");\n    (void)c;\n    float v = "
     << activated("mlpc::toFloat(x[" + at(*x, "c") + "])", *x) << ";\n"
     << body([&](int k) {
          return activated("mlpc::toFloat(t" + std::to_string(k) + "[" +
                               at(tensors[k], "c") + "])",
                           tensors[k]);
        })
     << "    y[i] = mlpc::fromFloat<" << ot << ">(v);\n  }";
  addStep(step, signature, kernel);
  return true;
}
