//===- ShapeRules.cpp - result shapes of mlp ops --------------------------===//
#include "mlp/IR/ShapeRules.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlp::shape;
using mlir::ShapedType;

std::string mlp::shape::format(llvm::ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return text;
}

static bool isVector(OptionalShape shape, int64_t size) {
  return shape->size() == 1 && (*shape)[0] == size;
}

std::optional<Shape> mlp::shape::linear(llvm::ArrayRef<int64_t> input,
                                        llvm::ArrayRef<int64_t> weight,
                                        OptionalShape bias,
                                        std::string &error) {
  if (input.empty()) {
    error = "linear needs an input of rank >= 1";
    return std::nullopt;
  }
  if (weight.size() != 2) {
    error = "linear weight must have rank 2 (out, in), got " + format(weight);
    return std::nullopt;
  }
  if (input.back() != weight[1]) {
    error = "linear weight " + format(weight) + " expects " +
            std::to_string(weight[1]) + " input features, but the input " +
            format(input) + " has " +
            (ShapedType::isDynamic(input.back()) ? std::string("?")
                                                 : std::to_string(input.back()));
    return std::nullopt;
  }
  if (bias && !isVector(bias, weight[0])) {
    error = "linear bias must have shape [" + std::to_string(weight[0]) +
            "], got " + format(*bias);
    return std::nullopt;
  }
  Shape result(input.begin(), input.end());
  result.back() = weight[0];
  return result;
}

std::optional<Shape> mlp::shape::broadcast(llvm::ArrayRef<int64_t> lhs,
                                           llvm::ArrayRef<int64_t> rhs,
                                           std::string &error) {
  size_t rank = std::max(lhs.size(), rhs.size());
  Shape result(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t b = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (a == b || b == 1) {
      result[i] = a;
    } else if (a == 1) {
      result[i] = b;
    } else {
      error = "shapes " + format(lhs) + " and " + format(rhs) +
              " do not broadcast";
      return std::nullopt;
    }
  }
  return result;
}

std::optional<Shape> mlp::shape::layerNorm(llvm::ArrayRef<int64_t> input,
                                           OptionalShape weight,
                                           OptionalShape bias,
                                           std::string &error) {
  if (input.empty() || ShapedType::isDynamic(input.back())) {
    error = "layer_norm needs a static last dimension, got " + format(input);
    return std::nullopt;
  }
  for (auto [what, shape] : {std::pair{"weight", weight}, {"bias", bias}}) {
    if (shape && !isVector(shape, input.back())) {
      error = std::string("layer_norm ") + what + " must have shape [" +
              std::to_string(input.back()) + "], got " + format(*shape);
      return std::nullopt;
    }
  }
  return Shape(input.begin(), input.end());
}

/// A reduction `name` over `axis`, which is removed.
static std::optional<Shape> reduceAxis(llvm::StringRef name,
                                       llvm::ArrayRef<int64_t> input,
                                       int64_t axis, std::string &error) {
  int64_t rank = input.size();
  if (axis < -rank || axis >= rank) {
    error = name.str() + " axis " + std::to_string(axis) +
            " is out of range for " + format(input);
    return std::nullopt;
  }
  if (axis < 0)
    axis += rank;
  if (ShapedType::isDynamic(input[axis])) {
    error = name.str() + " over the dynamic batch dimension is not supported";
    return std::nullopt;
  }
  Shape result(input.begin(), input.end());
  result.erase(result.begin() + axis);
  return result;
}

std::optional<Shape> mlp::shape::sum(llvm::ArrayRef<int64_t> input,
                                     int64_t axis, std::string &error) {
  return reduceAxis("sum", input, axis, error);
}

std::optional<Shape> mlp::shape::softmax(llvm::ArrayRef<int64_t> input,
                                         int64_t axis, std::string &error) {
  if (!reduceAxis("softmax", input, axis, error))
    return std::nullopt;
  return Shape(input.begin(), input.end());
}

