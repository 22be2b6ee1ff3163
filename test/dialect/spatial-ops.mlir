// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @spatial
func.func @spatial(%x: tensor<?x56x56x64xf32>, %w: tensor<128x64x3x3xf32>, %b: tensor<128xf32>) -> (tensor<?x28x28x128xf32>, tensor<?x56x56x64xf32>) {
  // CHECK: mlp.conv2d %{{.+}}, %{{.+}}, %{{.+}} {padding = 1 : i64, stride = 2 : i64} : (tensor<?x56x56x64xf32>, tensor<128x64x3x3xf32>, tensor<128xf32>) -> tensor<?x28x28x128xf32>
  %y = mlp.conv2d %x, %w, %b {stride = 2 : i64, padding = 1 : i64} : (tensor<?x56x56x64xf32>, tensor<128x64x3x3xf32>, tensor<128xf32>) -> tensor<?x28x28x128xf32>
  // CHECK: mlp.avg_pool2d %{{.+}} {count_include_pad = false, kernel = 3 : i64, padding = 1 : i64, stride = 1 : i64} : tensor<?x56x56x64xf32> -> tensor<?x56x56x64xf32>
  %p = mlp.avg_pool2d %x {kernel = 3 : i64, stride = 1 : i64, padding = 1 : i64, count_include_pad = false} : tensor<?x56x56x64xf32> -> tensor<?x56x56x64xf32>
  return %y, %p : tensor<?x28x28x128xf32>, tensor<?x56x56x64xf32>
}
