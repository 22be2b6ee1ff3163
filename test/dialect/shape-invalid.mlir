// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @concat_batch(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{concat along the dynamic batch dimension is not supported}}
  %y = mlp.concat %x, %x {axis = 0 : i64} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return
}

// -----

func.func @concat_negative_axis(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{axis must be non-negative, got -1}}
  %y = mlp.concat %x, %x {axis = -1 : i64} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x6xf32>
  return
}

// -----

func.func @concat_axis_range(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{concat axis 2 is out of range for [?, 3]}}
  %y = mlp.concat %x, %x {axis = 2 : i64} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x6xf32>
  return
}

// -----

func.func @concat_rank(%x: tensor<?x3xf32>, %y: tensor<?x3x1xf32>) {
  // expected-error @+1 {{concat inputs must have one rank, got [?, 3] and [?, 3, 1]}}
  %z = mlp.concat %x, %y {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x3x1xf32>) -> tensor<?x6xf32>
  return
}

// -----

func.func @concat_other_dim(%x: tensor<?x3x4xf32>, %y: tensor<?x5x4xf32>) {
  // expected-error @+1 {{concat inputs [?, 3, 4] and [?, 5, 4] differ in dimension 1, but may differ only along axis 2}}
  %z = mlp.concat %x, %y {axis = 2 : i64} : (tensor<?x3x4xf32>, tensor<?x5x4xf32>) -> tensor<?x3x8xf32>
  return
}

// -----

func.func @concat_result(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{result shape [?, 7] should be [?, 6]}}
  %y = mlp.concat %x, %x {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x7xf32>
  return
}

// -----

func.func @concat_element_type(%x: tensor<?x3xf32>, %y: tensor<?x3xf16>) {
  // expected-error @+1 {{operand element type 'f16' differs from the result element type 'f32'}}
  %z = mlp.concat %x, %y {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x3xf16>) -> tensor<?x6xf32>
  return
}

// -----

func.func @slice_batch(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{slice along the dynamic batch dimension is not supported}}
  %y = mlp.slice %x {axis = 0 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x3xf32> -> tensor<1x3xf32>
  return
}

// -----

func.func @slice_axis(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{slice axis 2 is out of range for [?, 3]}}
  %y = mlp.slice %x {axis = 2 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x3xf32> -> tensor<?x1xf32>
  return
}

// -----

func.func @slice_range(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{slice [2, 4) of axis 1 is empty or outside [0, 3) of [?, 3]}}
  %y = mlp.slice %x {axis = 1 : i64, start = 2 : i64, end = 4 : i64} : tensor<?x3xf32> -> tensor<?x2xf32>
  return
}

// -----

func.func @slice_empty(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{slice [2, 2) of axis 1 is empty or outside [0, 3) of [?, 3]}}
  %y = mlp.slice %x {axis = 1 : i64, start = 2 : i64, end = 2 : i64} : tensor<?x3xf32> -> tensor<?x0xf32>
  return
}

// -----

func.func @slice_result(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{result shape [?, 2] should be [?, 1]}}
  %y = mlp.slice %x {axis = 1 : i64, start = 2 : i64, end = 3 : i64} : tensor<?x3xf32> -> tensor<?x2xf32>
  return
}

// -----

func.func @broadcast_to_shrink(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{cannot broadcast [?, 3] to [?, 6]}}
  %y = mlp.broadcast_to %x : tensor<?x3xf32> -> tensor<?x6xf32>
  return
}

// -----

func.func @broadcast_to_batch(%x: tensor<?x1xf32>) {
  // expected-error @+1 {{cannot broadcast [?, 1] to [4, 3]}}
  %y = mlp.broadcast_to %x : tensor<?x1xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @broadcast_to_rank(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot broadcast [2, 3] to [3]}}
  %y = mlp.broadcast_to %x : tensor<2x3xf32> -> tensor<3xf32>
  return
}
