// RUN: mlp-opt %s -convert-mlp-to-linalg | FileCheck %s

// One generic over (batch, feature, basis j): x is read at (batch, feature);
// the knots grid[f, j .. j + order + 1] are extracted; degree 0 is the
// indicator of [g_t, g_t+1) (oge and olt); each higher degree divides by knot
// differences and blends two lower bases.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @bspline
// CHECK-SAME: (%[[IN:.+]]: tensor<?x4xf32>, %[[GRID:.+]]: tensor<4x6xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[IN]] : tensor<?x4xf32>) outs(%{{.+}} : tensor<?x4x4xf32>)
// CHECK: %[[F:.+]] = linalg.index 1 : index
// CHECK: %[[J:.+]] = linalg.index 2 : index
// CHECK: tensor.extract %[[GRID]][%[[F]], %[[J]]] : tensor<4x6xf32>
// CHECK-COUNT-2: tensor.extract %[[GRID]]
// CHECK-COUNT-2: arith.cmpf oge
// CHECK-COUNT-2: arith.divf
// CHECK-NOT: arith.divf
// CHECK: linalg.yield
func.func @bspline(%x: tensor<?x4xf32>, %grid: tensor<4x6xf32>) -> tensor<?x4x4xf32> {
  %b = mlp.bspline_basis %x, %grid {order = 1 : i64} : (tensor<?x4xf32>, tensor<4x6xf32>) -> tensor<?x4x4xf32>
  return %b : tensor<?x4x4xf32>
}
