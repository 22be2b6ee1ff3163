//===- EmitMatmul.cpp - linear layers: narrow chains and GEMMs ------------===//
//
//  - f16/bf16: maximal chains of narrow layers (linear [+ bias] [+ activation],
//    every width <= 256) become one tensor-core kernel whose activations stay
//    in registers (ProgramBuilder::build forms the chains);
//  - any other linear: one kernel with its bias, activation and a following
//    residual add fused into the epilogue;
//  - patch_embed: im2col, then a linear layer.
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

LogicalResult ProgramBuilder::emitChain(std::vector<Layer> &layers) {
  const char *t = cType(computeDtype(precision));
  const uint64_t elem = 2;
  Image image;
  std::string layerTypes;
  int64_t widest = 0;
  // 16-byte fragment loads and stores where the tensors allow them: the
  // first layer's columns and the last layer's rows are permuted to match.
  auto in0 = valueOf(layers.front().input, layers.front().linear);
  if (failed(in0))
    return failure();
  const std::string compute = computeDtype(precision);
  const std::string outType =
      outputIndex.count(layers.back().result)
          ? kernelDtypeName(
                cast<RankedTensorType>(layers.back().result.getType())
                    .getElementType())
          : compute;
  const bool vecIn =
      layers.front().in % 16 == 0 && program.values[*in0].dtype == compute;
  const bool vecOut = layers.back().out % 16 == 0 && outType == compute;
  for (Layer &l : layers) {
    uint64_t weightOffset = alignTo128(image.bytes);
    ImagePiece w{l.weight,     computeDtype(precision),
                 l.out,        l.in,
                 pad16(l.out), pad16(l.in),
                 weightOffset, ImagePiece::CoreMatrices};
    w.transposed = l.weightTransposed;
    l.foldInputAffine(w);
    const bool first = &l == &layers.front(), last = &l == &layers.back();
    if (first && vecIn)
      w.colPerm = ImagePiece::AFragments;
    if (last && vecOut)
      w.rowPerm = ImagePiece::CFragments;
    image.pieces.push_back(w);
    image.bytes = alignTo16(weightOffset + w.paddedRows * w.rowStride * elem);
    wgmmaShapes.insert({t, pad16(l.out)});
    uint64_t biasOffset = 0;
    if (!l.bias.empty()) {
      biasOffset = image.bytes;
      ImagePiece b{l.bias, "float32", 1, l.out, 1, pad16(l.out), biasOffset};
      l.foldInputAffineIntoBias(b);
      if (last && vecOut)
        b.colPerm = ImagePiece::CFragments;
      image.pieces.push_back(b);
      image.bytes = alignTo16(biasOffset + pad16(l.out) * 4);
    }
    layerTypes +=
        (layerTypes.empty() ? "" : ",\n    ") +
        ("mlpc::ChainLayer<" + llvm::Twine(l.in) + ", " + llvm::Twine(l.out) +
         ", " + llvm::Twine(l.act) + ", " +
         (l.bias.empty() ? "false" : "true") + ", " +
         llvm::Twine(weightOffset) + ", " + llvm::Twine(biasOffset) + ", " +
         llvm::Twine((first && vecIn ? 1 : 0) | (last && vecOut ? 2 : 0)) + ">")
            .str();
    widest = std::max({widest, l.in, l.out});
  }
  auto in = in0;
  int out = defineResult(layers.back().result);
  // Two m16 row tiles per warp reuse each weight fragment twice where the
  // registers allow it (accumulators of a 256-wide layer fill them alone).
  const int mt = tuning.chainRowTiles ? tuning.chainRowTiles
                 : widest <= 128      ? 2
                                      : 1;
  // Tiles of inputs loaded ahead: one hides the loads behind the layers of
  // all but the narrowest chains.
  const int ahead = tuning.chainPrefetch ? tuning.chainPrefetch : 1;
  Step step;
  // Measured on H200 (bench/gpu_bench.py variants): four warpgroups per CTA
  // for the memory-bound chains of width 32 or less (with the input ring
  // below), three for narrow chains, two once the registers of wide layers
  // limit them.
  step.threads = tuning.chainThreads ? tuning.chainThreads
                 : widest <= 32      ? 512
                 : widest <= 64      ? 384
                                     : 256;
  std::string name =
      newKernel("chain of " + std::to_string(layers.size()) +
                    (layers.size() == 1 ? " linear layer" : " linear layers"),
                step);
  step.sharedBytes = image.bytes;
  step.grid = Step::Persistent;
  step.rowsPerCta = (step.threads / 32) * mt * 16;
  step.earlyLaunch = tuning.earlyLaunch;
  // The input ring (sm_90a; whole 16-bit rows of the kVecIn layout): three
  // tiles a warpgroup for chains of width 32 or less, which are bound by
  // memory bandwidth (W = 32 at 2^20: 36.3 against 33.9 G points/s without;
  // slower for W = 64 and 128: H200, bench/RESULTS.md).
  const Layer &l0 = layers.front();
  const int ringWanted = tuning.chainRing >= 0 ? tuning.chainRing
                         : widest <= 32        ? 3
                                               : 0;
  const int ring = ringWanted > 0 && vecIn && l0.in % 16 == 0 &&
                           dtypeBytes(program.values[*in].dtype) == 2
                       ? ringWanted
                       : 0;
  step.sharedBytes += uint64_t(ring) * (step.threads / 128) * 64 * l0.in * 2;
  program.images.push_back(image);
  step.args = {{Arg::ValueRef, *in},
               {Arg::ValueRef, out},
               {Arg::ImageRef, static_cast<int>(program.images.size() - 1)},
               rowsOf(*in)};
  const auto &inV = program.values[*in], &outV = program.values[out];
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what << ": " << layers.front().in;
  for (Layer &l : layers)
    os << " -> " << l.out;
  if (!layers.front().inputAlpha.empty())
    os << " (the input's affine map folded into the first weights and bias)";
  os << "\nextern \"C\" __global__ void __launch_bounds__(" << step.threads;
  if (tuning.chainMinCtas)
    os << ", " << tuning.chainMinCtas;
  os << ")\n"
     << name << "(const " << cType(inV.dtype) << " *x, " << cType(outV.dtype)
     << " *y, const uint4 *image, long long rows) {\n  mlpc::runChain<" << t
     << ", " << cType(inV.dtype) << ", " << cType(outV.dtype) << ", " << mt
     << ", " << image.bytes << ", " << ahead << ", " << ring << ", "
     << (tuning.earlyLaunch ? "true" : "false") << ",\n    " << layerTypes
     << ">(x, y, image, rows);\n}\n";
  program.steps.push_back(step);
  return success();
}

