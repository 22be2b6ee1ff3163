//===- Parser.cpp - top level and statements of .mlp ----------------------===//
//
// Expressions, types and paths are parsed in ParseExpr.cpp.
//
//===----------------------------------------------------------------------===//
#include "mlp/Frontend/Parser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlp::frontend;

/// Past this many errors the parser stops: later ones are rarely useful.
static constexpr unsigned kMaxErrors = 10;
/// Deeper nesting of parentheses, calls and blocks is certainly a mistake,
/// and would make the recursive parser and emitter run out of stack.
static constexpr unsigned kMaxNesting = 256;

std::unique_ptr<ModuleAST>
mlp::frontend::parseModule(llvm::SourceMgr &sourceMgr, unsigned bufferId) {
  return Parser(sourceMgr, bufferId).parseModule();
}

Parser::Parser(llvm::SourceMgr &sourceMgr, unsigned bufferId)
    : sourceMgr(sourceMgr) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  fileName = buffer->getBufferIdentifier().str();
  bufferStart = buffer->getBufferStart();
  Lexer lexer(buffer->getBuffer());
  do
    tokens.push_back(lexer.next());
  while (tokens.back().kind != Tok::Eof);
}

//===----------------------------------------------------------------------===//
// Diagnostics and recovery
//===----------------------------------------------------------------------===//

void Parser::error(const SourceLoc &loc, const llvm::Twine &message) {
  if (stop)
    return;
  sourceMgr.PrintMessage(llvm::errs(), loc.ptr, llvm::SourceMgr::DK_Error,
                         message);
  if (++errorCount >= kMaxErrors)
    stop = true;
}

void Parser::note(const SourceLoc &loc, const llvm::Twine &message) {
  sourceMgr.PrintMessage(llvm::errs(), loc.ptr, llvm::SourceMgr::DK_Note,
                         message);
}

void Parser::errorExpected(const llvm::Twine &what) {
  const Token &token = cur();
  if (token.kind == Tok::Error)
    error(token.loc, token.text);
  else
    error(token.loc, "expected " + what + ", got " + describe(token));
}

bool Parser::expect(Tok kind, const llvm::Twine &what) {
  if (consumeIf(kind))
    return true;
  errorExpected(what);
  return false;
}

static bool isOpening(Tok kind) {
  return kind == Tok::LParen || kind == Tok::LBracket || kind == Tok::LBrace;
}

static bool isClosing(Tok kind) {
  return kind == Tok::RParen || kind == Tok::RBracket || kind == Tok::RBrace;
}

static bool closes(Tok open, Tok close) {
  return (open == Tok::LParen && close == Tok::RParen) ||
         (open == Tok::LBracket && close == Tok::RBracket) ||
         (open == Tok::LBrace && close == Tok::RBrace);
}

void Parser::recover(size_t start) {
  if (stop)
    return;
  // Resume at the first token after the error that starts a line (or follows
  // a ';') outside any bracket the failed statement opened, or at the '}'
  // closing the enclosing block. Brackets that do not match mean the block
  // structure itself is broken: stop rather than guess.
  size_t errorPos = std::max(pos, start + 1);
  llvm::SmallVector<Tok> open;
  for (size_t i = start; i < tokens.size(); ++i) {
    const Token &token = tokens[i];
    if (token.kind == Tok::Eof) {
      pos = i;
      if (!open.empty())
        stop = true;
      return;
    }
    if (i >= errorPos && open.empty() && token.startsLine) {
      pos = i;
      return;
    }
    if (isOpening(token.kind)) {
      open.push_back(token.kind);
    } else if (isClosing(token.kind)) {
      if (open.empty()) {
        if (token.kind == Tok::RBrace && i >= errorPos) {
          pos = i;
          return;
        }
        stop = true;
        return;
      }
      if (!closes(open.back(), token.kind)) {
        stop = true;
        return;
      }
      open.pop_back();
    } else if (token.kind == Tok::Semicolon && open.empty() && i >= errorPos) {
      pos = i + 1;
      return;
    }
  }
  stop = true;
}

bool Parser::enterNesting(const SourceLoc &loc) {
  if (++nesting <= kMaxNesting)
    return true;
  error(loc, "nesting too deep: more than " + llvm::Twine(kMaxNesting) +
                 " levels of parentheses, calls and blocks");
  stop = true;
  return false;
}

