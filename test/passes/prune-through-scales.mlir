// Width pruning slices per-channel scales and biases (mul/add/sub/div by a
// parameter whose last axis is the hidden one) between the pruned linears,
// and leaves scalars and parameters broadcast along the neurons alone; logit
// distillation trains the linears through those fixed affine maps.
// RUN: %python %S/Inputs/make_prune_inputs.py %t
// RUN: %python %S/Inputs/make_prune_through_inputs.py %t
// RUN: mlp-opt %s -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors width=6" 2>%t/prune.log | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOG < %t/prune.log
// RUN: mlp-opt %s -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors width=6" -mlp-distill="weights=%t/through.safetensors calibration=%t/calib.safetensors" 2>&1 >/dev/null | FileCheck %s --check-prefix=DLOG
// RUN: mlp-opt %s -mlp-prune="weights=%t/through.safetensors calibration=%t/calib.safetensors ratio=0.5" -mlp-distill="weights=%t/through.safetensors calibration=%t/calib.safetensors epochs=300 ridge-folds=0" 2>%t/epochs.log >/dev/null
// RUN: %python %S/Inputs/check_distill_log.py %t/epochs.log 4

// CHECK-LABEL: func.func @scale(
// CHECK: mlp.param "scale.fc1.weight" : tensor<6x8xf32>
// CHECK: mlp.param "scale.fc1.bias" : tensor<6xf32>
// CHECK: mlp.param "scale.gamma" : tensor<6xf32>
// CHECK: mlp.mul %{{.+}}, %{{.+}} : tensor<?x6xf32>, tensor<6xf32> -> tensor<?x6xf32>
// CHECK: mlp.param "scale.beta" : tensor<1x6xf32>
// CHECK: mlp.add %{{.+}}, %{{.+}} : tensor<1x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
// CHECK: mlp.relu %{{.+}} : tensor<?x6xf32>
// CHECK: mlp.constant
// CHECK: mlp.mul %{{.+}}, %{{.+}} : tensor<?x6xf32>, tensor<f32> -> tensor<?x6xf32>
// CHECK: mlp.param "scale.fc2.weight" : tensor<6x6xf32>
// CHECK: mlp.linear {{.*}} -> tensor<?x6xf32>
// CHECK: mlp.param "scale.divisor" : tensor<6xf32>
// CHECK: mlp.div %{{.+}}, %{{.+}} : tensor<?x6xf32>, tensor<6xf32> -> tensor<?x6xf32>
// CHECK: mlp.param "scale.shift" : tensor<1xf32>
// CHECK: mlp.sub %{{.+}}, %{{.+}} : tensor<?x6xf32>, tensor<1xf32> -> tensor<?x6xf32>
// CHECK: mlp.tanh %{{.+}} : tensor<?x6xf32>
// CHECK: mlp.param "scale.fc3.weight" : tensor<4x6xf32>

// LOG: scale.fc1.weight -> scale.fc2.weight: width 16 -> 6
// LOG: scale.fc2.weight -> scale.fc3.weight: width 16 -> 6
// LOG-NOT: not pruned

// DLOG: mlp-distill: least-squares refit of 2 pruned layer(s) on 64 samples
// DLOG: output error vs teacher after distillation: relative L2

func.func @scale(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "scale.fc1.weight" : tensor<16x8xf32>
  %b1 = mlp.param "scale.fc1.bias" : tensor<16xf32>
  %h1 = mlp.linear %x, %w1, %b1 : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %gamma = mlp.param "scale.gamma" : tensor<16xf32>
  %s1 = mlp.mul %h1, %gamma : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  %beta = mlp.param "scale.beta" : tensor<1x16xf32>
  %t1 = mlp.add %beta, %s1 : tensor<1x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %a1 = mlp.relu %t1 : tensor<?x16xf32>
  %k = mlp.constant 2.500000e+00 : tensor<f32>
  %u1 = mlp.mul %a1, %k : tensor<?x16xf32>, tensor<f32> -> tensor<?x16xf32>
  %w2 = mlp.param "scale.fc2.weight" : tensor<16x16xf32>
  %b2 = mlp.param "scale.fc2.bias" : tensor<16xf32>
  %h2 = mlp.linear %u1, %w2, %b2 : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %div = mlp.param "scale.divisor" : tensor<16xf32>
  %d2 = mlp.div %h2, %div : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  %shift = mlp.param "scale.shift" : tensor<1xf32>
  %e2 = mlp.sub %d2, %shift : tensor<?x16xf32>, tensor<1xf32> -> tensor<?x16xf32>
  %a2 = mlp.tanh %e2 : tensor<?x16xf32>
  %w3 = mlp.param "scale.fc3.weight" : tensor<4x16xf32>
  %y = mlp.linear %a2, %w3 : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
