//===- EmitTokenMixing.cpp - token mixing as one batched GEMM -------------===//
//
// MLP-Mixer-style token mixing transposes [N, T, C] to [N, C, T], applies a
// linear layer over the tokens and transposes back. With cuBLASLt that is
// one strided batched GEMM on the tensor as it lies, y_b = W x_b + bias per
// sample: no transposes. Tokens are padded to a multiple of 16 (zero rows
// after each sample's), which the producer of x writes (layer_norm, or a
// copy) and the readers of y skip (elementwise runs; others get a copy).
// The step's kernel (runTokenMix, CUDA cores) runs only where the runtime
// cannot load cuBLASLt; without --cuda-cublaslt the transposes and a chain
// run instead (EmitOps.cpp, EmitMatmul.cpp).
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

std::optional<ProgramBuilder::TokenGemm>
ProgramBuilder::tokenGemmAt(mlp::TransposeOp op) const {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  if (!tuning.cublasLt || !tuning.tokenGemm || precision == Precision::F32 ||
      !type || type.getRank() != 3 || !isBatchMatrix(type) ||
      !mlp::swapsLastTwoAxes(op))
    return std::nullopt;
  const int64_t channels = type.getDimSize(2);
  // cuBLASLt's tensor-core kernels want 16-byte rows.
  if (channels % 8)
    return std::nullopt;
  auto soleUser = [&](Value v) -> Operation * {
    return v.hasOneUse() && !outputIndex.count(v) ? *v.getUsers().begin()
                                                  : nullptr;
  };
  TokenGemm g{op, nullptr, {}, type.getDimSize(1), channels};
  Value v = op.getResult();
  while (true) {
    Operation *user = soleUser(v);
    if (auto back = dyn_cast_or_null<mlp::TransposeOp>(user)) {
      if (g.layers.empty() || !mlp::swapsLastTwoAxes(back) ||
          outputIndex.count(back.getResult()))
        return std::nullopt;
      g.out = back;
      return g;
    }
    auto linear = dyn_cast_or_null<mlp::LinearOp>(user);
    if (!linear || linear.getInput() != v || needsGenericMatmul(linear) ||
        !linear.getWeight().getDefiningOp<mlp::ParamOp>() ||
        (linear.getBias() && !linear.getBias().getDefiningOp<mlp::ParamOp>()))
      return std::nullopt;
    v = linear.getResult();
    // An activation cuBLASLt's epilogue has, or the exact GELU (a pass
    // after it).
    int act = 0;
    if (Operation *next = soleUser(v); next && activationOf(next) > 0) {
      act = activationOf(next);
      if (act > 3)
        return std::nullopt;
      v = next->getResult(0);
    }
    g.layers.push_back({linear, act});
  }
}

