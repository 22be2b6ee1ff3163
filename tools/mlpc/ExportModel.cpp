//===- ExportModel.cpp - mlp IR back to the .mlp language -----------------===//
#include "ExportModel.h"

#include "mlp/IR/MLPOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"

using namespace mlir;

namespace {

std::string typeText(RankedTensorType type) {
  std::string text = type.getElementType().isF32()    ? "f32"
                     : type.getElementType().isF16()  ? "f16"
                     : type.getElementType().isBF16() ? "bf16"
                                                      : "f64";
  text += "[";
  for (auto [i, d] : llvm::enumerate(type.getShape()))
    text += (i ? ", " : "") +
            (ShapedType::isDynamic(d) ? std::string("N") : std::to_string(d));
  return text + "]";
}

/// "fc1" for parameters "fc1.weight" (+ "fc1.bias"), or "" if they do not
/// follow that pattern.
std::string bindingOf(Value weight, Value bias) {
  auto w = weight ? weight.getDefiningOp<mlp::ParamOp>() : nullptr;
  auto b = bias ? bias.getDefiningOp<mlp::ParamOp>() : nullptr;
  if (!w || !w.getName().ends_with(".weight") || (bias && !b))
    return "";
  std::string path = w.getName().drop_back(strlen(".weight")).str();
  if (b && b.getName() != path + ".bias")
    return "";
  return path;
}

} // namespace

LogicalResult mlpc::exportModel(func::FuncOp model, llvm::raw_ostream &os) {
  llvm::DenseMap<Value, std::string> names;
  std::string body;
  llvm::raw_string_ostream out(body);
  for (BlockArgument arg : model.getArguments()) {
    auto name = model.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                   "mlp.name");
    names[arg] = name.str();
    out << "  input " << name.getValue() << ": "
        << typeText(cast<RankedTensorType>(arg.getType())) << "\n";
  }
  int counter = 0;
  auto fresh = [&] { return "t" + std::to_string(counter++); };
  for (Operation &op : model.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands()))
        out << "  output "
            << model.getResultAttrOfType<StringAttr>(i, "mlp.name").getValue()
            << " = " << names[v] << "\n";
      break;
    }
    std::string expr;
    if (auto param = dyn_cast<mlp::ParamOp>(op)) {
      // Bound by the op that uses it, unless something else reads it.
      bool direct = llvm::any_of(param->getUsers(), [](Operation *user) {
        return !isa<mlp::LinearOp, mlp::LayerNormOp>(user);
      });
      if (!direct)
        continue;
      std::string name = fresh();
      out << "  " << name << " = param @" << param.getName() << ": "
          << typeText(param.getType()) << "\n";
      names[param] = name;
      continue;
    }
    if (auto l = dyn_cast<mlp::LinearOp>(op)) {
      std::string path = bindingOf(l.getWeight(), l.getBias());
      if (path.empty())
        return l.emitError("cannot export: linear weights are not named "
                           "<path>.weight / <path>.bias");
      expr = "linear(" + names[l.getInput()] + ", " +
             std::to_string(l.getType().getShape().back()) +
             (l.getBias() ? "" : ", bias=false") + ") @" + path;
    } else if (auto n = dyn_cast<mlp::LayerNormOp>(op)) {
      std::string eps;
      llvm::raw_string_ostream(eps) << llvm::format(
          "%g", n.getEps().convertToDouble());
      if (!n.getWeight() && !n.getBias()) {
        expr = "layer_norm(" + names[n.getInput()] + ", eps=" + eps +
               ", affine=false)";
      } else {
        std::string path = bindingOf(n.getWeight(), n.getBias());
        if (path.empty() || !n.getBias())
          return n.emitError("cannot export: layer_norm parameters are not "
                             "named <path>.weight / <path>.bias");
        expr = "layer_norm(" + names[n.getInput()] + ", eps=" + eps + ") @" +
               path;
      }
    } else if (isa<mlp::ReluOp, mlp::SiluOp, mlp::SigmoidOp, mlp::TanhOp>(op)) {
      expr = op.getName().stripDialect().str() + "(" +
             names[op.getOperand(0)] + ")";
    } else if (auto g = dyn_cast<mlp::GeluOp>(op)) {
      expr = "gelu(" + names[g.getInput()] +
             (g.getApproximate() == "tanh" ? ", approximate=\"tanh\")" : ")");
    } else if (isa<mlp::AddOp, mlp::SubOp, mlp::MulOp>(op)) {
      const char *sign = isa<mlp::AddOp>(op) ? " + " : isa<mlp::SubOp>(op) ? " - " : " * ";
      expr = names[op.getOperand(0)] + sign + names[op.getOperand(1)];
    } else if (auto m = dyn_cast<mlp::MeanOp>(op)) {
      expr = "mean(" + names[m.getInput()] +
             ", axis=" + std::to_string(m.getAxis()) + ")";
    } else if (auto r = dyn_cast<mlp::ReshapeOp>(op)) {
      expr = "reshape(" + names[r.getInput()];
      for (int64_t d : r.getType().getShape())
        expr += ", " + (ShapedType::isDynamic(d) ? std::string("N")
                                                 : std::to_string(d));
      expr += ")";
    } else if (auto t = dyn_cast<mlp::TransposeOp>(op)) {
      SmallVector<int64_t> moved;
      for (auto [i, p] : llvm::enumerate(t.getPermutation()))
        if (static_cast<int64_t>(i) != p)
          moved.push_back(i);
      if (moved.size() != 2)
        return t.emitError("cannot export: the language's transpose swaps "
                           "two dimensions");
      expr = "transpose(" + names[t.getInput()] + ", " +
             std::to_string(moved[0]) + ", " + std::to_string(moved[1]) + ")";
    } else {
      return op.emitError("cannot export '") << op.getName() << "' to .mlp";
    }
    std::string name = fresh();
    names[op.getResult(0)] = name;
    out << "  " << name << " = " << expr << "\n";
  }
  os << "# Exported by mlpc --export-pruned: the pruned (and distilled) model;\n"
     << "# its weights are in the .safetensors file beside this one.\n"
     << "model " << model.getSymName() << " {\n"
     << body << "}\n";
  return success();
}
