//===- MLIRGen.cpp - .mlp AST to the mlp dialect --------------------------===//
//
// The model becomes one func.func; defs are inlined at each call and repeats
// unrolled, so the emitted function is straight-line code. Every check runs
// before the op it guards is built, and the first error ends emission: later
// errors would mostly be consequences of it.
//
// The checks that run before emission are in MLIRGenChecks.cpp, expressions
// and calls in MLIRGenExpr.cpp, builtin layers in Builtins.cpp.
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
#include "llvm/Support/raw_ostream.h"

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
    if (tensorType().getElementType().isInteger())
      return "an integer tensor of shape " +
             shape::format(tensorType().getShape());
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

std::string
mlp::frontend::detail::suggest(llvm::StringRef name,
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
      diag.attachNote(loc(c.loc))
          << "in the call of def '" << c.name << "' here";
    else if (c.iteration > 0)
      diag.attachNote(loc(c.loc))
          << "in iteration "
          << (c.name.empty() ? std::string() : c.name + " = ") << c.iteration
          << " of this repeat";
  }
  return failure();
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
    FailureOr<Val> value = eval(*llvm::cast<ReturnStmtAST>(stmt).value, frame);
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
    return fail(at,
                "'" + name +
                    "' is the batch symbol of this model and cannot name "
                    "a value",
                &batchSymbolLoc, "the batch symbol is declared here");
  auto it = frame.vars.find(name);
  if (it != frame.vars.end() && it->second.isRepeatVariable)
    return fail(at, "cannot assign to the repeat variable '" + name + "'");
  return success();
}

FailureOr<RankedTensorType>
MLIRGenImpl::convertType(const TypeAST &type, bool isParam, Frame *frame) {
  Type element = llvm::StringSwitch<Type>(type.elementType)
                     .Case("f16", builder.getF16Type())
                     .Case("bf16", builder.getBF16Type())
                     .Case("f64", builder.getF64Type())
                     .Case("i32", builder.getI32Type())
                     .Case("i64", builder.getI64Type())
                     .Default(builder.getF32Type());
  if (isParam && element.isInteger())
    return fail(type.loc, "parameters must have a floating-point type, got " +
                              type.elementType);
  SmallVector<int64_t> shape;
  for (auto [i, dim] : llvm::enumerate(type.dims)) {
    if (dim.symbol.empty()) {
      shape.push_back(dim.size);
      continue;
    }
    // A parameter dimension may be an integer variable: f32[c] in a def.
    if (isParam && frame && dim.symbol != batchSymbol) {
      auto it = frame->vars.find(dim.symbol);
      if (it != frame->vars.end()) {
        const Val &value = it->second.value;
        if (value.kind != Val::Kind::Number || !value.isInteger ||
            value.integer <= 0)
          return fail(dim.loc, "dimension '" + dim.symbol +
                                   "' must be a positive integer, got " +
                                   value.describe());
        shape.push_back(value.integer);
        continue;
      }
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
      return fail(dim.loc,
                  "this model already uses '" + batchSymbol +
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
      return fail(stmt.loc(), "duplicate input '" + stmt.name + "'", &input.loc,
                  "the first input '" + stmt.name + "' is here");
  FailureOr<RankedTensorType> type = convertType(stmt.type, false);
  if (failed(type) || failed(checkAssignable(stmt.name, stmt.loc(), frame)))
    return failure();
  Value argument = entryBlock->addArgument(*type, loc(stmt.loc()));
  inputs.push_back({stmt.name, stmt.loc(), argument});
  frame.vars[stmt.name] = {Val::ofTensor(argument), stmt.loc()};
  return success();
}

LogicalResult MLIRGenImpl::evalOutput(const OutputStmtAST &stmt, Frame &frame) {
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
  if (value->kind != Val::Kind::Tensor ||
      value->tensorType().getElementType().isInteger())
    return fail(stmt.value->loc(), "output '" + stmt.name +
                                       "' must be a floating-point tensor, "
                                       "got " +
                                       value->describe());
  outputs.push_back({stmt.name, stmt.loc(), value->tensor});
  frame.vars[stmt.name] = {*value, stmt.loc()};
  return success();
}

LogicalResult MLIRGenImpl::evalParam(const ParamStmtAST &stmt, Frame &frame) {
  if (failed(checkAssignable(stmt.name, stmt.nameLoc, frame)))
    return failure();
  FailureOr<RankedTensorType> type = convertType(stmt.type, true, &frame);
  if (failed(type))
    return failure();
  FailureOr<std::string> path = interpolate(stmt.path, frame);
  if (failed(path))
    return failure();
  std::vector<std::string> parts = frame.scope;
  parts.push_back(*path);
  FailureOr<Value> value = getParam(llvm::join(parts, "."), type->getShape(),
                                    type->getElementType(), stmt.loc());
  if (failed(value))
    return failure();
  frame.vars[stmt.name] = {Val::ofTensor(*value), stmt.nameLoc};
  return success();
}

LogicalResult MLIRGenImpl::evalRepeat(const RepeatStmtAST &stmt, Frame &frame) {
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
                                   "'" +
                                   piece.text + "' is " + value.describe());
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

OwningOpRef<ModuleOp> mlp::frontend::emitMLIR(MLIRContext &context,
                                              const ModuleAST &module) {
  return MLIRGenImpl(context, module).generate();
}
