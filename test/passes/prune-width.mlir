// Width pruning and distillation on a 8 -> 16 -> 16 -> 4 chain.
// RUN: %python %S/Inputs/make_prune_inputs.py %t
// RUN: mlp-opt %s -mlp-prune="weights=%t/w.safetensors calibration=%t/calib.safetensors ratio=0.5" 2>%t/prune.log | FileCheck %s --check-prefix=PRUNE
// RUN: FileCheck %s --check-prefix=LOG < %t/prune.log
// RUN: mlp-opt %s -mlp-prune="weights=%t/w.safetensors calibration=%t/calib.safetensors width=3 exclude=fc2" 2>/dev/null | FileCheck %s --check-prefix=EXCLUDE
// RUN: mlp-opt %s -mlp-prune="weights=%t/w.safetensors calibration=%t/calib.safetensors layer-widths=fc1=5,fc2=11" 2>/dev/null | FileCheck %s --check-prefix=PERLAYER
// RUN: mlp-opt %s -mlp-prune="weights=%t/w.safetensors calibration=%t/calib.safetensors ratio=0.5" -mlp-distill="weights=%t/w.safetensors calibration=%t/calib.safetensors" 2>%t/distill.log | FileCheck %s --check-prefix=DISTILL
// RUN: FileCheck %s --check-prefix=DLOG < %t/distill.log
// RUN: mlp-opt %s -mlp-prune="weights=%t/w.safetensors calibration=%t/calib.safetensors ratio=0.5" -mlp-distill="weights=%t/w.safetensors calibration=%t/calib.safetensors epochs=3 temperature=4 learning-rate=0.01 ridge-folds=0 ridge=0.001" 2>&1 >/dev/null | FileCheck %s --check-prefix=EPOCHS
// RUN: not mlp-opt %s -mlp-distill="weights=%t/w.safetensors calibration=%t/calib.safetensors" 2>&1 | FileCheck %s --check-prefix=NOPRUNE

// The unpruned model stays as the teacher (printed first).
// PRUNE-LABEL: func.func private @chain__teacher
// PRUNE-SAME: mlp.teacher
// PRUNE: mlp.param "fc1.weight" {mlp.teacher} : tensor<16x8xf32>
// The hidden widths halve: weights, biases and every type on the way.
// PRUNE-LABEL: func.func @chain
// PRUNE: mlp.param "fc1.weight" : tensor<8x8xf32>
// PRUNE: mlp.param "fc1.bias" : tensor<8xf32>
// PRUNE: mlp.linear {{.*}} {mlp.kept = array<i64: {{.*}}>} : (tensor<?x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
// PRUNE: mlp.relu %{{.+}} : tensor<?x8xf32>
// PRUNE: mlp.param "fc2.weight" : tensor<8x8xf32>
// PRUNE: mlp.linear {{.*}}mlp.pruned = {width_after = 8 : i64, width_before = 16 : i64}{{.*}} -> tensor<?x8xf32>
// PRUNE: mlp.param "fc3.weight" : tensor<4x8xf32>
// LOG: mlp-prune: width pruning (Minitron importance) on 64 calibration samples
// LOG: fc1.weight -> fc2.weight: width 16 -> 8
// LOG: fc2.weight -> fc3.weight: width 16 -> 8

// EXCLUDE: mlp.param "fc1.weight" : tensor<3x8xf32>
// EXCLUDE: mlp.param "fc2.weight" : tensor<16x3xf32>
// EXCLUDE: mlp.param "fc3.weight" : tensor<4x16xf32>

// PERLAYER-LABEL: func.func @chain(
// PERLAYER: mlp.param "fc1.weight" : tensor<5x8xf32>
// PERLAYER: mlp.param "fc2.weight" : tensor<11x5xf32>
// PERLAYER: mlp.param "fc3.weight" : tensor<4x11xf32>

// DISTILL-NOT: __teacher
// DISTILL-LABEL: func.func @chain
// DISTILL-NOT: __teacher
// DLOG: mlp-distill: least-squares refit of 2 pruned layer(s) on 64 samples
// DLOG: refit fc2.weight: ridge {{.*}} (chosen by 5-fold cross-validation)
// DLOG: refit fc3.weight: ridge {{.*}} (chosen by 5-fold cross-validation)
// DLOG: output error vs teacher before distillation: relative L2 [[BEFORE:[0-9.e-]+]], KL
// DLOG: output error vs teacher after distillation: relative L2

// Without cross-validation the given ridge is used; the epochs of logit
// distillation follow the least-squares refit.
// EPOCHS: refit fc2.weight: ridge 0.001{{$}}
// EPOCHS: refit fc3.weight: ridge 0.001{{$}}
// EPOCHS: output error vs teacher before distillation: relative L2
// EPOCHS: output error vs teacher after least squares: relative L2
// EPOCHS: output error vs teacher after distillation: relative L2

// NOPRUNE: error: -mlp-distill needs the teacher that -mlp-prune (mode=width) leaves; prune first

func.func @chain(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "fc1.weight" : tensor<16x8xf32>
  %b1 = mlp.param "fc1.bias" : tensor<16xf32>
  %h1 = mlp.linear %x, %w1, %b1 : (tensor<?x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %a1 = mlp.relu %h1 : tensor<?x16xf32>
  %w2 = mlp.param "fc2.weight" : tensor<16x16xf32>
  %b2 = mlp.param "fc2.bias" : tensor<16xf32>
  %h2 = mlp.linear %a1, %w2, %b2 : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %a2 = mlp.gelu %h2 : tensor<?x16xf32>
  %w3 = mlp.param "fc3.weight" : tensor<4x16xf32>
  %y = mlp.linear %a2, %w3 : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
