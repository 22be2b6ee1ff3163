// RUN: mlp-opt %s -canonicalize -split-input-file | FileCheck %s

// Nested concatenations along one axis flatten; one along another axis or
// with another use stays.
// CHECK-LABEL: func.func @flatten
// CHECK-SAME: (%[[A:.+]]: tensor<?x1xf32>, %[[B:.+]]: tensor<?x2xf32>, %[[C:.+]]: tensor<?x3xf32>)
// CHECK: %[[ABC:.+]] = mlp.concat %[[A]], %[[B]], %[[C]], %[[A]] {axis = 1 : i64} : (tensor<?x1xf32>, tensor<?x2xf32>, tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x7xf32>
// CHECK: %[[AB:.+]] = mlp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK: %[[ABAB:.+]] = mlp.concat %[[AB]], %[[AB]] {axis = 1 : i64}
// CHECK: return %[[ABC]], %[[ABAB]]
func.func @flatten(%a: tensor<?x1xf32>, %b: tensor<?x2xf32>, %c: tensor<?x3xf32>) -> (tensor<?x7xf32>, tensor<?x6xf32>) {
  %ab = mlp.concat %a, %b {axis = 1 : i64} : (tensor<?x1xf32>, tensor<?x2xf32>) -> tensor<?x3xf32>
  %abc = mlp.concat %ab, %c {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x6xf32>
  %abca = mlp.concat %abc, %a {axis = 1 : i64} : (tensor<?x6xf32>, tensor<?x1xf32>) -> tensor<?x7xf32>
  %ab2 = mlp.concat %a, %b {axis = 1 : i64} : (tensor<?x1xf32>, tensor<?x2xf32>) -> tensor<?x3xf32>
  %abab = mlp.concat %ab2, %ab2 {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x6xf32>
  return %abca, %abab : tensor<?x7xf32>, tensor<?x6xf32>
}

// -----

// CHECK-LABEL: func.func @single
// CHECK-SAME: (%[[A:.+]]: tensor<?x4xf32>)
// CHECK-NEXT: return %[[A]]
func.func @single(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = mlp.concat %a {axis = 1 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// A slice of the whole dimension folds away.
// CHECK-LABEL: func.func @whole_slice
// CHECK-SAME: (%[[A:.+]]: tensor<?x4xf32>)
// CHECK-NEXT: return %[[A]]
func.func @whole_slice(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = mlp.slice %a {axis = 1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4xf32> -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// A broadcast to the same shape folds away.
// CHECK-LABEL: func.func @same_broadcast
// CHECK-SAME: (%[[A:.+]]: tensor<?x4xf32>)
// CHECK-NEXT: return %[[A]]
func.func @same_broadcast(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = mlp.broadcast_to %a : tensor<?x4xf32> -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}
