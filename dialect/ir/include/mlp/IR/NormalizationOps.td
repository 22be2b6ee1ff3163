//===- NormalizationOps.td - normalizations beyond layer_norm -*- tablegen -*-===//
//
// Included from MLPOps.td.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_NORMALIZATIONOPS_TD
#define MLP_IR_NORMALIZATIONOPS_TD

def MLP_BatchNormOp : MLP_Op<"batch_norm",
                             [Pure, AttrSizedOperandSegments]> {
  let summary = "batch normalization with running statistics (inference)";
  let description = [{
    `y = (x - running_mean) / sqrt(running_var + eps) * weight + bias`, with
    the statistics and the optional affine parameters per feature of the
    last dimension: `torch.nn.BatchNorm1d` in eval mode on `(N, C)` (put
    other feature layouts last with a reshape or transpose, e.g. TSMixer's
    `BatchNorm1d(L * C)` on a flattened `(N, L * C)`).

    ```mlir
    %y = mlp.batch_norm %x mean(%m) var(%v) weight(%w) bias(%b)
        {eps = 1.0e-05 : f64}
        : (tensor<?x2352xf32>, tensor<2352xf32>, tensor<2352xf32>,
           tensor<2352xf32>, tensor<2352xf32>) -> tensor<?x2352xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, MLP_FloatTensor:$mean,
                       MLP_FloatTensor:$variance,
                       Optional<MLP_FloatTensor>:$weight,
                       Optional<MLP_FloatTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `mean` `(` $mean `)` `var` `(` $variance `)`
    (`weight` `(` $weight^ `)`)? (`bias` `(` $bias^ `)`)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // MLP_IR_NORMALIZATIONOPS_TD
