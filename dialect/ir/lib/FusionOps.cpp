//===- FusionOps.cpp - mlp.fused: the shape of each kind of group ---------===//
#include "mlp/IR/MLPOps.h"

using namespace mlir;
using namespace mlp;

YieldOp FusedOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}

namespace {

bool isActivation(Operation *op) {
  return isa<ReluOp, GeluOp, SiluOp, SigmoidOp, TanhOp>(op);
}

bool isBinary(Operation *op) { return isa<AddOp, SubOp, MulOp, DivOp>(op); }

/// The ops of `block` that compute (everything but parameters and the
/// terminator), in order.
SmallVector<Operation *> computeOps(Block &block) {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    if (!isa<ParamOp>(op))
      ops.push_back(&op);
  return ops;
}

/// An epilogue: a linear or matmul, then elementwise ops each applied to the
/// previous result, whose other operand (if any) is a per-channel vector or
/// a tensor of the result's type, defined outside the chain.
LogicalResult verifyEpilogue(FusedOp op, ArrayRef<Operation *> ops) {
  if (ops.empty() || !isa<LinearOp, MatmulOp>(ops.front()))
    return op.emitOpError("of kind \"epilogue\" must start with mlp.linear or "
                          "mlp.matmul");
  Value current = ops.front()->getResult(0);
  auto type = cast<RankedTensorType>(current.getType());
  for (Operation *next : ArrayRef<Operation *>(ops).drop_front()) {
    if (isActivation(next)) {
      if (next->getOperand(0) != current)
        return op.emitOpError("epilogue op '")
               << next->getName() << "' must apply to the previous result";
    } else if (isBinary(next)) {
      Value lhs = next->getOperand(0), rhs = next->getOperand(1);
      if (lhs != current && rhs != current)
        return op.emitOpError("epilogue op '")
               << next->getName() << "' must apply to the previous result";
      Value other = lhs == current ? rhs : lhs;
      auto otherType = cast<RankedTensorType>(other.getType());
      bool perChannel = otherType.getRank() == 1 &&
                        otherType.getDimSize(0) == type.getShape().back();
      if (!perChannel && otherType != type)
        return op.emitOpError("epilogue operand of '")
               << next->getName()
               << "' must be a per-channel vector or a tensor of type "
               << type;
      if (next->getResult(0).getType() != type)
        return op.emitOpError("epilogue op '")
               << next->getName() << "' must keep the type " << type;
    } else {
      return op.emitOpError("of kind \"epilogue\" cannot hold '")
             << next->getName() << "'";
    }
    current = next->getResult(0);
  }
  if (op.getYield().getValues().size() != 1 ||
      op.getYield().getValues()[0] != current)
    return op.emitOpError("of kind \"epilogue\" must yield its last result");
  return success();
}

/// transpose(last two) -> linears / epilogues -> transpose(last two)
/// [-> add residual].
LogicalResult verifyTokenMixing(FusedOp op, ArrayRef<Operation *> ops) {
  auto first = ops.empty() ? TransposeOp() : dyn_cast<TransposeOp>(ops.front());
  if (!first || !swapsLastTwoAxes(first))
    return op.emitOpError("of kind \"token_mixing\" must start with an "
                          "mlp.transpose of the last two axes");
  auto last = llvm::find_if(llvm::reverse(ops), [](Operation *o) {
    return isa<TransposeOp>(o);
  });
  if (last == llvm::reverse(ops).end() || *last == first.getOperation() ||
      !swapsLastTwoAxes(cast<TransposeOp>(*last)))
    return op.emitOpError("of kind \"token_mixing\" must transpose the last "
                          "two axes back");
  bool hasLinear = false;
  for (Operation *inner : ops) {
    if (inner == first.getOperation() || inner == *last)
      continue;
    if (isa<LinearOp>(inner)) {
      hasLinear = true;
      continue;
    }
    auto fused = dyn_cast<FusedOp>(inner);
    if (fused && fused.getKind() == FusedOp::kEpilogue) {
      hasLinear = true;
      continue;
    }
    if (!isActivation(inner) && !isBinary(inner))
      return op.emitOpError("of kind \"token_mixing\" cannot hold '")
             << inner->getName() << "'";
  }
  if (!hasLinear)
    return op.emitOpError("of kind \"token_mixing\" must hold a linear");
  return success();
}

LogicalResult verifyChain(FusedOp op, ArrayRef<Operation *> ops) {
  if (ops.size() < 2)
    return op.emitOpError("of kind \"chain\" must hold at least two groups");
  Value previous;
  for (Operation *inner : ops) {
    auto fused = dyn_cast<FusedOp>(inner);
    if (!fused || fused.getKind() != FusedOp::kEpilogue)
      return op.emitOpError("of kind \"chain\" holds only \"epilogue\" "
                            "groups, not '")
             << inner->getName() << "'";
    if (previous) {
      auto linear = &fused.getBody().front().front();
      while (isa<ParamOp>(linear))
        linear = linear->getNextNode();
      if (linear->getOperand(0) != previous)
        return op.emitOpError("of kind \"chain\": each group must consume "
                              "the previous one's result");
    }
    previous = fused->getResult(0);
  }
  if (op.getYield().getValues().size() != 1 ||
      op.getYield().getValues()[0] != previous)
    return op.emitOpError("of kind \"chain\" must yield its last result");
  return success();
}

} // namespace

LogicalResult FusedOp::verify() {
  Block &body = getBody().front();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("body must end with mlp.yield");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yields ")
           << yield.getValues().getTypes() << " but the group's results are "
           << getResultTypes();
  if (getNumResults() == 0)
    return emitOpError("must have a result");
  SmallVector<Operation *> ops = computeOps(body);
  StringRef kind = getKind();
  if (kind == kEpilogue)
    return verifyEpilogue(*this, ops);
  if (kind == kTokenMixing)
    return verifyTokenMixing(*this, ops);
  if (kind == kChain)
    return verifyChain(*this, ops);
  return emitOpError("unknown kind \"")
         << kind << "\" (expected epilogue, token_mixing or chain)";
}
