// RUN: mlp-opt %s -split-input-file -mlp-cpu-pack-weights | FileCheck %s

// A parameter read only through one transpose is stored transposed.
// CHECK-LABEL: func.func @packed
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x8xf32>, %[[W:[a-z0-9]+]]: tensor<8x16xf32> {mlp.layout = array<i64: 1, 0>, mlp.param = "fc.weight"}
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul ins(%[[X]], %[[W]] : tensor<?x8xf32>, tensor<8x16xf32>)
func.func @packed(%x: tensor<?x8xf32>, %w: tensor<16x8xf32> {mlp.param = "fc.weight"}, %acc: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %e = tensor.empty() : tensor<8x16xf32>
  %t = linalg.transpose ins(%w : tensor<16x8xf32>) outs(%e : tensor<8x16xf32>) permutation = [1, 0]
  %y = linalg.matmul ins(%x, %t : tensor<?x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A parameter that is also read untransposed keeps its layout.
// CHECK-LABEL: func.func @shared
// CHECK-SAME: %{{.+}}: tensor<8x8xf32> {mlp.param = "w"}
// CHECK: linalg.transpose
func.func @shared(%x: tensor<8x8xf32>, %w: tensor<8x8xf32> {mlp.param = "w"}) -> tensor<8x8xf32> {
  %e = tensor.empty() : tensor<8x8xf32>
  %t = linalg.transpose ins(%w : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) permutation = [1, 0]
  %y = linalg.add ins(%t, %w : tensor<8x8xf32>, tensor<8x8xf32>) outs(%x : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// Inputs are never re-laid: only parameters live in the weight store.
// CHECK-LABEL: func.func @input
// CHECK: linalg.transpose
func.func @input(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  %e = tensor.empty() : tensor<8x4xf32>
  %t = linalg.transpose ins(%x : tensor<4x8xf32>) outs(%e : tensor<8x4xf32>) permutation = [1, 0]
  return %t : tensor<8x4xf32>
}
