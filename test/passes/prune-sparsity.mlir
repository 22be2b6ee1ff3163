// RUN: %python %S/Inputs/make_prune_inputs.py %t
// RUN: mlp-opt %s -mlp-prune="mode=2:4 weights=%t/w.safetensors" 2>/dev/null | FileCheck %s --check-prefix=SEMI
// RUN: mlp-opt %s -mlp-prune="mode=magnitude ratio=0.5 weights=%t/w.safetensors exclude=fc2" 2>/dev/null | FileCheck %s --check-prefix=MAG
// RUN: not mlp-opt %s -mlp-prune="mode=diagonal weights=%t/w.safetensors" 2>&1 | FileCheck %s --check-prefix=MODE

// Shapes stay; the pattern is recorded for backends with sparse units.
// SEMI: mlp.param "fc1.weight" {mlp.sparsity = "2:4"} : tensor<16x8xf32>
// SEMI: mlp.param "fc2.weight" {mlp.sparsity = "2:4"} : tensor<16x16xf32>
// MAG: mlp.param "fc1.weight" {mlp.sparsity = "unstructured:0.500000"} : tensor<16x8xf32>
// MAG: mlp.param "fc2.weight" : tensor<16x16xf32>
// MODE: error: unknown pruning mode 'diagonal' (expected width, 2:4 or magnitude)
func.func @chain(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x16xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "fc1.weight" : tensor<16x8xf32>
  %h1 = mlp.linear %x, %w1 : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %w2 = mlp.param "fc2.weight" : tensor<16x16xf32>
  %h2 = mlp.linear %h1, %w2 : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  return %h2 : tensor<?x16xf32>
}
