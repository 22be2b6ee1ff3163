// Width pruning slices the eval-mode batch_norm statistics and affine
// parameters between the pruned linears (each neuron is normalized on its
// own), and -mlp-distill refits and trains through them (the batch norms stay
// fixed).
// RUN: %python %S/Inputs/make_prune_inputs.py %t
// RUN: %python %S/Inputs/make_prune_through_inputs.py %t
// RUN: mlp-opt %s -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.25" 2>%t/prune.log | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOG < %t/prune.log
// RUN: mlp-opt %s -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.25" -mlp-distill="weights=%t/through.safetensors calibration=%t/calib.safetensors" 2>&1 >/dev/null | FileCheck %s --check-prefix=DLOG
// RUN: mlp-opt %s -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.5" -mlp-distill="weights=%t/through.safetensors calibration=%t/calib.safetensors epochs=300 ridge-folds=0" 2>%t/epochs.log >/dev/null
// RUN: %python %S/Inputs/check_distill_log.py %t/epochs.log 4

// CHECK-LABEL: func.func @bn(
// CHECK: mlp.param "bn.fc1.weight" : tensor<4x8xf32>
// CHECK: mlp.param "bn.fc1.bias" : tensor<4xf32>
// CHECK: mlp.linear {{.*}} -> tensor<?x4xf32>
// CHECK: mlp.param "bn.norm1.running_mean" : tensor<4xf32>
// CHECK: mlp.param "bn.norm1.running_var" : tensor<4xf32>
// CHECK: mlp.param "bn.norm1.weight" : tensor<4xf32>
// CHECK: mlp.param "bn.norm1.bias" : tensor<4xf32>
// CHECK: mlp.batch_norm {{.*}} -> tensor<?x4xf32>
// CHECK: mlp.relu %{{.+}} : tensor<?x4xf32>
// CHECK: mlp.param "bn.fc2.weight" : tensor<4x4xf32>
// CHECK: mlp.linear {{.*}}mlp.pruned = {width_after = 4 : i64, width_before = 16 : i64}{{.*}} -> tensor<?x4xf32>
// CHECK: mlp.param "bn.norm2.running_mean" : tensor<4xf32>
// CHECK: mlp.param "bn.norm2.running_var" : tensor<4xf32>
// CHECK: mlp.batch_norm {{.*}} -> tensor<?x4xf32>
// CHECK: mlp.gelu %{{.+}} : tensor<?x4xf32>
// CHECK: mlp.param "bn.fc3.weight" : tensor<4x4xf32>
// CHECK: return

// LOG: bn.fc1.weight -> bn.fc2.weight: width 16 -> 4
// LOG: bn.fc2.weight -> bn.fc3.weight: width 16 -> 4
// LOG-NOT: not pruned

// DLOG: mlp-distill: least-squares refit of 2 pruned layer(s) on 64 samples
// DLOG: output error vs teacher before distillation: relative L2
// DLOG: output error vs teacher after distillation: relative L2

func.func @bn(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "bn.fc1.weight" : tensor<16x8xf32>
  %b1 = mlp.param "bn.fc1.bias" : tensor<16xf32>
  %h1 = mlp.linear %x, %w1, %b1 : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %m1 = mlp.param "bn.norm1.running_mean" : tensor<16xf32>
  %v1 = mlp.param "bn.norm1.running_var" : tensor<16xf32>
  %g1 = mlp.param "bn.norm1.weight" : tensor<16xf32>
  %c1 = mlp.param "bn.norm1.bias" : tensor<16xf32>
  %n1 = mlp.batch_norm %h1 mean(%m1) var(%v1) weight(%g1) bias(%c1) {eps = 1.0e-05 : f64} : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %a1 = mlp.relu %n1 : tensor<?x16xf32>
  %w2 = mlp.param "bn.fc2.weight" : tensor<16x16xf32>
  %h2 = mlp.linear %a1, %w2 : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %m2 = mlp.param "bn.norm2.running_mean" : tensor<16xf32>
  %v2 = mlp.param "bn.norm2.running_var" : tensor<16xf32>
  %n2 = mlp.batch_norm %h2 mean(%m2) var(%v2) : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %a2 = mlp.gelu %n2 : tensor<?x16xf32>
  %w3 = mlp.param "bn.fc3.weight" : tensor<4x16xf32>
  %y = mlp.linear %a2, %w3 : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
