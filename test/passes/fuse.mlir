// RUN: mlp-opt %s -split-input-file -mlp-fuse | FileCheck %s

// linear + bias + GELU + residual add + per-channel scale: one epilogue group.
// CHECK-LABEL: func.func @epilogue
// CHECK: %[[G:.+]] = mlp.fused "epilogue" : tensor<?x16xf32> {
// CHECK-NEXT: %[[L:.+]] = mlp.linear
// CHECK-NEXT: %[[A:.+]] = mlp.gelu %[[L]]
// CHECK-NEXT: %[[R:.+]] = mlp.add %arg0, %[[A]]
// CHECK-NEXT: %[[S:.+]] = mlp.mul %[[R]], %{{.+}}
// CHECK-NEXT: mlp.yield %[[S]] : tensor<?x16xf32>
// CHECK: return %[[G]]
func.func @epilogue(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %w = mlp.param "fc.weight" : tensor<16x16xf32>
  %b = mlp.param "fc.bias" : tensor<16xf32>
  %g = mlp.param "scale" : tensor<16xf32>
  %0 = mlp.linear %x, %w, %b : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %1 = mlp.gelu %0 : tensor<?x16xf32>
  %2 = mlp.add %x, %1 : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  %3 = mlp.mul %2, %g : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  return %3 : tensor<?x16xf32>
}

// -----

// A value used twice ends the group before its second user.
// CHECK-LABEL: func.func @used_twice
// CHECK: %[[G:.+]] = mlp.fused "epilogue" : tensor<?x16xf32> {
// CHECK-NEXT: mlp.linear
// CHECK-NEXT: %[[A:.+]] = mlp.relu
// CHECK-NEXT: mlp.yield %[[A]]
// CHECK: mlp.mul %[[G]], %[[G]]
func.func @used_twice(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %w = mlp.param "fc.weight" : tensor<16x16xf32>
  %0 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %1 = mlp.relu %0 : tensor<?x16xf32>
  %2 = mlp.mul %1, %1 : tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  return %2 : tensor<?x16xf32>
}

// -----

