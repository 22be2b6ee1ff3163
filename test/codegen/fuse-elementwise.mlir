// RUN: mlp-opt %s -split-input-file -mlp-cpu-fuse-elementwise | FileCheck %s

// An elementwise chain read once per element (identity maps) is one generic.
// CHECK-LABEL: func.func @chain
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @chain(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.erf %in : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %r : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %0 = arith.addf %in, %in2 : f32
    linalg.yield %0 : f32
  } -> tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

// -----

// Token mixing: GELU applied in place to the first contraction's result is
// read by the second as x[b, k, c] while it loops over i too. Fused, GELU
// would run once per i on each element (wrong numbers): it stays apart.
// CHECK-LABEL: func.func @in_place_epilogue_into_contraction
// CHECK: %[[MM:.+]] = linalg.generic {{.*}} attrs = {mlp.token_matmul}
// CHECK: %[[ACT:.+]] = linalg.generic {{.*}} outs(%[[MM]] :
// CHECK: math.erf
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[ACT]] : {{.*}} attrs = {mlp.token_matmul}
// CHECK-NOT: math.erf
// CHECK: return
#w = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @in_place_epilogue_into_contraction(%w1: tensor<5x6xf32>, %w2: tensor<6x5xf32>, %x: tensor<?x6x8xf32>, %h0: tensor<?x5x8xf32>, %y0: tensor<?x6x8xf32>) -> tensor<?x6x8xf32> {
  %h = linalg.generic {indexing_maps = [#w, #x, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w1, %x : tensor<5x6xf32>, tensor<?x6x8xf32>) outs(%h0 : tensor<?x5x8xf32>) attrs = {mlp.token_matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x5x8xf32>
  %g = linalg.generic {indexing_maps = [#id3], iterator_types = ["parallel", "parallel", "parallel"]} outs(%h : tensor<?x5x8xf32>) {
  ^bb0(%out: f32):
    %0 = math.erf %out : f32
    linalg.yield %0 : f32
  } -> tensor<?x5x8xf32>
  %y = linalg.generic {indexing_maps = [#w, #x, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w2, %g : tensor<6x5xf32>, tensor<?x5x8xf32>) outs(%y0 : tensor<?x6x8xf32>) attrs = {mlp.token_matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x6x8xf32>
  return %y : tensor<?x6x8xf32>
}

// -----

// A producer that writes a fresh tensor (a normalization) read by a
// contraction as x[b, k, c] would be recomputed once per output row i: it
// stays apart as well.
// CHECK-LABEL: func.func @recompute_into_contraction
// CHECK: %[[N:.+]] = linalg.generic
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[N]] : {{.*}} attrs = {mlp.token_matmul}
// CHECK-NOT: math.sqrt
// CHECK: return
#w = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#x = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#o = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @recompute_into_contraction(%w: tensor<5x6xf32>, %x: tensor<?x6x8xf32>, %e: tensor<?x6x8xf32>, %y0: tensor<?x5x8xf32>) -> tensor<?x5x8xf32> {
  %n = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<?x6x8xf32>) outs(%e : tensor<?x6x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.sqrt %in : f32
    linalg.yield %0 : f32
  } -> tensor<?x6x8xf32>
  %y = linalg.generic {indexing_maps = [#w, #x, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w, %n : tensor<5x6xf32>, tensor<?x6x8xf32>) outs(%y0 : tensor<?x5x8xf32>) attrs = {mlp.token_matmul} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x5x8xf32>
  return %y : tensor<?x5x8xf32>
}

// -----

// A batch-free gate (a [1, k] linear of parameters with an in-place sigmoid)
// read by a batched consumer as g[0, j] on every row n. Fused, the fused op
// would keep the gate as an in-place result and apply the sigmoid once per
// row (sigmoid(sigmoid(..)) from row 1 on): it stays apart.
// CHECK-LABEL: func.func @in_place_epilogue_into_broadcast
// CHECK: %[[MM:.+]] = linalg.matmul
// CHECK: %[[ACT:.+]] = linalg.generic {{.*}} outs(%[[MM]] :
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%[[ACT]], %{{.+}} :
// CHECK-NOT: math.exp
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
#row0 = affine_map<(d0, d1) -> (0, d1)>
func.func @in_place_epilogue_into_broadcast(%c: tensor<1x5xf32>, %w: tensor<5x24xf32>, %b: tensor<1x24xf32>, %x: tensor<?x24xf32>, %e: tensor<?x24xf32>) -> tensor<?x24xf32> {
  %mm = linalg.matmul ins(%c, %w : tensor<1x5xf32>, tensor<5x24xf32>) outs(%b : tensor<1x24xf32>) -> tensor<1x24xf32>
  %g = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%mm : tensor<1x24xf32>) attrs = {mlp.epilogue} {
  ^bb0(%out: f32):
    %one = arith.constant 1.0 : f32
    %0 = arith.negf %out : f32
    %1 = math.exp %0 : f32
    %2 = arith.addf %1, %one : f32
    %3 = arith.divf %one, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<1x24xf32>
  %y = linalg.generic {indexing_maps = [#row0, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%g, %x : tensor<1x24xf32>, tensor<?x24xf32>) outs(%e : tensor<?x24xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %0 = arith.mulf %in, %in2 : f32
    linalg.yield %0 : f32
  } -> tensor<?x24xf32>
  return %y : tensor<?x24xf32>
}
