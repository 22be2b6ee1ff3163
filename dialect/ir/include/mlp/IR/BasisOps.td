//===- BasisOps.td - basis-function expansions -------------*- tablegen -*-===//
//
// Included from MLPOps.td: ops that expand each feature into the values of a
// family of basis functions (Kolmogorov-Arnold networks).
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_BASISOPS_TD
#define MLP_IR_BASISOPS_TD

def MLP_BSplineBasisOp : MLP_Op<"bspline_basis", [Pure]> {
  let summary = "B-spline basis functions of each feature on its knot grid";
  let description = [{
    For `input` (..., F) and `grid` (F, T) (a knot vector per feature, in
    increasing order), returns (..., F, T - 1 - order): the values at each
    feature of the T - 1 - `order` B-splines of degree `order` on its knots,
    by the Cox-de Boor recursion, as efficient-kan's `KANLinear.b_splines`:

    ```
    B_0[j] = 1 if grid[j] <= x < grid[j + 1] else 0      (j = 0 .. T - 2)
    B_p[j] = (x - grid[j]) / (grid[j + p] - grid[j]) * B_{p-1}[j]
           + (grid[j + p + 1] - x) / (grid[j + p + 1] - grid[j + 1]) * B_{p-1}[j + 1]
    ```

    The intervals are half-open, so the bases vanish outside
    `[grid[0], grid[T - 1])`. Repeated knots divide by zero, as in the
    reference. The grid is an input (a checkpoint buffer, which
    `update_grid` makes data dependent), not an attribute.

    ```mlir
    %b = mlp.bspline_basis %x, %grid {order = 3 : i64}
        : (tensor<?x64xf32>, tensor<64x12xf32>) -> tensor<?x64x8xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, MLP_FloatTensor:$grid,
                       I64Attr:$order);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $grid attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // MLP_IR_BASISOPS_TD
