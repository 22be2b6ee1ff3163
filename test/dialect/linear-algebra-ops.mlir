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
