//===- EmitGroupNorm.cpp - group_norm as three kernels --------------------===//
//
// The frontend writes group_norm(x) (one group, over a sample's positions
// and channels) as mlp ops (dialect/frontend/lib/Builtins.cpp):
//
//   r = reshape(x) [N, P, C]        m = reshape(mean(mean(r, 2), 1)) [N, 1, 1]
//   d = r - m                       v = reshape(mean(mean(d * d, 2), 1))
//   y = d / sqrt(v + eps)  [-> reshape to x's shape] [* weight + bias]
//
// Run op by op that is a dozen passes over the tensor. Matched here, it is a
// chunked sum and sum of squares, a per-sample finish and one normalizing
// pass (runGroupNorm* in mlpc_generic.cuh).
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

namespace {

/// The single user of `v`, if it is an `OpT`.
template <class OpT> OpT soleUser(Value v) {
  if (!v.hasOneUse())
    return nullptr;
  return dyn_cast<OpT>(*v.getUsers().begin());
}

/// mean(mean(v, axis=2), axis=1) reshaped to [N, 1, 1], starting at the
/// inner mean: its last op, or null.
mlp::ReshapeOp sampleMean(mlp::MeanOp inner, SmallVector<Operation *> &ops) {
  if (!inner || inner.getAxis() != 2)
    return nullptr;
  auto outer = soleUser<mlp::MeanOp>(inner.getResult());
  if (!outer || outer.getAxis() != 1)
    return nullptr;
  auto reshape = soleUser<mlp::ReshapeOp>(outer.getResult());
  if (!reshape || reshape.getType().getRank() != 3)
    return nullptr;
  ops.append({inner, outer, reshape});
  return reshape;
}

/// MetaFormer's pooling token mixer on `g` (a normalized x of x's shape):
/// x + (avg_pool(g) - g) * scale, the pool of stride 1 and the same size.
struct PoolMixer {
  mlp::AvgPool2DOp pool;
  mlp::SubOp sub;
  mlp::MulOp mul; // by the scale
  mlp::AddOp add; // the result
};

template <class ChannelParam>
std::optional<PoolMixer> poolMixer(Value g, Value x,
                                   ChannelParam channelParam) {
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  if (!xType || xType.getRank() != 4 || g.getType() != xType)
    return std::nullopt;
  PoolMixer m;
  int uses = 0;
  for (OpOperand &use : g.getUses()) {
    ++uses;
    if (auto p = dyn_cast<mlp::AvgPool2DOp>(use.getOwner()))
      m.pool = p;
    else if (auto s = dyn_cast<mlp::SubOp>(use.getOwner());
             s && s.getRhs() == g)
      m.sub = s;
  }
  if (uses != 2 || !m.pool || !m.sub || m.pool.getStride() != 1 ||
      m.pool.getKernel() % 2 != 1 ||
      m.pool.getPadding() != m.pool.getKernel() / 2 ||
      m.sub.getLhs() != m.pool.getResult() || !m.pool.getResult().hasOneUse())
    return std::nullopt;
  m.mul = soleUser<mlp::MulOp>(m.sub.getResult());
  m.add = m.mul ? soleUser<mlp::AddOp>(m.mul.getResult()) : nullptr;
  if (!m.mul || m.mul.getLhs() != m.sub.getResult() ||
      !channelParam(m.mul.getRhs()) || !m.add || m.add.getType() != xType ||
      !((m.add.getLhs() == x && m.add.getRhs() == m.mul.getResult()) ||
        (m.add.getRhs() == x && m.add.getLhs() == m.mul.getResult())))
    return std::nullopt;
  return m;
}

} // namespace

