// RUN: mlp-opt %s -split-input-file -mlp-cpu-outline-kernels | FileCheck %s

// Two layers of the same shape, as in the blocks of a `repeat`: one kernel,
// called twice with different weights, and kept out of line because it is
// shared. The zero fill of the accumulator goes into the kernel with its
// matmul (the constant cloned); the destination stays the caller's.
// CHECK-LABEL: func.func private @same_kernel0_matmul(
// CHECK-SAME: %[[INIT:[^:]+]]: tensor<?x64xf32>, %[[A:[^:]+]]: tensor<?x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>) -> tensor<?x64xf32>
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>, mlp.kernel, no_inline
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[INIT]] : tensor<?x64xf32>)
// CHECK: %[[R:.+]] = linalg.matmul ins(%[[A]], %[[W]] : tensor<?x64xf32>, tensor<64x64xf32>) outs(%[[ACC]] : tensor<?x64xf32>)
// CHECK: return %[[R]]
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @same(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x64xf32>, %[[W0:[^:]+]]: tensor<64x64xf32>, %[[W1:[^:]+]]: tensor<64x64xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[E0:.+]] = tensor.empty
// CHECK: %[[H:.+]] = call @same_kernel0_matmul(%[[E0]], %[[X]], %[[W0]])
// CHECK: %[[E1:.+]] = tensor.empty
// CHECK: %[[Y:.+]] = call @same_kernel0_matmul(%[[E1]], %[[H]], %[[W1]])
// CHECK-NOT: linalg.
// CHECK: return %[[Y]]
func.func @same(%x: tensor<?x64xf32>, %w0: tensor<64x64xf32>, %w1: tensor<64x64xf32>) -> tensor<?x64xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e0 = tensor.empty(%n) : tensor<?x64xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %h = linalg.matmul ins(%x, %w0 : tensor<?x64xf32>, tensor<64x64xf32>) outs(%f0 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %e1 = tensor.empty(%n) : tensor<?x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %y = linalg.matmul ins(%h, %w1 : tensor<?x64xf32>, tensor<64x64xf32>) outs(%f1 : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// Must not merge: different shapes (64 -> 64 and 64 -> 32 columns), and the
// same shape with another register tile. Each kernel is called once, so
// LLVM may inline it.
// CHECK-LABEL: func.func private @shapes_kernel0_matmul(
// CHECK-SAME: tensor<64x64xf32>
// CHECK-SAME: mlp.kernel} {
// CHECK: linalg.matmul {mlp.tile = {register = array<i64: 8, 32, 1>}}
// CHECK-LABEL: func.func private @shapes_kernel1_matmul(
// CHECK-SAME: tensor<64x64xf32>
// CHECK-SAME: mlp.kernel} {
// CHECK: linalg.matmul {mlp.tile = {register = array<i64: 4, 64, 1>}}
// CHECK-LABEL: func.func private @shapes_kernel2_matmul(
// CHECK-SAME: tensor<64x32xf32>
// CHECK-SAME: mlp.kernel} {
// CHECK-LABEL: func.func @shapes(
// CHECK: call @shapes_kernel0_matmul(
// CHECK: call @shapes_kernel1_matmul(
// CHECK: call @shapes_kernel2_matmul(
func.func @shapes(%x: tensor<?x64xf32>, %w0: tensor<64x64xf32>, %w1: tensor<64x64xf32>, %w2: tensor<64x32xf32>) -> tensor<?x32xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e0 = tensor.empty(%n) : tensor<?x64xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %h0 = linalg.matmul {mlp.tile = {register = array<i64: 8, 32, 1>}} ins(%x, %w0 : tensor<?x64xf32>, tensor<64x64xf32>) outs(%f0 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %e1 = tensor.empty(%n) : tensor<?x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %h1 = linalg.matmul {mlp.tile = {register = array<i64: 4, 64, 1>}} ins(%h0, %w1 : tensor<?x64xf32>, tensor<64x64xf32>) outs(%f1 : tensor<?x64xf32>) -> tensor<?x64xf32>
  %e2 = tensor.empty(%n) : tensor<?x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<?x32xf32>) -> tensor<?x32xf32>
  %y = linalg.matmul ins(%h1, %w2 : tensor<?x64xf32>, tensor<64x32xf32>) outs(%f2 : tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Must not merge: two elementwise kernels that differ only in a constant of
// their body (max with 0 and with 1).
// CHECK-LABEL: func.func private @constants_kernel0_generic(
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: arith.maximumf
// CHECK-LABEL: func.func private @constants_kernel1_generic(
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK: arith.maximumf
// CHECK-LABEL: func.func @constants(
// CHECK: call @constants_kernel0_generic(
// CHECK: call @constants_kernel1_generic(
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @constants(%x: tensor<?x16xf32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x16xf32>) outs(%init : tensor<?x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<?x16xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<?x16xf32>) outs(%init : tensor<?x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %one : f32
    linalg.yield %m : f32
  } -> tensor<?x16xf32>
  return %b : tensor<?x16xf32>
}

// -----

// A slice is cloned into the kernel, which takes the whole tensor: a slice
// bufferizes to a strided view that an identity-layout argument cannot
// take. A value the body captures that is not a constant is an argument.
// CHECK-LABEL: func.func private @views_kernel0_generic(
// CHECK-SAME: %[[H:[^:]+]]: tensor<?x32xf32>, %[[N:[^:]+]]: index, %[[INIT:[^:]+]]: tensor<?x16xf32>, %[[S:[^:]+]]: f32)
// CHECK: %[[V:.+]] = tensor.extract_slice %[[H]][0, 16] [%[[N]], 16] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[V]] : tensor<?x16xf32>) outs(%[[INIT]] : tensor<?x16xf32>)
// CHECK: arith.mulf %{{.+}}, %[[S]]
// CHECK-LABEL: func.func @views(
// CHECK-SAME: %[[HH:[^:]+]]: tensor<?x32xf32>
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[SS:.+]] = tensor.extract %
// CHECK: call @views_kernel0_generic(%[[HH]], %{{.+}}, %{{.+}}, %[[SS]])
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @views(%h: tensor<?x32xf32>, %scale: tensor<f32>, %init: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %h, %c0 : tensor<?x32xf32>
  %v = tensor.extract_slice %h[0, 16] [%n, 16] [1, 1] : tensor<?x32xf32> to tensor<?x16xf32>
  %s = tensor.extract %scale[] : tensor<f32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%v : tensor<?x16xf32>) outs(%init : tensor<?x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %s : f32
    linalg.yield %m : f32
  } -> tensor<?x16xf32>
  return %r : tensor<?x16xf32>
}

// -----

// Must not outline: a destination that is a slice of a larger tensor. The
// kernel would return the slice, not its argument, and could not write into
// the caller's buffer in place; the op stays where it is.
// CHECK-LABEL: func.func @into_slice(
// CHECK-NOT: call
// CHECK: %[[S:.+]] = tensor.extract_slice
// CHECK: linalg.generic {{.*}} outs(%[[S]] : tensor<?x32xf32>)
// CHECK-NOT: call
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @into_slice(%x: tensor<?x32xf32>, %big: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x32xf32>
  %s = tensor.extract_slice %big[0, 16] [%n, 32] [1, 1] : tensor<?x64xf32> to tensor<?x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x32xf32>) outs(%s : tensor<?x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.addf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<?x32xf32>
  %i = tensor.insert_slice %r into %big[0, 16] [%n, 32] [1, 1] : tensor<?x32xf32> into tensor<?x64xf32>
  return %i : tensor<?x64xf32>
}
