//===- MLPDialect.td - the mlp dialect ---------------------*- tablegen -*-===//
#ifndef MLP_IR_MLPDIALECT_TD
#define MLP_IR_MLPDIALECT_TD

include "mlir/IR/OpBase.td"

def MLP_Dialect : Dialect {
  let name = "mlp";
  let cppNamespace = "::mlp";
  let summary = "Layer-level operations of MLP-family neural networks.";
  let description = [{
    The `mlp` dialect models MLP-family networks at the level a user writes them
    in a `.mlp` file: linear layers, activations, normalizations and the
    tensor plumbing between them. Operations act on ranked tensors whose
    leading dimension may be the symbolic batch (`?`).

    Weights are never stored in the IR: `mlp.param` names a tensor of the
    checkpoint and gives its type; the compiler keeps the values in a weight
    store beside the module.
  }];
}

class MLP_Op<string mnemonic, list<Trait> traits = []>
    : Op<MLP_Dialect, mnemonic, traits>;

#endif // MLP_IR_MLPDIALECT_TD
