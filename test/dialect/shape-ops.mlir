// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @concat
func.func @concat(%x: tensor<?x3xf32>, %h: tensor<?x8xf32>, %t: tensor<?x2x4xf32>) -> (tensor<?x14xf32>, tensor<?x4x4xf32>) {
  // CHECK: mlp.concat %{{.+}}, %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x8xf32>, tensor<?x3xf32>) -> tensor<?x14xf32>
  %a = mlp.concat %x, %h, %x {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x8xf32>, tensor<?x3xf32>) -> tensor<?x14xf32>
  // CHECK: mlp.concat %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x4x4xf32>
  %b = mlp.concat %t, %t {axis = 1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x4x4xf32>
  return %a, %b : tensor<?x14xf32>, tensor<?x4x4xf32>
}

// CHECK-LABEL: func.func @slice
func.func @slice(%h: tensor<?x196x1536xf32>) -> tensor<?x196x768xf32> {
  // CHECK: mlp.slice %{{.+}} {axis = 2 : i64, end = 1536 : i64, start = 768 : i64} : tensor<?x196x1536xf32> -> tensor<?x196x768xf32>
  %v = mlp.slice %h {axis = 2 : i64, start = 768 : i64, end = 1536 : i64} : tensor<?x196x1536xf32> -> tensor<?x196x768xf32>
  return %v : tensor<?x196x768xf32>
}

// CHECK-LABEL: func.func @broadcast_to
func.func @broadcast_to(%g: tensor<?x1x512xf32>, %v: tensor<8xf32>) -> (tensor<?x21x512xf32>, tensor<3x8xf32>) {
  // CHECK: mlp.broadcast_to %{{.+}} : tensor<?x1x512xf32> -> tensor<?x21x512xf32>
  %r = mlp.broadcast_to %g : tensor<?x1x512xf32> -> tensor<?x21x512xf32>
  // CHECK: mlp.broadcast_to %{{.+}} : tensor<8xf32> -> tensor<3x8xf32>
  %s = mlp.broadcast_to %v : tensor<8xf32> -> tensor<3x8xf32>
  return %r, %s : tensor<?x21x512xf32>, tensor<3x8xf32>
}
