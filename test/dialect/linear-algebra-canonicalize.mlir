// RUN: mlp-opt %s -canonicalize -split-input-file | FileCheck %s

// A bias vector added to a bias-free matmul becomes its bias, on either side.
// CHECK-LABEL: func.func @bias_into_matmul
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32>, %[[W:.+]]: tensor<4x8xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK: %[[M:.+]] = mlp.matmul %[[X]], %[[W]], %[[B]] : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: %[[N:.+]] = mlp.matmul %[[X]], %[[W]], %[[B]]
// CHECK-NOT: mlp.add
// CHECK: return %[[M]], %[[N]]
func.func @bias_into_matmul(%x: tensor<?x4xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %m = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  %y = mlp.add %m, %b : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %n = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  %z = mlp.add %b, %n : tensor<8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y, %z : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Not folded: the matmul has a bias already, another use, or the addend is
// not a vector of the output features.
// CHECK-LABEL: func.func @bias_not_folded
// CHECK-COUNT-3: mlp.add
func.func @bias_not_folded(%x: tensor<?x4xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>, %c: tensor<1x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %m = mlp.matmul %x, %w, %b : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %y = mlp.add %m, %b : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %n = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  %z = mlp.add %n, %b : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %o = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  %u = mlp.add %o, %c : tensor<?x8xf32>, tensor<1x8xf32> -> tensor<?x8xf32>
  return %y, %z, %n, %u : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
