// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// A reduction generic over the summed axis, into a zero-filled tensor.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @sum
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<?x5xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.+}} : tensor<?x4x5xf32>) outs(%[[ZERO]] : tensor<?x5xf32>)
// CHECK: arith.addf
// CHECK-NOT: arith.divf
func.func @sum(%x: tensor<?x4x5xf32>) -> tensor<?x5xf32> {
  %y = mlp.sum %x {axis = 1 : i64} : tensor<?x4x5xf32> -> tensor<?x5xf32>
  return %y : tensor<?x5xf32>
}

// -----

// softmax: the maximum (a reduction from -inf), exp(x - max), its sum, and
// the quotient.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<?x5xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.+}} : tensor<?x4x5xf32>) outs(%[[INIT]] : tensor<?x5xf32>)
// CHECK: arith.maximumf
// CHECK: %[[E:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[MAX]] : tensor<?x4x5xf32>, tensor<?x5xf32>)
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[S:.+]] = linalg.generic {{.*}} ins(%[[E]] : tensor<?x4x5xf32>)
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[E]], %[[S]] : tensor<?x4x5xf32>, tensor<?x5xf32>)
// CHECK: arith.divf
func.func @softmax(%x: tensor<?x4x5xf32>) -> tensor<?x4x5xf32> {
  %y = mlp.softmax %x {axis = 1 : i64} : tensor<?x4x5xf32>
  return %y : tensor<?x4x5xf32>
}
