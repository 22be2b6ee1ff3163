//===- EmitSpatial.cpp - avg_pool2d and conv2d steps ----------------------===//
//
// Channels-last feature maps [N, H, W, C] (PoolFormer). avg_pool2d is one
// general kernel; conv2d is a linear layer over the channels when it is
// 1 x 1 with stride 1 and no padding, else convolution patches (im2col in
// the weight's (c, i, j) order) followed by a linear layer with the weight
// viewed as (O, C * KH * KW), so both run on the linear kernels.
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

LogicalResult ProgramBuilder::emitAvgPool(mlp::AvgPool2DOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  if (in.getRank() != 4 || !isBatchMatrix(in) || !isBatchMatrix(result))
    return op.emitError("the CUDA backend pools [N, H, W, C] feature maps "
                        "only");
  auto x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  const int64_t h = in.getDimSize(1), w = in.getDimSize(2),
                c = in.getDimSize(3), oh = result.getDimSize(1),
                ow = result.getDimSize(2);
  int out = defineResult(op.getResult());
  Step step;
  std::string name = newKernel("avg_pool2d " + std::to_string(op.getKernel()) +
                                   "x" + std::to_string(op.getKernel()),
                               step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  Arg work{Arg::Rows};
  work.perBatch = oh * ow * c;
  step.args = {{Arg::ValueRef, *x}, {Arg::ValueRef, out}, work};
  const char *it = cType(program.values[*x].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runAvgPool<" << it << ", " << ot << ", " << h << ", " << w
      << ", " << c << ", " << op.getKernel() << ", " << op.getStride() << ", "
      << op.getPadding() << ", " << oh << ", " << ow << ", "
      << (op.getCountIncludePad() ? "true" : "false") << ">(x, y, n);";
  addStep(step, params, body);
  return success();
}

LogicalResult ProgramBuilder::emitConv2D(mlp::Conv2DOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto wt = cast<RankedTensorType>(op.getWeight().getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  if (in.getRank() != 4 || !isBatchMatrix(in) || !isBatchMatrix(result) ||
      wt.getRank() != 4)
    return op.emitError("the CUDA backend convolves [N, H, W, C] feature "
                        "maps only");
  const int64_t h = in.getDimSize(1), w = in.getDimSize(2),
                c = in.getDimSize(3), o = wt.getDimSize(0),
                kh = wt.getDimSize(2), kw = wt.getDimSize(3),
                oh = result.getDimSize(1), ow = result.getDimSize(2);
  const int64_t stride = op.getStride(), padding = op.getPadding();
  auto conv =
      convolutionLayer(op, op.getWeight(), op.getBias(), c * kh * kw, o);
  if (failed(conv))
    return failure();
  Layer layer = *conv;
  // An activation that is the result's only user runs in the epilogue.
  if (layer.result.hasOneUse() && !outputIndex.count(layer.result)) {
    Operation *user = *layer.result.getUsers().begin();
    if (activationOf(user) >= 0) {
      layer.act = activationOf(user);
      layer.result = user->getResult(0);
      consumed.insert(user);
    }
  }
  // So do a layer scale and a residual add after it (MetaFormer blocks).
  Value residual = absorbScaleAndResidual(layer);
  if (kh == 1 && kw == 1 && stride == 1 && padding == 0) {
    layer.input = op.getInput(); // a linear layer over the channels
    return emitLinear(layer, residual);
  }
  auto x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  // Patch rows padded with zeros to a multiple of 8 halves keep the product
  // on the tensor cores (PoolFormer's stem: 3 x 7 x 7 = 147 features).
  const int64_t features = layer.in;
  if (precision != Precision::F32 && features % 8) {
    layer.in = (features + 7) / 8 * 8;
    layer.weightCols = features;
  }
  int patches = newTemp(oh * ow, layer.in);
  Step step;
  std::string name =
      newKernel("conv2d patches " + std::to_string(kh) + "x" +
                    std::to_string(kw) + " stride " + std::to_string(stride),
                step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 1; // the kernel's CTAs stage rows in shared memory
  Arg work{Arg::Rows};
  work.perBatch = oh * ow;
  step.args = {{Arg::ValueRef, *x}, {Arg::ValueRef, patches}, work};
  const char *it = cType(program.values[*x].dtype),
             *ot = cType(program.values[patches].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runConvPatches<" << it << ", " << ot << ", " << h << ", " << w
      << ", " << c << ", " << kh << ", " << kw << ", " << stride << ", "
      << padding << ", " << oh << ", " << ow << ", " << layer.in
      << ">(x, y, n);";
  addStep(step, params, body);
  layer.inputIndex = patches;
  return emitLinear(layer, residual);
}
