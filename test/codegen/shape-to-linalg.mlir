// RUN: mlp-opt %s -split-input-file -convert-mlp-to-linalg | FileCheck %s

// Each input is copied into its slice of the result with linalg.copy, so
// that bufferization writes every part in place.
// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[X:.+]]: tensor<?x3xf32>, %[[H:.+]]: tensor<?x8xf32>)
// CHECK: %[[E:.+]] = tensor.empty(%{{.+}}) : tensor<?x11xf32>
// CHECK: %[[S0:.+]] = tensor.extract_slice %[[E]][0, 0] [%{{.+}}, 3] [1, 1] : tensor<?x11xf32> to tensor<?x3xf32>
// CHECK: %[[C0:.+]] = linalg.copy ins(%[[X]] : tensor<?x3xf32>) outs(%[[S0]] : tensor<?x3xf32>)
// CHECK: %[[R0:.+]] = tensor.insert_slice %[[C0]] into %[[E]][0, 0] [%{{.+}}, 3] [1, 1]
// CHECK: %[[S1:.+]] = tensor.extract_slice %[[R0]][0, 3] [%{{.+}}, 8] [1, 1] : tensor<?x11xf32> to tensor<?x8xf32>
// CHECK: %[[C1:.+]] = linalg.copy ins(%[[H]] : tensor<?x8xf32>) outs(%[[S1]] : tensor<?x8xf32>)
// CHECK: %[[R1:.+]] = tensor.insert_slice %[[C1]] into %[[R0]][0, 3] [%{{.+}}, 8] [1, 1]
// CHECK: return %[[R1]]
func.func @concat(%x: tensor<?x3xf32>, %h: tensor<?x8xf32>) -> tensor<?x11xf32> {
  %a = mlp.concat %x, %h {axis = 1 : i64} : (tensor<?x3xf32>, tensor<?x8xf32>) -> tensor<?x11xf32>
  return %a : tensor<?x11xf32>
}

// -----

// Along a middle axis.
// CHECK-LABEL: func.func @concat_middle
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 0] [%{{.+}}, 2, 4] [1, 1, 1]
// CHECK: tensor.extract_slice %{{.+}}[0, 2, 0] [%{{.+}}, 3, 4] [1, 1, 1]
func.func @concat_middle(%x: tensor<?x2x4xf32>, %y: tensor<?x3x4xf32>) -> tensor<?x5x4xf32> {
  %a = mlp.concat %x, %y {axis = 1 : i64} : (tensor<?x2x4xf32>, tensor<?x3x4xf32>) -> tensor<?x5x4xf32>
  return %a : tensor<?x5x4xf32>
}
