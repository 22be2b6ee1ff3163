// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @constant_not_scalar() {
  // expected-error @+1 {{result must be a rank-0 tensor, got 'tensor<4xf32>'}}
  %c = mlp.constant 1.0 : tensor<4xf32>
  return
}

// -----

func.func @constant_not_float() {
  // Type constraints reject this while parsing, so use the generic form.
  // expected-error @+1 {{must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %c = "mlp.constant"() {value = 1.0 : f64} : () -> tensor<i32>
  return
}

// -----

func.func @sin_type(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "mlp.sin"(%x) : (tensor<?x4xf32>) -> tensor<?x5xf32>
  return
}

// -----

func.func @div_broadcast(%x: tensor<?x4xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{shapes [?, 4] and [3] do not broadcast}}
  %z = mlp.div %x, %y : tensor<?x4xf32>, tensor<3xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @div_result(%x: tensor<?x4xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{result shape [?, 1] should be [?, 4]}}
  %z = mlp.div %x, %y : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x1xf32>
  return
}
