//===- Builtins.cpp - the builtin layers of .mlp --------------------------===//
//
// One table lists every builtin with its signature; one function per builtin
// checks the arguments, asks mlp::shape for the result shape (reporting its
// message when the shapes do not fit), binds the parameters and builds the op.
// Argument-value errors point at the argument, shape errors at the call.
//
//===----------------------------------------------------------------------===//
#include "MLIRGenImpl.h"

#include "mlp/IR/MLPOps.h"
#include "mlp/IR/ShapeRules.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <numeric>

using namespace mlir;
using namespace mlp::frontend;
using namespace mlp::frontend::detail;
namespace shape = mlp::shape;

namespace {

enum class Builtin {
  Linear,
  Relu,
  Gelu,
  Silu,
  Sigmoid,
  Tanh,
  LayerNorm,
  Transpose,
  Reshape,
  Mean,
  // The model zoo's ops.
  Matmul,
  Sin,
  Cos,
  Concat,
  PatchEmbed,
  Slice,
  Exp,
  BSplineBasis,
  Sum,
  Sqrt,
  BatchNorm,
  Softmax,
  BroadcastTo,
  Embedding,
  PaddingMask,
  Conv2D,
  AvgPool2D,
  GroupNorm,
};

struct BuiltinSpec {
  llvm::StringRef name;
  Builtin id;
  std::vector<ParamSpec> params;
  bool variadic = false; // the last parameter takes all remaining arguments
};

const std::vector<BuiltinSpec> &builtins() {
  static const std::vector<BuiltinSpec> table = {
      {"linear",
       Builtin::Linear,
       {{"x", ArgKind::Tensor, ""},
        {"out_features", ArgKind::Integer, ""},
        {"bias", ArgKind::Bool, "true"}}},
      {"relu", Builtin::Relu, {{"x", ArgKind::Tensor, ""}}},
      {"gelu",
       Builtin::Gelu,
       {{"x", ArgKind::Tensor, ""},
        {"approximate", ArgKind::String, "\"none\""}}},
      {"silu", Builtin::Silu, {{"x", ArgKind::Tensor, ""}}},
      {"sigmoid", Builtin::Sigmoid, {{"x", ArgKind::Tensor, ""}}},
      {"tanh", Builtin::Tanh, {{"x", ArgKind::Tensor, ""}}},
      {"layer_norm",
       Builtin::LayerNorm,
       {{"x", ArgKind::Tensor, ""},
        {"eps", ArgKind::Number, "1e-5"},
        {"affine", ArgKind::Bool, "true"}}},
      {"transpose",
       Builtin::Transpose,
       {{"x", ArgKind::Tensor, ""},
        {"dim0", ArgKind::Integer, ""},
        {"dim1", ArgKind::Integer, ""}}},
      {"reshape",
       Builtin::Reshape,
       {{"x", ArgKind::Tensor, ""}, {"shape", ArgKind::Dim, ""}},
       /*variadic=*/true},
      {"mean",
       Builtin::Mean,
       {{"x", ArgKind::Tensor, ""}, {"axis", ArgKind::Integer, "1"}}},
      // The model zoo's ops.
      {"matmul",
       Builtin::Matmul,
       {{"x", ArgKind::Tensor, ""}, {"w", ArgKind::Tensor, ""}}},
      {"sin", Builtin::Sin, {{"x", ArgKind::Tensor, ""}}},
      {"cos", Builtin::Cos, {{"x", ArgKind::Tensor, ""}}},
      {"exp", Builtin::Exp, {{"x", ArgKind::Tensor, ""}}},
      {"sqrt", Builtin::Sqrt, {{"x", ArgKind::Tensor, ""}}},
      {"batch_norm",
       Builtin::BatchNorm,
       {{"x", ArgKind::Tensor, ""},
        {"eps", ArgKind::Number, "1e-5"},
        {"affine", ArgKind::Bool, "true"}}},
      {"concat",
       Builtin::Concat,
       {{"x", ArgKind::Tensor, ""},
        {"axis", ArgKind::Integer, "-1", /*keywordOnly=*/true},
        {"tensors", ArgKind::Tensor, ""}},
       /*variadic=*/true},
      {"patch_embed",
       Builtin::PatchEmbed,
       {{"x", ArgKind::Tensor, ""},
        {"size", ArgKind::Integer, ""},
        {"dim", ArgKind::Integer, ""},
        {"bias", ArgKind::Bool, "true"}}},
      {"slice",
       Builtin::Slice,
       {{"x", ArgKind::Tensor, ""},
        {"start", ArgKind::Integer, ""},
        {"end", ArgKind::Integer, ""},
        {"axis", ArgKind::Integer, "-1"}}},
      {"sum",
       Builtin::Sum,
       {{"x", ArgKind::Tensor, ""}, {"axis", ArgKind::Integer, "1"}}},
      {"softmax",
       Builtin::Softmax,
       {{"x", ArgKind::Tensor, ""}, {"axis", ArgKind::Integer, "-1"}}},
      {"broadcast_to",
       Builtin::BroadcastTo,
       {{"x", ArgKind::Tensor, ""}, {"shape", ArgKind::Dim, ""}},
       /*variadic=*/true},
      {"embedding",
       Builtin::Embedding,
       {{"ids", ArgKind::Ids, ""},
        {"vocabulary", ArgKind::Integer, ""},
        {"dim", ArgKind::Integer, ""}}},
      {"padding_mask",
       Builtin::PaddingMask,
       {{"ids", ArgKind::Ids, ""}, {"padding_idx", ArgKind::Integer, "0"}}},
      {"conv2d",
       Builtin::Conv2D,
       {{"x", ArgKind::Tensor, ""},
        {"out_channels", ArgKind::Integer, ""},
        {"kernel", ArgKind::Integer, ""},
        {"stride", ArgKind::Integer, "1"},
        {"padding", ArgKind::Integer, "0"},
        {"bias", ArgKind::Bool, "true"}}},
      {"group_norm",
       Builtin::GroupNorm,
       {{"x", ArgKind::Tensor, ""},
        {"groups", ArgKind::Integer, "1"},
        {"eps", ArgKind::Number, "1e-5"},
        {"affine", ArgKind::Bool, "true"}}},
      {"avg_pool2d",
       Builtin::AvgPool2D,
       {{"x", ArgKind::Tensor, ""},
        {"kernel", ArgKind::Integer, ""},
        {"stride", ArgKind::Integer, "1"},
        {"padding", ArgKind::Integer, "0"},
        {"count_include_pad", ArgKind::Bool, "true"}}},
      {"bspline_basis",
       Builtin::BSplineBasis,
       {{"x", ArgKind::Tensor, ""},
        {"grid", ArgKind::Tensor, ""},
        {"order", ArgKind::Integer, "3"}}},
  };
  return table;
}

const BuiltinSpec *lookup(llvm::StringRef name) {
  for (const BuiltinSpec &spec : builtins())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

/// "linear(x, out_features, bias=true)", "reshape(x, shape...)",
/// "concat(x, tensors..., axis=-1)": keyword-only parameters last.
std::string signature(const BuiltinSpec &spec) {
  std::vector<std::string> parts;
  for (auto [i, param] : llvm::enumerate(spec.params)) {
    if (param.keywordOnly)
      continue;
    parts.push_back(param.name.str());
    if (!param.defaultText.empty())
      parts.back() += "=" + param.defaultText.str();
    if (spec.variadic && i + 1 == spec.params.size())
      parts.back() += "...";
  }
  for (const ParamSpec &param : spec.params)
    if (param.keywordOnly)
      parts.push_back(param.name.str() + "=" + param.defaultText.str());
  return spec.name.str() + "(" + llvm::join(parts, ", ") + ")";
}

/// Emits one builtin call whose arguments are bound and kind-checked.
class BuiltinEmitter {
public:
  BuiltinEmitter(MLIRGenImpl &gen, const CallExprAST &call, Frame &frame,
                 CallArgs &args)
      : gen(gen), b(gen.builder), call(call), frame(frame), args(args),
        x(args.values[0]->tensor), xType(args.values[0]->tensorType()),
        location(gen.loc(call.loc())) {}

  FailureOr<Val> emit(Builtin id) {
    switch (id) {
    case Builtin::Linear:
      return linear();
    case Builtin::Relu:
      return unary<mlp::ReluOp>();
    case Builtin::Silu:
      return unary<mlp::SiluOp>();
    case Builtin::Sigmoid:
      return unary<mlp::SigmoidOp>();
    case Builtin::Tanh:
      return unary<mlp::TanhOp>();
    case Builtin::Gelu:
      return gelu();
    case Builtin::LayerNorm:
      return layerNorm();
    case Builtin::Transpose:
      return transpose();
    case Builtin::Reshape:
      return reshape();
    case Builtin::Mean:
      return mean();
    case Builtin::Matmul:
      return matmul();
    case Builtin::Sin:
      return unary<mlp::SinOp>();
    case Builtin::Cos:
      return unary<mlp::CosOp>();
    case Builtin::Exp:
      return unary<mlp::ExpOp>();
    case Builtin::Sqrt:
      return unary<mlp::SqrtOp>();
    case Builtin::BatchNorm:
      return batchNorm();
    case Builtin::Concat:
      return concat();
    case Builtin::PatchEmbed:
      return patchEmbed();
    case Builtin::Slice:
      return slice();
    case Builtin::BSplineBasis:
      return bsplineBasis();
    case Builtin::Sum:
      return sum();
    case Builtin::Softmax:
      return softmax();
    case Builtin::Embedding:
      return embedding();
    case Builtin::Conv2D:
      return conv2d();
    case Builtin::AvgPool2D:
      return avgPool2d();
    case Builtin::GroupNorm:
      return groupNorm();
    case Builtin::PaddingMask:
      return paddingMask();
    case Builtin::BroadcastTo:
      return broadcastTo();
    }
    return gen.fail(call.loc(), "unsupported builtin");
  }

private:
  bool has(size_t i) const { return args.values[i].has_value(); }
  const Val &arg(size_t i) const { return *args.values[i]; }
  const SourceLoc &argLoc(size_t i) const { return args.locs[i]; }
  ArrayRef<int64_t> xShape() const { return xType.getShape(); }
  RankedTensorType resultType(ArrayRef<int64_t> shape) const {
    return RankedTensorType::get(shape, xType.getElementType());
  }
  FailureOr<Value> param(llvm::StringRef suffix, ArrayRef<int64_t> shape) {
    FailureOr<std::string> name = gen.paramName(call, frame, suffix);
    if (failed(name))
      return failure();
    return gen.getParam(*name, shape, xType.getElementType(), call.loc());
  }

  template <typename OpTy> FailureOr<Val> unary() {
    return Val::ofTensor(b.create<OpTy>(location, xType, x));
  }

  FailureOr<Val> linear() {
    int64_t out = arg(1).integer;
    if (out <= 0)
      return gen.fail(argLoc(1), "out_features must be a positive integer, "
                                 "got " +
                                     std::to_string(out));
    bool bias = has(2) ? arg(2).boolean : true;
    if (!xShape().empty() && ShapedType::isDynamic(xShape().back()))
      return gen.fail(call.loc(),
                      "linear needs a static last dimension (the input "
                      "features), got " +
                          shape::format(xShape()));
    int64_t in = xShape().empty() ? 0 : xShape().back();
    SmallVector<int64_t> weightShape = {out, in}, biasShape = {out};
    std::string error;
    auto result = shape::linear(
        xShape(), weightShape,
        bias ? shape::OptionalShape(biasShape) : std::nullopt, error);
    if (!result)
      return gen.fail(call.loc(), error);
    FailureOr<Value> weight = param("weight", weightShape);
    if (failed(weight))
      return failure();
    Value biasValue;
    if (bias) {
      FailureOr<Value> value = param("bias", biasShape);
      if (failed(value))
        return failure();
      biasValue = *value;
    }
    return Val::ofTensor(b.create<mlp::LinearOp>(location, resultType(*result),
                                                 x, *weight, biasValue));
  }

  FailureOr<Val> gelu() {
    std::string approximate = has(1) ? arg(1).string : "none";
    if (approximate != "none" && approximate != "tanh")
      return gen.fail(argLoc(1), "approximate must be \"none\" or \"tanh\", "
                                 "got \"" +
                                     approximate + "\"");
    return Val::ofTensor(b.create<mlp::GeluOp>(location, xType, x,
                                               b.getStringAttr(approximate)));
  }

  FailureOr<Val> layerNorm() {
    double eps = has(1) ? arg(1).number : 1e-5;
    if (!(eps > 0.0))
      return gen.fail(argLoc(1),
                      "eps must be positive, got " + formatNumber(eps));
    bool affine = has(2) ? arg(2).boolean : true;
    std::string error;
    if (!shape::layerNorm(xShape(), std::nullopt, std::nullopt, error))
      return gen.fail(call.loc(), error);
    SmallVector<int64_t> channels = {xShape().back()};
    Value weight, bias;
    if (affine) {
      FailureOr<Value> w = param("weight", channels);
      if (failed(w))
        return failure();
      FailureOr<Value> bb = param("bias", channels);
      if (failed(bb))
        return failure();
      weight = *w;
      bias = *bb;
    }
    return Val::ofTensor(b.create<mlp::LayerNormOp>(
        location, xType, x, weight, bias, b.getF64FloatAttr(eps)));
  }

  FailureOr<Val> transpose() {
    int64_t rank = xShape().size();
    int64_t dims[2];
    for (size_t i = 0; i < 2; ++i) {
      int64_t d = arg(i + 1).integer;
      if (d < -rank || d >= rank)
        return gen.fail(argLoc(i + 1),
                        "transpose dimension " + std::to_string(d) +
                            " is out of range for a tensor of rank " +
                            std::to_string(rank) + " " +
                            shape::format(xShape()) + " (expected " +
                            std::to_string(-rank) + " to " +
                            std::to_string(rank - 1) + ")");
      dims[i] = d < 0 ? d + rank : d;
    }
    if (dims[0] != dims[1] && (ShapedType::isDynamic(xShape()[dims[0]]) ||
                               ShapedType::isDynamic(xShape()[dims[1]])))
      return gen.fail(call.loc(), "transpose cannot move the batch dimension "
                                  "of " +
                                      shape::format(xShape()));
    SmallVector<int64_t> permutation(rank);
    std::iota(permutation.begin(), permutation.end(), 0);
    std::swap(permutation[dims[0]], permutation[dims[1]]);
    std::string error;
    auto result = shape::transpose(xShape(), permutation, error);
    if (!result)
      return gen.fail(call.loc(), error);
    return Val::ofTensor(b.create<mlp::TransposeOp>(
        location, resultType(*result), x, b.getDenseI64ArrayAttr(permutation)));
  }

  FailureOr<Val> reshape() {
    if (args.rest.empty())
      return gen.fail(call.loc(), "reshape needs the target shape, e.g. "
                                  "reshape(x, N, 196, 512)");
    SmallVector<int64_t> target;
    for (auto [value, at] : llvm::zip(args.rest, args.restLocs)) {
      if (!ShapedType::isDynamic(value.integer) && value.integer <= 0)
        return gen.fail(at, "reshape dimensions must be positive integers or "
                            "the batch symbol, got " +
                                std::to_string(value.integer));
      target.push_back(value.integer);
    }
    std::string error;
    auto result = shape::reshape(xShape(), target, error);
    if (!result)
      return gen.fail(call.loc(), error);
    return Val::ofTensor(
        b.create<mlp::ReshapeOp>(location, resultType(*result), x));
  }

  FailureOr<Val> mean() {
    int64_t axis = has(1) ? arg(1).integer : 1;
    std::string error;
    auto result = shape::mean(xShape(), axis, error);
    if (!result)
      return gen.fail(has(1) ? argLoc(1) : call.loc(), error);
    if (axis < 0)
      axis += xShape().size();
    return Val::ofTensor(b.create<mlp::MeanOp>(location, resultType(*result), x,
                                               b.getI64IntegerAttr(axis)));
  }

  /// Fails unless `value` has x's element type.
  LogicalResult sameElementType(const Val &value, const SourceLoc &at,
                                llvm::StringRef what) {
    Type type = value.tensorType().getElementType();
    if (type == xType.getElementType())
      return success();
    std::string message;
    llvm::raw_string_ostream(message)
        << "'" << call.callee << "' needs " << what << " of element type "
        << xType.getElementType() << " like its input, got " << type;
    return gen.fail(at, message);
  }

  FailureOr<Val> matmul() {
    if (failed(sameElementType(arg(1), argLoc(1), "a weight")))
      return failure();
    std::string error;
    auto result = shape::matmul(xShape(), arg(1).tensorType().getShape(),
                                std::nullopt, error);
    if (!result)
      return gen.fail(call.loc(), error);
    return Val::ofTensor(b.create<mlp::MatmulOp>(
        location, resultType(*result), x, arg(1).tensor, Value()));
  }

  FailureOr<Val> concat() {
    if (args.rest.empty())
      return gen.fail(call.loc(), "concat needs at least two tensors, e.g. "
                                  "concat(x, h) or x |> concat(h)");
    int64_t axis = has(1) ? arg(1).integer : -1;
    SmallVector<Value> inputs = {x};
    SmallVector<ArrayRef<int64_t>> shapes = {xShape()};
    for (auto [value, at] : llvm::zip(args.rest, args.restLocs)) {
      if (failed(sameElementType(value, at, "tensors")))
        return failure();
      inputs.push_back(value.tensor);
      shapes.push_back(value.tensorType().getShape());
    }
    std::string error;
    auto result = shape::concat(shapes, axis, error);
    if (!result)
      return gen.fail(call.loc(), error);
    if (axis < 0)
      axis += xShape().size();
    return Val::ofTensor(b.create<mlp::ConcatOp>(
        location, resultType(*result), inputs, b.getI64IntegerAttr(axis)));
  }

  FailureOr<Val> patchEmbed() {
    for (size_t i : {1, 2})
      if (arg(i).integer <= 0)
        return gen.fail(argLoc(i), std::string(i == 1 ? "size" : "dim") +
                                       " must be a positive integer, got " +
                                       std::to_string(arg(i).integer));
    int64_t size = arg(1).integer, dim = arg(2).integer;
    bool bias = has(3) ? arg(3).boolean : true;
    int64_t channels = xShape().size() == 4 ? xShape()[1] : 1;
    SmallVector<int64_t> weightShape = {dim, channels, size, size},
                         biasShape = {dim};
    std::string error;
    auto result = shape::patchEmbed(
        xShape(), weightShape,
        bias ? shape::OptionalShape(biasShape) : std::nullopt, error);
    if (!result)
      return gen.fail(call.loc(), error);
    FailureOr<Value> weight = param("weight", weightShape);
    if (failed(weight))
      return failure();
    Value biasValue;
    if (bias) {
      FailureOr<Value> value = param("bias", biasShape);
      if (failed(value))
        return failure();
      biasValue = *value;
    }
    return Val::ofTensor(b.create<mlp::PatchEmbedOp>(
        location, resultType(*result), x, *weight, biasValue));
  }

  /// x[..., start:end, ...] along axis; negative start, end and axis count
  /// from the end, as in Python.
  FailureOr<Val> slice() {
    int64_t rank = xShape().size();
    int64_t axis = has(3) ? arg(3).integer : -1;
    if (axis < -rank || axis >= rank)
      return gen.fail(has(3) ? argLoc(3) : call.loc(),
                      "slice axis " + std::to_string(axis) +
                          " is out of range for " + shape::format(xShape()));
    if (axis < 0)
      axis += rank;
    int64_t size = xShape()[axis];
    int64_t bounds[2] = {arg(1).integer, arg(2).integer};
    if (!ShapedType::isDynamic(size))
      for (int64_t &bound : bounds)
        if (bound < 0)
          bound += size;
    std::string error;
    auto result = shape::slice(xShape(), axis, bounds[0], bounds[1], error);
    if (!result)
      return gen.fail(call.loc(), error);
    return Val::ofTensor(b.create<mlp::SliceOp>(
        location, resultType(*result), x, b.getI64IntegerAttr(axis),
        b.getI64IntegerAttr(bounds[0]), b.getI64IntegerAttr(bounds[1])));
  }

  /// BatchNorm1d in eval mode over the last dimension C: binds
  /// p.running_mean, p.running_var and (affine) p.weight, p.bias, all [C].
  FailureOr<Val> batchNorm() {
    double eps = has(1) ? arg(1).number : 1e-5;
    if (!(eps > 0.0))
      return gen.fail(argLoc(1),
                      "eps must be positive, got " + formatNumber(eps));
    bool affine = has(2) ? arg(2).boolean : true;
    if (xShape().empty() || ShapedType::isDynamic(xShape().back()))
      return gen.fail(call.loc(), "batch_norm needs a static last dimension "
                                  "(the features), got " +
                                      shape::format(xShape()));
    SmallVector<int64_t> features = {xShape().back()};
    FailureOr<Value> mean = param("running_mean", features);
    if (failed(mean))
      return failure();
    FailureOr<Value> variance = param("running_var", features);
    if (failed(variance))
      return failure();
    Value weight, bias;
    if (affine) {
      FailureOr<Value> w = param("weight", features);
      if (failed(w))
        return failure();
      FailureOr<Value> bb = param("bias", features);
      if (failed(bb))
        return failure();
      weight = *w;
      bias = *bb;
    }
    return Val::ofTensor(b.create<mlp::BatchNormOp>(
        location, xType, x, *mean, *variance, weight, bias,
        b.getF64FloatAttr(eps)));
  }

  /// nn.Embedding(vocabulary, dim) @p: binds p.weight [vocabulary, dim] (f32)
  /// and looks up the rows of the integer ids.
  FailureOr<Val> embedding() {
    for (size_t i : {1, 2})
      if (arg(i).integer <= 0)
        return gen.fail(argLoc(i), std::string(i == 1 ? "vocabulary" : "dim") +
                                       " must be a positive integer, got " +
                                       std::to_string(arg(i).integer));
    SmallVector<int64_t> tableShape = {arg(1).integer, arg(2).integer};
    std::string error;
    auto result = shape::embedding(xShape(), tableShape, error);
    if (!result)
      return gen.fail(call.loc(), error);
    Type f32 = b.getF32Type();
    FailureOr<std::string> name = gen.paramName(call, frame, "weight");
    if (failed(name))
      return failure();
    FailureOr<Value> table = gen.getParam(*name, tableShape, f32, call.loc());
    if (failed(table))
      return failure();
    return Val::ofTensor(b.create<mlp::EmbeddingOp>(
        location, RankedTensorType::get(*result, f32), x, *table));
  }

  /// Conv2d(C, out_channels, kernel, stride, padding) on a channels-last
  /// (N, H, W, C) input; binds p.weight [out, C, kernel, kernel], p.bias.
  FailureOr<Val> conv2d() {
    int64_t out = arg(1).integer, kernel = arg(2).integer;
    int64_t stride = has(3) ? arg(3).integer : 1;
    int64_t padding = has(4) ? arg(4).integer : 0;
    bool bias = has(5) ? arg(5).boolean : true;
    if (out <= 0)
      return gen.fail(argLoc(1), "out_channels must be a positive integer, "
                                 "got " +
                                     std::to_string(out));
    if (kernel < 1)
      return gen.fail(argLoc(2), "kernel must be a positive integer, got " +
                                     std::to_string(kernel));
    int64_t channels = xShape().size() == 4 ? xShape()[3] : 1;
    SmallVector<int64_t> weightShape = {out, channels, kernel, kernel},
                         biasShape = {out};
    std::string error;
    auto result =
        shape::conv2d(xShape(), weightShape,
                      bias ? shape::OptionalShape(biasShape) : std::nullopt,
                      stride, padding, error);
    if (!result)
      return gen.fail(call.loc(), error);
    FailureOr<Value> weight = param("weight", weightShape);
    if (failed(weight))
      return failure();
    Value biasValue;
    if (bias) {
      FailureOr<Value> value = param("bias", biasShape);
      if (failed(value))
        return failure();
      biasValue = *value;
    }
    return Val::ofTensor(b.create<mlp::Conv2DOp>(
        location, resultType(*result), x, *weight, biasValue,
        b.getI64IntegerAttr(stride), b.getI64IntegerAttr(padding)));
  }

  /// GroupNorm(1, C) on a channels-last (N, ..., C) input: statistics over
  /// all of a sample's elements, then a per-channel affine (p.weight,
  /// p.bias [C]). Emitted as mlp ops on an (N, P, C) view: the mean and the
  /// biased variance are means over C and then over P, which keeps fp32
  /// sums short (a sample of PoolFormer's first stage has 200 K elements).
  FailureOr<Val> groupNorm() {
    int64_t groups = has(1) ? arg(1).integer : 1;
    if (groups != 1)
      return gen.fail(argLoc(1), "group_norm supports groups=1 only "
                                 "(GroupNorm(1, C)), got " +
                                     std::to_string(groups));
    double eps = has(2) ? arg(2).number : 1e-5;
    if (!(eps > 0.0))
      return gen.fail(argLoc(2),
                      "eps must be positive, got " + formatNumber(eps));
    bool affine = has(3) ? arg(3).boolean : true;
    ArrayRef<int64_t> shape = xShape();
    int64_t positions = 1;
    bool valid = shape.size() >= 3 && ShapedType::isDynamic(shape[0]);
    for (int64_t d : shape.drop_front()) {
      if (ShapedType::isDynamic(d))
        valid = false;
      else
        positions *= d;
    }
    if (!valid)
      return gen.fail(call.loc(), "group_norm needs a batched channels-last "
                                  "input (N, ..., C) of rank >= 3 with static "
                                  "dimensions after the batch, got " +
                                      shape::format(shape));
    int64_t n = shape[0], channels = shape.back();
    positions /= channels;
    auto typeOf = [&](ArrayRef<int64_t> dims) { return resultType(dims); };
    auto meanOverSample = [&](Value v) -> Value {
      Value m = b.create<mlp::MeanOp>(location, typeOf({n, positions}), v,
                                      b.getI64IntegerAttr(2));
      m = b.create<mlp::MeanOp>(location, typeOf({n}), m,
                                b.getI64IntegerAttr(1));
      return b.create<mlp::ReshapeOp>(location, typeOf({n, 1, 1}), m);
    };
    auto view = typeOf({n, positions, channels});
    Value r = b.create<mlp::ReshapeOp>(location, view, x);
    Value d = b.create<mlp::SubOp>(location, view, r, meanOverSample(r));
    Value var = meanOverSample(b.create<mlp::MulOp>(location, view, d, d));
    Value epsValue = b.create<mlp::ConstantOp>(
        location, RankedTensorType::get({}, xType.getElementType()),
        b.getF64FloatAttr(eps));
    Value sd = b.create<mlp::SqrtOp>(
        location, typeOf({n, 1, 1}),
        b.create<mlp::AddOp>(location, typeOf({n, 1, 1}), var, epsValue));
    Value v = b.create<mlp::DivOp>(location, view, d, sd);
    v = b.create<mlp::ReshapeOp>(location, xType, v);
    if (affine) {
      SmallVector<int64_t> channelShape = {channels};
      FailureOr<Value> w = param("weight", channelShape);
      if (failed(w))
        return failure();
      FailureOr<Value> bb = param("bias", channelShape);
      if (failed(bb))
        return failure();
      v = b.create<mlp::MulOp>(location, xType, v, *w);
      v = b.create<mlp::AddOp>(location, xType, v, *bb);
    }
    return Val::ofTensor(v);
  }

  FailureOr<Val> avgPool2d() {
    int64_t kernel = arg(1).integer;
    int64_t stride = has(2) ? arg(2).integer : 1;
    int64_t padding = has(3) ? arg(3).integer : 0;
    bool includePad = has(4) ? arg(4).boolean : true;
    std::string error;
    auto result = shape::avgPool2d(xShape(), kernel, stride, padding, error);
    if (!result)
      return gen.fail(call.loc(), error);
    return Val::ofTensor(b.create<mlp::AvgPool2DOp>(
        location, resultType(*result), x, b.getI64IntegerAttr(kernel),
        b.getI64IntegerAttr(stride), b.getI64IntegerAttr(padding),
        b.getBoolAttr(includePad)));
  }

  FailureOr<Val> paddingMask() {
    int64_t padding = has(1) ? arg(1).integer : 0;
    return Val::ofTensor(b.create<mlp::PaddingMaskOp>(
        location, RankedTensorType::get(xShape(), b.getF32Type()), x,
        b.getI64IntegerAttr(padding)));
  }

  FailureOr<Val> softmax() {
    int64_t axis = has(1) ? arg(1).integer : -1;
    std::string error;
    auto result = shape::softmax(xShape(), axis, error);
    if (!result)
      return gen.fail(has(1) ? argLoc(1) : call.loc(), error);
    if (axis < 0)
      axis += xShape().size();
    return Val::ofTensor(b.create<mlp::SoftmaxOp>(location, xType, x,
                                                  b.getI64IntegerAttr(axis)));
  }

  /// broadcast_to(x, d0, d1, ...): the full target shape, as reshape's.
  FailureOr<Val> broadcastTo() {
    if (args.rest.empty())
      return gen.fail(call.loc(), "broadcast_to needs the target shape, e.g. "
                                  "broadcast_to(x, N, 21, 512)");
    SmallVector<int64_t> target;
    for (auto [value, at] : llvm::zip(args.rest, args.restLocs)) {
      if (!ShapedType::isDynamic(value.integer) && value.integer <= 0)
        return gen.fail(at, "broadcast_to dimensions must be positive "
                            "integers or the batch symbol, got " +
                                std::to_string(value.integer));
      target.push_back(value.integer);
    }
    std::string error;
    auto result = shape::broadcastTo(xShape(), target, error);
    if (!result)
      return gen.fail(call.loc(), error);
    return Val::ofTensor(
        b.create<mlp::BroadcastToOp>(location, resultType(*result), x));
  }

  /// As mean(): the default axis 1 is the first one after the batch.
  FailureOr<Val> sum() {
    int64_t axis = has(1) ? arg(1).integer : 1;
    std::string error;
    auto result = shape::sum(xShape(), axis, error);
    if (!result)
      return gen.fail(has(1) ? argLoc(1) : call.loc(), error);
    if (axis < 0)
      axis += xShape().size();
    return Val::ofTensor(b.create<mlp::SumOp>(location, resultType(*result), x,
                                              b.getI64IntegerAttr(axis)));
  }

  FailureOr<Val> bsplineBasis() {
    if (failed(sameElementType(arg(1), argLoc(1), "a grid")))
      return failure();
    int64_t order = has(2) ? arg(2).integer : 3;
    std::string error;
    auto result = shape::bsplineBasis(
        xShape(), arg(1).tensorType().getShape(), order, error);
    if (!result)
      return gen.fail(has(2) && error.find("order must") != std::string::npos
                          ? argLoc(2)
                          : call.loc(),
                      error);
    return Val::ofTensor(b.create<mlp::BSplineBasisOp>(
        location, resultType(*result), x, arg(1).tensor,
        b.getI64IntegerAttr(order)));
  }

  MLIRGenImpl &gen;
  OpBuilder &b;
  const CallExprAST &call;
  Frame &frame;
  CallArgs &args;
  Value x;
  RankedTensorType xType;
  Location location;
};

} // namespace

bool MLIRGenImpl::isBuiltin(llvm::StringRef name) {
  return lookup(name) != nullptr;
}

std::vector<llvm::StringRef> MLIRGenImpl::builtinNames() {
  std::vector<llvm::StringRef> names;
  for (const BuiltinSpec &spec : builtins())
    names.push_back(spec.name);
  return names;
}

FailureOr<Val> MLIRGenImpl::callBuiltin(const CallExprAST &call, Frame &frame) {
  const BuiltinSpec *spec = lookup(call.callee);
  if (!spec)
    return fail(call.loc(), "unknown layer or def '" + call.callee + "'");
  CallArgs args;
  if (failed(bindArguments(call, signature(*spec), spec->params, spec->variadic,
                           frame, args)))
    return failure();

  // Which builtins bind parameters with '@path'.
  bool hasParams =
      spec->id == Builtin::Linear || spec->id == Builtin::PatchEmbed ||
      spec->id == Builtin::Embedding || spec->id == Builtin::Conv2D ||
      (spec->id == Builtin::GroupNorm &&
       (!args.values[3] || args.values[3]->boolean)) ||
      spec->id == Builtin::BatchNorm ||
      (spec->id == Builtin::LayerNorm &&
       (!args.values[2] || args.values[2]->boolean));
  if (hasParams && !call.binding) {
    if (spec->id == Builtin::Linear)
      return fail(call.loc(), "linear needs '@name' to bind its weight and "
                              "bias, e.g. linear(x, 64) @fc1");
    if (spec->id == Builtin::GroupNorm)
      return fail(call.loc(), "group_norm needs '@name' to bind its weight "
                              "and bias, e.g. group_norm(x) @norm1, or "
                              "affine=false for none");
    if (spec->id == Builtin::Conv2D)
      return fail(call.loc(), "conv2d needs '@name' to bind its weight and "
                              "bias, e.g. conv2d(x, 64, 3, padding=1) @conv");
    if (spec->id == Builtin::Embedding)
      return fail(call.loc(), "embedding needs '@name' to bind its table, "
                              "e.g. embedding(ids, 1000, 16) @item_id");
    if (spec->id == Builtin::BatchNorm)
      return fail(call.loc(), "batch_norm needs '@name' to bind its running "
                              "statistics (and weight and bias), e.g. "
                              "batch_norm(x) @bn");
    if (spec->id == Builtin::PatchEmbed)
      return fail(call.loc(), "patch_embed needs '@name' to bind its weight "
                              "and bias, e.g. patch_embed(x, size=16, "
                              "dim=512) @stem.proj");
    return fail(call.loc(), "layer_norm needs '@name' to bind its weight and "
                            "bias, e.g. layer_norm(x) @norm, or "
                            "affine=false for none");
  }
  if (!hasParams && call.binding) {
    if (spec->id == Builtin::LayerNorm)
      return fail(call.binding->loc, "layer_norm with affine=false has no "
                                     "parameters; remove '@" +
                                         call.binding->spelling + "'");
    return fail(call.binding->loc, "'" + call.callee +
                                       "' has no parameters; remove '@" +
                                       call.binding->spelling + "'");
  }
  return BuiltinEmitter(*this, call, frame, args).emit(spec->id);
}
