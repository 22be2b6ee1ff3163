//===- MLIRGen.cpp - .mlp AST to the mlp dialect --------------------------===//
//
// The model becomes one func.func; defs are inlined at each call and repeats
// unrolled, so the emitted function is straight-line code. Every check runs
// before the op it guards is built, and the first error ends emission: later
// errors would mostly be consequences of it.
//
// Builtin layers live in Builtins.cpp.
//
//===----------------------------------------------------------------------===//
#include "MLIRGenImpl.h"

#include "mlp/Frontend/MLIRGen.h"
#include "mlp/IR/MLPDialect.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/IR/ShapeRules.h"

#include "mlir/IR/Verifier.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace mlp::frontend;
using namespace mlp::frontend::detail;

/// Unrolling is for blocks of a network, not for loops over data: a larger
/// count is almost certainly a mistake and would take very long to emit.
static constexpr int64_t kMaxRepeatCount = 4096;
/// Nested repeats and def calls multiply; past this many unrolled statements
/// the IR would be too large to compile in reasonable time.
static constexpr uint64_t kMaxUnrolledStatements = 1000000;

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

Val Val::ofTensor(Value value) {
  Val v;
  v.kind = Kind::Tensor;
  v.tensor = value;
  return v;
}

Val Val::ofInteger(int64_t value) {
  Val v;
  v.isInteger = true;
  v.integer = value;
  v.number = static_cast<double>(value);
  return v;
}

Val Val::ofNumber(double value) {
  Val v;
  v.number = value;
  return v;
}

Val Val::ofString(std::string value) {
  Val v;
  v.kind = Kind::String;
  v.string = std::move(value);
  return v;
}

Val Val::ofBool(bool value) {
  Val v;
  v.kind = Kind::Bool;
  v.boolean = value;
  return v;
}

