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

// CHECK-LABEL: func.func @exp_div
func.func @exp_div(%x: tensor<?x4x8xf32>, %g: tensor<8xf32>) -> tensor<?x4x8xf32> {
  // CHECK: %[[D:.+]] = mlp.div %{{.+}}, %{{.+}} : tensor<?x4x8xf32>, tensor<8xf32> -> tensor<?x4x8xf32>
  %d = mlp.div %x, %g : tensor<?x4x8xf32>, tensor<8xf32> -> tensor<?x4x8xf32>
  // CHECK: mlp.exp %[[D]] : tensor<?x4x8xf32>
  %e = mlp.exp %d : tensor<?x4x8xf32>
  return %e : tensor<?x4x8xf32>
}
