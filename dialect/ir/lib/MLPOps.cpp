//===- MLPOps.cpp - operations of the mlp dialect -------------------------===//
#include "OpVerification.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/IR/ShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlp;
using namespace mlp::detail;


//===----------------------------------------------------------------------===//
// Shared verification
//===----------------------------------------------------------------------===//

ArrayRef<int64_t> mlp::detail::shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

shape::OptionalShape mlp::detail::optionalShapeOf(Value value) {
  if (!value)
    return std::nullopt;
  return shapeOf(value);
}

/// Checks that every operand has the element type of the result and that the
/// result shape is the one ShapeRules computed.
LogicalResult
mlp::detail::verifyResult(Operation *op,
                          const std::optional<shape::Shape> &expected,
                          const std::string &error) {
  if (!expected)
    return op->emitOpError(error);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  for (Value operand : op->getOperands()) {
    if (getElementTypeOrSelf(operand.getType()) != resultType.getElementType())
      return op->emitOpError("operand element type ")
             << getElementTypeOrSelf(operand.getType())
             << " differs from the result element type "
             << resultType.getElementType();
  }
  if (resultType.getShape() != ArrayRef<int64_t>(*expected))
    return op->emitOpError("result shape ")
           << shape::format(resultType.getShape()) << " should be "
           << shape::format(*expected);
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("parameter name must not be empty");
  if (!getType().hasStaticShape())
    return emitOpError("parameter shape must be static, got ")
           << shape::format(getType().getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// GeluOp
//===----------------------------------------------------------------------===//

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  std::string error;
  auto expected = shape::linear(shapeOf(getInput()), shapeOf(getWeight()),
                                optionalShapeOf(getBias()), error);
  return verifyResult(*this, expected, error);
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

static LogicalResult verifyBroadcast(Operation *op) {
  std::string error;
  auto expected = shape::broadcast(shapeOf(op->getOperand(0)),
                                   shapeOf(op->getOperand(1)), error);
  return verifyResult(op, expected, error);
}

LogicalResult AddOp::verify() { return verifyBroadcast(*this); }
LogicalResult SubOp::verify() { return verifyBroadcast(*this); }
LogicalResult MulOp::verify() { return verifyBroadcast(*this); }

//===----------------------------------------------------------------------===//
// LayerNormOp / MeanOp
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::verify() {
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError("eps must be positive");
  std::string error;
  auto expected =
      shape::layerNorm(shapeOf(getInput()), optionalShapeOf(getWeight()),
                       optionalShapeOf(getBias()), error);
  return verifyResult(*this, expected, error);
}

LogicalResult MeanOp::verify() {
  std::string error;
  auto expected = shape::mean(shapeOf(getInput()), getAxis(), error);
  return verifyResult(*this, expected, error);
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  std::string error;
  auto expected =
      shape::transpose(shapeOf(getInput()), getPermutation(), error);
  return verifyResult(*this, expected, error);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPermutation()))
    if (static_cast<int64_t>(i) != p)
      return {};
  return getInput();
}

namespace {
/// transpose(transpose(x, p), q) == transpose(x, p o q).
struct ComposeTransposes : public OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<TransposeOp>();
    if (!producer)
      return failure();
    SmallVector<int64_t> composed;
    for (int64_t p : op.getPermutation())
      composed.push_back(producer.getPermutation()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(),
                                             producer.getInput(), composed);
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  std::string error;
  auto expected = shape::reshape(shapeOf(getInput()),
                                 getType().getShape(), error);
  return verifyResult(*this, expected, error);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) == reshape(x): row-major order is preserved.
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

#define GET_OP_CLASSES
#include "mlp/IR/MLPOps.cpp.inc"

std::string mlp::dtypeName(Type type) {
  if (type.isF32())
    return "float32";
  if (type.isF16())
    return "float16";
  if (type.isBF16())
    return "bfloat16";
  if (type.isF64())
    return "float64";
  // Integer inputs: the ids of categorical features.
  if (type.isSignlessInteger(64))
    return "int64";
  if (type.isSignlessInteger(32))
    return "int32";
  return "";
}

bool mlp::swapsLastTwoAxes(TransposeOp op) {
  ArrayRef<int64_t> perm = op.getPermutation();
  int64_t rank = perm.size();
  if (rank < 3)
    return false;
  for (int64_t i = 0; i + 2 < rank; ++i)
    if (perm[i] != i)
      return false;
  return perm[rank - 2] == rank - 1 && perm[rank - 1] == rank - 2;
}
