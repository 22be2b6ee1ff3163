// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// One generic over (ids..., d): the id, cast to an index, selects the row
// (tensor.extract at a clamped index); an id outside [0, V) gives 0.
// CHECK-DAG: #[[IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[IDS_ARG:.+]]: tensor<?x5xi64>, %[[TABLE:.+]]: tensor<10x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[IDS]], {{.+}}]{{.*}} ins(%[[IDS_ARG]] : tensor<?x5xi64>) outs(%{{.+}} : tensor<?x5x4xf32>)
// CHECK: %[[ROW:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK-DAG: %[[GE:.+]] = arith.cmpi sge, %[[ROW]], %{{.+}} : index
// CHECK-DAG: %[[LT:.+]] = arith.cmpi slt, %[[ROW]], %{{.+}} : index
// CHECK: %[[IN:.+]] = arith.andi %{{.+}}, %{{.+}} : i1
// CHECK: %[[SAFE:.+]] = arith.select %[[IN]], %[[ROW]], %{{.+}} : index
// CHECK: %[[COL:.+]] = linalg.index 2 : index
// CHECK: %[[V:.+]] = tensor.extract %[[TABLE]][%[[SAFE]], %[[COL]]] : tensor<10x4xf32>
// CHECK: arith.select %[[IN]], %[[V]], %{{.+}} : f32
func.func @embedding(%ids: tensor<?x5xi64>, %table: tensor<10x4xf32>) -> tensor<?x5x4xf32> {
  %e = mlp.embedding %ids, %table : (tensor<?x5xi64>, tensor<10x4xf32>) -> tensor<?x5x4xf32>
  return %e : tensor<?x5x4xf32>
}

// -----

// CHECK-LABEL: func.func @padding_mask
// CHECK: linalg.generic
// CHECK: %[[PAD:.+]] = arith.constant 7 : i32
// CHECK: %[[REAL:.+]] = arith.cmpi ne, %{{.+}}, %[[PAD]] : i32
// CHECK: arith.select %[[REAL]], %{{.+}}, %{{.+}} : f32
func.func @padding_mask(%ids: tensor<?x5xi32>) -> tensor<?x5xf32> {
  %m = mlp.padding_mask %ids {padding_idx = 7 : i64} : tensor<?x5xi32> -> tensor<?x5xf32>
  return %m : tensor<?x5xf32>
}
