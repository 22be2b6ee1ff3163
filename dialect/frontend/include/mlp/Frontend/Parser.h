//===- Parser.h - recursive-descent parser for .mlp -------------*- C++ -*-===//
//
// Builds the AST of a `.mlp` buffer. Errors print through llvm::SourceMgr as
// "file:line:col: error: message", the source line and a caret. The parser
// reports at most one error per statement and then resumes at the next
// statement (the next line at the same bracket depth); when that is not safe
// (unbalanced brackets, errors outside a statement, too many errors) it stops,
// so every message it prints is about a real mistake, never a follow-on.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_FRONTEND_PARSER_H
#define MLP_FRONTEND_PARSER_H

#include "mlp/Frontend/AST.h"
#include "mlp/Frontend/Lexer.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

namespace mlp::frontend {

/// Parses the buffer `bufferId` of `sourceMgr`. On error, prints every
/// diagnostic to llvm::errs() and returns nullptr.
std::unique_ptr<ModuleAST> parseModule(llvm::SourceMgr &sourceMgr,
                                       unsigned bufferId);

class Parser {
public:
  Parser(llvm::SourceMgr &sourceMgr, unsigned bufferId);

  std::unique_ptr<ModuleAST> parseModule();

private:
  /// Where a statement appears; some statements are only allowed in some
  /// places (`input` at the top of a model, `return` at the end of a def).
  struct BlockContext {
    bool inDef = false;
    bool inRepeat = false;
  };

  // Tokens.
  const Token &cur() const { return tokens[pos]; }
  const Token &peek(size_t n = 1) const {
    return tokens[std::min(pos + n, tokens.size() - 1)];
  }
  const Token &consume() {
    const Token &token = tokens[pos];
    if (pos + 1 < tokens.size())
      ++pos;
    return token;
  }
  bool consumeIf(Tok kind) {
    if (cur().kind != kind)
      return false;
    consume();
    return true;
  }
  /// Consumes a token of `kind`, or reports "expected <what>, got ...".
  bool expect(Tok kind, const llvm::Twine &what);

  // Diagnostics.
  void error(const SourceLoc &loc, const llvm::Twine &message);
  void note(const SourceLoc &loc, const llvm::Twine &message);
  /// Reports "expected <what>, got <current token>", or the lexer's message
  /// when the current token is malformed.
  void errorExpected(const llvm::Twine &what);
  /// After a failed statement that began at token `start`: skips to the
  /// next statement, or stops parsing when that cannot be found safely.
  void recover(size_t start);
  /// Whether to go on looking for more errors.
  bool stopped() const { return stop; }
  /// Skips to the '}' that closes the current block, without consuming it.
  void skipToBlockEnd();
  /// Enters one more level of nesting at `loc`; false (with an error) when
  /// that is too deep. Pair with `--nesting`.
  bool enterNesting(const SourceLoc &loc);
  /// Sets the depth of `expr` from its children; false (with an error) when
  /// the expression is nested too deeply.
  bool updateDepth(ExprAST &expr);

  // Top level and statements (Parser.cpp).
  std::unique_ptr<DefAST> parseDef();
  std::unique_ptr<ModelAST> parseModel();
  /// Parses `{ statements }`. Returns false if the block is not closed.
  bool parseBlock(StmtList &body, BlockContext context,
                  const llvm::Twine &owner);
  StmtPtr parseStatement(BlockContext context);
  StmtPtr parseRepeat(BlockContext context);
  bool expectStatementEnd();
  std::optional<std::string> parseName(const llvm::Twine &what, SourceLoc &loc);

  // Expressions, types and paths (ParseExpr.cpp).
  ExprPtr parseExpr();
  ExprPtr parsePipeStage(ExprPtr input);
  ExprPtr parseSum();
  ExprPtr parseProduct();
  ExprPtr parsePostfix();
  /// `parenthesized` tells whether the result came from `( expr )`.
  ExprPtr parsePrimary(bool &parenthesized);
  ExprPtr parsePrimaryImpl(bool &parenthesized);
  ExprPtr parseCall();
  bool parseArguments(CallExprAST &call);
  std::optional<TypeAST> parseType();
  /// Splits the current Tok::Path token into segments and consumes it.
  std::optional<PathAST> parsePath();

  llvm::SourceMgr &sourceMgr;
  std::string fileName;
  const char *bufferStart = nullptr;
  std::vector<Token> tokens;
  size_t pos = 0;
  unsigned errorCount = 0;
  bool stop = false;
  /// Open parentheses, calls and blocks around the current token; bounded so
  /// that a pathological input cannot overflow the stack.
  unsigned nesting = 0;
  /// Location of the '}' that closed the last block.
  SourceLoc lastBlockEnd;
};

} // namespace mlp::frontend

#endif // MLP_FRONTEND_PARSER_H
