//===- LinearAlgebraOps.td - contractions beyond linear ----*- tablegen -*-===//
//
// Included from MLPOps.td. Contractions whose weights are not in nn.Linear's
// (out, in) layout: research checkpoints that store (in, out) matrices, and
// convolution stems that are patchify + matmul.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_LINEARALGEBRAOPS_TD
#define MLP_IR_LINEARALGEBRAOPS_TD

def MLP_MatmulOp : MLP_Op<"matmul", [Pure]> {
  let summary = "y = x W + b over the last dimension, W stored (in, out)";
  let description = [{
    Multiplies the last dimension of `input` by `weight` of shape `(in, out)`,
    as `x @ W` in NumPy or `einsum("... i, i o -> ... o")`, and adds the
    optional `bias` of shape `(out)`. This is the layout of weights stored
    as `(in, out)`: Keras `Dense.kernel`, sparse autoencoder and transcoder
    `W_enc` / `W_dec`, TabM's `LinearEnsemble`. Unlike `mlp.linear`, whose
    `(out, in)` weight the CPU backend re-lays to `(in, out)` in the weight
    store, the weight is read as stored. Leading dimensions are kept.

    An `mlp.add` of a bias vector of shape `(out)` to the result of a
    bias-free `mlp.matmul` (its only use) canonicalizes into the bias
    operand, so that the bias initializes the accumulator.

    ```mlir
    %z = mlp.matmul %x, %w_enc, %b_enc
        : (tensor<?x768xf32>, tensor<768x24576xf32>, tensor<24576xf32>)
          -> tensor<?x24576xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, MLP_FloatTensor:$weight,
                       Optional<MLP_FloatTensor>:$bias);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

#endif // MLP_IR_LINEARALGEBRAOPS_TD
