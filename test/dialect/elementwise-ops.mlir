// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @math_and_constants
func.func @math_and_constants(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // CHECK: %[[C:.+]] = mlp.constant 3.000000e+01 : tensor<f32>
  %c = mlp.constant 30.0 : tensor<f32>
  // CHECK: %[[M:.+]] = mlp.mul %{{.+}}, %[[C]] : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %m = mlp.mul %x, %c : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  // CHECK: %[[S:.+]] = mlp.sin %[[M]] : tensor<?x8xf32>
  %s = mlp.sin %m : tensor<?x8xf32>
  // CHECK: mlp.cos %[[S]] : tensor<?x8xf32>
  %k = mlp.cos %s : tensor<?x8xf32>
  // CHECK: mlp.constant -1.000000e+00 : tensor<f16>
  %h = mlp.constant -1.0 : tensor<f16>
  return %k : tensor<?x8xf32>
}
