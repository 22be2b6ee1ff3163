//===- ProgramBuilder.cpp - mlp ops to fused CUDA kernel launches ---------===//
//
// Walks the model function once, in order, and forms fused groups (see
// ProgramBuilder.h); the emitters are in EmitMatmul.cpp and EmitOps.cpp.
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

namespace {

/// The kernels header, as text (generated from mlpc_kernels.cuh by CMake).
const char kKernelsHeader[] =
#include "mlpc_kernels.cuh.inc"
    ;
/// The general kernels, after it (mlpc_generic.cuh).
const char kGenericHeader[] =
#include "mlpc_generic.cuh.inc"
    ;

/// mlpc::Wgmma<T, N> (A from registers) and mlpc::WgmmaSS<T, N> (A from
/// shared memory) for each shape a model uses: the inline PTX names every
/// one of the N / 2 accumulator registers, so each N is its own text.
std::string wgmmaSpecializations(
    const std::set<std::pair<std::string, int64_t>> &shapes,
    const std::set<std::pair<std::string, int64_t>> &ssShapes) {
  if (shapes.empty() && ssShapes.empty())
    return "";
  std::string out = "\n#if defined(MLPC_WGMMA)\nnamespace mlpc {\n";
  auto emit = [&](const std::string &type, int64_t n, bool aInRegisters) {
    const char *ptxType = type == "__half" ? "f16" : "bf16";
    const int64_t regs = n / 2;
    std::string list, constraints;
    for (int64_t i = 0; i < regs; ++i) {
      list += (i ? ", %" : "%") + std::to_string(i);
      constraints +=
          (i ? ", \"+f\"(d[" : "\"+f\"(d[") + std::to_string(i) + "])";
    }
    auto op = [&](int64_t k) { return "%" + std::to_string(regs + k); };
    // Operands after the accumulators: A (4 registers or a descriptor), the
    // B descriptor, the accumulate flag.
    const int64_t aCount = aInRegisters ? 4 : 1;
    std::string aList = aInRegisters ? "{" + op(0) + ", " + op(1) + ", " +
                                           op(2) + ", " + op(3) + "}"
                                     : op(0);
    out +=
        std::string("template <> struct ") +
        (aInRegisters ? "Wgmma<" : "WgmmaSS<") + type + ", " +
        std::to_string(n) +
        "> {\n  static __device__ __forceinline__ void mma(float (&d)[" +
        std::to_string(regs) + "], " +
        (aInRegisters ? "const uint32_t (&a)[4]" : "uint64_t a") +
        ", uint64_t desc,\n                  int accumulate) {\n    asm "
        "volatile(\n        \"{\\n.reg .pred p;\\nsetp.ne.b32 p, " +
        op(aCount + 1) +
        ", 0;\\n\"\n        \"wgmma.mma_async.sync.aligned.m64n" +
        std::to_string(n) + "k16.f32." + ptxType + "." + ptxType + " {" + list +
        "}, " + aList + ", " + op(aCount) + ", p, 1, 1, " +
        (aInRegisters ? "0" : "0, 0") + ";\\n}\\n\"\n        : " + constraints +
        "\n        : " +
        (aInRegisters ? "\"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3]), "
                      : "\"l\"(a), ") +
        "\"l\"(desc), \"r\"(accumulate)\n        : \"memory\");\n  }\n};\n";
  };
  for (const auto &[type, n] : shapes)
    emit(type, n, /*aInRegisters=*/true);
  for (const auto &[type, n] : ssShapes)
    emit(type, n, /*aInRegisters=*/false);
  return out + "} // namespace mlpc\n#endif\n";
}

} // namespace

LogicalResult ProgramBuilder::bindSignature() {
  for (auto [i, arg] : llvm::enumerate(model.getArguments())) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    std::string dtype = type ? kernelDtypeName(type.getElementType()) : "";
    // Integer inputs are ids, for embedding and padding_mask.
    if (type && dtype.empty() &&
        (type.getElementType().isSignlessInteger(32) ||
         type.getElementType().isSignlessInteger(64)))
      dtype = mlp::dtypeName(type.getElementType());
    if (!isBatched(arg.getType()) || dtype.empty())
      return model.emitError("the CUDA backend takes float or int32/int64 "
                             "inputs of shape [N, ...] with static dims "
                             "after the batch; input #")
             << i << " is " << arg.getType();
    values[arg] = program.values.size();
    program.values.push_back({mlp::cuda::Buffer::Input, static_cast<int>(i),
                              colsOf(type), dtype, rowsPerBatchOf(type)});
  }
  auto ret = cast<func::ReturnOp>(model.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    if (outputIndex.count(v) || isa<BlockArgument>(v))
      return ret.emitError("the CUDA backend cannot yet return an input or "
                           "the same tensor twice (output #")
             << i << ")";
    outputIndex[v] = i;
  }
  return success();
}