void ProgramBuilder::emitRemapRows(const Strided &in, int out, int64_t inRows,
                                   int64_t outRows, int64_t live) {
  const auto &outV = program.values[out];
  const int64_t c = outV.cols;
  Step step;
  newKernel(std::string(outRows > inRows ? "pad" : "unpad") + " tokens " +
                std::to_string(inRows) + " -> " + std::to_string(outRows) +
                " rows of " + std::to_string(c),
            step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 8; // a warp per row
  step.args = {{Arg::ValueRef, in.value}, {Arg::ValueRef, out}, rowsOf(out)};
  const char *it = cType(program.values[in.value].dtype), *ot = cType(outV.dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long rows";
  llvm::raw_string_ostream(body)
      << "mlpc::runRemapRows<" << it << ", " << ot << ", " << c << ", "
      << in.stride << ", " << in.act << ", " << inRows << ", " << outRows
      << ", " << live << ">(x + " << in.start << ", y, rows);";
  addStep(step, params, body);
}

LogicalResult ProgramBuilder::emitTokenGemm(TokenGemm g) {
  const int64_t c = g.channels;
  const std::string wt = computeDtype(precision);
  const char *ty = cType(wt);
  // The operand with its padding rows: written so by a layer_norm, else a
  // copy.
  int64_t tokens = g.tokens, kp = paddedTokens(tokens);
  int x;
  if (auto p = paddedValues.find(g.in.getInput()); p != paddedValues.end()) {
    x = p->second.value;
  } else {
    auto in = stridedOf(g.in.getInput(), g.in, /*readsActivation=*/true);
    if (failed(in))
      return failure();
    x = newTemp(kp, c);
    emitRemapRows(*in, x, tokens, kp, tokens);
  }
  consumed.insert(g.out);
  for (auto [linear, act] : g.layers) {
    consumed.insert(linear);
    if (act)
      consumed.insert(*linear.getResult().getUsers().begin());
    auto weight = cast<RankedTensorType>(linear.getWeight().getType());
    const int64_t out = weight.getDimSize(0), np = paddedTokens(out);
    const int y = newTemp(np, c);
    Image image;
    image.pieces.push_back(
        {linear.getWeight().getDefiningOp<mlp::ParamOp>().getName().str(), wt,
         out, tokens, np, kp, 0, ImagePiece::Rows});
    image.bytes = alignTo128(np * kp * dtypeBytes(wt));
    LibraryGemm gemm;
    gemm.tokens = true;
    gemm.x = x;
    gemm.y = y;
    gemm.image = static_cast<int>(program.images.size());
    gemm.k = kp;
    gemm.n = np;
    gemm.activation = act == 1   ? LibraryGemm::Relu
                      : act == 2 ? LibraryGemm::Gelu
                      : act == 3 ? LibraryGemm::GeluTanh
                                 : LibraryGemm::None;
    if (Value b = linear.getBias()) {
      ImagePiece bias{b.getDefiningOp<mlp::ParamOp>().getName().str(), wt, out,
                      c, np, c, image.bytes};
      bias.repeatInRow = true;
      image.pieces.push_back(bias);
      gemm.biasOffset = static_cast<int64_t>(image.bytes);
      image.bytes = alignTo128(image.bytes + np * c * dtypeBytes(wt));
    }
    program.images.push_back(image);

    Step step;
    static const char *acts[] = {"", ", relu", ", exact GELU", ", tanh GELU"};
    const std::string name = newKernel(
        "token mixing " + std::to_string(tokens) + " -> " +
            std::to_string(out) + acts[act] + " over " + std::to_string(c) +
            " channels (padded " + std::to_string(kp) + " -> " +
            std::to_string(np) + "; cuBLASLt's batched GEMM when the "
            "runtime has it)",
        step);
    step.threads = 256;
    step.grid = Step::Persistent;
    step.rowsPerCta = 1; // a 64 x 128 tile a CTA
    Arg tiles{Arg::Rows};
    tiles.perBatch = (np + 63) / 64 * ((c + 127) / 128);
    step.args = {{Arg::ValueRef, x}, {Arg::ImageRef, gemm.image},
                 {Arg::ValueRef, y}, tiles};
    if (gemm.activation == LibraryGemm::Gelu)
      gemm.afterKernel = name + "_gelu";
    step.gemm = gemm;
    std::string params, body;
    llvm::raw_string_ostream(params)
        << "const " << ty << " *x, const unsigned char *image, " << ty
        << " *y, long long tiles";
    llvm::raw_string_ostream(body)
        << "mlpc::runTokenMix<" << ty << ", " << kp << ", " << np << ", " << c
        << ", " << gemm.biasOffset << ", " << act << ">(x, image, y, tiles);";
    addStep(step, params, body);
    if (gemm.activation == LibraryGemm::Gelu)
      kernels += exactGeluAfter(gemm.afterKernel, ty);
    x = y;
    tokens = out;
    kp = np;
  }
  paddedValues[g.out.getResult()] = {x, tokens};
  return success();
}
