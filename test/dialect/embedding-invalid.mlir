// RUN: mlp-opt %s -split-input-file -verify-diagnostics

func.func @embedding_float_ids(%ids: tensor<?xf32>, %table: tensor<10x4xf32>) {
  // Type constraints reject this while parsing, so use the generic form.
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %e = "mlp.embedding"(%ids, %table) : (tensor<?xf32>, tensor<10x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @embedding_table_rank(%ids: tensor<?xi64>, %table: tensor<40xf32>) {
  // expected-error @+1 {{embedding table must have a static shape (vocabulary, dim), got [40]}}
  %e = mlp.embedding %ids, %table : (tensor<?xi64>, tensor<40xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @embedding_result(%ids: tensor<?x3xi64>, %table: tensor<10x4xf32>) {
  // expected-error @+1 {{result shape [?, 4] should be [?, 3, 4]}}
  %e = mlp.embedding %ids, %table : (tensor<?x3xi64>, tensor<10x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @embedding_element_type(%ids: tensor<?xi64>, %table: tensor<10x4xf32>) {
  // expected-error @+1 {{result element type 'f16' differs from the table element type 'f32'}}
  %e = mlp.embedding %ids, %table : (tensor<?xi64>, tensor<10x4xf32>) -> tensor<?x4xf16>
  return
}

// -----

func.func @padding_mask_shape(%ids: tensor<?x3xi64>) {
  // expected-error @+1 {{result shape [?, 4] should be [?, 3]}}
  %m = mlp.padding_mask %ids : tensor<?x3xi64> -> tensor<?x4xf32>
  return
}
