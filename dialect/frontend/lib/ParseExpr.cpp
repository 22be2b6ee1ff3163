//===- ParseExpr.cpp - expressions, types and paths of .mlp ---------------===//
//
// Precedence, loosest first: `|>`, then `+ -`, then `*`, then the postfix
// `@path` binding, then primaries (numbers, strings, booleans, names, calls
// and parenthesized expressions).
//
//===----------------------------------------------------------------------===//
#include "mlp/Frontend/Parser.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlp::frontend;

ExprPtr Parser::parseExpr() {
  ExprPtr expr = parseSum();
  while (expr && cur().kind == Tok::Pipe) {
    consume();
    expr = parsePipeStage(std::move(expr));
  }
  return expr;
}

ExprPtr Parser::parsePipeStage(ExprPtr input) {
  const Token &name = cur();
  if (name.kind != Tok::Ident) {
    errorExpected("a layer or def after '|>', e.g. |> relu or |> linear(64) "
                  "@fc");
    return nullptr;
  }
  std::unique_ptr<CallExprAST> call;
  if (peek().kind == Tok::LParen) {
    consume();
    call = std::make_unique<CallExprAST>(name.loc, name.spelling.str());
    if (!parseArguments(*call))
      return nullptr;
  } else {
    consume();
    call = std::make_unique<CallExprAST>(name.loc, name.spelling.str());
  }
  ArgAST piped;
  piped.value = std::move(input);
  piped.piped = true;
  call->args.insert(call->args.begin(), std::move(piped));
  if (!updateDepth(*call))
    return nullptr;

  if (cur().kind == Tok::Path) {
    auto path = parsePath();
    if (!path)
      return nullptr;
    call->binding = std::move(*path);
  }
  const Token &next = cur();
  if (next.kind == Tok::Plus || next.kind == Tok::Minus ||
      next.kind == Tok::Star || next.kind == Tok::Slash) {
    error(next.loc, "'" + next.spelling +
                        "' cannot follow a pipe stage because '|>' binds "
                        "loosest; put the pipe in parentheses, e.g. "
                        "(x |> f) + y");
    return nullptr;
  }
  return call;
}

ExprPtr Parser::parseSum() {
  ExprPtr lhs = parseProduct();
  while (lhs && (cur().kind == Tok::Plus || cur().kind == Tok::Minus)) {
    const Token &op = consume();
    ExprPtr rhs = parseProduct();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(op.loc, op.spelling[0],
                                          std::move(lhs), std::move(rhs));
    if (!updateDepth(*lhs))
      return nullptr;
  }
  return lhs;
}

ExprPtr Parser::parseProduct() {
  ExprPtr lhs = parsePostfix();
  while (lhs && (cur().kind == Tok::Star || cur().kind == Tok::Slash)) {
    const Token &op = consume();
    ExprPtr rhs = parsePostfix();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExprAST>(op.loc, op.spelling[0],
                                          std::move(lhs), std::move(rhs));
    if (!updateDepth(*lhs))
      return nullptr;
  }
  return lhs;
}

ExprPtr Parser::parsePostfix() {
  bool parenthesized = false;
  ExprPtr expr = parsePrimary(parenthesized);
  if (!expr || cur().kind != Tok::Path)
    return expr;
  auto *call = llvm::dyn_cast<CallExprAST>(expr.get());
  if (!call || parenthesized) {
    error(cur().loc, "'" + cur().spelling +
                         "' must follow a call of a layer or def, e.g. "
                         "linear(x, 64) @fc1");
    return nullptr;
  }
  auto path = parsePath();
  if (!path)
    return nullptr;
  call->binding = std::move(*path);
  return expr;
}

ExprPtr Parser::parsePrimary(bool &parenthesized) {
  if (!enterNesting(cur().loc))
    return nullptr;
  ExprPtr expr = parsePrimaryImpl(parenthesized);
  --nesting;
  return expr;
}

ExprPtr Parser::parsePrimaryImpl(bool &parenthesized) {
  const Token &token = cur();
  switch (token.kind) {
  case Tok::Int:
    consume();
    return std::make_unique<NumberExprAST>(token.loc, true, token.intValue,
                                           token.floatValue);
  case Tok::Float:
    consume();
    return std::make_unique<NumberExprAST>(token.loc, false, 0,
                                           token.floatValue);
  case Tok::String:
    consume();
    return std::make_unique<StringExprAST>(token.loc, token.text);
  case Tok::KwTrue:
  case Tok::KwFalse:
    consume();
    return std::make_unique<BoolExprAST>(token.loc, token.kind == Tok::KwTrue);
  case Tok::Ident:
    if (peek().kind == Tok::LParen)
      return parseCall();
    consume();
    return std::make_unique<VarExprAST>(token.loc, token.spelling.str());
  case Tok::LParen: {
    SourceLoc open = consume().loc;
    ExprPtr expr = parseExpr();
    if (!expr)
      return nullptr;
    if (cur().kind != Tok::RParen) {
      if (cur().startsLine)
        error(open, "missing ')' to close this '('");
      else
        errorExpected("')'");
      return nullptr;
    }
    consume();
    parenthesized = true;
    return expr;
  }
  case Tok::Minus: {
    SourceLoc minus = consume().loc;
    const Token &operand = cur();
    // A negative literal is a number of its own, located at the '-'.
    if (operand.kind == Tok::Int) {
      consume();
      return std::make_unique<NumberExprAST>(minus, true, -operand.intValue,
                                             -operand.floatValue);
    }
    if (operand.kind == Tok::Float) {
      consume();
      return std::make_unique<NumberExprAST>(minus, false, 0,
                                             -operand.floatValue);
    }
    bool innerParenthesized = false;
    ExprPtr inner = parsePrimary(innerParenthesized);
    if (!inner)
      return nullptr;
    ExprPtr negate = std::make_unique<NegateExprAST>(minus, std::move(inner));
    if (!updateDepth(*negate))
      return nullptr;
    return negate;
  }
  default:
    errorExpected("an expression");
    return nullptr;
  }
}

