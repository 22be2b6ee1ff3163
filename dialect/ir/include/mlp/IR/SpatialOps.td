//===- SpatialOps.td - convolution and pooling on images ---*- tablegen -*-===//
//
// Included from MLPOps.td: 2-D ops on channels-last (N, H, W, C) feature
// maps, as the hierarchical vision models (PoolFormer) use them after their
// stem. Weights keep PyTorch's layout.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_IR_SPATIALOPS_TD
#define MLP_IR_SPATIALOPS_TD

def MLP_Conv2DOp : MLP_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution of a channels-last feature map";
  let description = [{
    `torch.nn.Conv2d(C, O, (kh, kw), stride, padding)` on a channels-last
    input (N, H, W, C): the result is (N, OH, OW, O) with
    `OH = (H + 2 padding - kh) / stride + 1` (rounded down) and OW alike,
    `y[n, oh, ow, o] = bias[o] + sum_{c, i, j} W[o, c, i, j]
    x[n, oh stride + i - padding, ow stride + j - padding, c]`, positions
    outside the input reading zero. `weight` has PyTorch's (O, C, kh, kw)
    layout as stored; `bias` (O) is optional.

    ```mlir
    %y = mlp.conv2d %x, %w, %b {stride = 2 : i64, padding = 1 : i64}
        : (tensor<?x56x56x64xf32>, tensor<128x64x3x3xf32>, tensor<128xf32>)
          -> tensor<?x28x28x128xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, MLP_FloatTensor:$weight,
                       Optional<MLP_FloatTensor>:$bias, I64Attr:$stride,
                       I64Attr:$padding);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def MLP_AvgPool2DOp : MLP_Op<"avg_pool2d", [Pure]> {
  let summary = "2-D average pooling of a channels-last feature map";
  let description = [{
    `torch.nn.AvgPool2d(kernel, stride, padding, count_include_pad)` on
    (N, H, W, C): each output is the mean of its kernel x kernel window,
    `OH = (H + 2 padding - kernel) / stride + 1` (rounded down). With
    `count_include_pad = false` (PoolFormer) the mean is over the positions
    inside the input only (4 at a corner, 6 on an edge, 9 inside for a 3 x 3
    window with padding 1); with `true`, over the whole window.

    ```mlir
    %y = mlp.avg_pool2d %x {kernel = 3 : i64, stride = 1 : i64, padding = 1 : i64,
                            count_include_pad = false}
        : tensor<?x56x56x64xf32> -> tensor<?x56x56x64xf32>
    ```
  }];
  let arguments = (ins MLP_FloatTensor:$input, I64Attr:$kernel,
                       I64Attr:$stride, I64Attr:$padding,
                       BoolAttr:$count_include_pad);
  let results = (outs MLP_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // MLP_IR_SPATIALOPS_TD
