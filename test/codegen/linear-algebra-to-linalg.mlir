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

// -----

// patch_embed: the image viewed as (N, C, Hp, ph, Wp, pw) and transposed to
// patches (N, Hp, Wp, C, ph, pw); the weight transposed to (C, ph, pw, D) (a
// transpose of the parameter alone, which the weight store takes over); both
// reshaped to the matrices of one matmul accumulating into the bias.
// CHECK-LABEL: func.func @patch_embed
// CHECK-SAME: (%[[X:.+]]: tensor<?x3x32x48xf32>, %[[W:.+]]: tensor<8x3x16x16xf32>, %[[B:.+]]: tensor<8xf32>)
// CHECK: %[[BLOCKS:.+]] = tensor.expand_shape %[[X]] {{\[\[}}0], [1], [2, 3], [4, 5]] output_shape [%{{.+}}, 3, 2, 16, 3, 16]
// CHECK: %[[P:.+]] = linalg.transpose ins(%[[BLOCKS]] : tensor<?x3x2x16x3x16xf32>) outs(%{{.+}} : tensor<?x2x3x3x16x16xf32>) permutation = [0, 2, 4, 1, 3, 5]
// CHECK: %[[TOKENS:.+]] = tensor.reshape %[[P]](%{{.+}}) : (tensor<?x2x3x3x16x16xf32>, tensor<3xindex>) -> tensor<?x6x768xf32>
// CHECK: %[[ROWS:.+]] = tensor.reshape %[[TOKENS]](%{{.+}}) : (tensor<?x6x768xf32>, tensor<2xindex>) -> tensor<?x768xf32>
// CHECK: %[[ACC:.+]] = linalg.broadcast ins(%[[B]] : tensor<8xf32>)
// CHECK: %[[WT:.+]] = linalg.transpose ins(%[[W]] : tensor<8x3x16x16xf32>) outs(%{{.+}} : tensor<3x16x16x8xf32>) permutation = [1, 2, 3, 0]
// CHECK: %[[WM:.+]] = tensor.reshape %[[WT]](%{{.+}}) : (tensor<3x16x16x8xf32>, tensor<2xindex>) -> tensor<768x8xf32>
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[ROWS]], %[[WM]] : tensor<?x768xf32>, tensor<768x8xf32>) outs(%[[ACC]] : tensor<?x8xf32>)
// CHECK: tensor.reshape %[[MM]](%{{.+}}) : (tensor<?x8xf32>, tensor<3xindex>) -> tensor<?x6x8xf32>
func.func @patch_embed(%x: tensor<?x3x32x48xf32>, %w: tensor<8x3x16x16xf32>, %b: tensor<8xf32>) -> tensor<?x6x8xf32> {
  %y = mlp.patch_embed %x, %w, %b : (tensor<?x3x32x48xf32>, tensor<8x3x16x16xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  return %y : tensor<?x6x8xf32>
}
