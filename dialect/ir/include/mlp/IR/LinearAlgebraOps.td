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

def MLP_PatchEmbedOp : MLP_Op<"patch_embed", [Pure]> {
  let summary = "non-overlapping patch convolution: patchify + matmul";
  let description = [{
    The stem of vision MLPs: `Conv2d(C, D, kernel_size=p, stride=p)` on an
    `(N, C, H, W)` image, followed by `flatten(2).transpose(1, 2)` (timm's
    `PatchEmbed`), so the result is `(N, (H / ph) * (W / pw), D)`: one token
    per patch, patches in row-major order. `weight` has the convolution's
    shape `(D, C, ph, pw)` as stored in the checkpoint and `bias` shape
    `(D)`; the patch size is the weight's spatial size, and `H`, `W` must be
    multiples of it. Each token is the dot product of the patch, flattened in
    `(c, i, j)` order, with the weight flattened the same way.

    ```mlir
    %x = mlp.patch_embed %image, %w, %b
        : (tensor<?x3x224x224xf32>, tensor<512x3x16x16xf32>, tensor<512xf32>)
          -> tensor<?x196x512xf32>
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

#endif // MLP_IR_LINEARALGEBRAOPS_TD
