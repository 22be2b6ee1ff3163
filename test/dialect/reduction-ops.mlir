// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @sum
func.func @sum(%x: tensor<?x32x512x1xf32>) -> tensor<?x32x1xf32> {
  // CHECK: mlp.sum %{{.+}} {axis = 2 : i64} : tensor<?x32x512x1xf32> -> tensor<?x32x1xf32>
  %y = mlp.sum %x {axis = 2 : i64} : tensor<?x32x512x1xf32> -> tensor<?x32x1xf32>
  return %y : tensor<?x32x1xf32>
}

// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<?x21x512xf32>) -> tensor<?x21x512xf32> {
  // CHECK: mlp.softmax %{{.+}} {axis = 1 : i64} : tensor<?x21x512xf32>
  %y = mlp.softmax %x {axis = 1 : i64} : tensor<?x21x512xf32>
  return %y : tensor<?x21x512xf32>
}
