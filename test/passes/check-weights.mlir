// RUN: %python -c "import numpy as np, mlpc; mlpc.save_safetensors({'fc.weight': np.zeros((8, 4), np.float32), 'fc.bias': np.zeros(8, np.float64), 'ln.weight': np.zeros(5, np.float32)}, '%t.safetensors')"
// RUN: mlp-opt %s -split-input-file -mlp-check-weights=weights=%t.safetensors -verify-diagnostics
// RUN: not mlp-opt %s -mlp-check-weights=weights=%t.missing 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: {{.*}}check-weights.mlir.tmp.missing: cannot open file: No such file or directory

func.func @matching() {
  %w = mlp.param "fc.weight" : tensor<8x4xf32>
  return
}

// -----

func.func @missing() {
  // expected-error @+1 {{weight 'fc2.weight' is missing from check-weights.mlir.tmp.safetensors}}
  %w = mlp.param "fc2.weight" : tensor<8x4xf32>
  return
}

// -----

func.func @wrong_shape() {
  // expected-error @+1 {{weight 'fc.weight' has shape [8, 4] in check-weights.mlir.tmp.safetensors, but the model expects [4, 8]}}
  %w = mlp.param "fc.weight" : tensor<4x8xf32>
  return
}

// -----

func.func @wrong_dtype() {
  // expected-error @+1 {{weight 'fc.bias' has dtype float64 in check-weights.mlir.tmp.safetensors, but the model expects float32}}
  %b = mlp.param "fc.bias" : tensor<8xf32>
  return
}

// -----

func.func @every_error_reported() {
  // expected-error @+1 {{weight 'a' is missing}}
  %a = mlp.param "a" : tensor<8xf32>
  // expected-error @+1 {{weight 'ln.weight' has shape [5]}}
  %b = mlp.param "ln.weight" : tensor<8xf32>
  return
}