std::optional<Shape> mlp::shape::mean(llvm::ArrayRef<int64_t> input,
                                      int64_t axis, std::string &error) {
  return reduceAxis("mean", input, axis, error);
}

std::optional<Shape> mlp::shape::transpose(llvm::ArrayRef<int64_t> input,
                                           llvm::ArrayRef<int64_t> permutation,
                                           std::string &error) {
  if (permutation.size() != input.size()) {
    error = "transpose permutation has " + std::to_string(permutation.size()) +
            " entries for a tensor of rank " + std::to_string(input.size());
    return std::nullopt;
  }
  llvm::SmallVector<bool> seen(input.size(), false);
  Shape result;
  for (int64_t p : permutation) {
    if (p < 0 || p >= static_cast<int64_t>(input.size()) || seen[p]) {
      error = "transpose permutation " + format(permutation) +
              " is not a permutation of 0.." +
              std::to_string(static_cast<int64_t>(input.size()) - 1);
      return std::nullopt;
    }
    seen[p] = true;
    result.push_back(input[p]);
  }
  return result;
}

std::optional<Shape> mlp::shape::reshape(llvm::ArrayRef<int64_t> input,
                                         llvm::ArrayRef<int64_t> target,
                                         std::string &error) {
  auto staticCount = [](llvm::ArrayRef<int64_t> shape, bool &dynamicLead,
                        bool &dynamicElsewhere) {
    int64_t count = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (ShapedType::isDynamic(shape[i])) {
        (i == 0 ? dynamicLead : dynamicElsewhere) = true;
        continue;
      }
      count *= shape[i];
    }
    return count;
  };
  bool inLead = false, inElsewhere = false, outLead = false,
       outElsewhere = false;
  int64_t inCount = staticCount(input, inLead, inElsewhere);
  int64_t outCount = staticCount(target, outLead, outElsewhere);
  for (int64_t d : target) {
    if (!ShapedType::isDynamic(d) && d < 0) {
      error = "reshape to " + format(target) + " has a negative dimension";
      return std::nullopt;
    }
  }
  if (inElsewhere || outElsewhere || inLead != outLead) {
    error = "reshape from " + format(input) + " to " + format(target) +
            " must keep the batch dimension as the leading dimension";
    return std::nullopt;
  }
  if (inCount != outCount) {
    error = "reshape from " + format(input) + " to " + format(target) +
            " changes the number of elements";
    return std::nullopt;
  }
  return Shape(target.begin(), target.end());
}

//===----------------------------------------------------------------------===//
// Ops of the model zoo
//===----------------------------------------------------------------------===//

std::optional<Shape> mlp::shape::matmul(llvm::ArrayRef<int64_t> input,
                                        llvm::ArrayRef<int64_t> weight,
                                        OptionalShape bias,
                                        std::string &error) {
  if (input.empty()) {
    error = "matmul needs an input of rank >= 1";
    return std::nullopt;
  }
  if (weight.size() != 2) {
    error = "matmul weight must have rank 2 (in, out), got " + format(weight);
    return std::nullopt;
  }
  if (ShapedType::isDynamic(weight[0]) || ShapedType::isDynamic(weight[1])) {
    error = "matmul weight must have a static shape (in, out), got " +
            format(weight);
    return std::nullopt;
  }
  if (input.back() != weight[0]) {
    error = "matmul weight " + format(weight) + " expects " +
            std::to_string(weight[0]) + " input features, but the input " +
            format(input) + " has " +
            (ShapedType::isDynamic(input.back()) ? std::string("?")
                                                 : std::to_string(input.back()));
    return std::nullopt;
  }
  if (bias && !isVector(bias, weight[1])) {
    error = "matmul bias must have shape [" + std::to_string(weight[1]) +
            "], got " + format(*bias);
    return std::nullopt;
  }
  Shape result(input.begin(), input.end());
  result.back() = weight[1];
  return result;
}

