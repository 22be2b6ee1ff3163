//===- MLIRGenExpr.cpp - expressions and calls ----------------------------===//
#include "MLIRGenImpl.h"

#include "mlp/IR/MLPOps.h"
#include "mlp/IR/ShapeRules.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlp::frontend;
using namespace mlp::frontend::detail;
namespace shape = mlp::shape;

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// A number combined with a tensor: a rank-0 mlp.constant of the tensor's
/// element type, which the arithmetic ops broadcast.
static Value scalarConstant(OpBuilder &builder, Location loc, double value,
                            Type elementType) {
  return builder.create<mlp::ConstantOp>(
      loc, RankedTensorType::get({}, elementType),
      builder.getF64FloatAttr(value));
}

FailureOr<Val> MLIRGenImpl::eval(const ExprAST &expr, Frame &frame) {
  switch (expr.getKind()) {
  case ExprAST::Kind::Number: {
    const auto &number = llvm::cast<NumberExprAST>(expr);
    return number.isInteger ? Val::ofInteger(number.intValue)
                            : Val::ofNumber(number.value);
  }
  case ExprAST::Kind::String:
    return Val::ofString(llvm::cast<StringExprAST>(expr).value);
  case ExprAST::Kind::Bool:
    return Val::ofBool(llvm::cast<BoolExprAST>(expr).value);
  case ExprAST::Kind::Var:
    return evalVar(llvm::cast<VarExprAST>(expr), frame);
  case ExprAST::Kind::Binary:
    return evalBinary(llvm::cast<BinaryExprAST>(expr), frame);
  case ExprAST::Kind::Negate: {
    FailureOr<Val> operand =
        eval(*llvm::cast<NegateExprAST>(expr).operand, frame);
    if (failed(operand))
      return failure();
    if (operand->kind == Val::Kind::Tensor &&
        !operand->tensorType().getElementType().isInteger()) {
      // -x == x * -1, exactly.
      Location location = loc(expr.loc());
      Value minusOne = scalarConstant(builder, location, -1.0,
                                      operand->tensorType().getElementType());
      return Val::ofTensor(builder.create<mlp::MulOp>(
          location, operand->tensorType(), operand->tensor, minusOne));
    }
    if (operand->kind != Val::Kind::Number)
      return fail(expr.loc(), "unary '-' applies only to numbers and "
                              "floating-point tensors, got " +
                                  operand->describe());
    if (!operand->isInteger)
      return Val::ofNumber(-operand->number);
    if (operand->integer == std::numeric_limits<int64_t>::min())
      return fail(expr.loc(), "integer overflow");
    return Val::ofInteger(-operand->integer);
  }
  case ExprAST::Kind::Call: {
    const auto &call = llvm::cast<CallExprAST>(expr);
    if (const DefAST *def = defs.lookup(call.callee))
      return callDef(*def, call, frame);
    return callBuiltin(call, frame);
  }
  }
  return fail(expr.loc(), "unsupported expression");
}

FailureOr<Val> MLIRGenImpl::evalVar(const VarExprAST &expr, Frame &frame) {
  auto it = frame.vars.find(expr.name);
  if (it != frame.vars.end())
    return it->second.value;
  if (!batchSymbol.empty() && expr.name == batchSymbol)
    return fail(expr.loc(), "the batch symbol '" + expr.name +
                                "' stands for a dimension, not a value; it "
                                "can only appear in types and in reshape");
  if (isBuiltin(expr.name) || defs.count(expr.name))
    return fail(expr.loc(),
                "'" + expr.name + "' is a layer, not a value; call it, e.g. " +
                    expr.name + "(x), or pipe into it, e.g. x |> " + expr.name);
  std::vector<llvm::StringRef> names;
  for (const auto &entry : frame.vars)
    names.push_back(entry.getKey());
  llvm::sort(names);
  if (frame.def)
    return fail(expr.loc(), "undefined variable '" + expr.name + "' in def '" +
                                frame.def->name +
                                "'; a def body sees only its arguments and "
                                "its own variables");
  return fail(expr.loc(), "undefined variable '" + expr.name + "'" +
                              suggest(expr.name, names));
}

