//===- Fuse.cpp - -mlp-fuse: kernel groups as mlp.fused ops ---------------===//
//
// Groups are formed on the def-use chains of single-use values: an op joins
// the group of its operand only if that operand has no other user, so that
// no intermediate of a group is ever needed outside it (a backend may keep
// it in registers or in cache only).
//
//===----------------------------------------------------------------------===//
#include "mlp/IR/MLPOps.h"
#include "mlp/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlp {
#define GEN_PASS_DEF_MLPFUSE
#include "mlp/Passes/Passes.h.inc"
} // namespace mlp

using namespace mlir;

namespace {

bool isActivation(Operation *op) {
  return isa<mlp::ReluOp, mlp::GeluOp, mlp::SiluOp, mlp::SigmoidOp,
             mlp::TanhOp>(op);
}

bool isBinary(Operation *op) {
  return isa<mlp::AddOp, mlp::SubOp, mlp::MulOp, mlp::DivOp>(op);
}

/// The only user of `value`, if it has exactly one use.
Operation *soleUser(Value value) {
  if (!value.hasOneUse())
    return nullptr;
  return *value.getUsers().begin();
}

/// Whether `op` may extend an epilogue whose current value is `current`:
/// an activation of it, or a binary op of it and a per-channel vector or a
/// tensor of its type (not `current` itself: x * x reads it twice).
bool extendsEpilogue(Operation *op, Value current, bool allowFull) {
  if (isActivation(op))
    return op->getOperand(0) == current;
  if (!isBinary(op))
    return false;
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  if ((lhs == current) == (rhs == current))
    return false;
  auto type = cast<RankedTensorType>(current.getType());
  if (op->getResult(0).getType() != type)
    return false;
  auto other = cast<RankedTensorType>((lhs == current ? rhs : lhs).getType());
  bool perChannel = other.getRank() == 1 &&
                    other.getDimSize(0) == type.getShape().back();
  return perChannel || (allowFull && other == type);
}

/// The op and the single-use elementwise ops after it that form its
/// epilogue, in order. `allowFull`: operands of the result's type (a
/// residual) may join, not only per-channel vectors.
SmallVector<Operation *> epilogueFrom(Operation *linear, bool allowFull) {
  SmallVector<Operation *> ops = {linear};
  Value current = linear->getResult(0);
  while (Operation *user = soleUser(current)) {
    if (!extendsEpilogue(user, current, allowFull) ||
        user->getBlock() != linear->getBlock())
      break;
    ops.push_back(user);
    current = user->getResult(0);
  }
  return ops;
}

/// Moves `ops` (of one block, in order; only the last one's results used
/// outside) into a new mlp.fused op of `kind` at the last op's place.
mlp::FusedOp group(StringRef kind, ArrayRef<Operation *> ops) {
  Operation *last = ops.back();
  OpBuilder b(last);
  auto fused = b.create<mlp::FusedOp>(last->getLoc(), last->getResultTypes(),
                                      b.getStringAttr(kind));
  Block *body = b.createBlock(&fused.getBody());
  b.setInsertionPointToEnd(body);
  auto yield = b.create<mlp::YieldOp>(last->getLoc(), last->getResults());
  last->replaceUsesWithIf(fused->getResults(), [&](OpOperand &use) {
    return use.getOwner() != yield.getOperation();
  });
  for (Operation *op : ops)
    op->moveBefore(yield);
  return fused;
}

struct Fuse : public mlp::impl::MLPFuseBase<Fuse> {
  using MLPFuseBase::MLPFuseBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (tokenMixing)
        formTokenMixing(func);
      if (epilogues)
        formEpilogues(func);
      if (chains)
        formChains(func);
    }
  }

  /// transpose -> (linear epilogue)+ -> transpose [-> add residual].
  void formTokenMixing(func::FuncOp func) {
    SmallVector<mlp::TransposeOp> starts;
    func.walk([&](mlp::TransposeOp op) {
      if (mlp::swapsLastTwoAxes(op) && !op->getParentOfType<mlp::FusedOp>())
        starts.push_back(op);
    });
    for (mlp::TransposeOp start : starts) {
      SmallVector<Operation *> ops = {start};
      SmallVector<SmallVector<Operation *>> linears;
      Value current = start.getResult();
      Operation *end = nullptr;
      while (Operation *user = soleUser(current)) {
        if (user->getBlock() != start->getBlock())
          break;
        auto linear = dyn_cast<mlp::LinearOp>(user);
        if (linear && linear.getInput() == current) {
          // Per-channel operands only: inside the group the activations
          // keep the untransposed layout.
          SmallVector<Operation *> epilogue =
              epilogueFrom(linear, /*allowFull=*/false);
          linears.push_back(epilogue);
          llvm::append_range(ops, epilogue);
          current = epilogue.back()->getResult(0);
          continue;
        }
        auto back = dyn_cast<mlp::TransposeOp>(user);
        if (back && mlp::swapsLastTwoAxes(back) && !linears.empty())
          end = back;
        break;
      }
      if (!end)
        continue;
      ops.push_back(end);
      // The residual add (the transposes' typical consumer).
      if (Operation *user = soleUser(end->getResult(0)))
        if (isa<mlp::AddOp>(user) && user->getBlock() == end->getBlock() &&
            user->getOperand(0) != user->getOperand(1) &&
            user->getOperand(0).getType() == user->getOperand(1).getType())
          ops.push_back(user);
      for (ArrayRef<Operation *> epilogue : linears)
        group(mlp::FusedOp::kEpilogue, epilogue);
      // The linears now sit in their epilogue groups.
      SmallVector<Operation *> outer;
      for (Operation *op : ops) {
        Operation *inGroup = op;
        if (auto parent = op->getParentOfType<mlp::FusedOp>())
          inGroup = parent;
        if (outer.empty() || outer.back() != inGroup)
          outer.push_back(inGroup);
      }
      group(mlp::FusedOp::kTokenMixing, outer);
    }
  }

  void formEpilogues(func::FuncOp func) {
    SmallVector<Operation *> linears;
    func.walk([&](Operation *op) {
      if (isa<mlp::LinearOp, mlp::MatmulOp>(op) &&
          !op->getParentOfType<mlp::FusedOp>())
        linears.push_back(op);
    });
    for (Operation *linear : linears) {
      SmallVector<Operation *> ops = epilogueFrom(linear, /*allowFull=*/true);
      if (ops.size() > 1)
        group(mlp::FusedOp::kEpilogue, ops);
    }
  }

  /// The linear of an epilogue group, or `op` itself if it is a linear
  /// outside any group.
  static mlp::LinearOp linearOf(Operation *op) {
    if (auto linear = dyn_cast<mlp::LinearOp>(op))
      return linear;
    auto fused = dyn_cast<mlp::FusedOp>(op);
    if (!fused || fused.getKind() != mlp::FusedOp::kEpilogue)
      return {};
    for (Operation &inner : fused.getBody().front())
      if (auto linear = dyn_cast<mlp::LinearOp>(inner))
        return linear;
    return {};
  }

  bool isNarrow(mlp::LinearOp linear) {
    auto in = cast<RankedTensorType>(linear.getInput().getType());
    auto out = cast<RankedTensorType>(linear.getType());
    return in.getRank() == 2 && in.getShape().back() <= chainWidth &&
           out.getShape().back() <= chainWidth;
  }

  void formChains(func::FuncOp func) {
    Block &body = func.getBody().front();
    llvm::DenseSet<Operation *> used;
    SmallVector<Operation *> heads;
    for (Operation &op : body)
      if (mlp::LinearOp linear = linearOf(&op))
        if (isNarrow(linear))
          heads.push_back(&op);
    for (Operation *head : heads) {
      if (used.contains(head) || head->getBlock() != &body)
        continue;
      SmallVector<Operation *> chain = {head};
      Operation *current = head;
      while (Operation *user = soleUser(current->getResult(0))) {
        // The user may be the linear inside the next epilogue group.
        while (user && user->getBlock() != &body)
          user = user->getParentOp();
        mlp::LinearOp linear = user ? linearOf(user) : mlp::LinearOp();
        if (!linear || !isNarrow(linear) ||
            linear.getInput() != current->getResult(0))
          break;
        chain.push_back(user);
        current = user;
      }
      if (chain.size() < 2)
        continue;
      // Lone linears become epilogue groups of their own.
      for (Operation *&op : chain)
        if (isa<mlp::LinearOp>(op))
          op = group(mlp::FusedOp::kEpilogue, {op});
      used.insert(chain.begin(), chain.end());
      group(mlp::FusedOp::kChain, chain);
    }
  }
};

} // namespace
