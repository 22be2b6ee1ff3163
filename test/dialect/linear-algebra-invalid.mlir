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
