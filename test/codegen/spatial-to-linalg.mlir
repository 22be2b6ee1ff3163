// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// conv2d: a generic over the patches (N, OH, OW, C, kh, kw) reads the input
// at (oh * stride + i - padding, ow * stride + j - padding), zero outside the
// image; the patches and the weight transposed to (C, kh, kw, O) are the
// matrices of one matmul accumulating into the bias.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.+]]: tensor<?x8x8x3xf32>, %[[W:.+]]: tensor<4x3x3x3xf32>, %[[B:.+]]: tensor<4xf32>)
// CHECK: %[[P:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<?x4x4x3x3x3xf32>)
// CHECK: %[[OH:.+]] = linalg.index 1 : index
// CHECK: %[[I:.+]] = linalg.index 4 : index
// CHECK: arith.muli %[[OH]], %{{.+}} : index
// CHECK: tensor.extract %[[X]]
// CHECK: arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK: %[[ROWS:.+]] = tensor.reshape %[[P]]
// CHECK: linalg.broadcast ins(%[[B]] : tensor<4xf32>)
// CHECK: %[[WT:.+]] = linalg.transpose ins(%[[W]] : tensor<4x3x3x3xf32>) outs(%{{.+}} : tensor<3x3x3x4xf32>) permutation = [1, 2, 3, 0]
// CHECK: %[[WM:.+]] = tensor.reshape %[[WT]](%{{.+}}) : (tensor<3x3x3x4xf32>, tensor<2xindex>) -> tensor<27x4xf32>
// CHECK: linalg.matmul ins(%{{.+}}, %[[WM]] : tensor<?x27xf32>, tensor<27x4xf32>)
func.func @conv(%x: tensor<?x8x8x3xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<?x4x4x4xf32> {
  %y = mlp.conv2d %x, %w, %b {stride = 2 : i64, padding = 1 : i64} : (tensor<?x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<?x4x4x4xf32>
  return %y : tensor<?x4x4x4xf32>
}

// -----

// A 1 x 1 convolution multiplies the input as it is: no patches.
// CHECK-LABEL: func.func @pointwise
// CHECK-NOT: linalg.generic
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<?x3xf32>, tensor<3x4xf32>)
func.func @pointwise(%x: tensor<?x8x8x3xf32>, %w: tensor<4x3x1x1xf32>) -> tensor<?x8x8x4xf32> {
  %y = mlp.conv2d %x, %w {stride = 1 : i64, padding = 0 : i64} : (tensor<?x8x8x3xf32>, tensor<4x3x1x1xf32>) -> tensor<?x8x8x4xf32>
  return %y : tensor<?x8x8x4xf32>
}

// -----

// avg_pool2d: the 3 x 3 window unrolled in one generic; without padding in
// the count, each tap adds 1 to the divisor only inside the image.
// CHECK-LABEL: func.func @pool
// CHECK: linalg.generic
// CHECK-COUNT-9: tensor.extract
// CHECK: arith.divf
func.func @pool(%x: tensor<?x8x8x3xf32>) -> tensor<?x8x8x3xf32> {
  %y = mlp.avg_pool2d %x {kernel = 3 : i64, stride = 1 : i64, padding = 1 : i64, count_include_pad = false} : tensor<?x8x8x3xf32> -> tensor<?x8x8x3xf32>
  return %y : tensor<?x8x8x3xf32>
}
