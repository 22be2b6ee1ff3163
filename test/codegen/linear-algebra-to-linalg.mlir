// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// The (in, out) weight is read as stored: no transpose, the bias is broadcast
// into the accumulator and leading dims are collapsed.
// CHECK-LABEL: func.func @matmul_3d
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x8xf32>, %[[W:.+]]: tensor<8x16xf32>, %[[B:.+]]: tensor<16xf32>)
// CHECK: %[[FLAT:.+]] = tensor.reshape %[[X]](%{{.+}}) : (tensor<?x4x8xf32>, tensor<2xindex>) -> tensor<?x8xf32>
// CHECK: %[[ACC:.+]] = linalg.broadcast ins(%[[B]] : tensor<16xf32>) outs(%{{.+}} : tensor<?x16xf32>) dimensions = [0]
// CHECK-NOT: linalg.transpose
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[FLAT]], %[[W]] : tensor<?x8xf32>, tensor<8x16xf32>) outs(%[[ACC]] : tensor<?x16xf32>)
// CHECK: tensor.reshape %[[MM]](%{{.+}}) : (tensor<?x16xf32>, tensor<3xindex>) -> tensor<?x4x16xf32>
func.func @matmul_3d(%x: tensor<?x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<?x4x16xf32> {
  %y = mlp.matmul %x, %w, %b : (tensor<?x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  return %y : tensor<?x4x16xf32>
}

// -----

// Without a bias the accumulator starts at zero.
// CHECK-LABEL: func.func @matmul_no_bias
// CHECK: %[[ZERO:.+]] = linalg.fill
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<?x3xf32>, tensor<3x2xf32>) outs(%[[ZERO]] : tensor<?x2xf32>)
func.func @matmul_no_bias(%x: tensor<?x3xf32>, %w: tensor<3x2xf32>) -> tensor<?x2xf32> {
  %y = mlp.matmul %x, %w : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