ExprPtr Parser::parseCall() {
  const Token &name = consume();
  auto call = std::make_unique<CallExprAST>(name.loc, name.spelling.str());
  if (!parseArguments(*call) || !updateDepth(*call))
    return nullptr;
  return call;
}

bool Parser::parseArguments(CallExprAST &call) {
  SourceLoc open = consume().loc; // '('
  if (consumeIf(Tok::RParen))
    return true;
  bool sawKeyword = false;
  while (true) {
    ArgAST arg;
    if (cur().kind == Tok::Ident && peek().kind == Tok::Equal) {
      arg.keyword = cur().spelling.str();
      arg.keywordLoc = cur().loc;
      consume();
      consume();
      sawKeyword = true;
    } else if (sawKeyword) {
      error(cur().loc, "positional arguments must come before keyword "
                       "arguments");
      return false;
    }
    arg.value = parseExpr();
    if (!arg.value)
      return false;
    call.args.push_back(std::move(arg));

    if (consumeIf(Tok::Comma)) {
      if (consumeIf(Tok::RParen)) // trailing comma
        return true;
      continue;
    }
    if (consumeIf(Tok::RParen))
      return true;
    if (cur().startsLine) {
      error(open,
            "missing ')' to close the arguments of '" + call.callee + "'");
      return false;
    }
    errorExpected("',' or ')' after an argument of '" + call.callee + "'");
    return false;
  }
}

std::optional<TypeAST> Parser::parseType() {
  const Token &element = cur();
  if (element.kind != Tok::Ident) {
    errorExpected("a tensor type such as f32[N, 128]");
    return std::nullopt;
  }
  if (!llvm::is_contained({"f16", "bf16", "f32", "f64", "i32", "i64"},
                          element.spelling)) {
    error(element.loc, "unknown element type '" + element.spelling +
                           "'; expected f16, bf16, f32, f64, i32 or i64");
    return std::nullopt;
  }
  consume();
  TypeAST type;
  type.elementType = element.spelling.str();
  type.loc = element.loc;
  if (!expect(Tok::LBracket, "'[' and the dimensions after '" +
                                 element.spelling + "', e.g. " +
                                 element.spelling + "[N, 128]"))
    return std::nullopt;
  if (cur().kind == Tok::RBracket) {
    error(cur().loc, "a tensor type needs at least one dimension");
    return std::nullopt;
  }
  while (true) {
    const Token &dim = cur();
    if (dim.kind == Tok::Int) {
      if (dim.intValue <= 0) {
        error(dim.loc,
              "a dimension must be a positive integer, got " + dim.spelling);
        return std::nullopt;
      }
      type.dims.push_back({dim.intValue, "", dim.loc});
    } else if (dim.kind == Tok::Ident) {
      type.dims.push_back({0, dim.spelling.str(), dim.loc});
    } else {
      errorExpected("a dimension (a positive integer or the batch symbol)");
      return std::nullopt;
    }
    consume();
    if (consumeIf(Tok::RBracket))
      return type;
    if (!expect(Tok::Comma, "',' or ']' in the tensor type"))
      return std::nullopt;
  }
}

std::optional<PathAST> Parser::parsePath() {
  const Token &token = consume();
  PathAST path;
  path.loc = token.loc;
  path.spelling = token.text;
  // Locations inside the path: the text starts one column after the '@'.
  SourceLoc base = token.loc.advance(1);
  llvm::StringRef text = token.text;
  size_t i = 0;
  while (true) {
    size_t segmentStart = i;
    std::vector<PathPiece> pieces;
    while (i < text.size() && text[i] != '.') {
      if (text[i] == '{') {
        // The lexer only lets `{word}` into a path.
        size_t close = text.find('}', i);
        llvm::StringRef name = text.slice(i + 1, close);
        if (name.empty() || llvm::isDigit(name[0])) {
          error(base.advance(i), "'{" + name +
                                     "}' must name a repeat variable, e.g. "
                                     "{i}");
          return std::nullopt;
        }
        pieces.push_back({true, name.str(), base.advance(i + 1)});
        i = close + 1;
      } else {
        size_t end = text.find_first_of(".{", i);
        if (end == llvm::StringRef::npos)
          end = text.size();
        pieces.push_back({false, text.slice(i, end).str(), base.advance(i)});
        i = end;
      }
    }
    if (pieces.empty()) {
      error(base.advance(segmentStart),
            "empty segment in the parameter path '@" + text + "'");
      return std::nullopt;
    }
    path.segments.push_back(std::move(pieces));
    if (i == text.size())
      return path;
    ++i; // '.'
  }
}
