//===- Lexer.h - tokens of the .mlp language --------------------*- C++ -*-===//
//
// Splits a `.mlp` buffer into tokens. Every token knows where it starts (a
// pointer into the buffer for llvm::SourceMgr diagnostics, plus the 1-based
// line and column for MLIR locations) and whether it is the first token on its
// line, which is how the parser tells where a statement ends.
//
// The lexer never prints: a malformed token (bad number, unterminated string,
// stray character) becomes a Tok::Error token carrying its message, and the
// parser reports it when it reaches it. That keeps lexer and parser errors in
// source order and lets the parser's recovery skip both alike.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_FRONTEND_LEXER_H
#define MLP_FRONTEND_LEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <string>

namespace mlp::frontend {

/// A position in the source: the buffer pointer for diagnostics and the
/// 1-based line and column for FileLineColLoc.
struct SourceLoc {
  llvm::SMLoc ptr;
  unsigned line = 0;
  unsigned col = 0;

  /// The position `n` bytes further on the same line.
  SourceLoc advance(unsigned n) const {
    return {llvm::SMLoc::getFromPointer(ptr.getPointer() + n), line, col + n};
  }
};

enum class Tok {
  Eof,
  Error, // malformed input; Token::text holds the message
  Ident,
  Int,
  Float,
  String, // Token::text holds the unescaped contents
  Path,   // `@a.b.{i}`; Token::text holds the part after '@'
  // Keywords.
  KwModel,
  KwDef,
  KwInput,
  KwOutput,
  KwParam,
  KwRepeat,
  KwAs,
  KwReturn,
  KwTrue,
  KwFalse,
  // Punctuation.
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equal,
  Semicolon,
  Plus,
  Minus,
  Star,
  Slash,
  Pipe, // |>
};

struct Token {
  Tok kind = Tok::Eof;
  /// The token as written in the source.
  llvm::StringRef spelling;
  SourceLoc loc;
  /// True for the first token on a line (and for end of file).
  bool startsLine = false;
  int64_t intValue = 0;
  double floatValue = 0.0;
  /// String contents, path text, or the error message of a Tok::Error.
  std::string text;
};

/// Describes a token for "expected X, got Y" messages, e.g. "identifier
/// 'relu'", "'{'", "end of file".
std::string describe(const Token &token);
/// The spelling of a punctuation or keyword token kind, e.g. "'}'".
llvm::StringRef spell(Tok kind);

class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer);

  /// Returns the next token; after the end of the buffer, Tok::Eof forever.
  Token next();

private:
  Token make(Tok kind, const char *start, unsigned startCol);
  Token error(const char *start, unsigned startCol, std::string message);
  Token lexIdentifier(const char *start, unsigned startCol);
  Token lexNumber(const char *start, unsigned startCol);
  Token lexString(const char *start, unsigned startCol);
  Token lexPath(const char *start, unsigned startCol);
  void skipSpaceAndComments();
  unsigned column(const char *p) const {
    return static_cast<unsigned>(p - lineStart) + 1;
  }

  const char *cur;
  const char *end;
  const char *lineStart;
  unsigned line = 1;
  /// No token has been produced on the current line yet.
  bool atLineStart = true;
};

} // namespace mlp::frontend

#endif // MLP_FRONTEND_LEXER_H
