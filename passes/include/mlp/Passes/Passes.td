//===- Passes.td - transformations of mlp IR ---------------*- tablegen -*-===//
#ifndef MLP_PASSES_PASSES_TD
#define MLP_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def MLPCheckWeights : Pass<"mlp-check-weights", "mlir::ModuleOp"> {
  let summary = "Check every mlp.param against the weight store";
  let description = [{
    Every `mlp.param` must name a tensor of the weights file with the same
    element type and shape. Errors point at the `.mlp` location of the op
    that uses the parameter and say what the file holds instead.
  }];
  let options = [
    Option<"weightsPath", "weights", "std::string", /*default=*/"",
           "the .safetensors file to check against">
  ];
}

#endif // MLP_PASSES_PASSES_TD
