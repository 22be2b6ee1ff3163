// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// concat is one generic over the result: along the axis, position j reads the
// input whose range holds j, at j - offset (indices clamped into each input,
// a chain of selects), so no strided slices of the result are ever copied.
// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[X:.+]]: tensor<?x3xf32>, %[[H:.+]]: tensor<?x8xf32>)
// CHECK: %[[E:.+]] = tensor.empty(%{{.+}}) : tensor<?x11xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?x11xf32>)
// CHECK: %[[ROW:.+]] = linalg.index 0 : index
// CHECK: %[[J:.+]] = linalg.index 1 : index
// CHECK: %[[JH:.+]] = arith.subi %[[J]], %{{.+}} : index
// CHECK: %[[KH:.+]] = arith.maxsi %[[JH]], %{{.+}} : index
// CHECK: %[[VH:.+]] = tensor.extract %[[H]][%[[ROW]], %[[KH]]] : tensor<?x8xf32>
// CHECK: %[[IN_X:.+]] = arith.cmpi slt, %[[J]], %{{.+}} : index
// CHECK: %[[KX:.+]] = arith.minsi %[[J]], %{{.+}} : index
// CHECK: %[[VX:.+]] = tensor.extract %[[X]][%[[ROW]], %[[KX]]] : tensor<?x3xf32>
// CHECK: %[[V:.+]] = arith.select %[[IN_X]], %[[VX]], %[[VH]] : f32
// CHECK: linalg.yield %[[V]] : f32
func.func @concat(%x: tensor<?x3xf32>, %h: tensor<?x8xf32>) -> tensor<?x11xf32> {
  %a = mlp.concat %x, %h {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x8xf32>) -> tensor<?x11xf32>
  return %a : tensor<?x11xf32>
}

// -----

// Along a middle axis: the other indices are the result's.
// CHECK-LABEL: func.func @concat_middle
// CHECK: %[[I0:.+]] = linalg.index 0 : index
// CHECK: %[[I1:.+]] = linalg.index 1 : index
// CHECK: %[[I2:.+]] = linalg.index 2 : index
// CHECK: tensor.extract %{{.+}}[%[[I0]], %{{.+}}, %[[I2]]] : tensor<?x3x4xf32>
// CHECK: tensor.extract %{{.+}}[%[[I0]], %{{.+}}, %[[I2]]] : tensor<?x2x4xf32>
func.func @concat_middle(%x: tensor<?x2x4xf32>, %y: tensor<?x3x4xf32>) -> tensor<?x5x4xf32> {
  %a = mlp.concat %x, %y {axis = 1 : i64} : (tensor<?x2x4xf32>, tensor<?x3x4xf32>) -> tensor<?x5x4xf32>
  return %a : tensor<?x5x4xf32>
}

// -----

// A slice that feeds other ops is a view (tensor.extract_slice); one that is
// an output of the model is computed by a generic that reads the input at
// index + start, never copied from a strided view.
// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x10xf32>)
// CHECK: %[[A:.+]] = tensor.extract_slice %[[X]][0, 0, 2] [%{{.+}}, 4, 5] [1, 1, 1] : tensor<?x4x10xf32> to tensor<?x4x5xf32>
// CHECK: %[[B:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<?x4x5xf32>)
// CHECK: %[[K:.+]] = linalg.index 2 : index
// CHECK: %[[K5:.+]] = arith.addi %[[K]], %{{.+}} : index
// CHECK: tensor.extract %[[X]][%{{.+}}, %{{.+}}, %[[K5]]] : tensor<?x4x10xf32>
// CHECK: %[[C:.+]] = linalg.generic {{.*}} ins(%[[A]], %[[B]] : tensor<?x4x5xf32>, tensor<?x4x5xf32>)
// CHECK: arith.mulf
// CHECK: return %[[C]], %[[B]]
func.func @slice(%x: tensor<?x4x10xf32>) -> (tensor<?x4x5xf32>, tensor<?x4x5xf32>) {
  %a = mlp.slice %x {axis = 2 : i64, start = 2 : i64, end = 7 : i64} : tensor<?x4x10xf32> -> tensor<?x4x5xf32>
  %b = mlp.slice %x {axis = 2 : i64, start = 5 : i64, end = 10 : i64} : tensor<?x4x10xf32> -> tensor<?x4x5xf32>
  %c = mlp.mul %a, %b : tensor<?x4x5xf32>, tensor<?x4x5xf32> -> tensor<?x4x5xf32>
  return %c, %b : tensor<?x4x5xf32>, tensor<?x4x5xf32>
}

// -----

// broadcast_to reads the input with a constant 0 along stretched dimensions;
// the batch size comes from the input.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @broadcast_to
// CHECK: %[[N:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x1x8xf32>
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x5x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]]{{.*}} outs(%[[E]] : tensor<?x5x8xf32>)
func.func @broadcast_to(%g: tensor<?x1x8xf32>) -> tensor<?x5x8xf32> {
  %r = mlp.broadcast_to %g : tensor<?x1x8xf32> -> tensor<?x5x8xf32>
  return %r : tensor<?x5x8xf32>
}
