// RUN: mlp-opt %s -convert-mlp-to-linalg -verify-diagnostics

func.func @f16(%x: tensor<?x4xf16>) -> tensor<?x4xf16> {
  // expected-error @+1 {{the CPU backend supports only f32 tensors, but 'mlp.relu' produces 'tensor<?x4xf16>'}}
  %y = mlp.relu %x : tensor<?x4xf16>
  return %y : tensor<?x4xf16>
}
