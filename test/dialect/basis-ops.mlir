// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @bspline
func.func @bspline(%x: tensor<?x64xf32>, %grid: tensor<64x12xf32>, %y: tensor<?x2x64xf32>) -> (tensor<?x64x8xf32>, tensor<?x2x64x11xf32>) {
  // CHECK: mlp.bspline_basis %{{.+}}, %{{.+}} {order = 3 : i64} : (tensor<?x64xf32>, tensor<64x12xf32>) -> tensor<?x64x8xf32>
  %b = mlp.bspline_basis %x, %grid {order = 3 : i64} : (tensor<?x64xf32>, tensor<64x12xf32>) -> tensor<?x64x8xf32>
  // CHECK: mlp.bspline_basis %{{.+}}, %{{.+}} {order = 0 : i64} : (tensor<?x2x64xf32>, tensor<64x12xf32>) -> tensor<?x2x64x11xf32>
  %c = mlp.bspline_basis %y, %grid {order = 0 : i64} : (tensor<?x2x64xf32>, tensor<64x12xf32>) -> tensor<?x2x64x11xf32>
  return %b, %c : tensor<?x64x8xf32>, tensor<?x2x64x11xf32>
}
