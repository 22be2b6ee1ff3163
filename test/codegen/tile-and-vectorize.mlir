// RUN: mlp-opt %s -mlp-cpu-tile-and-vectorize | FileCheck %s

// A matmul over a dynamic batch: the row loop is peeled into a main loop of
// static 8x32 register tiles (a vector.contract per k step) and a remainder
// for the last batch % 8 rows: a switch on their count, with one static tile
// of exactly that many rows per case, its row loops outside the n and k
// loops. Tiles of fewer than 4 rows take more columns (here all 64).
// CHECK-LABEL: func.func @matmul
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c8
// CHECK: scf.index_switch
// CHECK: case 1 {
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c1
// CHECK: vector.contract {{.*}} : vector<1x1xf32>, vector<1x64xf32> into vector<1x64xf32>
// CHECK: case 3 {
// CHECK: vector.contract {{.*}} : vector<3x1xf32>, vector<1x64xf32> into vector<3x64xf32>
// CHECK: case 7 {
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c32
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c1
// CHECK: vector.contract {{.*}} : vector<7x1xf32>, vector<1x32xf32> into vector<7x32xf32>
// CHECK: default {
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: tensor<?x64xf32>, %b: tensor<64x64xf32>, %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x64xf32>) outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// Elementwise ops run in 16-lane vectors; a 40-wide row peels to 32 + 8.
// CHECK-LABEL: func.func @elementwise
// CHECK: vector.transfer_read {{.*}} vector<1x16xf32>
// CHECK: arith.maximumf {{.*}} vector<1x16xf32>
// CHECK: vector.transfer_read {{.*}} vector<1x8xf32>
// CHECK: arith.maximumf {{.*}} vector<1x8xf32>
func.func @elementwise(%x: tensor<?x40xf32>, %init: tensor<?x40xf32>) -> tensor<?x40xf32> {
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x40xf32>) outs(%init : tensor<?x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<?x40xf32>
  return %r : tensor<?x40xf32>
}

// A recorded cache panel becomes the outermost loop, around the row tiles.
// CHECK-LABEL: func.func @panel
// CHECK: scf.for %{{.+}} = %c0 to %c512 step %c128
// CHECK: scf.for %{{.+}} = %c0 to %{{.+}} step %c8
// CHECK: vector.contract
func.func @panel(%a: tensor<?x512xf32>, %b: tensor<512x512xf32>, %c: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %r = linalg.matmul {mlp.tile = {cache = array<i64: 0, 128, 0>, register = array<i64: 8, 32, 1>, source = "cost-model"}} ins(%a, %b : tensor<?x512xf32>, tensor<512x512xf32>) outs(%c : tensor<?x512xf32>) -> tensor<?x512xf32>
  return %r : tensor<?x512xf32>
}
