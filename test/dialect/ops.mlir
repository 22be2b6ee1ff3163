// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @every_op
func.func @every_op(%x: tensor<?x4x8xf32>) -> tensor<?x3xf32> {
  // CHECK: %[[W:.+]] = mlp.param "fc.weight" : tensor<16x8xf32>
  %w = mlp.param "fc.weight" : tensor<16x8xf32>
  // CHECK: %[[B:.+]] = mlp.param "fc.bias" : tensor<16xf32>
  %b = mlp.param "fc.bias" : tensor<16xf32>
  // CHECK: %[[L:.+]] = mlp.linear %{{.+}}, %[[W]], %[[B]] : (tensor<?x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %l = mlp.linear %x, %w, %b : (tensor<?x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  // CHECK: %[[NB:.+]] = mlp.linear %[[L]], %{{.+}} : (tensor<?x4x16xf32>, tensor<16x16xf32>) -> tensor<?x4x16xf32>
  %w2 = mlp.param "fc2.weight" : tensor<16x16xf32>
  %nb = mlp.linear %l, %w2 : (tensor<?x4x16xf32>, tensor<16x16xf32>) -> tensor<?x4x16xf32>
  // CHECK: mlp.relu %[[NB]] : tensor<?x4x16xf32>
  %r = mlp.relu %nb : tensor<?x4x16xf32>
  // CHECK: mlp.gelu %{{.+}} : tensor<?x4x16xf32>
  %g = mlp.gelu %r : tensor<?x4x16xf32>
  // CHECK: mlp.gelu %{{.+}} {approximate = "tanh"} : tensor<?x4x16xf32>
  %gt = mlp.gelu %g {approximate = "tanh"} : tensor<?x4x16xf32>
  // CHECK: mlp.silu
  %s = mlp.silu %gt : tensor<?x4x16xf32>
  // CHECK: mlp.sigmoid
  %sg = mlp.sigmoid %s : tensor<?x4x16xf32>
  // CHECK: mlp.tanh
  %t = mlp.tanh %sg : tensor<?x4x16xf32>
  // CHECK: mlp.add %{{.+}}, %{{.+}} : tensor<?x4x16xf32>, tensor<?x4x16xf32> -> tensor<?x4x16xf32>
  %a = mlp.add %t, %l : tensor<?x4x16xf32>, tensor<?x4x16xf32> -> tensor<?x4x16xf32>
  // CHECK: mlp.mul %{{.+}}, %[[B]] : tensor<?x4x16xf32>, tensor<16xf32> -> tensor<?x4x16xf32>
  %m = mlp.mul %a, %b : tensor<?x4x16xf32>, tensor<16xf32> -> tensor<?x4x16xf32>
  // CHECK: mlp.sub %{{.+}}, %{{.+}} : tensor<?x4x16xf32>, tensor<4x1xf32> -> tensor<?x4x16xf32>
  %c = mlp.param "c" : tensor<4x1xf32>
  %d = mlp.sub %m, %c : tensor<?x4x16xf32>, tensor<4x1xf32> -> tensor<?x4x16xf32>
  // CHECK: mlp.layer_norm %{{.+}} weight(%[[B]]) bias(%[[B]]) {eps = 9.9999999999999995E-7 : f64} : (tensor<?x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  %n = mlp.layer_norm %d weight(%b) bias(%b) {eps = 1.0e-6 : f64} : (tensor<?x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  // CHECK: mlp.layer_norm %{{.+}} : (tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  %n2 = mlp.layer_norm %n : (tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  // CHECK: mlp.transpose %{{.+}} [0, 2, 1] : tensor<?x4x16xf32> -> tensor<?x16x4xf32>
  %tr = mlp.transpose %n2 [0, 2, 1] : tensor<?x4x16xf32> -> tensor<?x16x4xf32>
  // CHECK: mlp.reshape %{{.+}} : tensor<?x16x4xf32> -> tensor<?x8x8xf32>
  %rs = mlp.reshape %tr : tensor<?x16x4xf32> -> tensor<?x8x8xf32>
  // CHECK: mlp.mean %{{.+}} {axis = 1 : i64} : tensor<?x8x8xf32> -> tensor<?x8xf32>
  %mn = mlp.mean %rs {axis = 1 : i64} : tensor<?x8x8xf32> -> tensor<?x8xf32>
  %wh = mlp.param "head.weight" : tensor<3x8xf32>
  %y = mlp.linear %mn, %wh : (tensor<?x8xf32>, tensor<3x8xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
