// RUN: mlp-opt %s -mlp-cpu-split-columns | FileCheck %s
// RUN: mlp-opt %s -mlp-cpu-split-columns=chunk=256 | FileCheck %s --check-prefix=WIDE

// A kernel of 512 output columns gets a variant computing 128 of them at a
// column offset: weights, bias and destination are sliced at that offset,
// the result goes back into the destination's columns.
// CHECK-LABEL: func.func private @k(
// CHECK-SAME: mlp.column_chunk = 128 : i64, mlp.column_count = 4 : i64, mlp.column_kernel = @k_columns
// CHECK-LABEL: func.func private @k_columns(
// CHECK-SAME: %[[B:.+]]: tensor<512xf32>, %[[D:.+]]: tensor<?x512xf32>, %[[X:.+]]: tensor<?x64xf32>, %[[W:.+]]: tensor<64x512xf32>, %[[C:.+]]: index)
// CHECK: %[[BS:.+]] = tensor.extract_slice %[[B]][%[[C]]] [128] [1]
// CHECK: %[[DS:.+]] = tensor.extract_slice %[[D]][0, %[[C]]] [%[[N:.+]], 128] [1, 1]
// CHECK: %[[BC:.+]] = linalg.broadcast ins(%[[BS]] : tensor<128xf32>) outs(%[[DS]] : tensor<?x128xf32>)
// CHECK: %[[WS:.+]] = tensor.extract_slice %[[W]][0, %[[C]]] [64, 128] [1, 1]
// CHECK: %[[MM:.+]] = linalg.matmul ins(%[[X]], %[[WS]] : tensor<?x64xf32>, tensor<64x128xf32>) outs(%[[BC]] : tensor<?x128xf32>)
// CHECK: %[[R:.+]] = linalg.generic {{.*}} outs(%[[MM]] : tensor<?x128xf32>)
// CHECK: %[[OUT:.+]] = tensor.insert_slice %[[R]] into %[[D]][0, %[[C]]] [%[[N]], 128] [1, 1]
// CHECK: return %[[OUT]]
// A kernel of one column has no variant.
// CHECK: func.func private @head({{.*}}) -> tensor<?x1xf32> attributes {mlp.kernel} {
// WIDE: mlp.column_count = 2 : i64
// Variants are made only for a module with a row-independent model (the
// only kind with a column-parallel entry).
#map = affine_map<(d0, d1) -> (d0, d1)>
module {
  func.func @model() attributes {mlp.model, mlp.rows_independent} {
    return
  }
  func.func private @k(%b: tensor<512xf32>, %d: tensor<?x512xf32>, %x: tensor<?x64xf32>, %w: tensor<64x512xf32>) -> tensor<?x512xf32> attributes {mlp.kernel} {
    %zero = arith.constant 0.0 : f32
    %bc = linalg.broadcast ins(%b : tensor<512xf32>) outs(%d : tensor<?x512xf32>) dimensions = [0]
    %mm = linalg.matmul ins(%x, %w : tensor<?x64xf32>, tensor<64x512xf32>) outs(%bc : tensor<?x512xf32>) -> tensor<?x512xf32>
    %r = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel"]} outs(%mm : tensor<?x512xf32>) {
    ^bb0(%out: f32):
      %m = arith.maximumf %out, %zero : f32
      linalg.yield %m : f32
    } -> tensor<?x512xf32>
    return %r : tensor<?x512xf32>
  }
  func.func private @head(%b: tensor<1xf32>, %d: tensor<?x1xf32>, %x: tensor<?x512xf32>, %w: tensor<512x1xf32>) -> tensor<?x1xf32> attributes {mlp.kernel} {
    %bc = linalg.broadcast ins(%b : tensor<1xf32>) outs(%d : tensor<?x1xf32>) dimensions = [0]
    %mm = linalg.matmul ins(%x, %w : tensor<?x512xf32>, tensor<512x1xf32>) outs(%bc : tensor<?x1xf32>) -> tensor<?x1xf32>
    return %mm : tensor<?x1xf32>
  }
}
