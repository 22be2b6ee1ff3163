// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg -canonicalize -linalg-fuse-elementwise-ops | FileCheck %s
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

// -----

// An explicit reshape before a contraction is a tensor.reshape too.
// CHECK-LABEL: func.func @reshaped
// CHECK: tensor.reshape
// CHECK-NOT: tensor.collapse_shape
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
func.func @reshaped(%x: tensor<?x14x14xf32>, %w: tensor<196x32xf32>) -> tensor<?x32xf32> {
  %r = mlp.reshape %x : tensor<?x14x14xf32> -> tensor<?x196xf32>
  %y = mlp.matmul %r, %w : (tensor<?x196xf32>, tensor<196x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
