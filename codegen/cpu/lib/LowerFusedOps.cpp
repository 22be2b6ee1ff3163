//===- LowerFusedOps.cpp - mlp.fused groups to linalg on tensors ----------===//
//
// - "epilogue": the matmul of the linear (accumulating into the broadcast
//   bias, as a lone linear does) and one linalg.generic that applies the
//   elementwise ops to the 2-D product in place (`mlp.epilogue`). The pair
//   is outlined into one kernel and tiled together: the epilogue runs on
//   each register tile of the product.
// - "token_mixing": the transposes are not materialized. Each linear over
//   the tokens becomes a contraction out[.., i, c] = b[i] + sum_k W[i, k] *
//   x[.., k, c] (`mlp.token_matmul`) on the untransposed activations, its
//   epilogue a generic applied in place; the transpose back is then the
//   identity and the residual add joins the last epilogue.
// - "chain": its groups are inlined; the runtime's row blocks already keep
//   a narrow chain's intermediates in cache.
// Anything else is inlined and lowered op by op.
//
//===----------------------------------------------------------------------===//
#include "LinalgBuilders.h"
#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlp::cpu;

namespace {

/// The ops of a group's body that compute (not parameters, not the yield).
SmallVector<Operation *> computeOps(mlp::FusedOp op) {
  SmallVector<Operation *> ops;
  for (Operation &inner : op.getBody().front().without_terminator())
    if (!isa<mlp::ParamOp>(inner))
      ops.push_back(&inner);
  return ops;
}

/// Moves the body before the group and replaces the group's results by the
/// yielded values.
void inlineGroup(mlp::FusedOp op) {
  mlp::YieldOp yield = op.getYield();
  SmallVector<Value> values(yield.getValues());
  Block &body = op.getBody().front();
  yield.erase();
  op->getBlock()->getOperations().splice(op->getIterator(),
                                         body.getOperations());
  op->replaceAllUsesWith(values);
  op.erase();
}

/// One elementwise op of an epilogue: the op, its other operand (null for
/// an activation) and which side the running value is on.
struct Step {
  Operation *op;
  Value other;
  bool xIsLhs;
};

SmallVector<Step> stepsAfter(ArrayRef<Operation *> ops) {
  SmallVector<Step> steps;
  Value current = ops.front()->getResult(0);
  for (Operation *op : ops.drop_front()) {
    Step step{op, Value(), true};
    if (op->getNumOperands() == 2) {
      step.xIsLhs = op->getOperand(0) == current;
      step.other = op->getOperand(step.xIsLhs ? 1 : 0);
    }
    steps.push_back(step);
    current = op->getResult(0);
  }
  return steps;
}

/// Applies `steps` in place to `product` (channels along `channel`): a
/// rank-1 operand is per-channel, any other is the same-shaped tensor that
/// `view` makes of it.
Value applyInPlace(OpBuilder &b, Location loc, Value product,
                   ArrayRef<Step> steps, function_ref<Value(Value)> view,
                   int64_t channel) {
  if (steps.empty())
    return product;
  auto type = cast<RankedTensorType>(product.getType());
  int64_t rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap perChannel =
      AffineMap::get(rank, 0, b.getAffineDimExpr(channel), b.getContext());
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  SmallVector<int> argOf;
  for (const Step &step : steps) {
    if (!step.other) {
      argOf.push_back(-1);
      continue;
    }
    argOf.push_back(inputs.size());
    if (cast<RankedTensorType>(step.other.getType()).getRank() == 1) {
      inputs.push_back(step.other);
      maps.push_back(perChannel);
    } else {
      inputs.push_back(view(step.other));
      maps.push_back(id);
    }
  }
  maps.push_back(id);
  auto generic = b.create<linalg::GenericOp>(
      loc, type, inputs, product, maps, parallel(rank),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = args.back();
        for (auto [step, arg] : llvm::zip(steps, argOf))
          x = applyElementwise(nb, l, step.op, x, arg < 0 ? Value() : args[arg],
                               step.xIsLhs);
        nb.create<linalg::YieldOp>(l, x);
      });
  generic->setAttr(mlp::kEpilogueAttr, b.getUnitAttr());
  return generic.getResult(0);
}

/// The 2-D (rows, out) view of `value`, whose rows are those of `product`.
Value rowsView(OpBuilder &b, Location loc, Value value, Value product) {
  auto type = cast<RankedTensorType>(value.getType());
  auto productType = cast<RankedTensorType>(product.getType());
  if (type.getRank() == 2)
    return value;
  auto viewType =
      RankedTensorType::get(productType.getShape(), type.getElementType());
  if (type.getRank() == 1)
    return b.create<tensor::ExpandShapeOp>(
        loc, viewType, value, SmallVector<ReassociationIndices>{{0, 1}});
  return reshapeTo(b, loc, value, viewType,
                   tensor::getMixedSizes(b, loc, product));
}

