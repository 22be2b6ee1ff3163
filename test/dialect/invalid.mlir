// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @param_empty_name() {
  // expected-error @+1 {{parameter name must not be empty}}
  %w = mlp.param "" : tensor<4xf32>
  return
}

// -----

func.func @param_dynamic() {
  // expected-error @+1 {{parameter shape must be static, got [?, 4]}}
  %w = mlp.param "w" : tensor<?x4xf32>
  return
}

// -----

func.func @param_not_float() {
  // Type constraints reject this while parsing, so use the generic form.
  // expected-error @+1 {{must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %w = "mlp.param"() {name = "w"} : () -> tensor<4xi32>
  return
}

// -----

func.func @linear_in_features(%x: tensor<?x5xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{linear weight [8, 4] expects 4 input features, but the input [?, 5] has 5}}
  %y = mlp.linear %x, %w : (tensor<?x5xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<?x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{linear weight must have rank 2 (out, in), got [4]}}
  %y = mlp.linear %x, %w : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x4xf32>, %w: tensor<8x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{linear bias must have shape [8], got [4]}}
  %y = mlp.linear %x, %w, %b : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<?x4xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{result shape [?, 4] should be [?, 8]}}
  %y = mlp.linear %x, %w : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_element_type(%x: tensor<?x4xf16>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{operand element type 'f16' differs from the result element type 'f32'}}
  %y = mlp.linear %x, %w : (tensor<?x4xf16>, tensor<8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @gelu_form(%x: tensor<4xf32>) {
  // expected-error @+1 {{approximate must be "none" or "tanh", got "fast"}}
  %y = mlp.gelu %x {approximate = "fast"} : tensor<4xf32>
  return
}

// -----

func.func @relu_types(%x: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "mlp.relu"(%x) : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @add_broadcast(%a: tensor<?x4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{shapes [?, 4] and [3] do not broadcast}}
  %y = mlp.add %a, %b : tensor<?x4xf32>, tensor<3xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @mul_result(%a: tensor<?x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{result shape [4] should be [?, 4]}}
  %y = mlp.mul %a, %b : tensor<?x4xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<?x4xf32>, %w: tensor<5xf32>) {
  // expected-error @+1 {{layer_norm weight must have shape [4], got [5]}}
  %y = mlp.layer_norm %x weight(%w) : (tensor<?x4xf32>, tensor<5xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @layer_norm_eps(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{eps must be positive}}
  %y = mlp.layer_norm %x {eps = 0.0 : f64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @mean_axis(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{mean axis 2 is out of range for [?, 4]}}
  %y = mlp.mean %x {axis = 2 : i64} : tensor<?x4xf32> -> tensor<?xf32>
  return
}

// -----

func.func @mean_batch(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{mean over the dynamic batch dimension is not supported}}
  %y = mlp.mean %x {axis = 0 : i64} : tensor<?x4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @transpose_permutation(%x: tensor<?x4x5xf32>) {
  // expected-error @+1 {{transpose permutation [0, 1, 1] is not a permutation of 0..2}}
  %y = mlp.transpose %x [0, 1, 1] : tensor<?x4x5xf32> -> tensor<?x4x4xf32>
  return
}

// -----

func.func @transpose_rank(%x: tensor<?x4x5xf32>) {
  // expected-error @+1 {{transpose permutation has 2 entries for a tensor of rank 3}}
  %y = mlp.transpose %x [1, 0] : tensor<?x4x5xf32> -> tensor<4x?xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<?x4x5xf32>) {
  // expected-error @+1 {{reshape from [?, 4, 5] to [?, 21] changes the number of elements}}
  %y = mlp.reshape %x : tensor<?x4x5xf32> -> tensor<?x21xf32>
  return
}

// -----

func.func @reshape_batch(%x: tensor<?x4x5xf32>) {
  // expected-error @+1 {{reshape from [?, 4, 5] to [4, ?, 5] must keep the batch dimension as the leading dimension}}
  %y = mlp.reshape %x : tensor<?x4x5xf32> -> tensor<4x?x5xf32>
  return
}