std::optional<Shape>
mlp::shape::concat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs,
                   int64_t axis, std::string &error) {
  if (inputs.empty()) {
    error = "concat needs at least one input";
    return std::nullopt;
  }
  llvm::ArrayRef<int64_t> first = inputs.front();
  int64_t rank = first.size();
  if (axis < -rank || axis >= rank) {
    error = "concat axis " + std::to_string(axis) + " is out of range for " +
            format(first);
    return std::nullopt;
  }
  if (axis < 0)
    axis += rank;
  if (ShapedType::isDynamic(first[axis])) {
    error = "concat along the dynamic batch dimension is not supported";
    return std::nullopt;
  }
  Shape result(first.begin(), first.end());
  for (llvm::ArrayRef<int64_t> input : inputs.drop_front()) {
    if (static_cast<int64_t>(input.size()) != rank) {
      error = "concat inputs must have one rank, got " + format(first) +
              " and " + format(input);
      return std::nullopt;
    }
    for (int64_t i = 0; i < rank; ++i) {
      if (i != axis && input[i] != first[i]) {
        error = "concat inputs " + format(first) + " and " + format(input) +
                " differ in dimension " + std::to_string(i) +
                ", but may differ only along axis " + std::to_string(axis);
        return std::nullopt;
      }
    }
    result[axis] += input[axis];
  }
  return result;
}

std::optional<Shape> mlp::shape::patchEmbed(llvm::ArrayRef<int64_t> input,
                                            llvm::ArrayRef<int64_t> weight,
                                            OptionalShape bias,
                                            std::string &error) {
  if (input.size() != 4) {
    error = "patch_embed needs an (N, C, H, W) image, got " + format(input);
    return std::nullopt;
  }
  for (size_t i = 1; i < 4; ++i) {
    if (ShapedType::isDynamic(input[i])) {
      error = "patch_embed needs static C, H, W, got " + format(input);
      return std::nullopt;
    }
  }
  if (weight.size() != 4) {
    error = "patch_embed weight must have rank 4 (D, C, ph, pw), got " +
            format(weight);
    return std::nullopt;
  }
  for (int64_t d : weight) {
    if (ShapedType::isDynamic(d) || d <= 0) {
      error = "patch_embed weight must have a static, non-empty shape, got " +
              format(weight);
      return std::nullopt;
    }
  }
  if (weight[1] != input[1]) {
    error = "patch_embed weight " + format(weight) + " expects " +
            std::to_string(weight[1]) + " input channels, but the image " +
            format(input) + " has " + std::to_string(input[1]);
    return std::nullopt;
  }
  if (input[2] % weight[2] != 0 || input[3] % weight[3] != 0) {
    error = "patch_embed image " + format(input) + " is not a whole number of " +
            std::to_string(weight[2]) + "x" + std::to_string(weight[3]) +
            " patches";
    return std::nullopt;
  }
  if (bias && !isVector(bias, weight[0])) {
    error = "patch_embed bias must have shape [" + std::to_string(weight[0]) +
            "], got " + format(*bias);
    return std::nullopt;
  }
  return Shape{input[0], (input[2] / weight[2]) * (input[3] / weight[3]),
               weight[0]};
}

std::optional<Shape> mlp::shape::slice(llvm::ArrayRef<int64_t> input,
                                       int64_t axis, int64_t start,
                                       int64_t end, std::string &error) {
  int64_t rank = input.size();
  if (axis < 0 || axis >= rank) {
    error = "slice axis " + std::to_string(axis) + " is out of range for " +
            format(input);
    return std::nullopt;
  }
  if (ShapedType::isDynamic(input[axis])) {
    error = "slice along the dynamic batch dimension is not supported";
    return std::nullopt;
  }
  if (start < 0 || end <= start || end > input[axis]) {
    error = "slice [" + std::to_string(start) + ", " + std::to_string(end) +
            ") of axis " + std::to_string(axis) + " is empty or outside [0, " +
            std::to_string(input[axis]) + ") of " + format(input);
    return std::nullopt;
  }
  Shape result(input.begin(), input.end());
  result[axis] = end - start;
  return result;
}