LogicalResult lowerEpilogue(mlp::FusedOp op) {
  SmallVector<Operation *> ops = computeOps(op);
  SmallVector<Step> steps = stepsAfter(ops);
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
  // The linear's own result type (the epilogue keeps it).
  auto epilogue = [&](Value product) -> Value {
    return applyInPlace(
        b, loc, product, steps,
        [&](Value v) { return rowsView(b, loc, v, product); },
        /*channel=*/1);
  };
  Value result;
  if (auto linear = dyn_cast<mlp::LinearOp>(ops.front())) {
    auto transposed = [&]() -> Value {
      Value weight = linear.getWeight();
      auto weightType = cast<RankedTensorType>(weight.getType());
      SmallVector<int64_t> shape = {weightType.getShape()[1],
                                    weightType.getShape()[0]};
      return b
          .create<linalg::TransposeOp>(
              loc, weight,
              b.create<tensor::EmptyOp>(loc, shape,
                                        weightType.getElementType()),
              ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    result = buildRowMatmul(b, loc, linear.getInput(), transposed,
                            linear.getBias(), resultType, epilogue);
  } else {
    auto matmul = cast<mlp::MatmulOp>(ops.front());
    result = buildRowMatmul(
        b, loc, matmul.getInput(), [&] { return matmul.getWeight(); },
        matmul.getBias(), resultType, epilogue);
  }
  op->replaceAllUsesWith(ValueRange{result});
  op.erase();
  return success();
}

/// out[.., i, c] = bias[i] + sum_k W[i, k] * x[.., k, c].
Value tokenMatmul(OpBuilder &b, Location loc, Value x, Value weight,
                  Value bias) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  int64_t rank = xType.getRank();
  SmallVector<int64_t> shape(xType.getShape());
  shape[rank - 2] = wType.getDimSize(0);
  auto type = RankedTensorType::get(shape, xType.getElementType());
  SmallVector<int64_t> sourceDims;
  for (int64_t i = 0; i < rank; ++i)
    sourceDims.push_back(i == rank - 2 ? -1 : i);
  Value init = emptyTensor(b, loc, type, x, sourceDims);
  Value acc;
  if (bias) {
    SmallVector<int64_t> dims;
    for (int64_t i = 0; i < rank; ++i)
      if (i != rank - 2)
        dims.push_back(i);
    acc = b.create<linalg::BroadcastOp>(loc, bias, init, dims).getResult()[0];
  } else {
    acc = b.create<linalg::FillOp>(loc, constantF32(b, loc, 0.0), init)
              .getResult(0);
  }
  // Loops (batch..., i, c, k).
  int64_t loops = rank + 1;
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> batch;
  for (int64_t i = 0; i < rank - 2; ++i)
    batch.push_back(b.getAffineDimExpr(i));
  AffineExpr i = b.getAffineDimExpr(rank - 2), c = b.getAffineDimExpr(rank - 1),
             k = b.getAffineDimExpr(rank);
  auto with = [&](ArrayRef<AffineExpr> tail) {
    SmallVector<AffineExpr> exprs(batch);
    exprs.append(tail.begin(), tail.end());
    return AffineMap::get(loops, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, {i, k}, ctx),
                                 with({k, c}), with({i, c})};
  SmallVector<utils::IteratorType> iterators = parallel(loops);
  iterators.back() = utils::IteratorType::reduction;
  auto generic = b.create<linalg::GenericOp>(
      loc, type, ValueRange{weight, x}, acc, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value product = nb.create<arith::MulFOp>(l, args[0], args[1]);
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::AddFOp>(l, args[2], product)});
      });
  generic->setAttr(mlp::kTokenMatmulAttr, b.getUnitAttr());
  return generic.getResult(0);
}

LogicalResult lowerTokenMixing(mlp::FusedOp op) {
  SmallVector<Operation *> ops = computeOps(op);
  auto first = cast<mlp::TransposeOp>(ops.front());
  OpBuilder b(op);
  Location loc = op.getLoc();
  // The activations in the untransposed layout: (.., features, channels).
  Value current = first.getInput();
  int64_t rank = cast<RankedTensorType>(current.getType()).getRank();
  Value last;
  for (Operation *inner : ArrayRef<Operation *>(ops).drop_front()) {
    if (isa<mlp::TransposeOp>(inner)) {
      last = inner->getResult(0);
      continue;
    }
    SmallVector<Operation *> epilogueOps;
    if (auto fused = dyn_cast<mlp::FusedOp>(inner))
      epilogueOps = computeOps(fused);
    else
      epilogueOps = {inner};
    auto linear = dyn_cast<mlp::LinearOp>(epilogueOps.front());
    if (linear) {
      current =
          tokenMatmul(b, loc, current, linear.getWeight(), linear.getBias());
      current = applyInPlace(
          b, loc, current, stepsAfter(epilogueOps), [](Value v) { return v; },
          /*channel=*/rank - 2);
      continue;
    }
    // The residual add after the transpose back: in place, elementwise.
    Step step{inner, Value(), true};
    step.xIsLhs = inner->getOperand(0) == last;
    step.other = inner->getOperand(step.xIsLhs ? 1 : 0);
    current = applyInPlace(
        b, loc, current, {step}, [](Value v) { return v; },
        /*channel=*/rank - 1);
  }
  op->replaceAllUsesWith(ValueRange{current});
  op.erase();
  return success();
}

} // namespace

LogicalResult mlp::cpu::lowerFusedGroups(ModuleOp module) {
  SmallVector<mlp::FusedOp> groups;
  // Outer groups first: a chain is inlined before its epilogues are lowered.
  module.walk<WalkOrder::PreOrder>(
      [&](mlp::FusedOp op) { groups.push_back(op); });
  llvm::DenseSet<Operation *> lowered;
  for (mlp::FusedOp op : groups) {
    if (lowered.contains(op))
      continue;
    StringRef kind = op.getKind();
    if (kind == mlp::FusedOp::kTokenMixing) {
      op.walk([&](mlp::FusedOp inner) { lowered.insert(inner); });
      if (failed(lowerTokenMixing(op)))
        return failure();
    } else if (kind == mlp::FusedOp::kEpilogue) {
      if (failed(lowerEpilogue(op)))
        return failure();
    } else {
      inlineGroup(op);
    }
  }
  return success();
}
