//===- MLIRGenChecks.cpp - whole-file checks before emission --------------===//
//
// Defs are only inlined where they are called, so what can be checked without
// arguments is checked here, for every def: duplicate names, unknown callees
// and recursion.
//
//===----------------------------------------------------------------------===//
#include "MLIRGenImpl.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <functional>

using namespace mlir;
using namespace mlp::frontend;
using namespace mlp::frontend::detail;

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
    if (!unknown ||
        call.loc().ptr.getPointer() < unknown->loc().ptr.getPointer())
      unknown = &call;
  });
  if (!unknown)
    return success();
  std::vector<llvm::StringRef> names = builtinNames();
  for (const auto &def : module.defs)
    names.push_back(def->name);
  return fail(unknown->loc(), "unknown layer or def '" + unknown->callee + "'" +
                                  suggest(unknown->callee, names));
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