FailureOr<bool> ProgramBuilder::emitGroupNorm(mlp::MeanOp first) {
  // r [N, P, C] and its mean.
  Value r = first.getInput();
  auto rType = dyn_cast<RankedTensorType>(r.getType());
  if (!rType || rType.getRank() != 3 || !isBatchMatrix(rType))
    return false;
  SmallVector<Operation *> ops;
  mlp::ReshapeOp mean = sampleMean(first, ops);
  if (!mean)
    return false;
  auto d = soleUser<mlp::SubOp>(mean.getResult());
  if (!d || d.getLhs() != r || d.getRhs() != mean.getResult())
    return false;
  // d feeds d * d and the division, nothing else.
  mlp::MulOp square;
  mlp::DivOp div;
  for (Operation *user : d.getResult().getUsers()) {
    if (auto m = dyn_cast<mlp::MulOp>(user);
        m && m.getLhs() == d.getResult() && m.getRhs() == d.getResult())
      square = m;
    else if (auto q = dyn_cast<mlp::DivOp>(user);
             q && q.getLhs() == d.getResult())
      div = q;
    else
      return false;
  }
  if (!square || !div || !square.getResult().hasOneUse())
    return false;
  ops.append({d, square});
  auto innerVar = soleUser<mlp::MeanOp>(square.getResult());
  mlp::ReshapeOp var = sampleMean(innerVar, ops);
  if (!var)
    return false;
  auto addEps = soleUser<mlp::AddOp>(var.getResult());
  if (!addEps || addEps.getLhs() != var.getResult())
    return false;
  auto eps = addEps.getRhs().getDefiningOp<mlp::ConstantOp>();
  auto sqrt = soleUser<mlp::SqrtOp>(addEps.getResult());
  if (!eps || !sqrt || div.getRhs() != sqrt.getResult())
    return false;
  ops.append({addEps, sqrt, div});
  for (Operation *op : ops)
    if (outputIndex.count(op->getResult(0)) && op != div)
      return false;

  // Then a reshape back and the affine weight and bias, if present.
  const int64_t c = rType.getDimSize(2),
                pc = rType.getDimSize(1) * rType.getDimSize(2);
  Value result = div.getResult();
  if (auto back = soleUser<mlp::ReshapeOp>(result);
      back && !outputIndex.count(result) && isBatched(back.getType()) &&
      colsOf(back.getType()) == c) {
    ops.push_back(back);
    result = back.getResult();
  }
  auto channelParam = [&](Value v) { return rowParam(v, c); };
  std::string weight, bias;
  if (!outputIndex.count(result))
    if (auto mul = soleUser<mlp::MulOp>(result);
        mul && mul.getLhs() == result && channelParam(mul.getRhs()) &&
        !outputIndex.count(mul.getResult()))
      if (auto add = soleUser<mlp::AddOp>(mul.getResult());
          add && add.getLhs() == mul.getResult() &&
          channelParam(add.getRhs())) {
        weight = channelParam(mul.getRhs()).getName().str();
        bias = channelParam(add.getRhs()).getName().str();
        ops.append({mul, add});
        result = add.getResult();
      }

  // MetaFormer's pooling mixer reading the result, x + (avg_pool(g) - g) *
  // scale on the group_norm's own input, joins the normalizing pass.
  std::optional<PoolMixer> mixer;
  std::string mixScale;
  if (!weight.empty() && !outputIndex.count(result))
    if (auto in = r.getDefiningOp<mlp::ReshapeOp>())
      mixer = poolMixer(result, in.getInput(), channelParam);
  mlp::AvgPool2DOp pool = mixer ? mixer->pool : nullptr;
  if (mixer) {
    mixScale = channelParam(mixer->mul.getRhs()).getName().str();
    ops.append({mixer->pool, mixer->sub, mixer->mul, mixer->add});
    result = mixer->add.getResult();
  }

  auto x = valueOf(r, first);
  if (failed(x))
    return failure();
  const char *xt = cType(program.values[*x].dtype);
  // Chunks of at least 8192 elements, enough CTAs per sample for a GPU
  // when the batch is small.
  const int chunks = static_cast<int>(std::clamp<int64_t>(pc / 8192, 1, 64));
  const int part = newTemp(1, 2 * chunks, "float32"),
            stats = newTemp(1, 2, "float32");
  Arg samples{Arg::Rows};
  samples.perBatch = 1;
  {
    Step step;
    newKernel("group_norm partial sums (" + std::to_string(chunks) +
                  " chunks of each sample's " + std::to_string(pc) + ")",
              step);
    step.threads = 256;
    step.grid = Step::RowTiles;
    step.rowsPerCta = 1;
    step.gridY = chunks;
    step.args = {{Arg::ValueRef, *x}, {Arg::ValueRef, part}, samples};
    addStep(step, llvm::Twine("const ") + xt + " *x, float *part, long long n",
            "mlpc::runGroupNormPartials<" + llvm::Twine(xt) + ", " +
                llvm::Twine(pc) + "LL, " + llvm::Twine(chunks) +
                ">(x, part, n);");
  }
  {
    Step step;
    newKernel("group_norm statistics", step);
    step.threads = 256;
    step.grid = Step::Persistent;
    step.rowsPerCta = 256;
    step.args = {{Arg::ValueRef, *x},
                 {Arg::ValueRef, part},
                 {Arg::ValueRef, stats},
                 {Arg::F32, 0, eps.getValue().convertToDouble()},
                 samples};
    addStep(step,
            llvm::Twine("const ") + xt +
                " *x, const float *part, float *stats, float eps, long long n",
            "mlpc::runGroupNormStats<" + llvm::Twine(xt) + ", " +
                llvm::Twine(pc) + "LL, " + llvm::Twine(chunks) +
                ">(x, part, stats, eps, n);");
  }
  Image image;
  const int64_t biasAt = alignTo16(c * 4) / 4, scaleAt = 2 * biasAt;
  if (!weight.empty()) {
    image.pieces.push_back({weight, "float32", 1, c, 1, c, 0});
    image.pieces.push_back(
        {bias, "float32", 1, c, 1, c, static_cast<uint64_t>(biasAt * 4)});
    image.bytes = alignTo16((biasAt + c) * 4);
    if (pool) {
      image.pieces.push_back({mixScale, "float32", 1, c, 1, c,
                              static_cast<uint64_t>(scaleAt * 4)});
      image.bytes = alignTo16((scaleAt + c) * 4);
    }
    program.images.push_back(image);
  }
  for (Operation *op : ops)
    consumed.insert(op);
  consumed.erase(first); // the caller's op, emitted here
  int y = defineResult(result);
  Step step;
  newKernel("group_norm over " + std::to_string(pc) + " per sample" +
                (weight.empty() ? "" : ", weight and bias") +
                (pool ? ", then x + (avg_pool - itself) * scale" : ""),
            step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  Arg count{Arg::Rows};
  count.perBatch = pc;
  step.args = {
      {Arg::ValueRef, *x},
      {Arg::ValueRef, stats},
      {Arg::ImageRef,
       weight.empty() ? -1 : static_cast<int>(program.images.size() - 1)},
      {Arg::ValueRef, y},
      count};
  const char *yt = cType(program.values[y].dtype);
  if (pool) {
    auto type = cast<RankedTensorType>(result.getType());
    addStep(step,
            llvm::Twine("const ") + xt +
                " *x, const float *stats, const float *image, " + yt +
                " *y, long long n",
            "mlpc::runPoolMixer<" + llvm::Twine(xt) + ", " + yt + ", " +
                llvm::Twine(type.getDimSize(1)) + ", " +
                llvm::Twine(type.getDimSize(2)) + ", " + llvm::Twine(c) + ", " +
                llvm::Twine(pool.getKernel()) + ", " +
                (pool.getCountIncludePad() ? "true" : "false") + ", " +
                llvm::Twine(biasAt) + ", " + llvm::Twine(scaleAt) +
                ">(x, stats, image, y, n);");
    return true;
  }
  addStep(step,
          llvm::Twine("const ") + xt +
              " *x, const float *stats, const float *image, " + yt +
              " *y, long long n",
          "mlpc::runGroupNormApply<" + llvm::Twine(xt) + ", " + yt + ", " +
              llvm::Twine(pc) + "LL, " + llvm::Twine(c) + ", " +
              (weight.empty() ? "false" : "true") + ", " + llvm::Twine(biasAt) +
              ">(x, stats, image, y, n);");
  return true;
}