bool Parser::updateDepth(ExprAST &expr) {
  unsigned depth = 0;
  if (auto *call = llvm::dyn_cast<CallExprAST>(&expr)) {
    for (const ArgAST &arg : call->args)
      depth = std::max(depth, arg.value->depth);
  } else if (auto *binary = llvm::dyn_cast<BinaryExprAST>(&expr)) {
    depth = std::max(binary->lhs->depth, binary->rhs->depth);
  } else if (auto *negate = llvm::dyn_cast<NegateExprAST>(&expr)) {
    depth = negate->operand->depth;
  }
  expr.depth = depth + 1;
  if (expr.depth <= kMaxNesting)
    return true;
  error(expr.loc(), "expression too deeply nested: more than " +
                        llvm::Twine(kMaxNesting) +
                        " levels of operators and calls; split it into "
                        "several statements");
  stop = true;
  return false;
}

void Parser::skipToBlockEnd() {
  llvm::SmallVector<Tok> open;
  while (cur().kind != Tok::Eof) {
    Tok kind = cur().kind;
    if (isOpening(kind)) {
      open.push_back(kind);
    } else if (isClosing(kind)) {
      if (open.empty() && kind == Tok::RBrace)
        return;
      if (open.empty() || !closes(open.back(), kind)) {
        stop = true;
        return;
      }
      open.pop_back();
    }
    consume();
  }
}

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

std::unique_ptr<ModuleAST> Parser::parseModule() {
  auto module = std::make_unique<ModuleAST>();
  module->fileName = fileName;
  std::vector<std::unique_ptr<ModelAST>> models;

  while (!stopped() && cur().kind != Tok::Eof) {
    size_t start = pos;
    if (cur().kind == Tok::KwDef) {
      if (auto def = parseDef())
        module->defs.push_back(std::move(def));
      else
        recover(start);
    } else if (cur().kind == Tok::KwModel) {
      if (auto model = parseModel())
        models.push_back(std::move(model));
      else
        recover(start);
    } else {
      // After an earlier error, stray top-level tokens are most likely its
      // consequence (a block cut short): say nothing more.
      if (errorCount == 0)
        errorExpected("'model' or 'def' at the top level");
      stop = true;
    }
  }

  if (errorCount == 0) {
    if (models.empty()) {
      SourceLoc begin{llvm::SMLoc::getFromPointer(bufferStart), 1, 1};
      error(begin, "no 'model' block in this file; a file needs exactly one "
                   "model");
    } else if (models.size() > 1) {
      error(models[1]->loc, "a file may contain only one 'model' block");
      note(models[0]->loc, "the first model is here");
    }
  }
  if (errorCount != 0)
    return nullptr;
  module->model = std::move(models.front());
  return module;
}

std::optional<std::string> Parser::parseName(const llvm::Twine &what,
                                             SourceLoc &loc) {
  const Token &token = cur();
  if (token.kind != Tok::Ident) {
    errorExpected(what);
    return std::nullopt;
  }
  loc = token.loc;
  consume();
  return token.spelling.str();
}

std::unique_ptr<DefAST> Parser::parseDef() {
  consume(); // 'def'
  auto def = std::make_unique<DefAST>();
  auto name = parseName("the def name after 'def'", def->loc);
  if (!name)
    return nullptr;
  def->name = *name;
  if (!expect(Tok::LParen, "'(' and the parameter names after the def name"))
    return nullptr;
  if (!consumeIf(Tok::RParen)) {
    while (true) {
      DefParamAST param;
      auto paramName = parseName("a parameter name", param.loc);
      if (!paramName)
        return nullptr;
      param.name = *paramName;
      for (const DefParamAST &other : def->params) {
        if (other.name == param.name) {
          error(param.loc, "duplicate parameter '" + param.name + "' in def '" +
                               def->name + "'");
          return nullptr;
        }
      }
      def->params.push_back(std::move(param));
      if (consumeIf(Tok::RParen))
        break;
      if (!expect(Tok::Comma, "',' or ')' after the parameter name"))
        return nullptr;
    }
  }

  unsigned errorsBefore = errorCount;
  BlockContext context;
  context.inDef = true;
  if (!parseBlock(def->body, context, "def '" + def->name + "'"))
    return nullptr;
  if (errorCount == errorsBefore &&
      (def->body.empty() || !llvm::isa<ReturnStmtAST>(*def->body.back())))
    error(lastBlockEnd,
          "def '" + def->name + "' must end with 'return EXPR' before its '}'");
  return def;
}

