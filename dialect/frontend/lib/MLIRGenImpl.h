//===- MLIRGenImpl.h - state of the .mlp to mlp-dialect emitter -*- C++ -*-===//
//
// Private to the frontend. MLIRGen.cpp holds statements, expressions, defs and
// the checks that run before emission; Builtins.cpp holds the builtin layers.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_FRONTEND_LIB_MLIRGENIMPL_H
#define MLP_FRONTEND_LIB_MLIRGENIMPL_H

#include "mlp/Frontend/AST.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>
#include <vector>

namespace mlp::frontend::detail {

/// A value of the language: a tensor, or a constant known while compiling.
struct Val {
  enum class Kind { Tensor, Number, String, Bool };
  Kind kind = Kind::Number;
  mlir::Value tensor;
  bool isInteger = false;
  int64_t integer = 0;
  double number = 0.0; // also set for integers
  std::string string;
  bool boolean = false;

  static Val ofTensor(mlir::Value value);
  static Val ofInteger(int64_t value);
  static Val ofNumber(double value);
  static Val ofString(std::string value);
  static Val ofBool(bool value);

  mlir::RankedTensorType tensorType() const {
    return mlir::cast<mlir::RankedTensorType>(tensor.getType());
  }
  /// "a tensor of shape [?, 128]", "the integer 3", "the string \"x\"".
  std::string describe() const;
};

/// What a call argument must be.
enum class ArgKind {
  Any,
  Tensor,
  Integer,
  Number,
  String,
  Bool,
  Dim, // an integer, or the batch symbol (becomes a dynamic dimension)
  Ids, // an integer tensor (categorical ids); Tensor means floating point
};

struct ParamSpec {
  llvm::StringRef name;
  ArgKind kind;
  /// The default as written in the signature; empty for required arguments.
  llvm::StringRef defaultText;
  /// Only given by keyword: positional arguments skip it (and go to a
  /// variadic tail after it), e.g. concat(x, tensors..., axis=-1).
  bool keywordOnly = false;
};

/// The evaluated arguments of a call, in the callee's parameter order.
struct CallArgs {
  std::vector<std::optional<Val>> values;
  std::vector<SourceLoc> locs;
  /// Values of a trailing variadic parameter (reshape's shape).
  std::vector<Val> rest;
  std::vector<SourceLoc> restLocs;
};

struct Variable {
  Val value;
  SourceLoc loc;
  bool isRepeatVariable = false;
};

/// The variables of the model body or of one def call, and the parameter
/// path prefix (from enclosing repeats and def-call bindings) in force.
struct Frame {
  llvm::StringMap<Variable> vars;
  std::vector<std::string> scope;
  /// The def being called, or null in the model body.
  const DefAST *def = nullptr;
};

/// "; did you mean 'x'?" when one of `candidates` is close to `name`, else "".
std::string suggest(llvm::StringRef name,
                    llvm::ArrayRef<llvm::StringRef> candidates);

class MLIRGenImpl {
public:
  MLIRGenImpl(mlir::MLIRContext &context, const ModuleAST &module);

  mlir::OwningOpRef<mlir::ModuleOp> generate();

  // Used by the builtins (Builtins.cpp).
  mlir::Location loc(const SourceLoc &source);
  /// Reports an error at `at` (with an optional note), adds notes for the
  /// def calls and repeat iterations being unrolled, and returns failure().
  mlir::LogicalResult fail(const SourceLoc &at, const llvm::Twine &message,
                           const SourceLoc *noteAt = nullptr,
                           const llvm::Twine &noteMessage = "");
  mlir::FailureOr<Val> eval(const ExprAST &expr, Frame &frame);
  /// Matches `call`'s arguments to `params`, evaluates them in `frame` and
  /// checks their kinds.
  mlir::LogicalResult bindArguments(const CallExprAST &call,
                                    llvm::StringRef signature,
                                    llvm::ArrayRef<ParamSpec> params,
                                    bool variadic, Frame &frame,
                                    CallArgs &args);
  /// The checkpoint name `<scope>.<binding>.<suffix>` of a parameter.
  mlir::FailureOr<std::string> paramName(const CallExprAST &call, Frame &frame,
                                         llvm::StringRef suffix);
  /// The mlp.param named `name`, created at `at` on first use.
  mlir::FailureOr<mlir::Value> getParam(const std::string &name,
                                        llvm::ArrayRef<int64_t> shape,
                                        mlir::Type elementType,
                                        const SourceLoc &at);
  mlir::FailureOr<Val> callBuiltin(const CallExprAST &call, Frame &frame);
  static bool isBuiltin(llvm::StringRef name);
  static std::vector<llvm::StringRef> builtinNames();

  mlir::OpBuilder builder;
  /// The model's batch symbol, once an input has declared it.
  std::string batchSymbol;

private:
  struct Context {
    bool isCall;
    SourceLoc loc;
    std::string name;
    int64_t iteration;
  };
  struct ParamInfo {
    mlir::Value value;
    SourceLoc firstUse;
  };
  struct Port {
    std::string name;
    SourceLoc loc;
    mlir::Value value;
  };

  // Checks before emission (MLIRGen.cpp).
  mlir::LogicalResult checkDefs();
  mlir::LogicalResult checkCallees(const StmtList &body);
  mlir::LogicalResult checkRecursion();

  mlir::FailureOr<mlir::func::FuncOp> generateModel(const ModelAST &model);
  mlir::LogicalResult evalBody(const StmtList &body, Frame &frame,
                               std::optional<Val> *result);
  mlir::LogicalResult evalStatement(const StmtAST &stmt, Frame &frame,
                                    std::optional<Val> *result);
  mlir::LogicalResult evalInput(const InputStmtAST &stmt, Frame &frame);
  mlir::LogicalResult evalOutput(const OutputStmtAST &stmt, Frame &frame);
  mlir::LogicalResult evalParam(const ParamStmtAST &stmt, Frame &frame);
  mlir::LogicalResult evalRepeat(const RepeatStmtAST &stmt, Frame &frame);
  mlir::LogicalResult checkAssignable(const std::string &name,
                                      const SourceLoc &at, Frame &frame);
  mlir::FailureOr<Val> evalVar(const VarExprAST &expr, Frame &frame);
  mlir::FailureOr<Val> evalBinary(const BinaryExprAST &expr, Frame &frame);
  mlir::FailureOr<Val> callDef(const DefAST &def, const CallExprAST &call,
                               Frame &frame);
  mlir::FailureOr<std::string> interpolate(const PathAST &path, Frame &frame);
  /// `frame` resolves dimensions written as integer variables (in param
  /// types, e.g. f32[c] in a def with an argument c).
  mlir::FailureOr<mlir::RankedTensorType>
  convertType(const TypeAST &type, bool isParam, Frame *frame = nullptr);

  mlir::MLIRContext &context;
  const ModuleAST &module;
  mlir::StringAttr fileName;
  llvm::StringMap<const DefAST *> defs;
  SourceLoc batchSymbolLoc;
  llvm::StringMap<ParamInfo> params;
  std::vector<Port> inputs, outputs;
  mlir::Block *entryBlock = nullptr;
  std::vector<Context> contexts;
  uint64_t unrolledStatements = 0;
};

} // namespace mlp::frontend::detail

#endif // MLP_FRONTEND_LIB_MLIRGENIMPL_H
