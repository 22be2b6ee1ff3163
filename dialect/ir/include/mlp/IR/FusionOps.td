//===- FusionOps.td - kernel-level groups formed by -mlp-fuse -*- tablegen -*-===//
//
// Included from MLPOps.td: the ops that -mlp-fuse produces. Backends lower a
// group as one kernel; an op of a group is still an ordinary mlp op.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_FUSIONOPS_TD
#define MLP_IR_FUSIONOPS_TD

def MLP_FusedOp : MLP_Op<"fused", [RecursiveMemoryEffects, SingleBlock]> {
  let summary = "a group of ops that runs as one kernel";
  let description = [{
    The body is ordinary mlp IR that reads values defined above (activations,
    `mlp.param` weights) and ends with `mlp.yield`; its values are the
    results. `kind` says what the backends may assume about the group, and
    the verifier checks that the body has that shape:

    - `"epilogue"`: an `mlp.linear` (or `mlp.matmul`) followed by a chain of
      elementwise ops, each applied to the previous one's result: activations
      (`relu`, `gelu`, `silu`, `sigmoid`, `tanh`) and `add` / `sub` / `mul` /
      `div` with a second operand that is a per-channel vector (shape `[out]`)
      or a tensor of the result's shape (a residual). The CPU backend
      computes the epilogue on the matmul's register tiles: the product never
      makes a separate pass through memory.
    - `"token_mixing"`: `mlp.transpose` of the last two axes, then linears
      and epilogues over the tokens, then the transpose back and optionally a
      residual `add` (MLP-Mixer, ResMLP, gMLP). The transposes are folded
      into the matmuls' indexing: the weight multiplies the untransposed
      activations from the left, the bias is added per row.
    - `"chain"`: consecutive `"epilogue"` groups of a narrow MLP (every width
      at most 256), each consuming the previous one's result and nothing
      else of it. The CPU backend runs the whole chain on one block of rows
      at a time, so the intermediates stay in cache.

    Example (a linear + bias + GELU + residual epilogue):

    ```mlir
    %y = mlp.fused "epilogue" : tensor<?x196x512xf32> {
      %h = mlp.linear %x, %w, %b : (tensor<?x196x2048xf32>, tensor<512x2048xf32>,
                                    tensor<512xf32>) -> tensor<?x196x512xf32>
      %r = mlp.add %res, %h : tensor<?x196x512xf32>, tensor<?x196x512xf32>
                                -> tensor<?x196x512xf32>
      mlp.yield %r : tensor<?x196x512xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$kind);
  let results = (outs Variadic<MLP_FloatTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$kind attr-dict `:` type($results) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The group's terminator.
    ::mlp::YieldOp getYield();
    static constexpr ::llvm::StringLiteral kEpilogue = "epilogue";
    static constexpr ::llvm::StringLiteral kTokenMixing = "token_mixing";
    static constexpr ::llvm::StringLiteral kChain = "chain";
  }];
}

def MLP_YieldOp : MLP_Op<"yield", [Pure, Terminator, HasParent<"FusedOp">]> {
  let summary = "the results of an mlp.fused group";
  let description = [{
    Ends the body of an `mlp.fused` op; its operands are the group's results,
    with the same types.

    ```mlir
    mlp.yield %r : tensor<?x512xf32>
    ```
  }];
  let arguments = (ins Variadic<MLP_FloatTensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // MLP_IR_FUSIONOPS_TD