LogicalResult ProgramBuilder::emitLinear(Layer l, Value residual) {
  std::string wt = computeDtype(precision);
  auto in = l.inputIndex >= 0 ? FailureOr<int>(l.inputIndex)
                              : valueOf(l.input, l.linear);
  if (failed(in))
    return failure();
  int resid = -1;
  if (residual) {
    auto r = valueOf(residual, l.linear);
    if (failed(r))
      return failure();
    resid = *r;
  }
  // Tensor cores (wgmma on sm_90a) where the operands allow 16-byte copies.
  // (rows of K % 8 == 4 elements load in 8-byte pieces: MLP-Mixer B/16's
  // 196 tokens.)
  const bool tensorCores = precision != Precision::F32 && l.in % 4 == 0 &&
                           l.out >= 64 && program.values[*in].dtype == wt;
  // cuBLASLt as well where rows are 16-byte aligned (K = 196 ran at 39
  // TFLOP/s there, H200) and its epilogues compute the layer (below).
  const bool libraryShape =
      tuning.cublasLt && tensorCores && l.in % 8 == 0 && l.out % 8 == 0;
  // An exact GELU (cuBLASLt's is the tanh one) read only through slices
  // whose readers apply it as they load (gMLP's gate) is left to them:
  // cuBLASLt's product then needs no pass over the hidden tensor after it.
  if (l.act == 2 && !residual && l.scale.empty() && libraryShape &&
      l.result != l.linear->getResult(0) && readersTakeActivation(l.result)) {
    deferredActivations[l.result] = {l.linear->getResult(0), l.act};
    l.result = l.linear->getResult(0);
    l.act = 0;
  }
  Value result = l.result;
  if (residual)
    result = (*l.result.getUsers().begin())->getResult(0);
  int out = defineResult(result);
  // The warp-specialized ping-pong kernel (sm_90a, TMA, 16-bit outputs;
  // below) hides most of an exact GELU epilogue behind the other tile's
  // wgmmas: 228 us against cuBLASLt's 198 us product plus a 73 us pass over
  // y (16384 x 1024 -> 4096, H200): such layers get no cuBLASLt description.
  const bool pingPong = tensorCores && tuning.gemmPingPong &&
                        tuning.gemmTma && l.in % 8 == 0 &&
                        dtypeBytes(program.values[out].dtype) == 2;
  // cuBLASLt adds C, the residual, before the activation; the exact GELU
  // runs after it in place.
  const bool library =
      libraryShape && !(pingPong && l.act == 2) &&
      (l.act == 0 || (l.act >= 1 && l.act <= 3 && !residual));
  // A layer scale after no activation folds into the weights and the bias
  // (for the kernel too, which then reads the same image).
  std::string foldedScale;
  if (library && l.act == 0)
    std::swap(foldedScale, l.scale);
  const bool gemmOk = library && l.scale.empty();

  Image image;
  ImagePiece weightPiece{
      l.weight, wt, l.out, l.weightCols ? l.weightCols : l.in, l.out, l.in, 0};
  weightPiece.transposed = l.weightTransposed;
  weightPiece.rowScale = foldedScale;
  l.foldInputAffine(weightPiece);
  image.pieces.push_back(weightPiece);
  image.bytes = alignTo16(l.out * l.in * dtypeBytes(wt));
  auto addBias = [&](StringRef dtype) {
    uint64_t offset = image.bytes;
    ImagePiece piece{l.bias, dtype.str(), 1, l.out, 1, l.out, offset};
    piece.colScale = foldedScale;
    l.foldInputAffineIntoBias(piece);
    image.pieces.push_back(piece);
    image.bytes = alignTo16(offset + l.out * dtypeBytes(dtype));
    return offset;
  };
  uint64_t biasOffset = l.bias.empty() ? 0 : addBias("float32");
  uint64_t scaleOffset = 0;
  if (!l.scale.empty()) {
    scaleOffset = image.bytes;
    image.pieces.push_back(
        {l.scale, "float32", 1, l.out, 1, l.out, scaleOffset});
    image.bytes = alignTo16(scaleOffset + l.out * 4);
  }
  std::optional<LibraryGemm> gemm;
  if (gemmOk) {
    gemm.emplace();
    gemm->x = *in;
    gemm->y = out;
    gemm->residual = resid;
    gemm->image = static_cast<int>(program.images.size());
    gemm->k = l.in;
    gemm->n = l.out;
    // cuBLASLt's bias has y's type.
    if (!l.bias.empty())
      gemm->biasOffset =
          static_cast<int64_t>(addBias(program.values[out].dtype));
    gemm->activation = l.act == 1   ? LibraryGemm::Relu
                       : l.act == 2 ? LibraryGemm::Gelu
                       : l.act == 3 ? LibraryGemm::GeluTanh
                                    : LibraryGemm::None;
  }
  Step step;
  std::string name = newKernel(
      "linear " + std::to_string(l.in) + " -> " + std::to_string(l.out), step);
  step.threads = 256;
  step.grid = Step::RowTiles;
  step.rowsPerCta = tensorCores ? 128 : 64;
  // Two configurations (measured on H200, bench/RESULTS.md):
  //  - pair: 128-wide tiles, 3 stages loaded 2 steps ahead, each step waiting
  //    for its own wgmma; two CTAs share an SM, so one's epilogue and waits
  //    overlap the other's main loop. For short reductions, and where
  //    256-wide tiles would compute more padding columns than 128-wide ones
  //    (N = 384: 512 vs 384).
  //  - wide: 256-wide tiles, 4 stages loaded 2 steps ahead with one wgmma in
  //    flight, one CTA per SM: long reductions (fewer bytes per FLOP).
  auto padded = [&](int64_t bn) { return (l.out + bn - 1) / bn * bn; };
  bool pair = l.in <= kGemmShortK || padded(256) > padded(128);
  if (tuning.gemmKernel == 3 || tuning.gemmKernel == 4)
    pair = tuning.gemmKernel == 3;
  // The ping-pong kernel runs wherever the TMA can read the tensors; its
  // tiles are 128 x 128, so the tensor maps' boxes are too, and the kernel
  // for the other cases is the pair configuration.
  if (pingPong)
    pair = true;
  // In the pair configuration the epilogue also goes through shared memory
  // (16-byte stores of whole rows): 7 % faster there; with the wide tiles
  // and one CTA per SM its extra barriers cost 18 % (H200, bench/RESULTS.md).
  const bool deep = pair && tuning.gemmKernel != 1;
  const bool staged = deep;
  const int64_t colsPerCta = !tensorCores ? 64 : pair ? 128 : 256;
  const int stages = pair ? 3 : 4;
  step.gridY = (l.out + colsPerCta - 1) / colsPerCta;
  if (tensorCores) { // 128 x 64 + BN x 64 halves a stage, + 1 KiB alignment
    step.sharedBytes = stages * (128 + colsPerCta) * 64 * 2 + 1024;
    wgmmaSSShapes.insert({cType(wt), colsPerCta});
  }
  // The Tensor Memory Accelerator loads the tiles where rows are 16-byte
  // multiples (its strides must be); the kernel keeps its cp.async path for
  // when the runtime cannot describe the tensors (an unaligned caller
  // tensor, a GPU before Hopper).
  const bool tma = tensorCores && tuning.gemmTma && l.in % 8 == 0;
  program.images.push_back(image);
  const int imageIndex = static_cast<int>(program.images.size() - 1);
  step.args.clear();
  if (tma) {
    Arg mapX{Arg::TensorMap, *in};
    mapX.perBatch = program.values[*in].rowsPerBatch;
    mapX.cols = l.in;
    mapX.boxRows = 128;
    Arg mapW{Arg::TensorMap, imageIndex};
    mapW.ofImage = true;
    mapW.perBatch = l.out;
    mapW.cols = l.in;
    mapW.boxRows = colsPerCta;
    step.args = {mapX, mapW, {Arg::TmaReady}};
  }
  for (Arg a : {Arg{Arg::ValueRef, *in}, Arg{Arg::ImageRef, imageIndex},
                Arg{Arg::ValueRef, resid >= 0 ? resid : out},
                Arg{Arg::ValueRef, out}, rowsOf(*in)})
    step.args.push_back(a);
  const auto &inV = program.values[*in], &outV = program.values[out];
  if (resid >= 0 && program.values[resid].dtype != outV.dtype)
    return l.linear->emitError("the CUDA backend needs a residual of the "
                               "output's element type");
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what << (l.scale.empty() ? "" : " * scale")
     << (residual ? " + residual" : "");
  if (!foldedScale.empty())
    os << " (layer scale folded into the weights)";
  if (!l.inputAlpha.empty())
    os << " (the input's affine map folded into the weights and bias)";
  std::string after; // the kernel after cuBLASLt, if any
  if (gemm) {
    static const char *acts[] = {"none", "relu", "gelu_tanh",
                                 "gelu (exact, after it)"};
    os << "\n// cuBLASLt when the runtime has it: activation "
       << acts[gemm->activation] << (l.bias.empty() ? "" : ", bias")
       << (residual ? ", C = residual" : "");
    if (gemm->activation == LibraryGemm::Gelu) {
      gemm->afterKernel = name + "_gelu";
      after = exactGeluAfter(gemm->afterKernel, cType(outV.dtype));
    }
  }
  step.gemm = gemm;
  // The kernel's parameters (the ping-pong form's too) and the template
  // arguments both tensor-core kernels start with.
  std::string params, layer;
  llvm::raw_string_ostream(params)
      << (tma ? "const __grid_constant__ mlpc::TensorMap mapX, "
                "const __grid_constant__ mlpc::TensorMap mapW, int tma, "
              : "")
      << "const " << cType(inV.dtype) << " *x, const unsigned char *image, const "
      << cType(outV.dtype) << " *r, " << cType(outV.dtype) << " *y, long long rows";
  llvm::raw_string_ostream(layer)
      << cType(wt) << ", " << cType(outV.dtype) << ", " << l.in << ", " << l.out
      << ", " << l.act << ", " << (l.bias.empty() ? "false" : "true") << ", "
      << (residual ? "true" : "false");
  os << "\nextern \"C\" __global__ void __launch_bounds__(256)\n" << name
     << "(" << params << ") {\n  " << waitFirst(step);
  std::string kernelCall;
  if (tensorCores)
    llvm::raw_string_ostream(kernelCall)
        << "mlpc::runGemm<" << layer << ", " << stages << ", "
        << colsPerCta << ", " << (deep ? "true" : "false") << ", "
        << (l.scale.empty() ? "false" : "true") << ", "
        << (staged ? "true" : "false");
  std::string callArgs = "(x, image, r, y, rows, " + std::to_string(biasOffset);
  if (!l.scale.empty())
    callArgs += (tensorCores ? ", " : ", -1, -1, ") + std::to_string(scaleOffset);
  if (tma)
    os << "if (tma)\n    " << kernelCall << ", true>" << callArgs
       << (l.scale.empty() ? ", 0" : "") << ", &mapX, &mapW);\n  else\n    ";
  if (tensorCores)
    os << kernelCall;
  else
    os << "mlpc::runLinear<" << cType(inV.dtype) << ", " << cType(wt) << ", "
       << cType(outV.dtype) << ", " << l.in << ", " << l.out << ", " << l.act
       << ", " << (l.bias.empty() ? "false" : "true") << ", "
       << (residual ? "true" : "false") << (l.scale.empty() ? "" : ", true");
  os << ">" << callArgs << ");\n}\n" << after;
  if (pingPong) { // (which implies tma)
    // Four stages of 128 x 64 + 128 x 64 halves, two staged 128 x (128 + 8)
    // output tiles, 1 KiB alignment slack.
    constexpr int kStages = 4;
    StepVariant v;
    v.kernel = name + "_ping_pong";
    v.threads = 384;
    v.sharedBytes = kStages * 256 * 64 * 2 + 2 * 128 * 136 * 2 + 1024;
    v.colTiles = (l.out + 127) / 128;
    os << "\n// the same, warp-specialized (ping-pong), where the TMA reads it\n"
       << "extern \"C\" __global__ void __launch_bounds__(384, 1)\n"
       << v.kernel << "(" << params << ") {\n  " << waitFirst(step)
       << "mlpc::runGemmPingPong<" << layer << ", " << kStages << ", "
       << (l.scale.empty() ? "false" : "true") << ">(image, r, y, rows, "
       << biasOffset << ", " << (l.scale.empty() ? 0 : scaleOffset)
       << ", &mapX, &mapW);\n}\n";
    step.pingPong = v;
  }
  program.steps.push_back(step);
  return success();
}

