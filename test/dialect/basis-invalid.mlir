// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @bspline_features(%x: tensor<?x8xf32>, %grid: tensor<4x12xf32>) {
  // expected-error @+1 {{bspline_basis grid [4, 12] has knots for 4 features, but the input [?, 8] has 8}}
  %b = mlp.bspline_basis %x, %grid {order = 3 : i64} : (tensor<?x8xf32>, tensor<4x12xf32>) -> tensor<?x8x8xf32>
  return
}

// -----

func.func @bspline_knots(%x: tensor<?x4xf32>, %grid: tensor<4x4xf32>) {
  // expected-error @+1 {{bspline_basis of order 3 needs at least 5 knots per feature, got 4}}
  %b = mlp.bspline_basis %x, %grid {order = 3 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4x0xf32>
  return
}

// -----

func.func @bspline_order(%x: tensor<?x4xf32>, %grid: tensor<4x40xf32>) {
  // expected-error @+1 {{bspline_basis order must be between 0 and 10, got 11}}
  %b = mlp.bspline_basis %x, %grid {order = 11 : i64} : (tensor<?x4xf32>, tensor<4x40xf32>) -> tensor<?x4x28xf32>
  return
}

// -----

func.func @bspline_grid_rank(%x: tensor<?x4xf32>, %grid: tensor<12xf32>) {
  // expected-error @+1 {{bspline_basis grid must have a static shape (features, knots), got [12]}}
  %b = mlp.bspline_basis %x, %grid {order = 3 : i64} : (tensor<?x4xf32>, tensor<12xf32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @bspline_result(%x: tensor<?x4xf32>, %grid: tensor<4x12xf32>) {
  // expected-error @+1 {{result shape [?, 4, 9] should be [?, 4, 8]}}
  %b = mlp.bspline_basis %x, %grid {order = 3 : i64} : (tensor<?x4xf32>, tensor<4x12xf32>) -> tensor<?x4x9xf32>
  return
}