/// The tensor `v` that `user` reads; it must be a [N, C] float tensor
/// computed by an earlier step.
FailureOr<int> ProgramBuilder::valueOf(Value v, Operation *user) {
  auto it = values.find(v);
  if (it != values.end())
    return it->second;
  auto slice = deferredSlices.find(v);
  if (slice != deferredSlices.end()) { // copied out now, before its reader
    mlp::SliceOp op = slice->second;
    deferredSlices.erase(slice);
    if (failed(emitSlice(op)))
      return failure();
    return values[v];
  }
  auto padded = paddedValues.find(v);
  if (padded != paddedValues.end()) { // its rows copied out for this reader
    const Padded p = padded->second;
    const int out = defineResult(v);
    const auto &buffer = program.values[p.value];
    emitRemapRows({p.value, 0, buffer.cols}, out, buffer.rowsPerBatch, p.rows,
                  p.rows);
    return out;
  }
  auto deferred = deferredActivations.find(v);
  if (deferred != deferredActivations.end()) { // computed now for this reader
    deferredActivations.erase(deferred);
    if (failed(emitElementwise(v.getDefiningOp())))
      return failure();
    return values[v];
  }
  return user->emitError("the CUDA backend cannot compute this operand (")
         << v.getType() << ") yet";
}

FailureOr<ProgramBuilder::Strided>
ProgramBuilder::stridedOf(Value v, Operation *user, bool readsActivation,
                          bool takesPadding) {
  if (auto padded = paddedValues.find(v);
      takesPadding && !values.count(v) && padded != paddedValues.end()) {
    const auto &buffer = program.values[padded->second.value];
    return Strided{padded->second.value, 0,        buffer.cols, 0,
                   padded->second.rows,  buffer.rowsPerBatch};
  }
  auto slice = deferredSlices.find(v);
  Value source = slice == deferredSlices.end() ? v : slice->second.getInput();
  int64_t start =
      slice == deferredSlices.end() ? 0 : slice->second.getStart();
  int act = 0;
  if (auto deferred = deferredActivations.find(source);
      readsActivation && deferred != deferredActivations.end())
    std::tie(source, act) = deferred->second;
  auto in = valueOf(source, user);
  if (failed(in))
    return failure();
  return Strided{*in, start, program.values[*in].cols, act};
}

/// Whether an activation's result `v` is read only through slices of its
/// last axis, whose readers take strided views (layer_norm, the transpose's
/// gating multiply) and can apply the activation as they read.
bool ProgramBuilder::readersTakeActivation(Value v) const {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (outputIndex.count(v) || v.use_empty() || !type || !isBatchMatrix(type))
    return false;
  for (Operation *user : v.getUsers()) {
    auto slice = dyn_cast<mlp::SliceOp>(user);
    if (!slice ||
        (slice.getAxis() != type.getRank() - 1 && slice.getAxis() != -1))
      return false;
  }
  return true;
}

/// Registers the [N, C] result of a step: the caller's output buffer if the
/// model returns it, else a new intermediate.
int ProgramBuilder::defineResult(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  mlp::cuda::Buffer value;
  value.cols = colsOf(type);
  value.rowsPerBatch = rowsPerBatchOf(type);
  auto out = outputIndex.find(v);
  if (out != outputIndex.end()) {
    value.kind = mlp::cuda::Buffer::Output;
    value.index = out->second;
    value.dtype = kernelDtypeName(type.getElementType());
  } else {
    value.kind = mlp::cuda::Buffer::Temp;
    value.index = temps++;
    // Intermediates are kept in the compute type: half the bytes in f16.
    value.dtype = computeDtype(precision);
  }
  values[v] = program.values.size();
  program.values.push_back(value);
  return values[v];
}

FailureOr<std::string> ProgramBuilder::paramName(Value v, Operation *user,
                                                 StringRef role) {
  if (auto param = v.getDefiningOp<mlp::ParamOp>())
    return param.getName().str();
  return user->emitError("the CUDA backend needs the ")
         << role << " to be a parameter (mlp.param)";
}

