// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @sum_batch(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{sum over the dynamic batch dimension is not supported}}
  %y = mlp.sum %x {axis = 0 : i64} : tensor<?x4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @sum_negative_axis(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{axis must be non-negative, got -1}}
  %y = mlp.sum %x {axis = -1 : i64} : tensor<?x4xf32> -> tensor<?xf32>
  return
}

// -----

func.func @sum_axis_range(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{sum axis 2 is out of range for [?, 4]}}
  %y = mlp.sum %x {axis = 2 : i64} : tensor<?x4xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @sum_result(%x: tensor<?x4x5xf32>) {
  // expected-error @+1 {{result shape [?, 4] should be [?, 5]}}
  %y = mlp.sum %x {axis = 1 : i64} : tensor<?x4x5xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @softmax_batch(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{softmax over the dynamic batch dimension is not supported}}
  %y = mlp.softmax %x {axis = 0 : i64} : tensor<?x4xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{softmax axis 2 is out of range for [?, 4]}}
  %y = mlp.softmax %x {axis = 2 : i64} : tensor<?x4xf32>
  return
}
