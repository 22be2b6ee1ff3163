// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @batch_norm_stats(%x: tensor<?x8xf32>, %m: tensor<4xf32>, %v: tensor<8xf32>) {
  // expected-error @+1 {{batch_norm running_mean must have shape [8], got [4]}}
  %y = mlp.batch_norm %x mean(%m) var(%v) : (tensor<?x8xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @batch_norm_weight(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %w: tensor<1x8xf32>) {
  // expected-error @+1 {{batch_norm weight must have shape [8], got [1, 8]}}
  %y = mlp.batch_norm %x mean(%m) var(%m) weight(%w) : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<1x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @batch_norm_eps(%x: tensor<?x8xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{eps must be positive}}
  %y = mlp.batch_norm %x mean(%m) var(%m) {eps = 0.0 : f64} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @batch_norm_batch(%x: tensor<4x?xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{batch_norm needs a static last dimension (the features), got [4, ?]}}
  %y = mlp.batch_norm %x mean(%m) var(%m) : (tensor<4x?xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x?xf32>
  return
}