FailureOr<Layer> ProgramBuilder::layerAt(Operation *op) {
  auto linear = dyn_cast<mlp::LinearOp>(op);
  auto matmul = dyn_cast<mlp::MatmulOp>(op);
  Value input = linear ? linear.getInput() : matmul.getInput();
  Value weightValue = linear ? linear.getWeight() : matmul.getWeight();
  Value biasValue = linear ? linear.getBias() : matmul.getBias();
  Value result = op->getResult(0);
  if (!isBatchMatrix(input.getType()) || !isBatchMatrix(result.getType()))
    return op->emitError("the CUDA backend runs linear layers on batched "
                         "tensors with static feature dims, not ")
           << input.getType();
  Layer layer;
  layer.linear = op;
  layer.input = input;
  if (auto affine = deferredAffines.find(input);
      affine != deferredAffines.end()) {
    layer.input = affine->second.x;
    layer.inputAlpha = affine->second.alpha;
    layer.inputBeta = affine->second.beta;
  }
  auto weightType = cast<RankedTensorType>(weightValue.getType());
  layer.weightTransposed = static_cast<bool>(matmul);
  layer.out = weightType.getDimSize(matmul ? 1 : 0);
  layer.in = weightType.getDimSize(matmul ? 0 : 1);
  auto weight = paramName(weightValue, op, "weight");
  if (failed(weight))
    return failure();
  layer.weight = *weight;
  if (biasValue) {
    auto bias = paramName(biasValue, op, "bias");
    if (failed(bias))
      return failure();
    layer.bias = *bias;
  }
  layer.result = result;
  // An activation that is the result's only user runs in the epilogue.
  if (layer.result.hasOneUse()) {
    Operation *user = *layer.result.getUsers().begin();
    int act = activationOf(user);
    if (act >= 0) {
      layer.act = act;
      layer.result = user->getResult(0);
      consumed.insert(user);
    }
  }
  return layer;
}

void ProgramBuilder::addStep(Step step, const llvm::Twine &params,
                             const llvm::Twine &body) {
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what
     << "\nextern \"C\" __global__ void __launch_bounds__(" << step.threads
     << ")\n"
     << step.kernel << "(" << params << ") {\n  " << waitFirst(step) << body
     << "\n}\n";
  program.steps.push_back(std::move(step));
}

const char *ProgramBuilder::waitFirst(Step &step) const {
  step.earlyLaunch = tuning.earlyLaunch;
  return tuning.earlyLaunch ? "mlpc::waitForPreviousGrid();\n  " : "";
}

std::string ProgramBuilder::newKernel(std::string what, Step &step) {
  step.kernel = "mlpc_step" + std::to_string(program.steps.size());
  step.what = std::move(what);
  return step.kernel;
}

/// A layer scale (a multiply by a parameter row) and then a residual add
/// right after `layer` join its epilogue: updates `layer` and returns the
/// residual (null if none).
Value ProgramBuilder::absorbScaleAndResidual(Layer &layer) {
  // A layer scale (a multiply by a parameter row) right after the layer
  // joins its epilogue.
  if (layer.result.hasOneUse() && !outputIndex.count(layer.result)) {
    auto mul = dyn_cast<mlp::MulOp>(*layer.result.getUsers().begin());
    if (mul && mul.getType() == layer.result.getType()) {
      Value other = mul.getLhs() == layer.result ? mul.getRhs() : mul.getLhs();
      if (auto param = rowParam(other, layer.out)) {
        layer.scale = param.getName().str();
        layer.result = mul.getResult();
        consumed.insert(mul);
      }
    }
  }
  // A residual add right after the layer joins its epilogue when the
  // other operand is already computed.
  Value residual;
  if (layer.result.hasOneUse() && !outputIndex.count(layer.result)) {
    auto add = dyn_cast<mlp::AddOp>(*layer.result.getUsers().begin());
    if (add && add.getType() == layer.result.getType()) {
      Value other = add.getLhs() == layer.result ? add.getRhs() : add.getLhs();
      // The epilogue reads the residual in the output's element type.
      std::string addType =
          outputIndex.count(add.getResult())
              ? kernelDtypeName(add.getType().getElementType())
              : computeDtype(precision);
      if (other != layer.result && other.getType() == add.getType() &&
          values.count(other) &&
          program.values[values[other]].dtype == addType) {
        residual = other;
        consumed.insert(add);
      }
    }
  }
  return residual;
}

