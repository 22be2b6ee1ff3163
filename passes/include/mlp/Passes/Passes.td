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

def MLPPrune : Pass<"mlp-prune", "mlir::ModuleOp"> {
  let summary = "Prune weights: width (Minitron), 2:4 or magnitude";
  let description = [{
    `mode=width` (the default) removes hidden neurons, as in Minitron: the
    model runs on the calibration inputs (evaluated in float64, see
    Interpreter.h); the importance of hidden neuron j at the input of a
    prunable linear is the L2 norm over samples of the mean over tokens of
    |a_j|; the top `ratio` (or `width`) neurons are kept. A linear is
    prunable when its input comes from another linear through ops that act
    on each hidden neuron alone: elementwise activations, an eval-mode
    `mlp.batch_norm`, and add/sub/mul/div by a scalar or by a per-channel
    parameter (a bias or scale whose last axis is the hidden one). The
    producer's weight rows and bias, every per-channel parameter and
    batch_norm statistic on the way, and the consumer's weight columns are
    sliced in the weight store and every type on the way shrinks: the IR and
    the generated code get really smaller shapes, never masks. A pair is
    left whole, and the report says why, when an `mlp.layer_norm` sits
    between them (it normalizes over the hidden neurons, so removing some
    would change every output), when the hidden neurons are combined with
    another activation (a gate), or when a weight, bias or scale on the way
    is shared or has other users. The unpruned model is kept as a
    teacher function (`mlp.teacher`) for -mlp-distill.

    `mode=2:4` keeps the 2 largest magnitudes of every 4 weights along the
    reduction axis of every linear weight; `mode=magnitude` zeroes the
    `ratio` smallest magnitudes of each. Both record `mlp.sparsity` on the
    weight's mlp.param, for backends that can exploit it.

    Layers whose producer weight name starts with an `exclude` prefix are
    left alone. A per-layer report goes to stderr.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"width\"",
           "width | 2:4 | magnitude">,
    Option<"ratio", "ratio", "double", /*default=*/"0.5",
           "width: fraction of neurons kept; magnitude: fraction zeroed">,
    Option<"width", "width", "int64_t", /*default=*/"0",
           "width: neurons kept per layer (overrides ratio)">,
    ListOption<"layerWidths", "layer-widths", "std::string",
               "width: per-layer targets PREFIX=NEURONS (the layer whose "
               "producer weight name starts with PREFIX keeps NEURONS)">,
    ListOption<"exclude", "exclude", "std::string",
               "weight-name prefixes of producer layers not to prune">,
    Option<"weightsPath", "weights", "std::string", /*default=*/"",
           "the .safetensors weights (mlp-opt; mlpc passes its store)">,
    Option<"calibrationPath", "calibration", "std::string", /*default=*/"",
           "the .safetensors calibration inputs, one tensor per model input">,
    Option<"keepTeacher", "keep-teacher", "bool", /*default=*/"true",
           "keep the unpruned model as the teacher of -mlp-distill">
  ];
}

def MLPDistill : Pass<"mlp-distill", "mlir::ModuleOp"> {
  let summary = "Refit pruned layers against the unpruned teacher";
  let description = [{
    After -mlp-prune with mode=width: for each pruned layer, in order, the
    consumer linear's weights (and bias) are refit by ridge-regularized least
    squares so that its outputs on the pruned model's calibration
    activations match the teacher's outputs of that layer (the normal
    equations, solved by Cholesky). The refits run in model order, each on
    the inputs that the already pruned and refit layers before it produce;
    a consumer that is itself pruned matches the teacher's pre-activations
    of the neurons it keeps, and the last one the teacher's outputs. The
    ridge strength of each refit is chosen by k-fold cross-validation on
    the calibration rows (`ridge-folds`). With `epochs` > 0, a few epochs of
    logit distillation follow: Adam on T^2 KL(softmax(teacher/T) ||
    softmax(student/T)) over the calibration inputs, for models that are a
    chain of linears with activations, eval-mode batch norms and per-channel
    or scalar scales and shifts between them (those stay fixed; only the
    linears train). Reports the model output error
    against the teacher (relative L2, and KL divergence of the softmax when
    the output has several columns) before and after, then drops the
    teacher.
  }];
  let options = [
    Option<"ridge", "ridge", "double", /*default=*/"1e-5",
           "regularization, relative to the mean diagonal of the Gram "
           "matrix, when it is not cross-validated (ridge-folds < 2)">,
    Option<"ridgeFolds", "ridge-folds", "int64_t", /*default=*/"5",
           "choose the ridge strength among 1e-8 ... 1e-1 by this many-fold "
           "cross-validation on the calibration rows (< 2: use `ridge`)">,
    Option<"epochs", "epochs", "int64_t", /*default=*/"0",
           "then this many epochs of logit distillation (Adam on T^2 KL), "
           "for chains of linears, activations, batch norms and scales">,
    Option<"learningRate", "learning-rate", "double", /*default=*/"1e-3",
           "Adam learning rate of logit distillation">,
    Option<"temperature", "temperature", "double", /*default=*/"2.0",
           "softmax temperature of logit distillation">,
    Option<"weightsPath", "weights", "std::string", /*default=*/"",
           "the .safetensors weights (mlp-opt; mlpc passes its store)">,
    Option<"calibrationPath", "calibration", "std::string", /*default=*/"",
           "the .safetensors calibration inputs, one tensor per model input">
  ];
}

def MLPFuse : Pass<"mlp-fuse", "mlir::ModuleOp"> {
  let summary = "Group ops into kernels (mlp.fused): epilogues, token mixing, narrow chains";
  let description = [{
    Forms `mlp.fused` groups (see the op's description) in this order:

    1. `token_mixing`: `mlp.transpose` of the last two axes whose only user is
       an `mlp.linear`, the linears and elementwise ops after it (each value
       used once, the next op's input), the transpose back, and a residual
       `mlp.add` of the result's type if that is the transpose's only user.
       The linears inside get their own `epilogue` groups.
    2. `epilogue`: an `mlp.linear` or `mlp.matmul` and the elementwise ops
       after it (activations; add / sub / mul / div by a per-channel vector
       or a tensor of the result's type, such as a residual), as long as
       each intermediate value has exactly one user, the next op of the
       chain. A linear without such ops stays alone.
    3. `chain`: two or more consecutive linears (with their epilogues) of
       rank-2 activations whose widths are all at most `chain-width`, each
       consuming the previous one's result and nothing else using it.

    A value used twice ends a group before it; so does an operand whose
    shape is neither per-channel nor the result's (a broadcast along rows),
    and a transpose whose result has another user. Every kind is optional.
  }];
  let options = [
    Option<"epilogues", "epilogues", "bool", /*default=*/"true",
           "form linear + elementwise epilogue groups">,
    Option<"tokenMixing", "token-mixing", "bool", /*default=*/"true",
           "form token-mixing groups (transposes folded into the matmuls)">,
    Option<"chains", "chains", "bool", /*default=*/"true",
           "form narrow-chain groups">,
    Option<"chainWidth", "chain-width", "int64_t", /*default=*/"256",
           "the widest layer of a narrow chain">
  ];
}

#endif // MLP_PASSES_PASSES_TD
