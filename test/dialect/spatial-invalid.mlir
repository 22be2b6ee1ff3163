// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @conv_channels(%x: tensor<?x8x8x3xf32>, %w: tensor<4x5x3x3xf32>) {
  // expected-error @+1 {{conv2d weight [4, 5, 3, 3] expects 5 input channels, but the input [?, 8, 8, 3] has 3}}
  %y = mlp.conv2d %x, %w {stride = 1 : i64, padding = 1 : i64} : (tensor<?x8x8x3xf32>, tensor<4x5x3x3xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @conv_nchw(%x: tensor<?x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{conv2d weight [4, 3, 3, 3] expects 3 input channels, but the input [?, 3, 8, 8] has 8}}
  %y = mlp.conv2d %x, %w {stride = 1 : i64, padding = 1 : i64} : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<?x3x8x4xf32>
  return
}

// -----

func.func @conv_too_big(%x: tensor<?x4x4x3xf32>, %w: tensor<4x3x7x7xf32>) {
  // expected-error @+1 {{conv2d window 7x7 does not fit in the 4x4 input padded by 1}}
  %y = mlp.conv2d %x, %w {stride = 1 : i64, padding = 1 : i64} : (tensor<?x4x4x3xf32>, tensor<4x3x7x7xf32>) -> tensor<?x1x1x4xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<?x8x8x3xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{conv2d window 3x3, stride 0, padding 1 is invalid: kernel sizes and strides must be 1 to 64, padding 0 to 64}}
  %y = mlp.conv2d %x, %w {stride = 0 : i64, padding = 1 : i64} : (tensor<?x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<?x8x8x3xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{result shape [?, 8, 8, 4] should be [?, 4, 4, 4]}}
  %y = mlp.conv2d %x, %w {stride = 2 : i64, padding = 1 : i64} : (tensor<?x8x8x3xf32>, tensor<4x3x3x3xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @pool_padding(%x: tensor<?x8x8x3xf32>) {
  // expected-error @+1 {{avg_pool2d padding 2 must be at most half the kernel 3}}
  %y = mlp.avg_pool2d %x {kernel = 3 : i64, stride = 1 : i64, padding = 2 : i64, count_include_pad = true} : tensor<?x8x8x3xf32> -> tensor<?x10x10x3xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<?x8x3xf32>) {
  // expected-error @+1 {{avg_pool2d needs a channels-last (N, H, W, C) input with a static H, W, C, got [?, 8, 3]}}
  %y = mlp.avg_pool2d %x {kernel = 3 : i64, stride = 1 : i64, padding = 1 : i64, count_include_pad = true} : tensor<?x8x3xf32> -> tensor<?x8x3xf32>
  return
}