std::string Val::describe() const {
  switch (kind) {
  case Kind::Tensor:
    return "a tensor of shape " + shape::format(tensorType().getShape());
  case Kind::Number:
    if (isInteger)
      return "the integer " + std::to_string(integer);
    return "the number " + formatNumber(number);
  case Kind::String:
    return "the string \"" + string + "\"";
  case Kind::Bool:
    return boolean ? "the boolean true" : "the boolean false";
  }
  return "a value";
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

/// "; did you mean 'x'?" when one of `candidates` is close to `name`.
static std::string suggest(llvm::StringRef name,
                           llvm::ArrayRef<llvm::StringRef> candidates) {
  llvm::StringRef best;
  unsigned bestDistance = std::max<unsigned>(1, name.size() / 3) + 1;
  for (llvm::StringRef candidate : candidates) {
    unsigned distance = name.edit_distance(candidate, true, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best.empty())
    return "";
  return ("; did you mean '" + best + "'?").str();
}

MLIRGenImpl::MLIRGenImpl(MLIRContext &context, const ModuleAST &module)
    : builder(&context), context(context), module(module) {}

Location MLIRGenImpl::loc(const SourceLoc &source) {
  return FileLineColLoc::get(fileName, source.line, source.col);
}

LogicalResult MLIRGenImpl::fail(const SourceLoc &at, const llvm::Twine &message,
                                const SourceLoc *noteAt,
                                const llvm::Twine &noteMessage) {
  InFlightDiagnostic diag = emitError(loc(at), message);
  if (noteAt)
    diag.attachNote(loc(*noteAt)) << noteMessage;
  // Say how we got here: the same def body or repeat body is emitted many
  // times, and an error may only occur in one of them.
  for (const Context &c : llvm::reverse(contexts)) {
    if (c.isCall)
      diag.attachNote(loc(c.loc)) << "in the call of def '" << c.name
                                  << "' here";
    else if (c.iteration > 0)
      diag.attachNote(loc(c.loc))
          << "in iteration "
          << (c.name.empty() ? std::string() : c.name + " = ") << c.iteration
          << " of this repeat";
  }
  return failure();
}

//===----------------------------------------------------------------------===//
// Checks before emission
//===----------------------------------------------------------------------===//

/// Calls `fn` on every call in `expr`.
static void forEachCall(const ExprAST &expr,
                        llvm::function_ref<void(const CallExprAST &)> fn) {
  if (auto *call = llvm::dyn_cast<CallExprAST>(&expr)) {
    fn(*call);
    for (const ArgAST &arg : call->args)
      forEachCall(*arg.value, fn);
  } else if (auto *binary = llvm::dyn_cast<BinaryExprAST>(&expr)) {
    forEachCall(*binary->lhs, fn);
    forEachCall(*binary->rhs, fn);
  } else if (auto *negate = llvm::dyn_cast<NegateExprAST>(&expr)) {
    forEachCall(*negate->operand, fn);
  }
}

static void forEachCall(const StmtList &body,
                        llvm::function_ref<void(const CallExprAST &)> fn) {
  for (const StmtPtr &stmt : body) {
    if (auto *s = llvm::dyn_cast<AssignStmtAST>(stmt.get()))
      forEachCall(*s->value, fn);
    else if (auto *s = llvm::dyn_cast<OutputStmtAST>(stmt.get()))
      forEachCall(*s->value, fn);
    else if (auto *s = llvm::dyn_cast<ReturnStmtAST>(stmt.get()))
      forEachCall(*s->value, fn);
    else if (auto *s = llvm::dyn_cast<RepeatStmtAST>(stmt.get())) {
      forEachCall(*s->count, fn);
      forEachCall(s->body, fn);
    }
  }
}

LogicalResult MLIRGenImpl::checkDefs() {
  for (const auto &def : module.defs) {
    if (isBuiltin(def->name))
      return fail(def->loc, "def '" + def->name +
                                "' has the name of a builtin layer; choose "
                                "another name");
    auto [it, inserted] = defs.try_emplace(def->name, def.get());
    if (!inserted)
      return fail(def->loc, "def '" + def->name + "' is already defined",
                  &it->second->loc, "the first definition is here");
  }
  for (const auto &def : module.defs)
    if (failed(checkCallees(def->body)))
      return failure();
  if (failed(checkCallees(module.model->body)))
    return failure();
  return checkRecursion();
}

LogicalResult MLIRGenImpl::checkCallees(const StmtList &body) {
  // Report the first unknown callee in source order (pipes list their stages
  // inside out).
  const CallExprAST *unknown = nullptr;
  forEachCall(body, [&](const CallExprAST &call) {
    if (isBuiltin(call.callee) || defs.count(call.callee))
      return;
    if (!unknown || call.loc().ptr.getPointer() <
                        unknown->loc().ptr.getPointer())
      unknown = &call;
  });
  if (!unknown)
    return success();
  std::vector<llvm::StringRef> names = builtinNames();
  for (const auto &def : module.defs)
    names.push_back(def->name);
  return fail(unknown->loc(), "unknown layer or def '" + unknown->callee +
                                  "'" + suggest(unknown->callee, names));
}

LogicalResult MLIRGenImpl::checkRecursion() {
  enum class State { Unvisited, Active, Done };
  llvm::DenseMap<const DefAST *, State> state;
  std::function<LogicalResult(const DefAST *)> visit =
      [&](const DefAST *def) -> LogicalResult {
    state[def] = State::Active;
    std::vector<const CallExprAST *> calls;
    forEachCall(def->body, [&](const CallExprAST &call) {
      if (defs.count(call.callee))
        calls.push_back(&call);
    });
    llvm::sort(calls, [](const CallExprAST *a, const CallExprAST *b) {
      return a->loc().ptr.getPointer() < b->loc().ptr.getPointer();
    });
    for (const CallExprAST *call : calls) {
      const DefAST *callee = defs.lookup(call->callee);
      State calleeState = state.lookup(callee);
      if (calleeState == State::Active)
        return fail(call->loc(), "recursive call of def '" + call->callee +
                                     "'; a def cannot call itself, directly "
                                     "or through other defs");
      if (calleeState == State::Unvisited && failed(visit(callee)))
        return failure();
    }
    state[def] = State::Done;
    return success();
  };
  for (const auto &def : module.defs)
    if (state.lookup(def.get()) == State::Unvisited && failed(visit(def.get())))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Model and statements
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> MLIRGenImpl::generate() {
  context.getOrLoadDialect<mlp::MLPDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  fileName = builder.getStringAttr(module.fileName);
  if (!module.model || failed(checkDefs()))
    return nullptr;

  OwningOpRef<ModuleOp> result =
      ModuleOp::create(FileLineColLoc::get(fileName, 1, 1));
  builder.setInsertionPointToEnd(result->getBody());
  if (failed(generateModel(*module.model)))
    return nullptr;
  // Everything was checked before it was built, so this only catches bugs in
  // the frontend; the verifier reports them itself.
  if (failed(verify(*result)))
    return nullptr;
  return result;
}

FailureOr<func::FuncOp> MLIRGenImpl::generateModel(const ModelAST &model) {
  auto func = builder.create<func::FuncOp>(loc(model.loc), model.name,
                                           builder.getFunctionType({}, {}));
  entryBlock = func.addEntryBlock();
  builder.setInsertionPointToEnd(entryBlock);

  Frame frame;
  if (failed(evalBody(model.body, frame, nullptr)))
    return failure();

  SmallVector<Value> results;
  for (const Port &output : outputs)
    results.push_back(output.value);
  func.setType(builder.getFunctionType(entryBlock->getArgumentTypes(),
                                       ValueRange(results).getTypes()));
  builder.create<func::ReturnOp>(loc(model.loc), results);
  for (auto [i, input] : llvm::enumerate(inputs))
    func.setArgAttr(i, "mlp.name", builder.getStringAttr(input.name));
  for (auto [i, output] : llvm::enumerate(outputs))
    func.setResultAttr(i, "mlp.name", builder.getStringAttr(output.name));
  func->setAttr("mlp.model", builder.getUnitAttr());
  return func;
}

LogicalResult MLIRGenImpl::evalBody(const StmtList &body, Frame &frame,
                                    std::optional<Val> *result) {
  for (const StmtPtr &stmt : body)
    if (failed(evalStatement(*stmt, frame, result)))
      return failure();
  return success();
}

LogicalResult MLIRGenImpl::evalStatement(const StmtAST &stmt, Frame &frame,
                                         std::optional<Val> *result) {
  if (++unrolledStatements > kMaxUnrolledStatements)
    return fail(stmt.loc(), "the model unrolls to more than " +
                                llvm::Twine(kMaxUnrolledStatements) +
                                " statements; check the repeat counts");
  switch (stmt.getKind()) {
  case StmtAST::Kind::Input:
    return evalInput(llvm::cast<InputStmtAST>(stmt), frame);
  case StmtAST::Kind::Output:
    return evalOutput(llvm::cast<OutputStmtAST>(stmt), frame);
  case StmtAST::Kind::Param:
    return evalParam(llvm::cast<ParamStmtAST>(stmt), frame);
  case StmtAST::Kind::Repeat:
    return evalRepeat(llvm::cast<RepeatStmtAST>(stmt), frame);
  case StmtAST::Kind::Assign: {
    const auto &assign = llvm::cast<AssignStmtAST>(stmt);
    if (failed(checkAssignable(assign.name, assign.loc(), frame)))
      return failure();
    FailureOr<Val> value = eval(*assign.value, frame);
    if (failed(value))
      return failure();
    frame.vars[assign.name] = {*value, assign.loc()};
    return success();
  }
  case StmtAST::Kind::Return: {
    FailureOr<Val> value =
        eval(*llvm::cast<ReturnStmtAST>(stmt).value, frame);
    if (failed(value))
      return failure();
    if (result)
      *result = *value;
    return success();
  }
  }
  return success();
}

LogicalResult MLIRGenImpl::checkAssignable(const std::string &name,
                                           const SourceLoc &at, Frame &frame) {
  if (!batchSymbol.empty() && name == batchSymbol)
    return fail(at, "'" + name +
                        "' is the batch symbol of this model and cannot name "
                        "a value",
                &batchSymbolLoc, "the batch symbol is declared here");
  auto it = frame.vars.find(name);
  if (it != frame.vars.end() && it->second.isRepeatVariable)
    return fail(at, "cannot assign to the repeat variable '" + name + "'");
  return success();
}

FailureOr<RankedTensorType> MLIRGenImpl::convertType(const TypeAST &type,
                                                     bool isParam) {
  Type element = llvm::StringSwitch<Type>(type.elementType)
                     .Case("f16", builder.getF16Type())
                     .Case("bf16", builder.getBF16Type())
                     .Case("f64", builder.getF64Type())
                     .Default(builder.getF32Type());
  SmallVector<int64_t> shape;
  for (auto [i, dim] : llvm::enumerate(type.dims)) {
    if (dim.symbol.empty()) {
      shape.push_back(dim.size);
      continue;
    }
    if (isParam)
      return fail(dim.loc, "parameter shapes must be static; '" + dim.symbol +
                               "' cannot appear in a parameter type");
    if (i != 0)
      return fail(dim.loc, "the batch symbol '" + dim.symbol +
                               "' may only be the leading dimension");
    if (batchSymbol.empty()) {
      batchSymbol = dim.symbol;
      batchSymbolLoc = dim.loc;
    } else if (dim.symbol != batchSymbol) {
      return fail(dim.loc, "this model already uses '" + batchSymbol +
                               "' as its batch symbol; a model has only one",
                  &batchSymbolLoc, "'" + batchSymbol + "' is declared here");
    }
    shape.push_back(ShapedType::kDynamic);
  }
  return RankedTensorType::get(shape, element);
}

LogicalResult MLIRGenImpl::evalInput(const InputStmtAST &stmt, Frame &frame) {
  for (const Port &input : inputs)
    if (input.name == stmt.name)
      return fail(stmt.loc(), "duplicate input '" + stmt.name + "'",
                  &input.loc, "the first input '" + stmt.name + "' is here");
  FailureOr<RankedTensorType> type = convertType(stmt.type, false);
  if (failed(type) || failed(checkAssignable(stmt.name, stmt.loc(), frame)))
    return failure();
  Value argument = entryBlock->addArgument(*type, loc(stmt.loc()));
  inputs.push_back({stmt.name, stmt.loc(), argument});
  frame.vars[stmt.name] = {Val::ofTensor(argument), stmt.loc()};
  return success();
}

LogicalResult MLIRGenImpl::evalOutput(const OutputStmtAST &stmt,
                                      Frame &frame) {
  for (const Port &output : outputs)
    if (output.name == stmt.name)
      return fail(stmt.loc(), "duplicate output '" + stmt.name + "'",
                  &output.loc, "the first output '" + stmt.name + "' is here");
  for (const Port &input : inputs)
    if (input.name == stmt.name)
      return fail(stmt.loc(),
                  "output '" + stmt.name +
                      "' has the name of an input; inputs and outputs need "
                      "distinct names",
                  &input.loc, "the input '" + stmt.name + "' is here");
  if (failed(checkAssignable(stmt.name, stmt.loc(), frame)))
    return failure();
  FailureOr<Val> value = eval(*stmt.value, frame);
  if (failed(value))
    return failure();
  if (value->kind != Val::Kind::Tensor)
    return fail(stmt.value->loc(), "output '" + stmt.name +
                                       "' must be a tensor, got " +
                                       value->describe());
  outputs.push_back({stmt.name, stmt.loc(), value->tensor});
  frame.vars[stmt.name] = {*value, stmt.loc()};
  return success();
}

LogicalResult MLIRGenImpl::evalParam(const ParamStmtAST &stmt, Frame &frame) {
  if (failed(checkAssignable(stmt.name, stmt.nameLoc, frame)))
    return failure();
  FailureOr<RankedTensorType> type = convertType(stmt.type, true);
  if (failed(type))
    return failure();
  FailureOr<std::string> path = interpolate(stmt.path, frame);
  if (failed(path))
    return failure();
  std::vector<std::string> parts = frame.scope;
  parts.push_back(*path);
  FailureOr<Value> value =
      getParam(llvm::join(parts, "."), type->getShape(),
               type->getElementType(), stmt.loc());
  if (failed(value))
    return failure();
  frame.vars[stmt.name] = {Val::ofTensor(*value), stmt.nameLoc};
  return success();
}

LogicalResult MLIRGenImpl::evalRepeat(const RepeatStmtAST &stmt,
                                      Frame &frame) {
  FailureOr<Val> count = eval(*stmt.count, frame);
  if (failed(count))
    return failure();
  if (count->kind != Val::Kind::Number || !count->isInteger ||
      count->integer <= 0)
    return fail(stmt.count->loc(),
                "repeat count must be a positive integer, got " +
                    count->describe());
  if (count->integer > kMaxRepeatCount)
    return fail(stmt.count->loc(),
                "repeat count " + std::to_string(count->integer) +
                    " is too large; at most " +
                    std::to_string(kMaxRepeatCount) + " is allowed");
  const std::string &variable = stmt.variable;
  if (!variable.empty()) {
    auto it = frame.vars.find(variable);
    if (it != frame.vars.end())
      return fail(stmt.variableLoc,
                  "'" + variable +
                      "' is already defined; choose another name for the "
                      "repeat variable",
                  &it->second.loc, "'" + variable + "' is defined here");
    if (variable == batchSymbol)
      return fail(stmt.variableLoc, "'" + variable +
                                        "' is the batch symbol of this model "
                                        "and cannot name a repeat variable");
  }

  for (int64_t i = 0; i < count->integer; ++i) {
    if (!variable.empty())
      frame.vars[variable] = {Val::ofInteger(i), stmt.variableLoc, true};
    contexts.push_back({false, stmt.loc(), variable, i});
    LogicalResult status = success();
    if (stmt.path) {
      FailureOr<std::string> prefix = interpolate(*stmt.path, frame);
      if (failed(prefix)) {
        status = failure();
      } else {
        frame.scope.push_back(*prefix);
        status = evalBody(stmt.body, frame, nullptr);
        frame.scope.pop_back();
      }
    } else {
      status = evalBody(stmt.body, frame, nullptr);
    }
    contexts.pop_back();
    if (failed(status))
      return failure();
  }
  if (!variable.empty())
    frame.vars.erase(variable);
  return success();
}

FailureOr<std::string> MLIRGenImpl::interpolate(const PathAST &path,
                                                Frame &frame) {
  std::string text;
  for (auto [i, segment] : llvm::enumerate(path.segments)) {
    if (i != 0)
      text += ".";
    for (const PathPiece &piece : segment) {
      if (!piece.isVariable) {
        text += piece.text;
        continue;
      }
      auto it = frame.vars.find(piece.text);
      if (it == frame.vars.end())
        return fail(piece.loc, "unknown variable '" + piece.text + "' in '{" +
                                   piece.text +
                                   "}'; a path can only use a repeat variable "
                                   "or an integer argument");
      const Val &value = it->second.value;
      if (value.kind != Val::Kind::Number || !value.isInteger ||
          value.integer < 0)
        return fail(piece.loc, "'{" + piece.text +
                                   "}' must name a non-negative integer, but "
                                   "'" + piece.text + "' is " +
                                   value.describe());
      text += std::to_string(value.integer);
    }
  }
  return text;
}

FailureOr<std::string> MLIRGenImpl::paramName(const CallExprAST &call,
                                              Frame &frame,
                                              llvm::StringRef suffix) {
  FailureOr<std::string> binding = interpolate(*call.binding, frame);
  if (failed(binding))
    return failure();
  std::vector<std::string> parts = frame.scope;
  parts.push_back(*binding);
  parts.push_back(suffix.str());
  return llvm::join(parts, ".");
}

FailureOr<Value> MLIRGenImpl::getParam(const std::string &name,
                                       llvm::ArrayRef<int64_t> shape,
                                       Type elementType, const SourceLoc &at) {
  auto type = RankedTensorType::get(shape, elementType);
  auto it = params.find(name);
  if (it != params.end()) {
    auto existing = cast<RankedTensorType>(it->second.value.getType());
    if (existing == type)
      return it->second.value;
    std::string here, there;
    if (existing.getShape() != shape) {
      here = "shape " + shape::format(shape);
      there = shape::format(existing.getShape());
    } else {
      llvm::raw_string_ostream(here) << "element type " << elementType;
      llvm::raw_string_ostream(there) << existing.getElementType();
    }
    std::string message = "parameter '" + name + "' has " + here +
                          " here, but " + there + " where it is first used";
    // In a repeat or a def called twice, the first use may be this very
    // place; the iteration or call notes then tell the two apart.
    const SourceLoc &first = it->second.firstUse;
    if (first.ptr == at.ptr)
      return fail(at, message);
    return fail(at, message, &first, "first used here");
  }
  Value value =
      builder.create<mlp::ParamOp>(loc(at), type, builder.getStringAttr(name));
  params[name] = {value, at};
  return value;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

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
    if (operand->kind != Val::Kind::Number)
      return fail(expr.loc(), "unary '-' applies only to numbers, got " +
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
    return fail(expr.loc(), "'" + expr.name +
                                "' is a layer, not a value; call it, e.g. " +
                                expr.name + "(x), or pipe into it, e.g. x |> " +
                                expr.name);
  std::vector<llvm::StringRef> names;
  for (const auto &entry : frame.vars)
    names.push_back(entry.getKey());
  llvm::sort(names);
  if (frame.def)
    return fail(expr.loc(), "undefined variable '" + expr.name +
                                "' in def '" + frame.def->name +
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
    if (lhs->isInteger && rhs->isInteger) {
      int64_t result = 0;
      bool overflow =
          expr.op == '+'   ? llvm::AddOverflow(lhs->integer, rhs->integer,
                                               result)
          : expr.op == '-' ? llvm::SubOverflow(lhs->integer, rhs->integer,
                                               result)
                           : llvm::MulOverflow(lhs->integer, rhs->integer,
                                               result);
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

  if (lhs->kind != Val::Kind::Tensor || rhs->kind != Val::Kind::Tensor)
    return fail(expr.loc(), "'" + op +
                                "' needs two tensors or two numbers, got " +
                                lhs->describe() + " and " + rhs->describe());
  RankedTensorType lhsType = lhs->tensorType(), rhsType = rhs->tensorType();
  if (lhsType.getElementType() != rhsType.getElementType()) {
    std::string message;
    llvm::raw_string_ostream(message)
        << "the operands of '" << op << "' have different element types, "
        << lhsType.getElementType() << " and " << rhsType.getElementType();
    return fail(expr.loc(), message);
  }
  std::string error;
  auto resultShape = shape::broadcast(lhsType.getShape(), rhsType.getShape(), error);
  if (!resultShape)
    return fail(expr.loc(), error);
  auto type = RankedTensorType::get(*resultShape, lhsType.getElementType());
  Location location = loc(expr.loc());
  Value result;
  if (expr.op == '+')
    result = builder.create<mlp::AddOp>(location, type, lhs->tensor,
                                        rhs->tensor);
  else if (expr.op == '-')
    result = builder.create<mlp::SubOp>(location, type, lhs->tensor,
                                        rhs->tensor);
  else
    result = builder.create<mlp::MulOp>(location, type, lhs->tensor,
                                        rhs->tensor);
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
    return "a tensor";
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
  }
  return "a value";
}

static bool hasKind(const Val &value, ArgKind kind) {
  switch (kind) {
  case ArgKind::Any:
    return true;
  case ArgKind::Tensor:
    return value.kind == Val::Kind::Tensor;
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
      std::string count = required == fixed
                              ? std::to_string(fixed)
                              : std::to_string(required) + " to " +
                                    std::to_string(fixed);
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

OwningOpRef<ModuleOp> mlp::frontend::emitMLIR(MLIRContext &context,
                                             const ModuleAST &module) {
  return MLIRGenImpl(context, module).generate();
}
