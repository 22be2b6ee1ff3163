// RUN: mlp-opt %s -convert-mlp-to-linalg -canonicalize -linalg-fuse-elementwise-ops | FileCheck %s
// A linear on tokens (rank 3) must stay a linalg.matmul through elementwise
// fusion, which the CPU tiler register-tiles: collapse_shape / expand_shape
// around it would be folded into a 4-loop linalg.generic contraction that
// runs two orders of magnitude slower.

// CHECK-LABEL: func.func @tokens
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
func.func @tokens(%x: tensor<?x196x64xf32>, %w: tensor<32x64xf32>, %b: tensor<32xf32>) -> tensor<?x196x32xf32> {
  %y = mlp.linear %x, %w, %b : (tensor<?x196x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<?x196x32xf32>
  return %y : tensor<?x196x32xf32>
}
