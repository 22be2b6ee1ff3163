// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @unknown_kind(%x: tensor<?x16xf32>, %w: tensor<16x16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{unknown kind "fancy"}}
  %0 = mlp.fused "fancy" : tensor<?x16xf32> {
    %1 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
    mlp.yield %1 : tensor<?x16xf32>
  }
  return %0 : tensor<?x16xf32>
}

// -----

func.func @epilogue_without_linear(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{of kind "epilogue" must start with mlp.linear or mlp.matmul}}
  %0 = mlp.fused "epilogue" : tensor<?x16xf32> {
    %1 = mlp.relu %x : tensor<?x16xf32>
    mlp.yield %1 : tensor<?x16xf32>
  }
  return %0 : tensor<?x16xf32>
}

// -----

func.func @epilogue_row_operand(%x: tensor<?x16xf32>, %w: tensor<16x16xf32>, %s: tensor<?x1xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{epilogue operand of 'mlp.mul' must be a per-channel vector or a tensor of type}}
  %0 = mlp.fused "epilogue" : tensor<?x16xf32> {
    %1 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
    %2 = mlp.mul %1, %s : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
    mlp.yield %2 : tensor<?x16xf32>
  }
  return %0 : tensor<?x16xf32>
}

// -----

func.func @yield_types(%x: tensor<?x16xf32>, %w: tensor<16x16xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{yields}}
  %0 = mlp.fused "epilogue" : tensor<?x8xf32> {
    %1 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
    mlp.yield %1 : tensor<?x16xf32>
  }
  return %0 : tensor<?x8xf32>
}

// -----

func.func @token_mixing_without_transpose(%x: tensor<?x6x8xf32>, %w: tensor<8x8xf32>) -> tensor<?x6x8xf32> {
  // expected-error @+1 {{of kind "token_mixing" must start with an mlp.transpose of the last two axes}}
  %0 = mlp.fused "token_mixing" : tensor<?x6x8xf32> {
    %1 = mlp.linear %x, %w : (tensor<?x6x8xf32>, tensor<8x8xf32>) -> tensor<?x6x8xf32>
    mlp.yield %1 : tensor<?x6x8xf32>
  }
  return %0 : tensor<?x6x8xf32>
}

// -----

func.func @chain_of_one(%x: tensor<?x16xf32>, %w: tensor<16x16xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{of kind "chain" must hold at least two groups}}
  %0 = mlp.fused "chain" : tensor<?x16xf32> {
    %1 = mlp.fused "epilogue" : tensor<?x16xf32> {
      %2 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
      mlp.yield %2 : tensor<?x16xf32>
    }
    mlp.yield %1 : tensor<?x16xf32>
  }
  return %0 : tensor<?x16xf32>
}