// The linear's result is also an output: nothing fuses.
// CHECK-LABEL: func.func @linear_used_twice
// CHECK-NOT: mlp.fused
// CHECK: mlp.linear
// CHECK: mlp.relu
func.func @linear_used_twice(%x: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %w = mlp.param "fc.weight" : tensor<16x16xf32>
  %0 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %1 = mlp.relu %0 : tensor<?x16xf32>
  return %0, %1 : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// Shapes that do not allow it: an operand broadcast along the rows
// ([?, 1]) is neither per-channel nor the result's shape.
// CHECK-LABEL: func.func @row_broadcast
// CHECK-NOT: mlp.fused
func.func @row_broadcast(%x: tensor<?x16xf32>, %s: tensor<?x1xf32>) -> tensor<?x16xf32> {
  %w = mlp.param "fc.weight" : tensor<16x16xf32>
  %0 = mlp.linear %x, %w : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %1 = mlp.mul %0, %s : tensor<?x16xf32>, tensor<?x1xf32> -> tensor<?x16xf32>
  return %1 : tensor<?x16xf32>
}

// -----

// A narrow MLP: one chain of epilogue groups (the last linear alone).
// CHECK-LABEL: func.func @narrow_chain
// CHECK: %[[C:.+]] = mlp.fused "chain" : tensor<?x16xf32> {
// CHECK: %[[A:.+]] = mlp.fused "epilogue" : tensor<?x64xf32> {
// CHECK: mlp.relu
// CHECK: %[[B:.+]] = mlp.fused "epilogue" : tensor<?x64xf32> {
// CHECK: mlp.linear %[[A]]
// CHECK: %[[O:.+]] = mlp.fused "epilogue" : tensor<?x16xf32> {
// CHECK-NEXT: %[[L:.+]] = mlp.linear %[[B]]
// CHECK-NEXT: mlp.yield %[[L]]
// CHECK: mlp.yield %[[O]]
// CHECK: return %[[C]]
func.func @narrow_chain(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  %w0 = mlp.param "fc0.weight" : tensor<64x32xf32>
  %w1 = mlp.param "fc1.weight" : tensor<64x64xf32>
  %w2 = mlp.param "fc2.weight" : tensor<16x64xf32>
  %0 = mlp.linear %x, %w0 : (tensor<?x32xf32>, tensor<64x32xf32>) -> tensor<?x64xf32>
  %1 = mlp.relu %0 : tensor<?x64xf32>
  %2 = mlp.linear %1, %w1 : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %3 = mlp.relu %2 : tensor<?x64xf32>
  %4 = mlp.linear %3, %w2 : (tensor<?x64xf32>, tensor<16x64xf32>) -> tensor<?x16xf32>
  return %4 : tensor<?x16xf32>
}

// -----

// Wider than chain-width: epilogues only, no chain.
// CHECK-LABEL: func.func @wide_no_chain
// CHECK-NOT: "chain"
// CHECK: mlp.fused "epilogue"
// CHECK-NOT: "chain"
func.func @wide_no_chain(%x: tensor<?x128xf32>) -> tensor<?x512xf32> {
  %w0 = mlp.param "fc0.weight" : tensor<512x128xf32>
  %w1 = mlp.param "fc1.weight" : tensor<512x512xf32>
  %0 = mlp.linear %x, %w0 : (tensor<?x128xf32>, tensor<512x128xf32>) -> tensor<?x512xf32>
  %1 = mlp.relu %0 : tensor<?x512xf32>
  %2 = mlp.linear %1, %w1 : (tensor<?x512xf32>, tensor<512x512xf32>) -> tensor<?x512xf32>
  return %2 : tensor<?x512xf32>
}

// -----

// MLP-Mixer's token mixing: the transposes, both linears with their
// epilogues and the residual add form one group.
// CHECK-LABEL: func.func @token_mixing
// CHECK: %[[T:.+]] = mlp.fused "token_mixing" : tensor<?x6x8xf32> {
// CHECK-NEXT: %[[X:.+]] = mlp.transpose %arg0 [0, 2, 1]
// CHECK-NEXT: %[[A:.+]] = mlp.fused "epilogue" : tensor<?x8x12xf32> {
// CHECK-NEXT: mlp.linear %[[X]]
// CHECK-NEXT: mlp.gelu
// CHECK: %[[B:.+]] = mlp.fused "epilogue" : tensor<?x8x6xf32> {
// CHECK-NEXT: %[[L:.+]] = mlp.linear %[[A]]
// CHECK-NEXT: mlp.yield %[[L]]
// CHECK: %[[Y:.+]] = mlp.transpose %[[B]] [0, 2, 1]
// CHECK-NEXT: %[[R:.+]] = mlp.add %arg0, %[[Y]]
// CHECK-NEXT: mlp.yield %[[R]]
// CHECK: return %[[T]]
func.func @token_mixing(%x: tensor<?x6x8xf32>) -> tensor<?x6x8xf32> {
  %w1 = mlp.param "fc1.weight" : tensor<12x6xf32>
  %b1 = mlp.param "fc1.bias" : tensor<12xf32>
  %w2 = mlp.param "fc2.weight" : tensor<6x12xf32>
  %b2 = mlp.param "fc2.bias" : tensor<6xf32>
  %0 = mlp.transpose %x [0, 2, 1] : tensor<?x6x8xf32> -> tensor<?x8x6xf32>
  %1 = mlp.linear %0, %w1, %b1 : (tensor<?x8x6xf32>, tensor<12x6xf32>, tensor<12xf32>) -> tensor<?x8x12xf32>
  %2 = mlp.gelu %1 : tensor<?x8x12xf32>
  %3 = mlp.linear %2, %w2, %b2 : (tensor<?x8x12xf32>, tensor<6x12xf32>, tensor<6xf32>) -> tensor<?x8x6xf32>
  %4 = mlp.transpose %3 [0, 2, 1] : tensor<?x8x6xf32> -> tensor<?x6x8xf32>
  %5 = mlp.add %x, %4 : tensor<?x6x8xf32>, tensor<?x6x8xf32> -> tensor<?x6x8xf32>
  return %5 : tensor<?x6x8xf32>
}

// -----

// A transpose whose result is also used elsewhere is not folded: no
// token-mixing group (the linear still gets its epilogue).
// CHECK-LABEL: func.func @transpose_used_twice
// CHECK-NOT: "token_mixing"
// CHECK: mlp.transpose
// CHECK: mlp.fused "epilogue"
// CHECK-NOT: "token_mixing"
func.func @transpose_used_twice(%x: tensor<?x6x8xf32>) -> (tensor<?x8x6xf32>, tensor<?x6x8xf32>) {
  %w1 = mlp.param "fc1.weight" : tensor<6x6xf32>
  %0 = mlp.transpose %x [0, 2, 1] : tensor<?x6x8xf32> -> tensor<?x8x6xf32>
  %1 = mlp.linear %0, %w1 : (tensor<?x8x6xf32>, tensor<6x6xf32>) -> tensor<?x8x6xf32>
  %2 = mlp.relu %1 : tensor<?x8x6xf32>
  %3 = mlp.transpose %2 [0, 2, 1] : tensor<?x8x6xf32> -> tensor<?x6x8xf32>
  return %0, %3 : tensor<?x8x6xf32>, tensor<?x6x8xf32>
}

// -----

// A transpose of other axes is no token mixing.
// CHECK-LABEL: func.func @other_axes
// CHECK-NOT: "token_mixing"
func.func @other_axes(%x: tensor<?x6x8xf32>) -> tensor<?x8x6xf32> {
  %w1 = mlp.param "fc1.weight" : tensor<6x6xf32>
  %0 = mlp.transpose %x [1, 0, 2] : tensor<?x6x8xf32> -> tensor<6x?x8xf32>
  %1 = mlp.transpose %0 [1, 2, 0] : tensor<6x?x8xf32> -> tensor<?x8x6xf32>
  %2 = mlp.linear %1, %w1 : (tensor<?x8x6xf32>, tensor<6x6xf32>) -> tensor<?x8x6xf32>
  return %2 : tensor<?x8x6xf32>
}
