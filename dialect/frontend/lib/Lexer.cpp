//===- Lexer.cpp - tokens of the .mlp language ----------------------------===//
#include "mlp/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <cstdlib>

using namespace mlp::frontend;

static bool isIdentStart(char c) { return llvm::isAlpha(c) || c == '_'; }
static bool isIdentChar(char c) { return llvm::isAlnum(c) || c == '_'; }

llvm::StringRef mlp::frontend::spell(Tok kind) {
  switch (kind) {
  case Tok::KwModel:
    return "'model'";
  case Tok::KwDef:
    return "'def'";
  case Tok::KwInput:
    return "'input'";
  case Tok::KwOutput:
    return "'output'";
  case Tok::KwParam:
    return "'param'";
  case Tok::KwRepeat:
    return "'repeat'";
  case Tok::KwAs:
    return "'as'";
  case Tok::KwReturn:
    return "'return'";
  case Tok::KwTrue:
    return "'true'";
  case Tok::KwFalse:
    return "'false'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Equal:
    return "'='";
  case Tok::Semicolon:
    return "';'";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::Pipe:
    return "'|>'";
  case Tok::Eof:
    return "end of file";
  case Tok::Error:
    return "invalid token";
  case Tok::Ident:
    return "identifier";
  case Tok::Int:
  case Tok::Float:
    return "number";
  case Tok::String:
    return "string";
  case Tok::Path:
    return "'@path'";
  }
  return "token";
}

std::string mlp::frontend::describe(const Token &token) {
  switch (token.kind) {
  case Tok::Ident:
    return ("identifier '" + token.spelling + "'").str();
  case Tok::Int:
  case Tok::Float:
    return ("number " + token.spelling).str();
  case Tok::String:
  case Tok::Path:
    return ("'" + token.spelling + "'").str();
  case Tok::KwModel:
  case Tok::KwDef:
  case Tok::KwInput:
  case Tok::KwOutput:
  case Tok::KwParam:
  case Tok::KwRepeat:
  case Tok::KwAs:
  case Tok::KwReturn:
  case Tok::KwTrue:
  case Tok::KwFalse:
    return ("keyword " + spell(token.kind)).str();
  default:
    return spell(token.kind).str();
  }
}

Lexer::Lexer(llvm::StringRef buffer)
    : cur(buffer.begin()), end(buffer.end()), lineStart(buffer.begin()) {}

void Lexer::skipSpaceAndComments() {
  while (cur != end) {
    char c = *cur;
    if (c == '\n') {
      ++cur;
      ++line;
      lineStart = cur;
      atLineStart = true;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++cur;
    } else if (c == '#') {
      while (cur != end && *cur != '\n')
        ++cur;
    } else {
      return;
    }
  }
}

Token Lexer::make(Tok kind, const char *start, unsigned startCol) {
  Token token;
  token.kind = kind;
  token.spelling = llvm::StringRef(start, cur - start);
  token.loc = {llvm::SMLoc::getFromPointer(start), line, startCol};
  token.startsLine = atLineStart;
  atLineStart = false;
  return token;
}

Token Lexer::error(const char *start, unsigned startCol, std::string message) {
  Token token = make(Tok::Error, start, startCol);
  token.text = std::move(message);
  return token;
}

Token Lexer::next() {
  skipSpaceAndComments();
  const char *start = cur;
  unsigned startCol = column(start);
  if (cur == end) {
    Token token = make(Tok::Eof, start, startCol);
    token.startsLine = true;
    return token;
  }

  char c = *cur;
  if (isIdentStart(c))
    return lexIdentifier(start, startCol);
  if (llvm::isDigit(c))
    return lexNumber(start, startCol);
  if (c == '"')
    return lexString(start, startCol);
  if (c == '@')
    return lexPath(start, startCol);

  ++cur;
  switch (c) {
  case '{':
    return make(Tok::LBrace, start, startCol);
  case '}':
    return make(Tok::RBrace, start, startCol);
  case '(':
    return make(Tok::LParen, start, startCol);
  case ')':
    return make(Tok::RParen, start, startCol);
  case '[':
    return make(Tok::LBracket, start, startCol);
  case ']':
    return make(Tok::RBracket, start, startCol);
  case ',':
    return make(Tok::Comma, start, startCol);
  case ':':
    return make(Tok::Colon, start, startCol);
  case '=':
    return make(Tok::Equal, start, startCol);
  case ';':
    return make(Tok::Semicolon, start, startCol);
  case '+':
    return make(Tok::Plus, start, startCol);
  case '-':
    return make(Tok::Minus, start, startCol);
  case '*':
    return make(Tok::Star, start, startCol);
  case '/':
    return make(Tok::Slash, start, startCol);
  case '|':
    if (cur != end && *cur == '>') {
      ++cur;
      return make(Tok::Pipe, start, startCol);
    }
    return error(start, startCol,
                 "unexpected character '|'; did you mean '|>'?");
  case '.':
    if (cur != end && llvm::isDigit(*cur))
      return error(start, startCol,
                   "a number must start with a digit, e.g. 0.5");
    break;
  default:
    break;
  }
  if (llvm::isPrint(c))
    return error(start, startCol,
                 std::string("unexpected character '") + c + "'");
  // Take a whole UTF-8 sequence so that the message can quote it.
  auto byte = [](char b) { return static_cast<unsigned char>(b); };
  if (byte(c) >= 0xc0)
    while (cur != end && (byte(*cur) & 0xc0) == 0x80)
      ++cur;
  if (byte(c) >= 0x80)
    return error(start, startCol,
                 "unexpected character '" + std::string(start, cur) +
                     "'; only ASCII is allowed outside comments and strings");
  return error(start, startCol,
               "unexpected control character 0x" +
                   llvm::utohexstr(byte(c), /*LowerCase=*/true, /*Width=*/2));
}

