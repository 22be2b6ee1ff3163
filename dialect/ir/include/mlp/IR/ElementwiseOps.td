//===- ElementwiseOps.td - math functions and constants ----*- tablegen -*-===//
//
// Included from MLPOps.td: elementwise functions beyond the activations, and
// scalar constants, which the arithmetic ops broadcast like any operand.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_ELEMENTWISEOPS_TD
#define MLP_IR_ELEMENTWISEOPS_TD

def MLP_SinOp : MLP_UnaryOp<"sin", "sin(x)"> {
  let description = [{
    Sine, elementwise, of an argument in radians. A SIREN layer is
    `sin(30 * linear(x))`: an `mlp.mul` by an `mlp.constant` before it.

    ```mlir
    %y = mlp.sin %x : tensor<?x256xf32>
    ```
  }];
}

def MLP_CosOp : MLP_UnaryOp<"cos", "cos(x)"> {
  let description = [{
    Cosine, elementwise, of an argument in radians (frequency encodings).

    ```mlir
    %y = mlp.cos %x : tensor<?x3xf32>
    ```
  }];
}

def MLP_ExpOp : MLP_UnaryOp<"exp", "exp(x)"> {
  let description = [{
    Exponential, elementwise (Gaussian radial basis functions,
    `exp(-((x - g) / h)^2)`).

    ```mlir
    %y = mlp.exp %x : tensor<?x4x8xf32>
    ```
  }];
}

def MLP_SqrtOp : MLP_UnaryOp<"sqrt", "sqrt(x)"> {
  let description = [{
    Square root, elementwise (a standard deviation, `sqrt(var + eps)`).

    ```mlir
    %y = mlp.sqrt %x : tensor<?x1x7xf32>
    ```
  }];
}

def MLP_DivOp : MLP_BinaryOp<"div", "lhs / rhs"> {
  let description = [{
    Elementwise quotient with NumPy broadcasting (see `mlp.add`), e.g. by a
    constant (`(x - grid) / h`) or by a per-sample standard deviation.

    ```mlir
    %y = mlp.div %x, %h : tensor<?x4x8xf32>, tensor<f32> -> tensor<?x4x8xf32>
    ```
  }];
}

def MLP_ConstantOp : MLP_Op<"constant", [Pure]> {
  let summary = "a scalar constant as a rank-0 tensor";
  let description = [{
    A number of the model, such as the frequency `30.0` of a SIREN layer, as
    a rank-0 tensor of the element type of the tensors it combines with.
    `mlp.add`, `mlp.sub` and `mlp.mul` broadcast it to their other operand,
    so `x * 30.0` in a `.mlp` file is an `mlp.mul` of `x` and a constant.
    The value is written as a double and rounded to the element type.

    ```mlir
    %w0 = mlp.constant 3.000000e+01 : tensor<f32>
    %y = mlp.mul %x, %w0 : tensor<?x256xf32>, tensor<f32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins F64Attr:$value);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // MLP_IR_ELEMENTWISEOPS_TD
