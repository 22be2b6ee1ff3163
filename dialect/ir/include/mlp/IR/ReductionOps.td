//===- ReductionOps.td - reductions beyond mean ------------*- tablegen -*-===//
//
// Included from MLPOps.td.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_REDUCTIONOPS_TD
#define MLP_IR_REDUCTIONOPS_TD

def MLP_SumOp : MLP_Op<"sum", [Pure]> {
  let summary = "sum along one axis, which is removed";
  let description = [{
    Sums `input` over dimension `axis` (non-negative) and drops that
    dimension, as `x.sum(dim=axis)`; not over the dynamic batch dimension.
    A contraction with per-member weights (TabM's `LinearEnsemble`) is a
    broadcasting `mlp.mul` and an `mlp.sum`.

    ```mlir
    %y = mlp.sum %x {axis = 2 : i64} : tensor<?x32x512x1xf32> -> tensor<?x32x1xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, I64Attr:$axis);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MLP_SoftmaxOp : MLP_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let description = [{
    `y = exp(x - max) / sum(exp(x - max))` along dimension `axis`
    (non-negative), as `torch.softmax(x, dim=axis)`; not along the dynamic
    batch dimension. SOFTS pools its series with softmax weights along the
    series axis.

    ```mlir
    %w = mlp.softmax %core {axis = 1 : i64} : tensor<?x21x512xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, I64Attr:$axis);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // MLP_IR_REDUCTIONOPS_TD
