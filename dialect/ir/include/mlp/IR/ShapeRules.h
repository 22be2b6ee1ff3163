//===- ShapeRules.h - result shapes of mlp ops ------------------*- C++ -*-===//
//
// The one place that knows how each op's result shape follows from its
// operands. Op verifiers and the frontend both call these, so that a model
// rejected by the frontend would also be rejected by the verifier, with the
// same words. Shapes use mlir::ShapedType::kDynamic for the batch dimension.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_SHAPERULES_H
#define MLP_IR_SHAPERULES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <optional>
#include <string>

namespace mlp::shape {

using Shape = llvm::SmallVector<int64_t, 4>;
using OptionalShape = std::optional<llvm::ArrayRef<int64_t>>;

/// Prints a shape as "[?, 196, 512]".
std::string format(llvm::ArrayRef<int64_t> shape);

/// Each function returns the result shape, or std::nullopt with a message
/// (without location) in `error`.
std::optional<Shape> linear(llvm::ArrayRef<int64_t> input,
                            llvm::ArrayRef<int64_t> weight, OptionalShape bias,
                            std::string &error);
std::optional<Shape> broadcast(llvm::ArrayRef<int64_t> lhs,
                               llvm::ArrayRef<int64_t> rhs, std::string &error);
std::optional<Shape> layerNorm(llvm::ArrayRef<int64_t> input,
                               OptionalShape weight, OptionalShape bias,
                               std::string &error);
std::optional<Shape> mean(llvm::ArrayRef<int64_t> input, int64_t axis,
                          std::string &error);
std::optional<Shape> sum(llvm::ArrayRef<int64_t> input, int64_t axis,
                         std::string &error);
/// softmax along `axis` (negative counts from the end): the input's shape.
std::optional<Shape> softmax(llvm::ArrayRef<int64_t> input, int64_t axis,
                             std::string &error);
std::optional<Shape> transpose(llvm::ArrayRef<int64_t> input,
                               llvm::ArrayRef<int64_t> permutation,
                               std::string &error);
/// `target` may hold kDynamic only as its leading dimension, matching a
/// dynamic leading input dimension.
std::optional<Shape> reshape(llvm::ArrayRef<int64_t> input,
                             llvm::ArrayRef<int64_t> target,
                             std::string &error);

//===----------------------------------------------------------------------===//
// Ops of the model zoo
//===----------------------------------------------------------------------===//

/// x @ W with W stored (in, out).
std::optional<Shape> matmul(llvm::ArrayRef<int64_t> input,
                            llvm::ArrayRef<int64_t> weight, OptionalShape bias,
                            std::string &error);

/// Conv2d with kernel_size = stride = the weight's (ph, pw) on an (N, C, H, W)
/// input, flattened to (N, tokens, D).
std::optional<Shape> patchEmbed(llvm::ArrayRef<int64_t> input,
                                llvm::ArrayRef<int64_t> weight,
                                OptionalShape bias, std::string &error);
/// x.narrow(axis, start, end - start); axis, start and end are non-negative.
std::optional<Shape> slice(llvm::ArrayRef<int64_t> input, int64_t axis,
                           int64_t start, int64_t end, std::string &error);
/// B-splines of degree `order` of (..., F) features on an (F, T) knot grid:
/// (..., F, T - 1 - order).
std::optional<Shape> bsplineBasis(llvm::ArrayRef<int64_t> input,
                                  llvm::ArrayRef<int64_t> grid, int64_t order,
                                  std::string &error);
/// Per-feature statistics and affine parameters over the last dimension.
std::optional<Shape> batchNorm(llvm::ArrayRef<int64_t> input,
                               llvm::ArrayRef<int64_t> mean,
                               llvm::ArrayRef<int64_t> variance,
                               OptionalShape weight, OptionalShape bias,
                               std::string &error);
/// np.broadcast_to(input, target); the batch dimension stays where it is.
std::optional<Shape> broadcastTo(llvm::ArrayRef<int64_t> input,
                                 llvm::ArrayRef<int64_t> target,
                                 std::string &error);
/// nn.Embedding: ids of any shape S and a (V, D) table give (S..., D).
std::optional<Shape> embedding(llvm::ArrayRef<int64_t> ids,
                               llvm::ArrayRef<int64_t> table,
                               std::string &error);
/// Conv2d on a channels-last (N, H, W, C) input with an (O, C, kh, kw)
/// weight: (N, OH, OW, O).
std::optional<Shape> conv2d(llvm::ArrayRef<int64_t> input,
                            llvm::ArrayRef<int64_t> weight, OptionalShape bias,
                            int64_t stride, int64_t padding,
                            std::string &error);
/// AvgPool2d on a channels-last (N, H, W, C) input: (N, OH, OW, C).
std::optional<Shape> avgPool2d(llvm::ArrayRef<int64_t> input, int64_t kernel,
                               int64_t stride, int64_t padding,
                               std::string &error);
/// torch.cat(inputs, dim=axis); a negative axis counts from the end.
std::optional<Shape> concat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs,
                            int64_t axis, std::string &error);

} // namespace mlp::shape

#endif // MLP_IR_SHAPERULES_H
