// RUN: mlp-opt %s -convert-mlp-to-linalg | FileCheck %s

// One elementwise generic reading the statistics and affine vectors along the
// last dimension: (x - mean) / sqrt(var + eps) * weight + bias.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[F:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @batch_norm
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[F]], #[[F]], #[[F]], #[[F]], #[[ID]]]
// CHECK: %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK: %[[VE:.+]] = arith.addf %{{.+}}, %[[EPS]] : f32
// CHECK: %[[SD:.+]] = math.sqrt %[[VE]] : f32
// CHECK: %[[C:.+]] = arith.subf
// CHECK: %[[N:.+]] = arith.divf %[[C]], %[[SD]] : f32
// CHECK: %[[S:.+]] = arith.mulf %[[N]]
// CHECK: arith.addf %[[S]]
func.func @batch_norm(%x: tensor<?x8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = mlp.batch_norm %x mean(%m) var(%v) weight(%w) bias(%b) : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
