//===- AST.h - syntax tree of the .mlp language -----------------*- C++ -*-===//
//
// The parser's output: what the user wrote, with a source location on every
// node, and no meaning attached yet (names are not resolved, shapes are not
// known). Pipes are already desugared: `a |> f(b) @p` is the call `f(a, b) @p`
// whose first argument is marked as piped. Nodes use LLVM-style RTTI
// (`llvm::isa` / `llvm::dyn_cast` through `classof`).
//
//===----------------------------------------------------------------------===//
#ifndef MLP_FRONTEND_AST_H
#define MLP_FRONTEND_AST_H

#include "mlp/Frontend/Lexer.h"

#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlp::frontend {

//===----------------------------------------------------------------------===//
// Parameter paths
//===----------------------------------------------------------------------===//

/// One part of a path segment: literal text, or `{name}` naming a variable
/// whose integer value is spliced in.
struct PathPiece {
  bool isVariable = false;
  std::string text;
  SourceLoc loc;
};

/// `@blocks.{i}.norm1` has the segments `blocks`, `{i}` and `norm1`.
struct PathAST {
  std::vector<std::vector<PathPiece>> segments;
  SourceLoc loc;        // of the '@'
  std::string spelling; // as written, without '@'
};

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// An integer size, or a symbol (the batch) when `symbol` is non-empty.
struct DimAST {
  int64_t size = 0;
  std::string symbol;
  SourceLoc loc;
};

/// `f32[N, 128]`.
struct TypeAST {
  std::string elementType;
  SourceLoc loc;
  std::vector<DimAST> dims;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class ExprAST {
public:
  enum class Kind { Number, String, Bool, Var, Call, Binary, Negate };

  ExprAST(Kind kind, SourceLoc loc) : kind(kind), location(loc) {}
  virtual ~ExprAST() = default;

  Kind getKind() const { return kind; }
  const SourceLoc &loc() const { return location; }

  /// Height of the tree below and including this node; the parser bounds
  /// it so that recursive walks cannot overflow the stack.
  unsigned depth = 1;

private:
  const Kind kind;
  SourceLoc location;
};

using ExprPtr = std::unique_ptr<ExprAST>;

/// `512`, `1e-6`, `-3`.
class NumberExprAST : public ExprAST {
public:
  NumberExprAST(SourceLoc loc, bool isInteger, int64_t intValue, double value)
      : ExprAST(Kind::Number, loc), isInteger(isInteger), intValue(intValue),
        value(value) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Number; }

  bool isInteger;
  int64_t intValue; // when isInteger
  double value;     // always
};

/// `"tanh"`.
class StringExprAST : public ExprAST {
public:
  StringExprAST(SourceLoc loc, std::string value)
      : ExprAST(Kind::String, loc), value(std::move(value)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::String; }

  std::string value;
};

/// `true`, `false`.
class BoolExprAST : public ExprAST {
public:
  BoolExprAST(SourceLoc loc, bool value)
      : ExprAST(Kind::Bool, loc), value(value) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Bool; }

  bool value;
};

/// A name: a variable, a def argument, a repeat variable or the batch symbol.
class VarExprAST : public ExprAST {
public:
  VarExprAST(SourceLoc loc, std::string name)
      : ExprAST(Kind::Var, loc), name(std::move(name)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Var; }

  std::string name;
};

/// One call argument, `value` or `keyword=value`.
struct ArgAST {
  std::string keyword; // empty for a positional argument
  SourceLoc keywordLoc;
  ExprPtr value;
  bool piped = false; // the left side of `|>`
};

/// `linear(x, 512) @fc1`, `relu(x)`, `block(x, 64)`; the location is the
/// callee name's.
class CallExprAST : public ExprAST {
public:
  CallExprAST(SourceLoc loc, std::string callee)
      : ExprAST(Kind::Call, loc), callee(std::move(callee)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Call; }

  std::string callee;
  std::vector<ArgAST> args;
  std::optional<PathAST> binding;
};

/// `a + b`, `a - b`, `a * b`; the location is the operator's.
class BinaryExprAST : public ExprAST {
public:
  BinaryExprAST(SourceLoc loc, char op, ExprPtr lhs, ExprPtr rhs)
      : ExprAST(Kind::Binary, loc), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Binary; }

  char op;
  ExprPtr lhs, rhs;
};

