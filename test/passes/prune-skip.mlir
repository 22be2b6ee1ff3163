// Pairs of linears whose hidden neurons cannot be removed exactly are left
// whole, and the report says why: a layer_norm over the hidden axis (its mean
// and variance depend on every neuron), a gate that multiplies the hidden
// neurons with another activation, a scale shared with another layer. The
// other pair of each model is still pruned.
// RUN: %python %S/Inputs/make_prune_inputs.py %t
// RUN: %python %S/Inputs/make_prune_through_inputs.py %t
// RUN: mlp-opt %s -split-input-file -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.5" 2>%t/prune.log | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOG < %t/prune.log
// RUN: mlp-opt %s -split-input-file -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.5" -mlp-distill="weights=%t/through.safetensors calibration=%t/calib.safetensors" 2>&1 >/dev/null | FileCheck %s --check-prefix=DLOG
// RUN: not mlp-opt %S/Inputs/prune-shared-scale.mlir -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.5" 2>&1 | FileCheck %s --check-prefix=NONE

// LOG: mlp-prune: width pruning
// LOG-NEXT: ln.fc2.weight -> ln.fc3.weight: width 16 -> 8
// LOG-NEXT: ln.fc1.weight -> ln.fc2.weight: not pruned: mlp.layer_norm normalizes over the hidden neurons: removing some would change its mean and variance
// LOG: mlp-prune: width pruning
// LOG-NEXT: gate.fc2.weight -> gate.fc3.weight: width 16 -> 8
// LOG-NEXT: gate.fc1.weight -> gate.fc2.weight: not pruned: mlp.mul combines the hidden neurons with another activation, not a per-channel parameter

// DLOG-COUNT-2: mlp-distill: least-squares refit of 1 pruned layer(s)

// A scale shared by both pairs (Inputs/prune-shared-scale.mlir) cannot be
// sliced for one of them: nothing is pruned, and the error follows the report.
// NONE: shared.fc1.weight -> shared.fc2.weight: not pruned: parameter 'shared.gamma' of mlp.mul is shared
// NONE: shared.fc2.weight -> shared.fc3.weight: not pruned: parameter 'shared.gamma' of mlp.mul is shared
// NONE: error: no prunable layer

// The layer_norm and its parameters keep the full width.
// CHECK-LABEL: func.func @ln(
// CHECK: mlp.param "ln.fc1.weight" : tensor<16x8xf32>
// CHECK: mlp.param "ln.norm.weight" : tensor<16xf32>
// CHECK: mlp.layer_norm {{.*}} -> tensor<?x16xf32>
// CHECK: mlp.param "ln.fc2.weight" : tensor<8x16xf32>
// CHECK: mlp.param "ln.fc3.weight" : tensor<4x8xf32>
func.func @ln(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "ln.fc1.weight" : tensor<16x8xf32>
  %b1 = mlp.param "ln.fc1.bias" : tensor<16xf32>
  %h1 = mlp.linear %x, %w1, %b1 : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %g = mlp.param "ln.norm.weight" : tensor<16xf32>
  %c = mlp.param "ln.norm.bias" : tensor<16xf32>
  %n = mlp.layer_norm %h1 weight(%g) bias(%c) : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %a1 = mlp.relu %n : tensor<?x16xf32>
  %w2 = mlp.param "ln.fc2.weight" : tensor<16x16xf32>
  %b2 = mlp.param "ln.fc2.bias" : tensor<16xf32>
  %h2 = mlp.linear %a1, %w2, %b2 : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %a2 = mlp.relu %h2 : tensor<?x16xf32>
  %w3 = mlp.param "ln.fc3.weight" : tensor<4x16xf32>
  %y = mlp.linear %a2, %w3 : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A gated unit: silu(fc1(x)) * up(x). Removing a neuron of fc1 alone would
// leave its partner in up; neither linear is sliced.
// CHECK-LABEL: func.func @gate(
// CHECK: mlp.param "gate.fc1.weight" : tensor<16x8xf32>
// CHECK: mlp.param "gate.up.weight" : tensor<16x8xf32>
// CHECK: mlp.param "gate.fc2.weight" : tensor<8x16xf32>
func.func @gate(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "gate.fc1.weight" : tensor<16x8xf32>
  %h1 = mlp.linear %x, %w1 : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %a1 = mlp.silu %h1 : tensor<?x16xf32>
  %wu = mlp.param "gate.up.weight" : tensor<16x8xf32>
  %u = mlp.linear %x, %wu : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %m = mlp.mul %a1, %u : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %w2 = mlp.param "gate.fc2.weight" : tensor<16x16xf32>
  %h2 = mlp.linear %m, %w2 : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %a2 = mlp.relu %h2 : tensor<?x16xf32>
  %w3 = mlp.param "gate.fc3.weight" : tensor<4x16xf32>
  %y = mlp.linear %a2, %w3 : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
