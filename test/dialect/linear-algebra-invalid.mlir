// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @matmul_in_features(%x: tensor<?x5xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{matmul weight [4, 8] expects 4 input features, but the input [?, 5] has 5}}
  %y = mlp.matmul %x, %w : (tensor<?x5xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @matmul_weight_rank(%x: tensor<?x4xf32>, %w: tensor<2x4x8xf32>) {
  // expected-error @+1 {{matmul weight must have rank 2 (in, out), got [2, 4, 8]}}
  %y = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<2x4x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @matmul_dynamic_weight(%x: tensor<?x4xf32>, %w: tensor<4x?xf32>) {
  // expected-error @+1 {{matmul weight must have a static shape (in, out), got [4, ?]}}
  %y = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x?xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @matmul_bias(%x: tensor<?x4xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{matmul bias must have shape [8], got [4]}}
  %y = mlp.matmul %x, %w, %b : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @matmul_result(%x: tensor<?x4xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape [?, 4] should be [?, 8]}}
  %y = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_element_type(%x: tensor<?x4xf32>, %w: tensor<4x8xf16>) {
  // expected-error @+1 {{operand element type 'f16' differs from the result element type 'f32'}}
  %y = mlp.matmul %x, %w : (tensor<?x4xf32>, tensor<4x8xf16>) -> tensor<?x8xf32>
  return
}

// -----

func.func @patch_embed_rank(%x: tensor<?x3x32xf32>, %w: tensor<8x3x16x16xf32>) {
  // expected-error @+1 {{patch_embed needs an (N, C, H, W) image, got [?, 3, 32]}}
  %y = mlp.patch_embed %x, %w : (tensor<?x3x32xf32>, tensor<8x3x16x16xf32>) -> tensor<?x2x8xf32>
  return
}

// -----

func.func @patch_embed_channels(%x: tensor<?x1x32x32xf32>, %w: tensor<8x3x16x16xf32>) {
  // expected-error @+1 {{patch_embed weight [8, 3, 16, 16] expects 3 input channels, but the image [?, 1, 32, 32] has 1}}
  %y = mlp.patch_embed %x, %w : (tensor<?x1x32x32xf32>, tensor<8x3x16x16xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @patch_embed_whole_patches(%x: tensor<?x3x30x32xf32>, %w: tensor<8x3x16x16xf32>) {
  // expected-error @+1 {{patch_embed image [?, 3, 30, 32] is not a whole number of 16x16 patches}}
  %y = mlp.patch_embed %x, %w : (tensor<?x3x30x32xf32>, tensor<8x3x16x16xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @patch_embed_weight_rank(%x: tensor<?x3x32x32xf32>, %w: tensor<8x768xf32>) {
  // expected-error @+1 {{patch_embed weight must have rank 4 (D, C, ph, pw), got [8, 768]}}
  %y = mlp.patch_embed %x, %w : (tensor<?x3x32x32xf32>, tensor<8x768xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @patch_embed_empty_weight(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x0x16xf32>) {
  // expected-error @+1 {{patch_embed weight must have a static, non-empty shape, got [8, 3, 0, 16]}}
  %y = mlp.patch_embed %x, %w : (tensor<?x3x32x32xf32>, tensor<8x3x0x16xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @patch_embed_bias(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x16x16xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{patch_embed bias must have shape [8], got [3]}}
  %y = mlp.patch_embed %x, %w, %b : (tensor<?x3x32x32xf32>, tensor<8x3x16x16xf32>, tensor<3xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @patch_embed_result(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x16x16xf32>) {
  // expected-error @+1 {{result shape [?, 8, 4] should be [?, 4, 8]}}
  %y = mlp.patch_embed %x, %w : (tensor<?x3x32x32xf32>, tensor<8x3x16x16xf32>) -> tensor<?x8x4xf32>
  return
}