/// patch_embed = im2col into [N * patches, C * ph * pw] + a linear layer
/// with the convolution weight viewed as (D, C * ph * pw).
LogicalResult ProgramBuilder::emitPatchEmbed(mlp::PatchEmbedOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  auto wtype = cast<RankedTensorType>(op.getWeight().getType());
  if (!type || type.getRank() != 4 || !isBatchMatrix(type))
    return op.emitError("the CUDA backend needs an [N, C, H, W] image");
  const int64_t c = type.getDimSize(1), h = type.getDimSize(2),
                w = type.getDimSize(3), d = wtype.getDimSize(0),
                ph = wtype.getDimSize(2), pw = wtype.getDimSize(3);
  const int64_t patches = (h / ph) * (w / pw), k = c * ph * pw;
  auto in = valueOf(op.getInput(), op);
  if (failed(in))
    return failure();
  int cols = newTemp(patches, k);
  Step step;
  std::string name = newKernel("im2col of " + std::to_string(ph) + "x" +
                                   std::to_string(pw) + " patches",
                               step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  if (w % 4 != 0 || pw % 4 != 0)
    return op.emitError("the CUDA backend needs the image width and the patch "
                        "width to be multiples of 4");
  Arg work{Arg::Rows};
  work.perBatch = c * h * w / 4; // four pixels each
  step.args = {{Arg::ValueRef, *in}, {Arg::ValueRef, cols}, work};
  const char *it = cType(program.values[*in].dtype),
             *ot = cType(program.values[cols].dtype);
  {
    llvm::raw_string_ostream os(kernels);
    os << "\n// " << step.what
       << "\nextern \"C\" __global__ void __launch_bounds__(256)\n"
       << name << "(const " << it << " *x, " << ot << " *y, long long n) {\n  "
       << waitFirst(step) << "mlpc::runIm2col<" << it << ", " << ot << ", "
       << c << ", " << h << ", " << w << ", " << ph << ", " << pw
       << ">(x, y, n);\n}\n";
  }
  program.steps.push_back(step);
  auto layer = convolutionLayer(op, op.getWeight(), op.getBias(), k, d);
  if (failed(layer))
    return failure();
  layer->inputIndex = cols;
  return emitLinear(*layer, Value());
}

FailureOr<Layer> ProgramBuilder::convolutionLayer(Operation *op, Value weight,
                                                  Value bias, int64_t in,
                                                  int64_t out) {
  Layer layer;
  layer.linear = op;
  layer.in = in;
  layer.out = out;
  auto weightName = paramName(weight, op, "weight");
  if (failed(weightName))
    return failure();
  layer.weight = *weightName;
  if (bias) {
    auto biasName = paramName(bias, op, "bias");
    if (failed(biasName))
      return failure();
    layer.bias = *biasName;
  }
  layer.result = op->getResult(0);
  return layer;
}
