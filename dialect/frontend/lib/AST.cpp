//===- AST.cpp - printing the .mlp syntax tree ----------------------------===//
//
// The `--emit=ast` format: one node per line, children indented by two
// spaces, each node followed by its <line:col>. Pipes appear desugared, with
// the piped argument marked `|>`.
//
//===----------------------------------------------------------------------===//
#include "mlp/Frontend/AST.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/Format.h"

#include <cstdlib>

using namespace mlp::frontend;

std::string mlp::frontend::formatNumber(double value) {
  for (int precision = 1; precision <= 17; ++precision) {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%.*g", precision, value);
    if (std::strtod(text.c_str(), nullptr) == value)
      return text;
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.17g", value);
  return text;
}

namespace {

class ASTPrinter {
public:
  explicit ASTPrinter(llvm::raw_ostream &os) : os(os) {}

  void print(const ModuleAST &module) {
    os << "module \"" << module.fileName << "\"\n";
    ++depth;
    for (const auto &def : module.defs)
      print(*def);
    if (module.model)
      print(*module.model);
    --depth;
  }

private:
  void indent() { os.indent(depth * 2); }
  void loc(const SourceLoc &l) {
    os << " <" << l.line << ":" << l.col << ">\n";
  }

  void print(const DefAST &def) {
    indent();
    os << "def " << def.name << "(";
    llvm::interleaveComma(def.params, os,
                          [&](const DefParamAST &p) { os << p.name; });
    os << ")";
    loc(def.loc);
    printBody(def.body);
  }

  void print(const ModelAST &model) {
    indent();
    os << "model " << model.name;
    loc(model.loc);
    printBody(model.body);
  }

  void printBody(const StmtList &body) {
    ++depth;
    for (const auto &stmt : body)
      print(*stmt);
    --depth;
  }

  void print(const TypeAST &type) {
    os << type.elementType << "[";
    llvm::interleaveComma(type.dims, os, [&](const DimAST &d) {
      if (d.symbol.empty())
        os << d.size;
      else
        os << d.symbol;
    });
    os << "]";
  }

  void print(const StmtAST &stmt) {
    indent();
    if (auto *s = llvm::dyn_cast<InputStmtAST>(&stmt)) {
      os << "input " << s->name << ": ";
      print(s->type);
      loc(s->loc());
    } else if (auto *s = llvm::dyn_cast<AssignStmtAST>(&stmt)) {
      os << "assign " << s->name;
      loc(s->loc());
      printChild(*s->value);
    } else if (auto *s = llvm::dyn_cast<OutputStmtAST>(&stmt)) {
      os << "output " << s->name;
      loc(s->loc());
      printChild(*s->value);
    } else if (auto *s = llvm::dyn_cast<ParamStmtAST>(&stmt)) {
      os << "param " << s->name << " @" << s->path.spelling << ": ";
      print(s->type);
      loc(s->loc());
    } else if (auto *s = llvm::dyn_cast<RepeatStmtAST>(&stmt)) {
      os << "repeat";
      if (!s->variable.empty())
        os << " as " << s->variable;
      if (s->path)
        os << " @" << s->path->spelling;
      loc(s->loc());
      ++depth;
      indent();
      os << "count\n";
      printChild(*s->count);
      indent();
      os << "body\n";
      printBody(s->body);
      --depth;
    } else if (auto *s = llvm::dyn_cast<ReturnStmtAST>(&stmt)) {
      os << "return";
      loc(s->loc());
      printChild(*s->value);
    }
  }

  void printChild(const ExprAST &expr, llvm::StringRef prefix = "") {
    ++depth;
    indent();
    os << prefix;
    print(expr);
    --depth;
  }

  void print(const ExprAST &expr) {
    if (auto *e = llvm::dyn_cast<NumberExprAST>(&expr)) {
      os << "number ";
      if (e->isInteger)
        os << e->intValue;
      else
        os << formatNumber(e->value);
      loc(e->loc());
    } else if (auto *e = llvm::dyn_cast<StringExprAST>(&expr)) {
      os << "string \"";
      os.write_escaped(e->value);
      os << "\"";
      loc(e->loc());
    } else if (auto *e = llvm::dyn_cast<BoolExprAST>(&expr)) {
      os << "bool " << (e->value ? "true" : "false");
      loc(e->loc());
    } else if (auto *e = llvm::dyn_cast<VarExprAST>(&expr)) {
      os << "var " << e->name;
      loc(e->loc());
    } else if (auto *e = llvm::dyn_cast<CallExprAST>(&expr)) {
      os << "call " << e->callee;
      if (e->binding)
        os << " @" << e->binding->spelling;
      loc(e->loc());
      for (const ArgAST &arg : e->args) {
        std::string prefix;
        if (arg.piped)
          prefix = "|> ";
        if (!arg.keyword.empty())
          prefix += arg.keyword + "=";
        printChild(*arg.value, prefix);
      }
    } else if (auto *e = llvm::dyn_cast<BinaryExprAST>(&expr)) {
      os << "binary '" << e->op << "'";
      loc(e->loc());
      printChild(*e->lhs);
      printChild(*e->rhs);
    } else if (auto *e = llvm::dyn_cast<NegateExprAST>(&expr)) {
      os << "negate";
      loc(e->loc());
      printChild(*e->operand);
    }
  }

  llvm::raw_ostream &os;
  unsigned depth = 0;
};

} // namespace

void mlp::frontend::printAST(const ModuleAST &module, llvm::raw_ostream &os) {
  ASTPrinter(os).print(module);
}
