// RUN: mlp-opt %s -split-input-file -mlp-params-to-arguments | FileCheck %s

// Each distinct parameter becomes one trailing argument, in first-use order.
// CHECK-LABEL: func.func @model
// Nothing may be written into inputs (the caller's) or weights (read-only).
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x4xf32> {bufferization.writable = false, mlp.name = "x"}, %[[W:[a-z0-9]+]]: tensor<4x4xf32> {bufferization.writable = false, mlp.param = "fc.weight"}, %[[B:[a-z0-9]+]]: tensor<4xf32> {bufferization.writable = false, mlp.param = "fc.bias"})
// CHECK-SAME: attributes {llvm.emit_c_interface, mlp.model, mlp.params = ["fc.weight", "fc.bias"], mlp.rows_independent}
// CHECK-NOT: mlp.param
// CHECK: %[[H:.+]] = mlp.linear %[[X]], %[[W]], %[[B]]
// CHECK: mlp.linear %[[H]], %[[W]], %[[B]]
func.func @model(%x: tensor<?x4xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w = mlp.param "fc.weight" : tensor<4x4xf32>
  %b = mlp.param "fc.bias" : tensor<4xf32>
  %h = mlp.linear %x, %w, %b : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  // A second mlp.param with the same name is the same argument.
  %w2 = mlp.param "fc.weight" : tensor<4x4xf32>
  %y = mlp.linear %h, %w2, %b : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A transpose that moves the batch mixes rows: no row blocks.
// CHECK-LABEL: func.func @batch_moved
// CHECK-NOT: mlp.rows_independent
// CHECK: mlp.transpose
func.func @batch_moved(%x: tensor<?x4xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %t = mlp.transpose %x [1, 0] : tensor<?x4xf32> -> tensor<4x?xf32>
  %r = mlp.relu %t : tensor<4x?xf32>
  %y = mlp.transpose %r [1, 0] : tensor<4x?xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// An output without the batch dimension: no row blocks either.
// CHECK-LABEL: func.func @unbatched_output
// CHECK-NOT: mlp.rows_independent
// CHECK: return
func.func @unbatched_output(%x: tensor<?x4xf32> {mlp.name = "x"}) -> (tensor<4xf32> {mlp.name = "w"}) attributes {mlp.model} {
  %w = mlp.param "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// A transpose of a weight (a static tensor) does not move the batch.
// CHECK-LABEL: func.func @weight_transposed
// CHECK-SAME: mlp.rows_independent
func.func @weight_transposed(%x: tensor<?x4xf32> {mlp.name = "x"}) -> (tensor<?x8xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w = mlp.param "w" : tensor<8x4xf32>
  %t = mlp.transpose %w [1, 0] : tensor<8x4xf32> -> tensor<4x8xf32>
  %y = mlp.matmul %x, %t : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