std::optional<Shape> mlp::shape::bsplineBasis(llvm::ArrayRef<int64_t> input,
                                              llvm::ArrayRef<int64_t> grid,
                                              int64_t order,
                                              std::string &error) {
  if (input.empty() || ShapedType::isDynamic(input.back())) {
    error = "bspline_basis needs a static last dimension (the features), got " +
            format(input);
    return std::nullopt;
  }
  if (grid.size() != 2 || ShapedType::isDynamic(grid[0]) ||
      ShapedType::isDynamic(grid[1])) {
    error = "bspline_basis grid must have a static shape (features, knots), "
            "got " +
            format(grid);
    return std::nullopt;
  }
  if (grid[0] != input.back()) {
    error = "bspline_basis grid " + format(grid) + " has knots for " +
            std::to_string(grid[0]) + " features, but the input " +
            format(input) + " has " + std::to_string(input.back());
    return std::nullopt;
  }
  // The recursion is unrolled into the kernel: keep it small.
  if (order < 0 || order > 10) {
    error = "bspline_basis order must be between 0 and 10, got " +
            std::to_string(order);
    return std::nullopt;
  }
  if (grid[1] < order + 2) {
    error = "bspline_basis of order " + std::to_string(order) +
            " needs at least " + std::to_string(order + 2) +
            " knots per feature, got " + std::to_string(grid[1]);
    return std::nullopt;
  }
  Shape result(input.begin(), input.end());
  result.push_back(grid[1] - 1 - order);
  return result;
}

std::optional<Shape> mlp::shape::batchNorm(llvm::ArrayRef<int64_t> input,
                                           llvm::ArrayRef<int64_t> mean,
                                           llvm::ArrayRef<int64_t> variance,
                                           OptionalShape weight,
                                           OptionalShape bias,
                                           std::string &error) {
  if (input.empty() || ShapedType::isDynamic(input.back())) {
    error = "batch_norm needs a static last dimension (the features), got " +
            format(input);
    return std::nullopt;
  }
  int64_t features = input.back();
  for (auto [what, shape] :
       {std::pair{"running_mean", OptionalShape(mean)},
        {"running_var", OptionalShape(variance)}, {"weight", weight},
        {"bias", bias}}) {
    if (shape && !isVector(shape, features)) {
      error = std::string("batch_norm ") + what + " must have shape [" +
              std::to_string(features) + "], got " + format(*shape);
      return std::nullopt;
    }
  }
  return Shape(input.begin(), input.end());
}

std::optional<Shape> mlp::shape::broadcastTo(llvm::ArrayRef<int64_t> input,
                                             llvm::ArrayRef<int64_t> target,
                                             std::string &error) {
  auto fail = [&] {
    error = "cannot broadcast " + format(input) + " to " + format(target);
    return std::nullopt;
  };
  if (input.size() > target.size())
    return fail();
  size_t offset = target.size() - input.size();
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t t = target[i];
    if (i < offset) {
      if (ShapedType::isDynamic(t) || t < 1)
        return fail();
      continue;
    }
    int64_t d = input[i - offset];
    bool dynamic = ShapedType::isDynamic(d) || ShapedType::isDynamic(t);
    if (dynamic ? d != t : (t < 1 || (d != t && d != 1)))
      return fail();
  }
  return Shape(target.begin(), target.end());
}

std::optional<Shape> mlp::shape::embedding(llvm::ArrayRef<int64_t> ids,
                                           llvm::ArrayRef<int64_t> table,
                                           std::string &error) {
  if (table.size() != 2 || ShapedType::isDynamic(table[0]) ||
      ShapedType::isDynamic(table[1]) || table[0] < 1) {
    error = "embedding table must have a static shape (vocabulary, dim), got " +
            format(table);
    return std::nullopt;
  }
  Shape result(ids.begin(), ids.end());
  result.push_back(table[1]);
  return result;
}

