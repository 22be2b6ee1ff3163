// One scale parameter on both pairs of linears: slicing it for one pair would
// break the other (used by prune-skip.mlir).
func.func @shared(%x: tensor<?x8xf32> {mlp.name = "x"}) -> (tensor<?x4xf32> {mlp.name = "y"}) attributes {mlp.model} {
  %w1 = mlp.param "shared.fc1.weight" : tensor<16x8xf32>
  %h1 = mlp.linear %x, %w1 : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  %g = mlp.param "shared.gamma" : tensor<16xf32>
  %s1 = mlp.mul %h1, %g : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  %a1 = mlp.relu %s1 : tensor<?x16xf32>
  %w2 = mlp.param "shared.fc2.weight" : tensor<16x16xf32>
  %h2 = mlp.linear %a1, %w2 : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %s2 = mlp.mul %h2, %g : tensor<?x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
  %a2 = mlp.relu %s2 : tensor<?x16xf32>
  %w3 = mlp.param "shared.fc3.weight" : tensor<4x16xf32>
  %y = mlp.linear %a2, %w3 : (tensor<?x16xf32>, tensor<4x16xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
