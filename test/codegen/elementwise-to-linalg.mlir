// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// A constant is a rank-0 dense tensor that the generic broadcasts; sin and
// cos are generics around math.sin / math.cos.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @sin_scaled
// CHECK-SAME: (%[[X:.+]]: tensor<?x8xf32>)
// CHECK: %[[C:.+]] = arith.constant dense<3.000000e+01> : tensor<f32>
// CHECK: %[[M:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]{{.*}} ins(%[[X]], %[[C]] : tensor<?x8xf32>, tensor<f32>)
// CHECK: arith.mulf
// CHECK: %[[S:.+]] = linalg.generic {{.*}} ins(%[[M]] : tensor<?x8xf32>)
// CHECK: math.sin
// CHECK: linalg.generic {{.*}} ins(%[[S]] : tensor<?x8xf32>)
// CHECK: math.cos
func.func @sin_scaled(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %c = mlp.constant 30.0 : tensor<f32>
  %m = mlp.mul %x, %c : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %s = mlp.sin %m : tensor<?x8xf32>
  %k = mlp.cos %s : tensor<?x8xf32>
  return %k : tensor<?x8xf32>
}

// -----

// A constant on the left of a subtraction.
// CHECK-LABEL: func.func @one_minus
// CHECK: %[[C:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: linalg.generic {{.*}} ins(%[[C]], %{{.+}} : tensor<f32>, tensor<?x8xf32>)
// CHECK: arith.subf
func.func @one_minus(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %c = mlp.constant 1.0 : tensor<f32>
  %y = mlp.sub %c, %x : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func.func @exp_div
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: linalg.generic
// CHECK: math.exp
func.func @exp_div(%x: tensor<?x8xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  %d = mlp.div %x, %g : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %e = mlp.exp %d : tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}
