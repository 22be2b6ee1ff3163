// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @matmul
func.func @matmul(%x: tensor<?x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>) -> (tensor<?x4x16xf32>, tensor<?x4x16xf32>) {
  // CHECK: mlp.matmul %{{.+}}, %{{.+}} : (tensor<?x4x8xf32>, tensor<8x16xf32>) -> tensor<?x4x16xf32>
  %a = mlp.matmul %x, %w : (tensor<?x4x8xf32>, tensor<8x16xf32>) -> tensor<?x4x16xf32>
  // CHECK: mlp.matmul %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %c = mlp.matmul %x, %w, %b : (tensor<?x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  return %a, %c : tensor<?x4x16xf32>, tensor<?x4x16xf32>
}

// CHECK-LABEL: func.func @patch_embed
func.func @patch_embed(%x: tensor<?x3x32x48xf32>, %w: tensor<8x3x16x16xf32>, %b: tensor<8xf32>) -> (tensor<?x6x8xf32>, tensor<?x6x8xf32>) {
  // CHECK: mlp.patch_embed %{{.+}}, %{{.+}}, %{{.+}} : (tensor<?x3x32x48xf32>, tensor<8x3x16x16xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  %y = mlp.patch_embed %x, %w, %b : (tensor<?x3x32x48xf32>, tensor<8x3x16x16xf32>, tensor<8xf32>) -> tensor<?x6x8xf32>
  // CHECK: mlp.patch_embed %{{.+}}, %{{.+}} : (tensor<?x3x32x48xf32>, tensor<8x3x16x16xf32>) -> tensor<?x6x8xf32>
  %z = mlp.patch_embed %x, %w : (tensor<?x3x32x48xf32>, tensor<8x3x16x16xf32>) -> tensor<?x6x8xf32>
  return %y, %z : tensor<?x6x8xf32>, tensor<?x6x8xf32>
}
