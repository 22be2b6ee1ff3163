// RUN: mlp-opt %s | FileCheck %s
// Round trip: the printed form parses back to the same IR.
// RUN: mlp-opt %s | mlp-opt | FileCheck %s

// CHECK-LABEL: func.func @embedding
func.func @embedding(%ids: tensor<?xi64>, %seq: tensor<?x50xi32>, %table: tensor<100x16xf32>) -> (tensor<?x16xf32>, tensor<?x50x16xf32>, tensor<?x50xf32>) {
  // CHECK: mlp.embedding %{{.+}}, %{{.+}} : (tensor<?xi64>, tensor<100x16xf32>) -> tensor<?x16xf32>
  %e = mlp.embedding %ids, %table : (tensor<?xi64>, tensor<100x16xf32>) -> tensor<?x16xf32>
  // CHECK: mlp.embedding %{{.+}}, %{{.+}} : (tensor<?x50xi32>, tensor<100x16xf32>) -> tensor<?x50x16xf32>
  %s = mlp.embedding %seq, %table : (tensor<?x50xi32>, tensor<100x16xf32>) -> tensor<?x50x16xf32>
  // CHECK: mlp.padding_mask %{{.+}} : tensor<?x50xi32> -> tensor<?x50xf32>
  %m = mlp.padding_mask %seq : tensor<?x50xi32> -> tensor<?x50xf32>
  return %e, %s, %m : tensor<?x16xf32>, tensor<?x50x16xf32>, tensor<?x50xf32>
}
