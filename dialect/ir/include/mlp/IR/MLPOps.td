//===- MLPOps.td - operations of the mlp dialect -----------*- tablegen -*-===//
#ifndef MLP_IR_MLPOPS_TD
#define MLP_IR_MLPOPS_TD

include "mlp/IR/MLPDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def MLP_FloatTensor : RankedTensorOf<[F16, BF16, F32, F64]>;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def MLP_ParamOp : MLP_Op<"param", [Pure]> {
  let summary = "a named weight tensor of the model";
  let description = [{
    Produces the checkpoint tensor called `name`. The value lives in the
    compiler's weight store (memory-mapped from the `.safetensors` file), never
    in the IR; the type fixes the shape and element type the model expects.
    Parameter shapes are fully static.

    Example:

    ```mlir
    %w = mlp.param "blocks.0.mlp_channels.fc1.weight" : tensor<2048x512xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def MLP_LinearOp : MLP_Op<"linear", [Pure]> {
  let summary = "affine layer y = x W^T + b over the last dimension";
  let description = [{
    Applies a PyTorch-style `nn.Linear`: `weight` has shape `(out, in)` and
    the optional `bias` shape `(out)`. The input's last dimension must be `in`;
    leading dimensions (the batch and any token dimensions) are kept, and the
    result's last dimension is `out`.

    Example:

    ```mlir
    %y = mlp.linear %x, %w, %b : (tensor<?x128xf32>, tensor<512x128xf32>,
                                  tensor<512xf32>) -> tensor<?x512xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, MLP_FloatTensor:$weight,
                       Optional<MLP_FloatTensor>:$bias);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise activations
//===----------------------------------------------------------------------===//

class MLP_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : MLP_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let summary = "elementwise " # formula;
  let arguments = (ins MLP_FloatTensor:$input);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def MLP_ReluOp : MLP_UnaryOp<"relu", "max(x, 0)"> {
  let description = [{
    Rectified linear unit, `y = max(x, 0)` elementwise.

    ```mlir
    %y = mlp.relu %x : tensor<?x512xf32>
    ```
  }];
}

def MLP_GeluOp : MLP_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise Gaussian error linear unit";
  let description = [{
    `approximate = "none"` (the default, as `torch.nn.GELU()`) computes the
    exact form `0.5 x (1 + erf(x / sqrt(2)))`; `approximate = "tanh"` computes
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.

    ```mlir
    %y = mlp.gelu %x : tensor<?x2048xf32>
    %z = mlp.gelu %x {approximate = "tanh"} : tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input,
      DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def MLP_SiluOp : MLP_UnaryOp<"silu", "x * sigmoid(x)"> {
  let description = [{
    Sigmoid linear unit (swish), `y = x / (1 + exp(-x))`.

    ```mlir
    %y = mlp.silu %x : tensor<?x64xf32>
    ```
  }];
}

def MLP_SigmoidOp : MLP_UnaryOp<"sigmoid", "1 / (1 + exp(-x))"> {
  let description = [{
    Logistic sigmoid, `y = 1 / (1 + exp(-x))`.

    ```mlir
    %y = mlp.sigmoid %x : tensor<?x64xf32>
    ```
  }];
}

def MLP_TanhOp : MLP_UnaryOp<"tanh", "tanh(x)"> {
  let description = [{
    Hyperbolic tangent, elementwise.

    ```mlir
    %y = mlp.tanh %x : tensor<?x64xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise binary operations with NumPy broadcasting
//===----------------------------------------------------------------------===//

class MLP_BinaryOp<string mnemonic, string formula>
    : MLP_Op<mnemonic, [Pure]> {
  let summary = "elementwise " # formula # " with broadcasting";
  let arguments = (ins MLP_FloatTensor:$lhs, MLP_FloatTensor:$rhs);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def MLP_AddOp : MLP_BinaryOp<"add", "lhs + rhs"> {
  let description = [{
    Elementwise sum. Shapes broadcast as in NumPy: they are aligned at the
    last dimension, and a dimension of size 1 (or a missing leading one)
    stretches to the other operand's size. Element types must agree.

    ```mlir
    %y = mlp.add %x, %r : tensor<?x196x512xf32>, tensor<?x196x512xf32>
                          -> tensor<?x196x512xf32>
    %z = mlp.add %x, %b : tensor<?x512xf32>, tensor<512xf32> -> tensor<?x512xf32>
    ```
  }];
}

def MLP_SubOp : MLP_BinaryOp<"sub", "lhs - rhs"> {
  let description = [{
    Elementwise difference with NumPy broadcasting (see `mlp.add`).

    ```mlir
    %y = mlp.sub %x, %m : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
    ```
  }];
}

def MLP_MulOp : MLP_BinaryOp<"mul", "lhs * rhs"> {
  let description = [{
    Elementwise product with NumPy broadcasting (see `mlp.add`); a gate
    multiply or a LayerScale is an `mlp.mul`.

    ```mlir
    %y = mlp.mul %x, %gamma : tensor<?x196x384xf32>, tensor<384xf32>
                              -> tensor<?x196x384xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Normalization and reductions
//===----------------------------------------------------------------------===//

def MLP_LayerNormOp : MLP_Op<"layer_norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `y = (x - mean) / sqrt(var + eps) * weight + bias`, with the mean and the
    biased variance taken over the last dimension, as `torch.nn.LayerNorm`.
    `weight` and `bias` are optional and, when present, have the shape of the
    last dimension.

    ```mlir
    %y = mlp.layer_norm %x, %w, %b {eps = 1.0e-06 : f64}
        : (tensor<?x196x512xf32>, tensor<512xf32>, tensor<512xf32>)
          -> tensor<?x196x512xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input,
                       Optional<MLP_FloatTensor>:$weight,
                       Optional<MLP_FloatTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`weight` `(` $weight^ `)`)? (`bias` `(` $bias^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MLP_MeanOp : MLP_Op<"mean", [Pure]> {
  let summary = "arithmetic mean along one axis, which is removed";
  let description = [{
    Averages `input` over dimension `axis` (negative values count from the
    end) and drops that dimension, as `x.mean(dim=axis)`.

    ```mlir
    %y = mlp.mean %x {axis = 1 : i64} : tensor<?x196x512xf32> -> tensor<?x512xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, I64Attr:$axis);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def MLP_TransposeOp : MLP_Op<"transpose", [Pure]> {
  let summary = "permutes the dimensions of a tensor";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]`. Token mixing in
    MLP-Mixer is a transpose of the last two dimensions around a linear.
    A transpose of a transpose folds into one, and the identity permutation
    folds away.

    ```mlir
    %y = mlp.transpose %x [0, 2, 1] : tensor<?x196x512xf32> -> tensor<?x512x196xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def MLP_ReshapeOp : MLP_Op<"reshape", [Pure]> {
  let summary = "reinterprets a tensor with a new shape of equal size";
  let description = [{
    Row-major reshape. The element count must not change. A dynamic (batch)
    dimension may only appear as the leading dimension of both input and
    result, where it is carried over unchanged. A reshape to the same type
    folds away, and a reshape of a reshape folds into one.

    ```mlir
    %y = mlp.reshape %x : tensor<?x14x14x64xf32> -> tensor<?x196x64xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Ops of the model zoo, by kind
//===----------------------------------------------------------------------===//

include "mlp/IR/BasisOps.td"
include "mlp/IR/ElementwiseOps.td"
include "mlp/IR/FusionOps.td"
include "mlp/IR/EmbeddingOps.td"
include "mlp/IR/LinearAlgebraOps.td"
include "mlp/IR/NormalizationOps.td"
include "mlp/IR/ReductionOps.td"
include "mlp/IR/ShapeOps.td"
include "mlp/IR/SpatialOps.td"

#endif // MLP_IR_MLPOPS_TD