FailureOr<Program> ProgramBuilder::build() {
  program.precision = precision;
  if (failed(bindSignature()))
    return failure();
  for (Operation &op : model.getBody().front()) {
    if (consumed.contains(&op) ||
        isa<mlp::ParamOp, mlp::ConstantOp, func::ReturnOp>(op))
      continue;
    if (isa<mlp::LinearOp, mlp::MatmulOp>(op) && needsGenericMatmul(&op)) {
      if (failed(emitGenericMatmul(&op)))
        return failure();
      continue;
    }
    if (isa<mlp::LinearOp, mlp::MatmulOp>(op)) {
      auto first = layerAt(&op);
      if (failed(first))
        return failure();
      if (isNarrow(*first)) {
        std::vector<Layer> chain = {*first};
        uint64_t bytes = chainLayerBytes(*first, 2);
        while (chain.back().result.hasOneUse() &&
               !outputIndex.count(chain.back().result)) {
          Operation *next = *chain.back().result.getUsers().begin();
          if (!isa<mlp::LinearOp, mlp::MatmulOp>(next) ||
              next->getOperand(0) != chain.back().result ||
              needsGenericMatmul(next))
            break;
          auto layer = layerAt(next);
          if (failed(layer))
            return failure();
          uint64_t more = chainLayerBytes(*layer, 2);
          if (!isNarrow(*layer) || bytes + more > kChainSharedBudget) {
            // Give the activation back: the next group starts at `next`.
            if (layer->result != next->getResult(0))
              consumed.erase(*next->getResult(0).getUsers().begin());
            break;
          }
          consumed.insert(next);
          chain.push_back(*layer);
          bytes += more;
        }
        if (failed(emitChain(chain)))
          return failure();
        continue;
      }
      Value residual = absorbScaleAndResidual(*first);
      if (failed(emitLinear(*first, residual)))
        return failure();
      continue;
    }
    if (auto slice = dyn_cast<mlp::SliceOp>(op)) {
      auto type = cast<RankedTensorType>(slice.getInput().getType());
      int64_t axis = slice.getAxis();
      if (axis < 0)
        axis += type.getRank();
      if (axis == type.getRank() - 1 && isBatchMatrix(type) &&
          isBatchMatrix(slice.getType()) &&
          (values.count(slice.getInput()) ||
           deferredActivations.count(slice.getInput())) &&
          !outputIndex.count(slice.getResult())) {
        deferredSlices[slice.getResult()] = slice;
        continue;
      }
    }
    if (auto mul = dyn_cast<mlp::MulOp>(op);
        mul && deferAffine(mul))
      continue;
    if (auto mean = dyn_cast<mlp::MeanOp>(op)) {
      auto groupNorm = emitGroupNorm(mean);
      if (failed(groupNorm))
        return failure();
      if (*groupNorm)
        continue;
    }
    auto chained = emitElementwiseChain(&op);
    if (failed(chained))
      return failure();
    if (*chained)
      continue;
    LogicalResult emitted =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](mlp::TransposeOp o) { return emitTranspose(o); })
            .Case([&](mlp::SliceOp o) { return emitSlice(o); })
            .Case([&](mlp::ReshapeOp o) { return emitReshape(o); })
            .Case([&](mlp::MeanOp o) { return emitMean(o); })
            .Case([&](mlp::PatchEmbedOp o) { return emitPatchEmbed(o); })
            .Case([&](mlp::LayerNormOp o) { return emitLayerNorm(o); })
            .Case([&](mlp::ConcatOp o) { return emitConcat(o); })
            .Case([&](mlp::BroadcastToOp o) {
              return emitGenericCopy(o, o.getInput(), o.getResult());
            })
            .Case([&](mlp::SumOp o) {
              return emitReduce(o, o.getInput(), o.getAxis(), /*mode=*/0);
            })
            .Case([&](mlp::SoftmaxOp o) { return emitSoftmax(o); })
            .Case([&](mlp::EmbeddingOp o) { return emitEmbedding(o); })
            .Case([&](mlp::PaddingMaskOp o) { return emitPaddingMask(o); })
            .Case([&](mlp::BatchNormOp o) { return emitBatchNorm(o); })
            .Case([&](mlp::BSplineBasisOp o) { return emitBSpline(o); })
            .Case([&](mlp::AvgPool2DOp o) { return emitAvgPool(o); })
            .Case([&](mlp::Conv2DOp o) { return emitConv2D(o); })
            .Case<mlp::AddOp, mlp::SubOp, mlp::MulOp, mlp::DivOp>(
                [&](Operation *o) { return emitElementwise(o); })
            .Default([&](Operation *o) -> LogicalResult {
              if (activationOf(o) >= 0)
                return emitElementwise(o);
              return o->emitError("'") << o->getName()
                                       << "' is not supported by the CUDA "
                                          "backend yet";
            });
    if (failed(emitted))
      return failure();
  }
  std::string source = "// Generated by mlpc for model '" +
                       model.getSymName().str() + "' (precision " +
                       precisionName(precision) + ").\n";
  source += kKernelsHeader;
  source += kGenericHeader;
  source += wgmmaSpecializations(wgmmaShapes, wgmmaSSShapes);
  source += kernels;
  program.source = std::move(source);
  return program;
}

bool mlp::cuda::parsePrecision(llvm::StringRef text, Precision &out) {
  if (text == "f32")
    out = Precision::F32;
  else if (text == "f16")
    out = Precision::F16;
  else if (text == "bf16")
    out = Precision::BF16;
  else
    return false;
  return true;
}

const char *mlp::cuda::precisionName(Precision precision) {
  return precision == Precision::F16    ? "f16"
         : precision == Precision::BF16 ? "bf16"
                                        : "f32";
}

FailureOr<Program> mlp::cuda::buildProgram(func::FuncOp model,
                                           Precision precision,
                                           const Tuning &tuning) {
  return ProgramBuilder(model, precision, tuning).build();
}