std::unique_ptr<ModelAST> Parser::parseModel() {
  consume(); // 'model'
  auto model = std::make_unique<ModelAST>();
  auto name = parseName("the model name after 'model'", model->loc);
  if (!name)
    return nullptr;
  model->name = *name;

  unsigned errorsBefore = errorCount;
  if (!parseBlock(model->body, BlockContext(), "model '" + model->name + "'"))
    return nullptr;
  bool hasOutput = llvm::any_of(model->body, [](const StmtPtr &stmt) {
    return llvm::isa<OutputStmtAST>(*stmt);
  });
  if (errorCount == errorsBefore && !hasOutput)
    error(model->loc, "model '" + model->name +
                          "' has no outputs; add a statement 'output NAME = "
                          "EXPR'");
  return model;
}

//===----------------------------------------------------------------------===//
// Blocks and statements
//===----------------------------------------------------------------------===//

bool Parser::parseBlock(StmtList &body, BlockContext context,
                        const llvm::Twine &owner) {
  std::string ownerText = owner.str();
  if (cur().kind != Tok::LBrace) {
    errorExpected("'{' to open the body of " + ownerText);
    return false;
  }
  if (!enterNesting(cur().loc))
    return false;
  struct Leave {
    unsigned &nesting;
    ~Leave() { --nesting; }
  } leave{nesting};
  SourceLoc open = consume().loc;
  bool sawReturn = false;
  while (!stopped()) {
    const Token &token = cur();
    if (token.kind == Tok::RBrace) {
      lastBlockEnd = token.loc;
      consume();
      return true;
    }
    // A block still open at the end of the file, or when the next top-level
    // block begins, is missing its '}'.
    if (token.kind == Tok::Eof ||
        ((token.kind == Tok::KwModel || token.kind == Tok::KwDef) &&
         token.startsLine)) {
      if (errorCount == 0) {
        error(open, "unterminated block: missing '}' to close the body of " +
                        ownerText);
        if (token.kind != Tok::Eof)
          note(token.loc, "the next top-level block starts here");
      }
      stop = true;
      return false;
    }
    if (token.kind == Tok::Semicolon) {
      consume();
      continue;
    }
    if (sawReturn) {
      error(token.loc, "'return' must be the last statement of " + ownerText);
      skipToBlockEnd();
      continue;
    }
    size_t start = pos;
    StmtPtr stmt = parseStatement(context);
    if (!stmt) {
      recover(start);
      continue;
    }
    sawReturn = llvm::isa<ReturnStmtAST>(*stmt);
    body.push_back(std::move(stmt));
  }
  return false;
}

bool Parser::expectStatementEnd() {
  const Token &token = cur();
  if (token.kind == Tok::Semicolon) {
    consume();
    return true;
  }
  if (token.kind == Tok::RBrace || token.kind == Tok::Eof || token.startsLine)
    return true;
  errorExpected("a line break or ';' after the statement");
  return false;
}

