// RUN: mlp-opt %s -canonicalize | FileCheck %s

// CHECK-LABEL: func.func @transpose_pair
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x5xf32>)
// CHECK-NOT: mlp.transpose
// CHECK: return %[[X]]
func.func @transpose_pair(%x: tensor<?x4x5xf32>) -> tensor<?x4x5xf32> {
  %a = mlp.transpose %x [0, 2, 1] : tensor<?x4x5xf32> -> tensor<?x5x4xf32>
  %b = mlp.transpose %a [0, 2, 1] : tensor<?x5x4xf32> -> tensor<?x4x5xf32>
  return %b : tensor<?x4x5xf32>
}

// CHECK-LABEL: func.func @transpose_compose
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.+]] = mlp.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_compose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %a = mlp.transpose %x [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %b = mlp.transpose %a [2, 1, 0] : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %b : tensor<4x2x3xf32>
}

// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x6xf32>)
// CHECK: %[[R:.+]] = mlp.reshape %[[X]] : tensor<?x4x6xf32> -> tensor<?x3x8xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<?x4x6xf32>) -> tensor<?x3x8xf32> {
  %a = mlp.reshape %x : tensor<?x4x6xf32> -> tensor<?x24xf32>
  %b = mlp.reshape %a : tensor<?x24xf32> -> tensor<?x3x8xf32>
  return %b : tensor<?x3x8xf32>
}

// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_identity(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %a = mlp.reshape %x : tensor<?x4xf32> -> tensor<?x4xf32>
  return %a : tensor<?x4xf32>
}

// Unused parameters are dead code.
// CHECK-LABEL: func.func @dead_param
// CHECK-NOT: mlp.param
func.func @dead_param(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = mlp.param "unused.weight" : tensor<4x4xf32>
  return %x : tensor<?x4xf32>
}