FailureOr<Val> MLIRGenImpl::evalBinary(const BinaryExprAST &expr,
                                       Frame &frame) {
  FailureOr<Val> lhs = eval(*expr.lhs, frame);
  if (failed(lhs))
    return failure();
  FailureOr<Val> rhs = eval(*expr.rhs, frame);
  if (failed(rhs))
    return failure();
  std::string op(1, expr.op);

  // Numbers fold while compiling, e.g. linear(h, 4 * dim).
  if (lhs->kind == Val::Kind::Number && rhs->kind == Val::Kind::Number) {
    if (expr.op == '/') {
      // True division, as in Python: 1 / 2 is 0.5.
      if (rhs->number == 0.0)
        return fail(expr.loc(), "division by zero");
      double result = lhs->number / rhs->number;
      if (!std::isfinite(result))
        return fail(expr.loc(), "the result of '/' is out of range");
      return Val::ofNumber(result);
    }
    if (lhs->isInteger && rhs->isInteger) {
      int64_t result = 0;
      bool overflow =
          expr.op == '+' ? llvm::AddOverflow(lhs->integer, rhs->integer, result)
          : expr.op == '-'
              ? llvm::SubOverflow(lhs->integer, rhs->integer, result)
              : llvm::MulOverflow(lhs->integer, rhs->integer, result);
      if (overflow)
        return fail(expr.loc(), "integer overflow in '" + op + "'");
      return Val::ofInteger(result);
    }
    double a = lhs->number, b = rhs->number;
    double result = expr.op == '+' ? a + b : expr.op == '-' ? a - b : a * b;
    if (!std::isfinite(result))
      return fail(expr.loc(), "the result of '" + op + "' is out of range");
    return Val::ofNumber(result);
  }

  auto isOperand = [](const Val &v) {
    return (v.kind == Val::Kind::Tensor &&
            !v.tensorType().getElementType().isInteger()) ||
           v.kind == Val::Kind::Number;
  };
  if (!isOperand(*lhs) || !isOperand(*rhs))
    return fail(expr.loc(), "'" + op +
                                "' needs floating-point tensors or numbers, "
                                "got " +
                                lhs->describe() + " and " + rhs->describe());
  // A number with a tensor, e.g. x * 30.0, is a constant broadcast to it.
  if (lhs->kind == Val::Kind::Number)
    lhs = Val::ofTensor(scalarConstant(builder, loc(expr.lhs->loc()),
                                       lhs->number,
                                       rhs->tensorType().getElementType()));
  if (rhs->kind == Val::Kind::Number)
    rhs = Val::ofTensor(scalarConstant(builder, loc(expr.rhs->loc()),
                                       rhs->number,
                                       lhs->tensorType().getElementType()));
  RankedTensorType lhsType = lhs->tensorType(), rhsType = rhs->tensorType();
  if (lhsType.getElementType() != rhsType.getElementType()) {
    std::string message;
    llvm::raw_string_ostream(message)
        << "the operands of '" << op << "' have different element types, "
        << lhsType.getElementType() << " and " << rhsType.getElementType();
    return fail(expr.loc(), message);
  }
  std::string error;
  auto resultShape =
      shape::broadcast(lhsType.getShape(), rhsType.getShape(), error);
  if (!resultShape)
    return fail(expr.loc(), error);
  auto type = RankedTensorType::get(*resultShape, lhsType.getElementType());
  Location location = loc(expr.loc());
  Value result;
  if (expr.op == '+')
    result =
        builder.create<mlp::AddOp>(location, type, lhs->tensor, rhs->tensor);
  else if (expr.op == '-')
    result =
        builder.create<mlp::SubOp>(location, type, lhs->tensor, rhs->tensor);
  else if (expr.op == '/')
    result =
        builder.create<mlp::DivOp>(location, type, lhs->tensor, rhs->tensor);
  else
    result =
        builder.create<mlp::MulOp>(location, type, lhs->tensor, rhs->tensor);
  return Val::ofTensor(result);
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

static std::string kindText(ArgKind kind) {
  switch (kind) {
  case ArgKind::Any:
    return "a value";
  case ArgKind::Tensor:
    return "a floating-point tensor";
  case ArgKind::Integer:
    return "an integer";
  case ArgKind::Number:
    return "a number";
  case ArgKind::String:
    return "a string";
  case ArgKind::Bool:
    return "true or false";
  case ArgKind::Dim:
    return "an integer or the batch symbol";
  case ArgKind::Ids:
    return "an integer tensor (ids)";
  }
  return "a value";
}

static bool hasKind(const Val &value, ArgKind kind) {
  switch (kind) {
  case ArgKind::Any:
    return true;
  case ArgKind::Tensor:
    return value.kind == Val::Kind::Tensor &&
           !value.tensorType().getElementType().isInteger();
  case ArgKind::Ids:
    return value.kind == Val::Kind::Tensor &&
           value.tensorType().getElementType().isInteger();
  case ArgKind::Integer:
  case ArgKind::Dim:
    return value.kind == Val::Kind::Number && value.isInteger;
  case ArgKind::Number:
    return value.kind == Val::Kind::Number;
  case ArgKind::String:
    return value.kind == Val::Kind::String;
  case ArgKind::Bool:
    return value.kind == Val::Kind::Bool;
  }
  return false;
}

LogicalResult MLIRGenImpl::bindArguments(const CallExprAST &call,
                                         llvm::StringRef signature,
                                         llvm::ArrayRef<ParamSpec> params,
                                         bool variadic, Frame &frame,
                                         CallArgs &args) {
  const std::string &callee = call.callee;
  size_t fixed = params.size() - (variadic ? 1 : 0);
  size_t required = llvm::count_if(params.take_front(fixed), [](const auto &p) {
    return p.defaultText.empty();
  });
  bool piped = !call.args.empty() && call.args.front().piped;

  // Match arguments to parameters: positional ones in order, then keywords.
  std::vector<std::pair<const ArgAST *, int>> slots; // -1: the variadic tail
  std::vector<bool> assigned(fixed, false);
  size_t nextPositional = 0;
  for (const ArgAST &arg : call.args) {
    if (arg.keyword.empty()) {
      while (nextPositional < fixed && params[nextPositional].keywordOnly)
        ++nextPositional;
      if (nextPositional < fixed) {
        assigned[nextPositional] = true;
        slots.push_back({&arg, static_cast<int>(nextPositional++)});
        continue;
      }
      if (variadic) {
        slots.push_back({&arg, -1});
        continue;
      }
      size_t given = llvm::count_if(
          call.args, [](const ArgAST &a) { return a.keyword.empty(); });
      std::string count =
          required == fixed
              ? std::to_string(fixed)
              : std::to_string(required) + " to " + std::to_string(fixed);
      return fail(arg.value->loc(),
                  "'" + callee + "' takes " + count + " argument" +
                      (fixed == 1 ? "" : "s") + ", got " +
                      std::to_string(given) + "; its signature is " +
                      signature +
                      (piped ? " (the value piped in with '|>' is the first "
                               "argument)"
                             : ""));
    }
    auto it = llvm::find_if(params.take_front(fixed), [&](const ParamSpec &p) {
      return p.name == arg.keyword;
    });
    if (it == params.begin() + fixed) {
      std::vector<llvm::StringRef> names;
      for (const ParamSpec &p : params.take_front(fixed))
        names.push_back(p.name);
      return fail(arg.keywordLoc, "'" + callee + "' has no argument named '" +
                                      arg.keyword + "'" +
                                      suggest(arg.keyword, names) +
                                      "; its signature is " + signature);
    }
    size_t index = it - params.begin();
    if (assigned[index])
      return fail(arg.keywordLoc, "argument '" + arg.keyword + "' of '" +
                                      callee + "' is given twice");
    assigned[index] = true;
    slots.push_back({&arg, static_cast<int>(index)});
  }
  for (size_t i = 0; i < fixed; ++i)
    if (!assigned[i] && params[i].defaultText.empty())
      return fail(call.loc(), "'" + callee + "' is missing its argument '" +
                                  params[i].name + "'; its signature is " +
                                  signature);

  // Evaluate in source order and check kinds.
  args.values.assign(fixed, std::nullopt);
  args.locs.assign(fixed, call.loc());
  for (auto [arg, index] : slots) {
    const ParamSpec &spec = index < 0 ? params.back() : params[index];
    const SourceLoc &at = arg->value->loc();
    FailureOr<Val> value;
    auto *var = llvm::dyn_cast<VarExprAST>(arg->value.get());
    if (spec.kind == ArgKind::Dim && var && !batchSymbol.empty() &&
        var->name == batchSymbol)
      value = Val::ofInteger(ShapedType::kDynamic);
    else
      value = eval(*arg->value, frame);
    if (failed(value))
      return failure();
    if (!hasKind(*value, spec.kind))
      return fail(at, "argument '" + spec.name + "' of '" + callee +
                          "' must be " + kindText(spec.kind) + ", got " +
                          value->describe());
    if (index < 0) {
      args.rest.push_back(*value);
      args.restLocs.push_back(at);
    } else {
      args.values[index] = *value;
      args.locs[index] = at;
    }
  }
  return success();
}

FailureOr<Val> MLIRGenImpl::callDef(const DefAST &def, const CallExprAST &call,
                                    Frame &frame) {
  std::vector<ParamSpec> specs;
  std::vector<std::string> names;
  for (const DefParamAST &param : def.params) {
    specs.push_back({param.name, ArgKind::Any, ""});
    names.push_back(param.name);
  }
  std::string signature = def.name + "(" + llvm::join(names, ", ") + ")";
  CallArgs args;
  if (failed(bindArguments(call, signature, specs, false, frame, args)))
    return failure();

  Frame callee;
  callee.def = &def;
  callee.scope = frame.scope;
  if (call.binding) {
    FailureOr<std::string> prefix = interpolate(*call.binding, frame);
    if (failed(prefix))
      return failure();
    callee.scope.push_back(*prefix);
  }
  for (auto [param, value] : llvm::zip(def.params, args.values))
    callee.vars[param.name] = {*value, param.loc};

  contexts.push_back({true, call.loc(), def.name, 0});
  std::optional<Val> result;
  LogicalResult status = evalBody(def.body, callee, &result);
  contexts.pop_back();
  if (failed(status))
    return failure();
  if (!result)
    return fail(def.loc, "def '" + def.name + "' returns no value");
  return *result;
}