StmtPtr Parser::parseStatement(BlockContext context) {
  const Token &token = cur();
  StmtPtr stmt;
  switch (token.kind) {
  case Tok::KwInput: {
    SourceLoc keyword = consume().loc;
    if (context.inDef) {
      error(keyword, "'input' is only allowed in a model; a def receives "
                     "tensors as arguments");
      return nullptr;
    }
    if (context.inRepeat) {
      error(keyword, "'input' must be at the top level of the model, not "
                     "inside 'repeat'");
      return nullptr;
    }
    SourceLoc nameLoc;
    auto name = parseName("the input name after 'input'", nameLoc);
    if (!name ||
        !expect(Tok::Colon, "':' and a type after the input name, e.g. "
                            "input x: f32[N, 128]"))
      return nullptr;
    auto type = parseType();
    if (!type)
      return nullptr;
    stmt = std::make_unique<InputStmtAST>(nameLoc, *name, std::move(*type));
    break;
  }
  case Tok::KwOutput: {
    SourceLoc keyword = consume().loc;
    if (context.inDef) {
      error(keyword, "'output' is only allowed in a model; a def returns its "
                     "result with 'return'");
      return nullptr;
    }
    if (context.inRepeat) {
      error(keyword, "'output' must be at the top level of the model, not "
                     "inside 'repeat'");
      return nullptr;
    }
    SourceLoc nameLoc;
    auto name = parseName("the output name after 'output'", nameLoc);
    if (!name || !expect(Tok::Equal, "'=' after the output name"))
      return nullptr;
    ExprPtr value = parseExpr();
    if (!value)
      return nullptr;
    stmt = std::make_unique<OutputStmtAST>(nameLoc, *name, std::move(value));
    break;
  }
  case Tok::KwRepeat:
    stmt = parseRepeat(context);
    if (!stmt)
      return nullptr;
    break;
  case Tok::KwReturn: {
    SourceLoc keyword = consume().loc;
    if (!context.inDef) {
      error(keyword, "'return' is only allowed at the end of a def");
      return nullptr;
    }
    if (context.inRepeat) {
      error(keyword, "'return' must be the last statement of the def, not "
                     "inside 'repeat'");
      return nullptr;
    }
    ExprPtr value = parseExpr();
    if (!value)
      return nullptr;
    stmt = std::make_unique<ReturnStmtAST>(keyword, std::move(value));
    break;
  }
  case Tok::KwParam:
    error(token.loc, "a parameter must be given a name: NAME = param "
                     "@path: TYPE");
    return nullptr;
  case Tok::Ident: {
    std::string name = token.spelling.str();
    const Token &next = peek();
    if (next.kind == Tok::LParen) {
      error(token.loc, "the result of '" + name +
                           "(...)' must be assigned to a name, e.g. h = " +
                           name + "(...)");
      return nullptr;
    }
    if (next.kind == Tok::Ident && next.loc.line == token.loc.line) {
      error(token.loc, "unknown statement '" + name +
                           "'; expected 'input', 'output', 'repeat', "
                           "'return' or NAME = EXPR");
      return nullptr;
    }
    SourceLoc nameLoc = consume().loc;
    if (!expect(Tok::Equal, "'=' after '" + name + "'"))
      return nullptr;
    if (cur().kind == Tok::KwParam) {
      SourceLoc keyword = consume().loc;
      if (cur().kind != Tok::Path) {
        errorExpected("a parameter path after 'param', e.g. w = param "
                      "@pos_embed: f32[196, 512]");
        return nullptr;
      }
      auto path = parsePath();
      if (!path || !expect(Tok::Colon, "':' and a type after the parameter "
                                       "path"))
        return nullptr;
      auto type = parseType();
      if (!type)
        return nullptr;
      stmt = std::make_unique<ParamStmtAST>(keyword, name, nameLoc,
                                            std::move(*path), std::move(*type));
      break;
    }
    ExprPtr value = parseExpr();
    if (!value)
      return nullptr;
    stmt = std::make_unique<AssignStmtAST>(nameLoc, name, std::move(value));
    break;
  }
  default:
    errorExpected("a statement");
    return nullptr;
  }
  if (!expectStatementEnd())
    return nullptr;
  return stmt;
}

StmtPtr Parser::parseRepeat(BlockContext context) {
  auto stmt = std::make_unique<RepeatStmtAST>(consume().loc);
  switch (cur().kind) {
  case Tok::Int:
  case Tok::Float:
  case Tok::Ident:
  case Tok::LParen:
  case Tok::Minus: {
    bool parenthesized = false;
    stmt->count = parsePrimary(parenthesized);
    if (!stmt->count)
      return nullptr;
    break;
  }
  default:
    errorExpected("a repeat count (a positive integer) after 'repeat'");
    return nullptr;
  }
  const Token &next = cur();
  if (next.kind == Tok::Plus || next.kind == Tok::Minus ||
      next.kind == Tok::Star || next.kind == Tok::Slash ||
      next.kind == Tok::Pipe) {
    error(next.loc, "a computed repeat count must be in parentheses, e.g. "
                    "repeat (depth - 1)");
    return nullptr;
  }
  // Literal counts are checked here so that a def that is never called is
  // still checked; computed counts are checked when the repeat is unrolled.
  if (auto *number = llvm::dyn_cast<NumberExprAST>(stmt->count.get())) {
    if (!number->isInteger || number->intValue <= 0) {
      std::string text = number->isInteger ? std::to_string(number->intValue)
                                           : formatNumber(number->value);
      error(number->loc(),
            "repeat count must be a positive integer, got " + text);
      return nullptr;
    }
  }
  if (consumeIf(Tok::KwAs)) {
    auto variable = parseName("the name of the repeat variable after 'as'",
                              stmt->variableLoc);
    if (!variable)
      return nullptr;
    stmt->variable = *variable;
  }
  if (cur().kind == Tok::Path) {
    stmt->path = parsePath();
    if (!stmt->path)
      return nullptr;
  }
  BlockContext bodyContext = context;
  bodyContext.inRepeat = true;
  if (!parseBlock(stmt->body, bodyContext, "'repeat'"))
    return nullptr;
  return stmt;
}
