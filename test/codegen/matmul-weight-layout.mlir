// RUN: mlp-opt %s -split-input-file -mlp-cpu-to-linalg | FileCheck %s

// A matmul's (in, out) weight is stored as in the checkpoint (no mlp.layout),
// while a linear's (out, in) weight is re-laid (in, out) by the weight store.
// CHECK-LABEL: func.func @layouts
// CHECK-SAME: %{{.+}}: tensor<8x16xf32> {bufferization.writable = false, mlp.param = "W_enc"}
// CHECK-SAME: %{{.+}}: tensor<16x4xf32> {bufferization.writable = false, mlp.layout = array<i64: 1, 0>, mlp.param = "fc.weight"}
// CHECK-NOT: linalg.transpose
func.func @layouts(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w = mlp.param "W_enc" : tensor<8x16xf32>
  %h = mlp.matmul %x, %w : (tensor<?x8xf32>, tensor<8x16xf32>) -> tensor<?x16xf32>
  %v = mlp.param "fc.weight" : tensor<4x16xf32>
  %y = mlp.linear %h, %v : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A patch_embed's conv weight (D, C, ph, pw) is stored (C, ph, pw, D).
// CHECK-LABEL: func.func @stem
// CHECK-SAME: %{{.+}}: tensor<3x4x4x8xf32> {bufferization.writable = false, mlp.layout = array<i64: 1, 2, 3, 0>, mlp.param = "stem.proj.weight"}
// CHECK-NOT: linalg.transpose ins(%arg1
func.func @stem(%x: tensor<?x3x8x8xf32> {mlp.name = "x"}) -> (tensor<?x4x8xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w = mlp.param "stem.proj.weight" : tensor<8x3x4x4xf32>
  %y = mlp.patch_embed %x, %w : (tensor<?x3x8x8xf32>, tensor<8x3x4x4xf32>) -> tensor<?x4x8xf32>
  return %y : tensor<?x4x8xf32>
}