/// The output size of a window of `kernel` sliding by `stride` over `size`
/// positions padded by `padding` on both sides, or -1 if it does not fit.
static int64_t windows(int64_t size, int64_t kernel, int64_t stride,
                       int64_t padding) {
  int64_t span = size + 2 * padding - kernel;
  return span < 0 ? -1 : span / stride + 1;
}

/// Checks the (N, H, W, C) input and the window parameters common to conv2d
/// and avg_pool2d; returns (OH, OW).
static std::optional<std::pair<int64_t, int64_t>>
checkWindows(llvm::StringRef name, llvm::ArrayRef<int64_t> input, int64_t kh,
             int64_t kw, int64_t stride, int64_t padding, std::string &error) {
  if (input.size() != 4 || ShapedType::isDynamic(input[1]) ||
      ShapedType::isDynamic(input[2]) || ShapedType::isDynamic(input[3])) {
    error = name.str() +
            " needs a channels-last (N, H, W, C) input with a "
            "static H, W, C, got " +
            format(input);
    return std::nullopt;
  }
  if (kh < 1 || kw < 1 || kh > 64 || kw > 64 || stride < 1 || stride > 64 ||
      padding < 0 || padding > 64) {
    error = name.str() + " window " + std::to_string(kh) + "x" +
            std::to_string(kw) + ", stride " + std::to_string(stride) +
            ", padding " + std::to_string(padding) +
            " is invalid: kernel sizes and strides must be 1 to 64, padding 0 "
            "to 64";
    return std::nullopt;
  }
  int64_t oh = windows(input[1], kh, stride, padding),
          ow = windows(input[2], kw, stride, padding);
  if (oh < 1 || ow < 1) {
    error = name.str() + " window " + std::to_string(kh) + "x" +
            std::to_string(kw) + " does not fit in the " +
            std::to_string(input[1]) + "x" + std::to_string(input[2]) +
            " input padded by " + std::to_string(padding);
    return std::nullopt;
  }
  return std::make_pair(oh, ow);
}

std::optional<Shape> mlp::shape::conv2d(llvm::ArrayRef<int64_t> input,
                                        llvm::ArrayRef<int64_t> weight,
                                        OptionalShape bias, int64_t stride,
                                        int64_t padding, std::string &error) {
  if (weight.size() != 4 || llvm::any_of(weight, [](int64_t d) {
        return ShapedType::isDynamic(d) || d < 1;
      })) {
    error = "conv2d weight must have a static shape (O, C, kh, kw), got " +
            format(weight);
    return std::nullopt;
  }
  auto out = checkWindows("conv2d", input, weight[2], weight[3], stride,
                          padding, error);
  if (!out)
    return std::nullopt;
  if (weight[1] != input[3]) {
    error = "conv2d weight " + format(weight) + " expects " +
            std::to_string(weight[1]) + " input channels, but the input " +
            format(input) + " has " + std::to_string(input[3]);
    return std::nullopt;
  }
  if (bias && !isVector(bias, weight[0])) {
    error = "conv2d bias must have shape [" + std::to_string(weight[0]) +
            "], got " + format(*bias);
    return std::nullopt;
  }
  return Shape{input[0], out->first, out->second, weight[0]};
}

std::optional<Shape> mlp::shape::avgPool2d(llvm::ArrayRef<int64_t> input,
                                           int64_t kernel, int64_t stride,
                                           int64_t padding,
                                           std::string &error) {
  auto out =
      checkWindows("avg_pool2d", input, kernel, kernel, stride, padding, error);
  if (!out)
    return std::nullopt;
  if (2 * padding > kernel) {
    error = "avg_pool2d padding " + std::to_string(padding) +
            " must be at most half the kernel " + std::to_string(kernel);
    return std::nullopt;
  }
  return Shape{input[0], out->first, out->second, input[3]};
}
