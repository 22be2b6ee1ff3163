// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// The bias is broadcast into the accumulator; leading dims are collapsed with
// tensor.reshape (a collapse_shape would let elementwise fusion turn the
// matmul into a generic contraction); the weight is transposed to (in, out).
// CHECK-LABEL: func.func @linear_3d
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x8xf32>, %[[W:.+]]: tensor<16x8xf32>, %[[B:.+]]: tensor<16xf32>)
// CHECK: %[[ROWS:.+]] = arith.muli %{{.+}}, %{{.+}} : index
// CHECK: %[[SHAPE:.+]] = tensor.from_elements %[[ROWS]], %{{.+}} : tensor<2xindex>
// CHECK: %[[FLAT:.+]] = tensor.reshape %[[X]](%[[SHAPE]]) : (tensor<?x4x8xf32>, tensor<2xindex>) -> tensor<?x8xf32>
// CHECK: %[[ACC:.+]] = linalg.broadcast ins(%[[B]] : tensor<16xf32>) outs(%{{.+}} : tensor<?x16xf32>) dimensions = [0]
// CHECK: %[[WT:.+]] = linalg.transpose ins(%[[W]] : tensor<16x8xf32>) outs(%{{.+}} : tensor<8x16xf32>) permutation = [1, 0]
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[FLAT]], %[[WT]] : tensor<?x8xf32>, tensor<8x16xf32>) outs(%[[ACC]] : tensor<?x16xf32>)
// CHECK: %[[OUT:.+]] = tensor.from_elements %{{.+}}, %{{.+}}, %{{.+}} : tensor<3xindex>
// CHECK: tensor.reshape %[[MM]](%[[OUT]]) : (tensor<?x16xf32>, tensor<3xindex>) -> tensor<?x4x16xf32>
func.func @linear_3d(%x: tensor<?x4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<?x4x16xf32> {
  %y = mlp.linear %x, %w, %b : (tensor<?x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<?x4x16xf32>
  return %y : tensor<?x4x16xf32>
}

// -----

// Without a bias the accumulator starts at zero.
// CHECK-LABEL: func.func @linear_no_bias
// CHECK: %[[ZERO:.+]] = linalg.fill
// CHECK: linalg.matmul {{.*}} outs(%[[ZERO]] : tensor<?x2xf32>)
func.func @linear_no_bias(%x: tensor<?x3xf32>, %w: tensor<2x3xf32>) -> tensor<?x2xf32> {
  %y = mlp.linear %x, %w : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// CHECK-LABEL: func.func @activations
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: math.erf
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic
// CHECK: math.tanh
func.func @activations(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %a = mlp.relu %x : tensor<?x8xf32>
  %b = mlp.gelu %a : tensor<?x8xf32>
  %c = mlp.gelu %b {approximate = "tanh"} : tensor<?x8xf32>
  %d = mlp.silu %c : tensor<?x8xf32>
  %e = mlp.sigmoid %d : tensor<?x8xf32>
  %f = mlp.tanh %e : tensor<?x8xf32>
  return %f : tensor<?x8xf32>
}

// -----

// Broadcasting operands index a constant 0 along stretched dims.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-LABEL: func.func @broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]]
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
// CHECK: arith.mulf
// CHECK: arith.subf
func.func @broadcast(%x: tensor<?x4x8xf32>, %r: tensor<8xf32>, %c: tensor<4x1xf32>) -> tensor<?x4x8xf32> {
  %a = mlp.add %x, %r : tensor<?x4x8xf32>, tensor<8xf32> -> tensor<?x4x8xf32>
  %b = mlp.mul %a, %c : tensor<?x4x8xf32>, tensor<4x1xf32> -> tensor<?x4x8xf32>
  %d = mlp.sub %b, %b : tensor<?x4x8xf32>, tensor<?x4x8xf32> -> tensor<?x4x8xf32>
  return %d : tensor<?x4x8xf32>
}

// -----

// Two reductions (sum, centred sum of squares), then one normalizing pass.
// CHECK-LABEL: func.func @layer_norm
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: math.sqrt
// CHECK: arith.divf
func.func @layer_norm(%x: tensor<?x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = mlp.layer_norm %x weight(%w) bias(%b) {eps = 1.0e-6 : f64} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func.func @mean_transpose_reshape
// CHECK: linalg.transpose ins(%{{.+}} : tensor<?x4x8xf32>) outs(%{{.+}} : tensor<?x8x4xf32>) permutation = [0, 2, 1]
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0], [1, 2]] : tensor<?x8x4xf32> into tensor<?x32xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0], [1, 2]] output_shape [%{{.+}}, 2, 16] : tensor<?x32xf32> into tensor<?x2x16xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: arith.divf
func.func @mean_transpose_reshape(%x: tensor<?x4x8xf32>) -> tensor<?x16xf32> {
  %t = mlp.transpose %x [0, 2, 1] : tensor<?x4x8xf32> -> tensor<?x8x4xf32>
  %r = mlp.reshape %t : tensor<?x8x4xf32> -> tensor<?x2x16xf32>
  %m = mlp.mean %r {axis = 1 : i64} : tensor<?x2x16xf32> -> tensor<?x16xf32>
  return %m : tensor<?x16xf32>
}

// -----

// An argument returned unchanged is returned as a copy, so that it is written
// into the caller's output buffer.
// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x4xf32>)
// CHECK: %[[COPY:.+]] = bufferization.alloc_tensor() copy(%[[X]]) : tensor<?x4xf32>
// CHECK: return %[[COPY]]
func.func @identity(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}