/// `-(expr)`; negative literals are folded into NumberExprAST by the parser.
class NegateExprAST : public ExprAST {
public:
  NegateExprAST(SourceLoc loc, ExprPtr operand)
      : ExprAST(Kind::Negate, loc), operand(std::move(operand)) {}
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Negate; }

  ExprPtr operand;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class StmtAST {
public:
  enum class Kind { Input, Assign, Output, Param, Repeat, Return };

  StmtAST(Kind kind, SourceLoc loc) : kind(kind), location(loc) {}
  virtual ~StmtAST() = default;

  Kind getKind() const { return kind; }
  const SourceLoc &loc() const { return location; }

private:
  const Kind kind;
  SourceLoc location;
};

using StmtPtr = std::unique_ptr<StmtAST>;
using StmtList = std::vector<StmtPtr>;

/// `input x: f32[N, 128]`; the location is the name's.
class InputStmtAST : public StmtAST {
public:
  InputStmtAST(SourceLoc loc, std::string name, TypeAST type)
      : StmtAST(Kind::Input, loc), name(std::move(name)),
        type(std::move(type)) {}
  static bool classof(const StmtAST *s) { return s->getKind() == Kind::Input; }

  std::string name;
  TypeAST type;
};

/// `h = expr`; the location is the name's.
class AssignStmtAST : public StmtAST {
public:
  AssignStmtAST(SourceLoc loc, std::string name, ExprPtr value)
      : StmtAST(Kind::Assign, loc), name(std::move(name)),
        value(std::move(value)) {}
  static bool classof(const StmtAST *s) { return s->getKind() == Kind::Assign; }

  std::string name;
  ExprPtr value;
};

/// `output y = expr`; the location is the name's.
class OutputStmtAST : public StmtAST {
public:
  OutputStmtAST(SourceLoc loc, std::string name, ExprPtr value)
      : StmtAST(Kind::Output, loc), name(std::move(name)),
        value(std::move(value)) {}
  static bool classof(const StmtAST *s) { return s->getKind() == Kind::Output; }

  std::string name;
  ExprPtr value;
};

/// `w = param @pos_embed: f32[196, 512]`; the location is the 'param'
/// keyword's.
class ParamStmtAST : public StmtAST {
public:
  ParamStmtAST(SourceLoc loc, std::string name, SourceLoc nameLoc, PathAST path,
               TypeAST type)
      : StmtAST(Kind::Param, loc), name(std::move(name)), nameLoc(nameLoc),
        path(std::move(path)), type(std::move(type)) {}
  static bool classof(const StmtAST *s) { return s->getKind() == Kind::Param; }

  std::string name;
  SourceLoc nameLoc;
  PathAST path;
  TypeAST type;
};

/// `repeat 8 as i @blocks.{i} { ... }`; the location is the keyword's.
class RepeatStmtAST : public StmtAST {
public:
  RepeatStmtAST(SourceLoc loc) : StmtAST(Kind::Repeat, loc) {}
  static bool classof(const StmtAST *s) { return s->getKind() == Kind::Repeat; }

  ExprPtr count;
  std::string variable; // empty without `as`
  SourceLoc variableLoc;
  std::optional<PathAST> path;
  StmtList body;
};

/// `return expr`, the last statement of a def.
class ReturnStmtAST : public StmtAST {
public:
  ReturnStmtAST(SourceLoc loc, ExprPtr value)
      : StmtAST(Kind::Return, loc), value(std::move(value)) {}
  static bool classof(const StmtAST *s) { return s->getKind() == Kind::Return; }

  ExprPtr value;
};

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

struct DefParamAST {
  std::string name;
  SourceLoc loc;
};

/// `def name(a, b) { ...; return expr }`; locations are the name's.
struct DefAST {
  std::string name;
  SourceLoc loc;
  std::vector<DefParamAST> params;
  StmtList body; // ends with a ReturnStmtAST
};

/// `model name { ... }`.
struct ModelAST {
  std::string name;
  SourceLoc loc;
  StmtList body;
};

/// A whole `.mlp` file: its defs and its one model.
struct ModuleAST {
  std::string fileName; // the buffer identifier, used in FileLineColLoc
  std::vector<std::unique_ptr<DefAST>> defs;
  std::unique_ptr<ModelAST> model;
};

/// The shortest decimal text that reads back as `value` (1e-06, 0.5, 3).
std::string formatNumber(double value);

/// Prints the tree, one node per line with its line:col, for `--emit=ast`.
void printAST(const ModuleAST &module, llvm::raw_ostream &os);

} // namespace mlp::frontend

#endif // MLP_FRONTEND_AST_H
