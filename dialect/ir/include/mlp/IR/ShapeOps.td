//===- ShapeOps.td - joining and splitting tensors ---------*- tablegen -*-===//
//
// Included from MLPOps.td: ops that move data between tensors without
// arithmetic, beyond transpose and reshape.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_SHAPEOPS_TD
#define MLP_IR_SHAPEOPS_TD

def MLP_ConcatOp : MLP_Op<"concat", [Pure]> {
  let summary = "joins tensors along one dimension";
  let description = [{
    `torch.cat(inputs, dim=axis)`: the inputs have one rank and agree in every
    dimension but `axis`, along which the result holds them one after the
    other, in operand order. `axis` is non-negative and must not be the
    dynamic batch dimension. Frequency encodings and skip connections
    concatenate along the last dimension. An operand that is itself a
    concatenation along the same axis, used only there, is spliced in
    (concat(concat(a, b), c) is concat(a, b, c)), and a concatenation of
    one tensor folds away.

    ```mlir
    %y = mlp.concat %x, %h {axis = 1 : i64}
        : (tensor<?x63xf32>, tensor<?x256xf32>) -> tensor<?x319xf32>
    ```
  }];
  let arguments = (ins Variadic<MLP_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def MLP_BroadcastToOp : MLP_Op<"broadcast_to", [Pure]> {
  let summary = "repeats a tensor to a larger shape (NumPy broadcasting)";
  let description = [{
    `np.broadcast_to(x, shape)` / `x.expand(shape)`: the result shape is the
    input's under NumPy broadcasting (aligned at the last dimension, size-1
    and missing leading dimensions stretch). The dynamic batch dimension is
    kept. Used where an op needs equal shapes, such as a concatenation with
    a pooled vector repeated over the series (`repeat(1, N, 1)`).

    ```mlir
    %r = mlp.broadcast_to %g : tensor<?x1x512xf32> -> tensor<?x21x512xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MLP_SliceOp : MLP_Op<"slice", [Pure]> {
  let summary = "a contiguous range of one dimension";
  let description = [{
    Keeps indices `start` to `end` (exclusive, `0 <= start < end <=` the
    dimension's size) of dimension `axis` and all of the other dimensions,
    as `x.narrow(axis, start, end - start)`: `x.chunk(2, dim=-1)` of a gated
    MLP is two slices of the last dimension. `axis` is non-negative and must
    not be the dynamic batch dimension. A slice of the whole dimension folds
    away.

    ```mlir
    %v = mlp.slice %h {axis = 2 : i64, start = 768 : i64, end = 1536 : i64}
        : tensor<?x196x1536xf32> -> tensor<?x196x768xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, I64Attr:$axis, I64Attr:$start,
                       I64Attr:$end);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // MLP_IR_SHAPEOPS_TD
