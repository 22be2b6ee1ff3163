//===- EmbeddingOps.td - categorical inputs ----------------*- tablegen -*-===//
//
// Included from MLPOps.td: ops that read integer (categorical) inputs, such
// as the feature ids of CTR models, and produce floating-point tensors.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_EMBEDDINGOPS_TD
#define MLP_IR_EMBEDDINGOPS_TD

def MLP_IndexTensor : RankedTensorOf<[I32, I64]>;

def MLP_EmbeddingOp : MLP_Op<"embedding", [Pure]> {
  let summary = "looks up rows of an embedding table by integer ids";
  let description = [{
    `torch.nn.Embedding`: for ids of shape S and a table (V, D), the result
    (S..., D) holds row `ids[s]` of the table at each position s. An id
    outside `[0, V)` gives a zero row (PyTorch raises an error; compiled code
    cannot, and must not read outside the table). A padding id whose row the
    checkpoint keeps at zero (FuxiCTR's `padding_idx = 0`) needs no special
    handling.

    ```mlir
    %e = mlp.embedding %ids, %table : (tensor<?x50xi64>, tensor<4084x10xf32>)
                                      -> tensor<?x50x10xf32>
    ```
  }];
  let arguments = (ins MLP_IndexTensor:$ids, MLP_FloatTensor:$table);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $table attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MLP_PaddingMaskOp : MLP_Op<"padding_mask", [Pure]> {
  let summary = "1 where an id is not the padding id, else 0";
  let description = [{
    A floating-point mask of the shape of `ids`: `1.0` where the id differs
    from `padding_idx`, `0.0` where it equals it, as `(X != 0).float()` for
    the padded behaviour sequences of DIN.

    ```mlir
    %m = mlp.padding_mask %ids {padding_idx = 0 : i64}
        : tensor<?x50xi64> -> tensor<?x50xf32>
    ```
  }];
  let arguments = (ins MLP_IndexTensor:$ids,
                       DefaultValuedAttr<I64Attr, "0">:$padding_idx);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$ids attr-dict `:` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MLP_IR_EMBEDDINGOPS_TD