Token Lexer::lexIdentifier(const char *start, unsigned startCol) {
  while (cur != end && isIdentChar(*cur))
    ++cur;
  llvm::StringRef word(start, cur - start);
  Tok kind = llvm::StringSwitch<Tok>(word)
                 .Case("model", Tok::KwModel)
                 .Case("def", Tok::KwDef)
                 .Case("input", Tok::KwInput)
                 .Case("output", Tok::KwOutput)
                 .Case("param", Tok::KwParam)
                 .Case("repeat", Tok::KwRepeat)
                 .Case("as", Tok::KwAs)
                 .Case("return", Tok::KwReturn)
                 .Case("true", Tok::KwTrue)
                 .Case("false", Tok::KwFalse)
                 .Default(Tok::Ident);
  return make(kind, start, startCol);
}

Token Lexer::lexNumber(const char *start, unsigned startCol) {
  auto digits = [&] {
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
  };
  digits();
  bool isFloat = false;
  if (cur + 1 < end && *cur == '.' && llvm::isDigit(cur[1])) {
    isFloat = true;
    ++cur;
    digits();
  }
  bool badExponent = false;
  if (cur != end && (*cur == 'e' || *cur == 'E')) {
    const char *q = cur + 1;
    if (q != end && (*q == '+' || *q == '-'))
      ++q;
    if (q != end && llvm::isDigit(*q)) {
      isFloat = true;
      cur = q;
      digits();
    } else {
      badExponent = true;
    }
  }
  // Anything glued to the number (`1.2.3`, `12ab`, `1e`) makes it malformed;
  // take it all so the message shows the whole word.
  if (cur != end && (isIdentChar(*cur) || *cur == '.')) {
    while (cur != end && (isIdentChar(*cur) || *cur == '.' ||
                          ((*cur == '+' || *cur == '-') &&
                           (cur[-1] == 'e' || cur[-1] == 'E'))))
      ++cur;
    std::string word(start, cur);
    if (badExponent)
      return error(start, startCol,
                   "invalid number '" + word +
                       "': the exponent needs digits, e.g. 1e-6");
    return error(start, startCol, "invalid number '" + word + "'");
  }

  Token token = make(isFloat ? Tok::Float : Tok::Int, start, startCol);
  if (isFloat) {
    std::string text = token.spelling.str();
    token.floatValue = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(token.floatValue)) {
      token.kind = Tok::Error;
      token.text = "number '" + text + "' is out of range";
    }
  } else if (token.spelling.getAsInteger(10, token.intValue)) {
    token.kind = Tok::Error;
    token.text = ("integer '" + token.spelling + "' is too large").str();
  } else {
    token.floatValue = static_cast<double>(token.intValue);
  }
  return token;
}

Token Lexer::lexString(const char *start, unsigned startCol) {
  ++cur; // opening quote
  std::string contents;
  const char *badEscape = nullptr;
  while (cur != end && *cur != '"' && *cur != '\n') {
    if (*cur == '\\' && cur + 1 != end && cur[1] != '\n') {
      char e = cur[1];
      if (e == '"' || e == '\\')
        contents += e;
      else if (e == 'n')
        contents += '\n';
      else if (e == 't')
        contents += '\t';
      else if (!badEscape)
        badEscape = cur;
      cur += 2;
      continue;
    }
    contents += *cur++;
  }
  if (cur == end || *cur != '"')
    return error(
        start, startCol,
        "unterminated string: missing '\"' before the end of the line");
  ++cur; // closing quote
  if (badEscape) {
    Token token = error(start, startCol,
                        std::string("unknown escape sequence '\\") +
                            badEscape[1] + "' in string");
    token.loc = token.loc.advance(badEscape - start);
    return token;
  }
  Token token = make(Tok::String, start, startCol);
  token.text = std::move(contents);
  return token;
}

Token Lexer::lexPath(const char *start, unsigned startCol) {
  ++cur; // '@'
  while (cur != end) {
    if (isIdentChar(*cur) || *cur == '.') {
      ++cur;
      continue;
    }
    if (*cur != '{')
      break;
    // `{name}` interpolates a variable; a '{' that does not close at once is
    // not part of the path (it may open a block).
    const char *q = cur + 1;
    while (q != end && isIdentChar(*q))
      ++q;
    if (q == end || *q != '}')
      break;
    cur = q + 1;
  }
  if (cur == start + 1)
    return error(start, startCol,
                 "expected a parameter path after '@', e.g. @fc1 or "
                 "@blocks.{i}.norm");
  Token token = make(Tok::Path, start, startCol);
  token.text = std::string(start + 1, cur);
  return token;
}
