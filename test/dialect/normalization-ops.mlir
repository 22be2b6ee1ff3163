// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @batch_norm
func.func @batch_norm(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  // CHECK: mlp.batch_norm %{{.+}} mean(%{{.+}}) var(%{{.+}}) weight(%{{.+}}) bias(%{{.+}}) {eps = 1.000000e-03 : f64} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %y = mlp.batch_norm %x mean(%m) var(%v) weight(%w) bias(%b) {eps = 1.0e-3 : f64} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mlp.batch_norm %{{.+}} mean(%{{.+}}) var(%{{.+}}) : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %z = mlp.batch_norm %x mean(%m) var(%v) : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mlp.sqrt %{{.+}} : tensor<?x8xf32>
  %s = mlp.sqrt %z : tensor<?x8xf32>
  return %y, %s : tensor<?x8xf32>, tensor<?x8xf32>
}
