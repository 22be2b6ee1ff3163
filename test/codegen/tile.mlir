// RUN: mlp-opt %s -split-input-file -mlp-tile | FileCheck %s --check-prefix=AVX512
// RUN: mlp-opt %s -split-input-file -mlp-tile="vector-width=8 vector-registers=16 l2-bytes=2097152" | FileCheck %s --check-prefix=AVX2
// RUN: echo '{"generic/v16/matmul/k128/n512": [4, 64]}' > %t.json
// RUN: mlp-opt %s -split-input-file -mlp-tile="cache=%t.json" | FileCheck %s --check-prefix=CACHED
// RUN: echo 'not json' > %t.bad.json
// RUN: mlp-opt %s -split-input-file -mlp-tile="cache=%t.bad.json" | FileCheck %s --check-prefix=AVX512

// AVX512-LABEL: func.func @model
// AVX512-SAME: mlp.rows_per_block = 240 : i64
// AVX512-SAME: mlp.scratch_bytes_per_row = 2064 : i64
// B of 128 x 512 (256 KiB) comes from L2: tall tiles, fewer k steps per FMA.
// AVX512: linalg.matmul {mlp.tile = {cache = array<i64: 0, 512, 0>, register = array<i64: 14, 32, 1>, source = "cost-model"}}
// AVX2-LABEL: func.func @model
// AVX2-SAME: mlp.rows_per_block = 496 : i64
// AVX2: linalg.matmul {mlp.tile = {cache = array<i64: 0, 512, 0>, register = array<i64: 6, 16, 1>, source = "cost-model"}}
// CACHED: linalg.matmul {mlp.tile = {cache = array<i64: 0, 512, 0>, register = array<i64: 4, 64, 1>, source = "autotune"}}
func.func @model(%x: tensor<?x128xf32> {mlp.name = "x"}, %w: tensor<128x512xf32> {mlp.param = "w"}) -> (tensor<?x512xf32> {mlp.name = "y"}) attributes {mlp.model, mlp.rows_independent} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x128xf32>
  %e = tensor.empty(%n) : tensor<?x512xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x512xf32>) -> tensor<?x512xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x128xf32>, tensor<128x512xf32>) outs(%f : tensor<?x512xf32>) -> tensor<?x512xf32>
  %e2 = tensor.empty(%n) : tensor<?x4xf32>
  return %y : tensor<?x512xf32>
}

// -----

// Without independent rows there is no row block.
// AVX512-LABEL: func.func @mixed_rows
// AVX512-NOT: mlp.rows_per_block
// AVX512-SAME: mlp.scratch_bytes_per_row = 0 : i64
func.func @mixed_rows(%x: tensor<4x?xf32> {mlp.name = "x"}) -> (tensor<4x?xf32> {mlp.name = "y"}) attributes {mlp.model} {
  return %x : tensor<4x?xf32>
}

// -----

// B of 512 x 512 floats (1 MiB) is past a quarter of L2: it is swept in
// panels of 128 columns.
// AVX512-LABEL: func.func @panels
// AVX512: mlp.tile = {cache = array<i64: 0, 128, 0>, register = array<i64: 14, 32, 1>
func.func @panels(%x: tensor<?x512xf32>, %w: tensor<512x512xf32>, %acc: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<?x512xf32>, tensor<512x512xf32>) outs(%acc : tensor<?x512xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}
