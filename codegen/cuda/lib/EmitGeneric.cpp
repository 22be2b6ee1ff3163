//===- EmitGeneric.cpp - steps of the general kernels ---------------------===//
//
// What the fast paths of EmitOps.cpp do not take, through the general
// kernels of kernels/mlpc_generic.cuh: N-D elementwise ops with NumPy
// broadcasting, permutations, slices along any axis, concatenations and
// broadcasts (all "mapped" copies: one kernel with a generated index map),
// reshapes that do not keep [N, ..., C] rows, reductions and softmax along
// one axis, embeddings, padding masks, batch_norm, B-spline bases and matrix
// products without a batch or with a computed weight.
//
// Tensors are row-major; a batched one is [N, d1, ...] with static dims
// after the dynamic batch, and one computed from parameters only has no
// batch (a Buffer with `batched` false). Parameters that general kernels
// read are whole-tensor float images, shared by all their uses; a reshape
// of a parameter is the same image under another shape.
//
//===----------------------------------------------------------------------===//
#include "ProgramBuilder.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlp::cuda;
using namespace mlp::cuda::detail;

struct ProgramBuilder::Operand {
  enum Kind { Buffer, Image, Scalar } kind = Buffer;
  int index = -1;    // program value or image
  double scalar = 0; // Scalar
  RankedTensorType type;
  std::string dtype; // of the elements in memory
};

/// Per dimension of an iteration space, the element strides of one tensor
/// (0 broadcasts), its stride per batch row (0: no batch) and a base.
struct ProgramBuilder::Strides {
  int64_t base = 0, batch = 0;
  llvm::SmallVector<int64_t> dims;
};
using Strides = ProgramBuilder::Strides;

namespace {

int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

/// The static dims of a type: after the batch if it has one.
ArrayRef<int64_t> staticDims(RankedTensorType t) {
  return isBatched(t) ? t.getShape().drop_front() : t.getShape();
}

/// Row-major strides of `t` over its own dims (batch included).
Strides contiguous(RankedTensorType t) {
  Strides s;
  ArrayRef<int64_t> dims = staticDims(t);
  s.dims.resize(dims.size());
  int64_t stride = 1;
  for (int64_t i = dims.size() - 1; i >= 0; --i) {
    s.dims[i] = stride;
    stride *= dims[i];
  }
  s.batch = isBatched(t) ? stride : 0;
  return s;
}

/// Strides reading `t` broadcast (NumPy rules, aligned at the last dim) to
/// the iteration space of `result`; failure if `t` does not broadcast.
FailureOr<Strides> broadcastStrides(RankedTensorType t,
                                    RankedTensorType result) {
  const bool rb = isBatched(result), tb = isBatched(t);
  const int64_t n = result.getRank(), r = t.getRank();
  if (r > n || (tb && (!rb || r != n)))
    return failure();
  Strides own = contiguous(t), s;
  s.batch = tb ? own.batch : 0;
  for (int64_t i = rb ? 1 : 0; i < n; ++i) {
    int64_t j = i - (n - r);
    if (j < 0) {
      s.dims.push_back(0);
      continue;
    }
    if (t.isDynamicDim(j))
      return failure();
    int64_t size = t.getDimSize(j);
    if (size != result.getDimSize(i) && size != 1)
      return failure();
    s.dims.push_back(size == 1 ? 0 : own.dims[tb ? j - 1 : j]);
  }
  return s;
}

const char *idType(StringRef dtype) {
  return dtype == "int64" ? "long long" : "int";
}

/// The text of a MAP type for runMapped: the iteration space `dims` (after
/// the batch) and the offsets of up to three tensors. Size-1 dims are
/// dropped and dims that every tensor walks contiguously are merged, so the
/// index arithmetic is as short as the shapes allow.
std::string mapStruct(const std::string &name, ArrayRef<int64_t> dims,
                      ArrayRef<Strides> ops) {
  // Innermost first: (size, stride of each op).
  std::vector<std::pair<int64_t, std::vector<int64_t>>> axes;
  for (int64_t i = dims.size() - 1; i >= 0; --i) {
    if (dims[i] == 1)
      continue;
    std::vector<int64_t> st;
    for (const Strides &s : ops)
      st.push_back(s.dims[i]);
    if (!axes.empty()) {
      auto &inner = axes.back();
      bool merge = true;
      for (size_t k = 0; k < ops.size(); ++k)
        merge &= st[k] == inner.second[k] * inner.first;
      if (merge) {
        inner.first *= dims[i];
        continue;
      }
    }
    axes.push_back({dims[i], st});
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "\nstruct " << name
     << " {\n  static __device__ __forceinline__ void at(long long i, long "
        "long &o0, long long &o1, long long &o2) {\n    long long q = i;\n";
  for (size_t a = 0; a < axes.size(); ++a)
    os << "    const long long c" << a << " = q % " << axes[a].first
       << ";\n    q /= " << axes[a].first << ";\n";
  for (size_t k = 0; k < 3; ++k) {
    os << "    o" << k << " = ";
    if (k >= ops.size()) {
      os << "0;\n";
      continue;
    }
    os << ops[k].base;
    if (ops[k].batch)
      os << " + q * " << ops[k].batch << "LL";
    for (size_t a = 0; a < axes.size(); ++a)
      if (axes[a].second[k])
        os << " + c" << a << " * " << axes[a].second[k] << "LL";
    os << ";\n";
  }
  os << "  }\n};\n";
  return out;
}

} // namespace

int ProgramBuilder::paramImage(StringRef param, int64_t count) {
  auto it = paramImages.find(param);
  if (it != paramImages.end())
    return it->second;
  Image image;
  image.pieces.push_back({param.str(), "float32", 1, count, 1, count, 0});
  image.bytes = alignTo16(count * 4);
  program.images.push_back(image);
  paramImages[param] = program.images.size() - 1;
  return program.images.size() - 1;
}

FailureOr<ProgramBuilder::Operand> ProgramBuilder::operandOf(Value v,
                                                             Operation *user) {
  Operand o;
  o.type = dyn_cast<RankedTensorType>(v.getType());
  if (!o.type)
    return user->emitError("the CUDA backend needs ranked tensors");
  if (auto constant = v.getDefiningOp<mlp::ConstantOp>()) {
    o.kind = Operand::Scalar;
    o.scalar = constant.getValue().convertToDouble();
    o.dtype = "float32";
    return o;
  }
  std::string param;
  if (auto p = v.getDefiningOp<mlp::ParamOp>())
    param = p.getName().str();
  else if (auto it = paramViews.find(v); it != paramViews.end())
    param = it->second;
  if (!param.empty()) {
    o.kind = Operand::Image;
    o.index = paramImage(param, o.type.getNumElements());
    o.dtype = "float32";
    return o;
  }
  auto index = valueOf(v, user);
  if (failed(index))
    return failure();
  o.kind = Operand::Buffer;
  o.index = *index;
  o.dtype = program.values[*index].dtype;
  return o;
}

int ProgramBuilder::defineAny(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (isBatched(type))
    return defineResult(v);
  mlp::cuda::Buffer value{mlp::cuda::Buffer::Temp, temps++,
                          type.getNumElements(), computeDtype(precision), 1};
  value.batched = false;
  values[v] = program.values.size();
  program.values.push_back(value);
  return values[v];
}

/// The work count of a step iterating over `perBatchCount` elements per
/// batch row of `iteration` (or that many in all, without a batch).
void ProgramBuilder::addCountArg(Step &step, Type iteration,
                                 int64_t perBatchCount) {
  Arg a{isBatched(iteration) ? Arg::Rows : Arg::Count};
  a.perBatch = perBatchCount;
  step.args.push_back(a);
}

namespace {

/// Result types the general kernels write: batched or fully static.
bool writable(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  return type && (isBatched(type) || type.hasStaticShape()) &&
         !kernelDtypeName(type.getElementType()).empty();
}

} // namespace

/// One runMapped step: y = act(a OP b) over the iteration space of `result`
/// (its static dims), with the given strides; the body starts with `wait`
/// (ProgramBuilder::waitFirst).
static void emitMappedStep(std::string &kernels, Program &program, Step &step,
                           const char *wait, const std::string &name,
                           const char *at,
                           const char *bt, const char *ot, int act, int op,
                           int bKind, ArrayRef<int64_t> dims,
                           ArrayRef<Strides> strides) {
  llvm::raw_string_ostream os(kernels);
  os << "\n// " << step.what << mapStruct(name + "_map", dims, strides)
     << "extern \"C\" __global__ void __launch_bounds__(256)\n"
     << name << "(const " << at << " *a, const " << bt << " *b, float s, " << ot
     << " *y, long long n) {\n  " << wait << "mlpc::runMapped<"
     << name << "_map, " << at
     << ", " << bt << ", " << ot << ", " << act << ", " << op << ", " << bKind
     << ">(a, b, s, y, n);\n}\n";
  program.steps.push_back(step);
}

static Arg operandArg(const ProgramBuilder::Operand &o) {
  if (o.kind == ProgramBuilder::Operand::Buffer)
    return {Arg::ValueRef, o.index};
  return {Arg::ImageRef,
          o.kind == ProgramBuilder::Operand::Image ? o.index : -1};
}

static const char *operandType(const ProgramBuilder::Operand &o) {
  return o.kind == ProgramBuilder::Operand::Buffer ? cType(o.dtype) : "float";
}

void ProgramBuilder::emitMappedCopy(const std::string &what, const Operand &a,
                                    int out, RankedTensorType counted,
                                    ArrayRef<int64_t> dims, const Strides &dst,
                                    const Strides &src) {
  Step step;
  std::string name = newKernel(what, step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args = {operandArg(a),
               {Arg::ImageRef, -1},
               {Arg::F32, 0, 0.0},
               {Arg::ValueRef, out}};
  addCountArg(step, counted, product(dims));
  emitMappedStep(kernels, program, step, waitFirst(step), name,
                 operandType(a), "float",
                 cType(program.values[out].dtype), 0, 6, 0, dims, {dst, src});
}

LogicalResult ProgramBuilder::emitGenericElementwise(Operation *op) {
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  if (!writable(result))
    return op->emitError("the CUDA backend computes tensors of shape [N, ...] "
                         "or of static shape, not ")
           << result;
  int act = activationOf(op);
  const bool binary = act < 0;
  int code = !binary               ? 6 // kGNone
             : isa<mlp::AddOp>(op) ? 0
             : isa<mlp::SubOp>(op) ? 1
             : isa<mlp::MulOp>(op) ? 2
                                   : 3;
  auto a = operandOf(op->getOperand(0), op);
  if (failed(a))
    return failure();
  FailureOr<Operand> b = Operand{Operand::Scalar};
  if (binary) {
    b = operandOf(op->getOperand(1), op);
    if (failed(b))
      return failure();
    if (a->kind == Operand::Scalar) {
      if (b->kind == Operand::Scalar)
        return op->emitError("the CUDA backend needs a tensor operand");
      std::swap(*a, *b);
      code = code == 1 ? 4 : code == 3 ? 5 : code; // b - a, b / a
    }
  }
  auto sa = broadcastStrides(a->type, result);
  FailureOr<Strides> sb = Strides{};
  if (binary && b->kind != Operand::Scalar)
    sb = broadcastStrides(b->type, result);
  if (failed(sa) || failed(sb))
    return op->emitError("the CUDA backend cannot broadcast the operands of "
                         "this op to ")
           << result;
  int out = defineAny(op->getResult(0));
  Step step;
  std::string name =
      newKernel(op->getName().getStringRef().str() + " (broadcasting, " +
                    std::to_string(result.getRank()) + "-D)",
                step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args.push_back(operandArg(*a));
  step.args.push_back(binary ? operandArg(*b) : Arg{Arg::ImageRef, -1});
  step.args.push_back({Arg::F32, 0, binary ? b->scalar : 0.0});
  step.args.push_back({Arg::ValueRef, out});
  ArrayRef<int64_t> dims = staticDims(result);
  addCountArg(step, result, product(dims));
  const int bKind = !binary ? 0 : b->kind == Operand::Scalar ? 2 : 1;
  std::vector<Strides> strides = {contiguous(result), *sa};
  if (bKind == 1)
    strides.push_back(*sb);
  emitMappedStep(kernels, program, step, waitFirst(step), name,
                 operandType(*a),
                 bKind == 1 ? operandType(*b) : "float",
                 cType(program.values[out].dtype), binary ? 0 : act, code,
                 bKind, dims, strides);
  return success();
}

/// y = input broadcast to the result's shape (broadcast_to).
LogicalResult ProgramBuilder::emitGenericCopy(Operation *op, Value input,
                                              Value resultValue) {
  auto result = cast<RankedTensorType>(resultValue.getType());
  if (!writable(result))
    return op->emitError("the CUDA backend computes tensors of shape [N, ...] "
                         "or of static shape, not ")
           << result;
  auto a = operandOf(input, op);
  if (failed(a))
    return failure();
  auto sa = broadcastStrides(a->type, result);
  if (failed(sa) || a->kind == Operand::Scalar)
    return op->emitError("the CUDA backend cannot broadcast ")
           << input.getType() << " to " << result;
  int out = defineAny(resultValue);
  emitMappedCopy(op->getName().getStringRef().str() + " (copy)", *a, out,
                 result, staticDims(result), contiguous(result), *sa);
  return success();
}

/// Any permutation that keeps the batch leading, as a gather: the result is
/// written in order, the input read through permuted strides.
LogicalResult ProgramBuilder::emitGenericTranspose(mlp::TransposeOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  ArrayRef<int64_t> perm = op.getPermutation();
  if (!writable(result) || (isBatched(in) && perm[0] != 0))
    return op.emitError("the CUDA backend transposes tensors of static "
                        "shape or keeping the batch leading, not ")
           << in << " by [" << perm << "]";
  auto a = operandOf(op.getInput(), op);
  if (failed(a))
    return failure();
  Strides own = contiguous(in), sa;
  sa.batch = own.batch;
  const int64_t first = isBatched(in) ? 1 : 0;
  for (int64_t i = first; i < result.getRank(); ++i)
    sa.dims.push_back(own.dims[perm[i] - first]);
  int out = defineAny(op.getResult());
  emitMappedCopy("transpose " + std::to_string(in.getRank()) + "-D (gather)",
                 *a, out, result, staticDims(result), contiguous(result), sa);
  return success();
}

/// Reshapes are the same bytes: a parameter under a new shape is the same
/// image, a computed tensor without a batch the same buffer; a batched one
/// whose rows change is copied (the fast kernels size rows by the type).
LogicalResult ProgramBuilder::emitGenericReshape(mlp::ReshapeOp op) {
  Value input = op.getInput();
  auto in = cast<RankedTensorType>(input.getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  if (input.getDefiningOp<mlp::ParamOp>() || paramViews.count(input)) {
    if (auto p = input.getDefiningOp<mlp::ParamOp>())
      paramViews[op.getResult()] = p.getName().str();
    else
      paramViews[op.getResult()] = paramViews.lookup(input);
    return success();
  }
  if (!writable(result) || isBatched(in) != isBatched(result))
    return op.emitError("the CUDA backend reshapes only tensors whose "
                        "leading axis is the batch, or tensors of static "
                        "shape, not ")
           << in << " to " << result;
  if (!isBatched(in) && !outputIndex.count(op.getResult())) {
    auto v = valueOf(input, op);
    if (failed(v))
      return failure();
    values[op.getResult()] = *v;
    return success();
  }
  auto a = operandOf(input, op);
  if (failed(a))
    return failure();
  int out = defineAny(op.getResult());
  const int64_t count = product(staticDims(result));
  Strides flat;
  flat.dims = {1};
  flat.batch = isBatched(result) ? count : 0;
  emitMappedCopy("reshape (copy)", *a, out, result, {count}, flat, flat);
  return success();
}

/// A slice along any static axis: a gather from an offset.
LogicalResult ProgramBuilder::emitGenericSlice(mlp::SliceOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  int64_t axis = op.getAxis();
  if (axis < 0)
    axis += in.getRank();
  if (!writable(result) || in.isDynamicDim(axis))
    return op.emitError("the CUDA backend slices static axes only");
  auto a = operandOf(op.getInput(), op);
  if (failed(a))
    return failure();
  Strides sa = contiguous(in);
  const int64_t first = isBatched(in) ? 1 : 0;
  sa.base = op.getStart() * sa.dims[axis - first];
  int out = defineAny(op.getResult());
  emitMappedCopy("slice of axis " + std::to_string(axis), *a, out, result,
                 staticDims(result), contiguous(result), sa);
  return success();
}

/// One strided copy per input into its place along the axis.
LogicalResult ProgramBuilder::emitConcat(mlp::ConcatOp op) {
  auto result = cast<RankedTensorType>(op.getResult().getType());
  int64_t axis = op.getAxis();
  if (!writable(result) || result.isDynamicDim(axis))
    return op.emitError("the CUDA backend concatenates along static axes of "
                        "[N, ...] or static tensors only");
  std::vector<Operand> inputs;
  for (Value v : op.getInputs()) {
    auto a = operandOf(v, op);
    if (failed(a))
      return failure();
    if (a->kind == Operand::Scalar || isBatched(a->type) != isBatched(result))
      return op.emitError("the CUDA backend cannot concatenate ")
             << v.getType() << " into " << result;
    inputs.push_back(*a);
  }
  int out = defineAny(op.getResult());
  const int64_t first = isBatched(result) ? 1 : 0;
  Strides sy = contiguous(result);
  int64_t offset = 0;
  for (const Operand &a : inputs) {
    Strides dst = sy;
    dst.base = offset * sy.dims[axis - first];
    offset += a.type.getDimSize(axis);
    emitMappedCopy("concat part along axis " + std::to_string(axis), a, out,
                   result, staticDims(a.type), dst, contiguous(a.type));
  }
  return success();
}

/// [outer, L, inner] -> [outer, inner]: mode 0 sums, 1 averages.
LogicalResult ProgramBuilder::emitReduce(Operation *op, Value input,
                                         int64_t axis, int mode) {
  auto in = cast<RankedTensorType>(input.getType());
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  if (axis < 0)
    axis += in.getRank();
  if (!writable(result) || in.isDynamicDim(axis))
    return op->emitError("the CUDA backend reduces static axes of [N, ...] "
                         "or static tensors only");
  auto a = operandOf(input, op);
  if (failed(a))
    return failure();
  if (a->kind != Operand::Buffer)
    return op->emitError("the CUDA backend reduces computed tensors only");
  const int64_t first = isBatched(in) ? 1 : 0;
  ArrayRef<int64_t> dims = in.getShape();
  const int64_t outer = product(dims.slice(first, axis - first)),
                l = dims[axis], inner = product(dims.drop_front(axis + 1));
  int out = defineAny(op->getResult(0));
  Step step;
  std::string name =
      newKernel(std::string(mode ? "mean" : "sum") + " over axis " +
                    std::to_string(axis) + " (" + std::to_string(l) + ")",
                step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = inner == 1 ? 8 : 256; // a warp per output if inner is 1
  step.args = {{Arg::ValueRef, a->index}, {Arg::ValueRef, out}};
  addCountArg(step, in, outer * inner);
  const char *it = cType(a->dtype), *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runReduce<" << it << ", " << ot << ", " << l << ", " << inner
      << ", " << mode << ">(x, y, n);";
  addStep(step, params, body);
  return success();
}

LogicalResult ProgramBuilder::emitSoftmax(mlp::SoftmaxOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  int64_t axis = op.getAxis();
  if (axis < 0)
    axis += in.getRank();
  if (!writable(in) || in.isDynamicDim(axis))
    return op.emitError("the CUDA backend takes softmax along static axes "
                        "of [N, ...] or static tensors only");
  auto a = operandOf(op.getInput(), op);
  if (failed(a))
    return failure();
  if (a->kind != Operand::Buffer)
    return op.emitError("the CUDA backend takes softmax of computed tensors "
                        "only");
  const int64_t first = isBatched(in) ? 1 : 0;
  ArrayRef<int64_t> dims = in.getShape();
  const int64_t outer = product(dims.slice(first, axis - first)),
                l = dims[axis], inner = product(dims.drop_front(axis + 1));
  int out = defineAny(op.getResult());
  Step step;
  std::string name =
      newKernel("softmax over axis " + std::to_string(axis), step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args = {{Arg::ValueRef, a->index}, {Arg::ValueRef, out}};
  addCountArg(step, in, outer * inner);
  const char *it = cType(a->dtype), *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body) << "mlpc::runSoftmax<" << it << ", " << ot
                                 << ", " << l << ", " << inner << ">(x, y, n);";
  addStep(step, params, body);
  return success();
}

/// A gather of table rows (a float image) by int32/int64 ids; ids outside
/// the table give zero rows, as on the CPU.
LogicalResult ProgramBuilder::emitEmbedding(mlp::EmbeddingOp op) {
  auto ids = cast<RankedTensorType>(op.getIds().getType());
  auto table = cast<RankedTensorType>(op.getTable().getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  if (!isBatched(ids) || !writable(result))
    return op.emitError("the CUDA backend looks up ids of shape [N, ...] "
                        "only");
  auto name = paramName(op.getTable(), op, "embedding table");
  if (failed(name))
    return failure();
  auto in = valueOf(op.getIds(), op);
  if (failed(in))
    return failure();
  const int64_t v = table.getDimSize(0), d = table.getDimSize(1);
  int image = paramImage(*name, v * d);
  int out = defineAny(op.getResult());
  Step step;
  std::string kernel = newKernel(
      "embedding of " + std::to_string(v) + " x " + std::to_string(d), step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args = {
      {Arg::ValueRef, *in}, {Arg::ImageRef, image}, {Arg::ValueRef, out}};
  addCountArg(step, result, product(staticDims(result)));
  const char *it = idType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *ids, const float *table, " << ot
      << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runEmbedding<" << it << ", " << ot << ", " << v << "LL, " << d
      << ">(ids, table, y, n);";
  addStep(step, params, body);
  return success();
}

LogicalResult ProgramBuilder::emitPaddingMask(mlp::PaddingMaskOp op) {
  auto ids = cast<RankedTensorType>(op.getIds().getType());
  if (!isBatched(ids) || !writable(op.getResult().getType()))
    return op.emitError("the CUDA backend takes ids of shape [N, ...] only");
  auto in = valueOf(op.getIds(), op);
  if (failed(in))
    return failure();
  int out = defineAny(op.getResult());
  Step step;
  std::string kernel = newKernel("padding_mask", step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args = {{Arg::ValueRef, *in}, {Arg::ValueRef, out}};
  addCountArg(step, ids, product(staticDims(ids)));
  const char *it = idType(program.values[*in].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *ids, " << ot << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runPaddingMask<" << it << ", " << ot << ", "
      << static_cast<int64_t>(op.getPaddingIdx()) << "LL>(ids, y, n);";
  addStep(step, params, body);
  return success();
}

/// Inference batch_norm over the last axis: running statistics and the
/// affine parameters as floats in one image.
LogicalResult ProgramBuilder::emitBatchNorm(mlp::BatchNormOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  if (!isBatched(in) || !writable(in))
    return op.emitError("the CUDA backend runs batch_norm on [N, ...] "
                        "tensors only");
  const int64_t c = colsOf(in);
  Image image;
  for (Value p :
       {op.getMean(), op.getVariance(), op.getWeight(), op.getBias()}) {
    if (!p)
      continue;
    auto name = paramName(p, op, "batch_norm statistics and affine");
    if (failed(name))
      return failure();
    image.pieces.push_back({*name, "float32", 1, c, 1, c, image.bytes});
    image.bytes += c * 4;
  }
  image.bytes = alignTo16(image.bytes);
  program.images.push_back(image);
  auto x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  int out = defineAny(op.getResult());
  Step step;
  std::string kernel = newKernel("batch_norm over " + std::to_string(c), step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args = {{Arg::ValueRef, *x},
               {Arg::ImageRef, static_cast<int>(program.images.size() - 1)},
               {Arg::ValueRef, out},
               {Arg::F32, 0, op.getEps().convertToDouble()}};
  addCountArg(step, in, product(staticDims(in)));
  const char *it = cType(program.values[*x].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, const float *image, " << ot
      << " *y, float eps, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runBatchNorm<" << it << ", " << ot << ", " << c << ", "
      << (op.getWeight() ? "true" : "false") << ", "
      << (op.getBias() ? "true" : "false") << ">(x, image, y, eps, n);";
  addStep(step, params, body);
  return success();
}

LogicalResult ProgramBuilder::emitBSpline(mlp::BSplineBasisOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto grid = cast<RankedTensorType>(op.getGrid().getType());
  auto result = cast<RankedTensorType>(op.getResult().getType());
  if (!isBatched(in) || !writable(result))
    return op.emitError("the CUDA backend takes bspline_basis of [N, ...] "
                        "tensors only");
  auto name = paramName(op.getGrid(), op, "knot grid");
  if (failed(name))
    return failure();
  auto x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  const int64_t f = grid.getDimSize(0), t = grid.getDimSize(1),
                order = static_cast<int64_t>(op.getOrder());
  int image = paramImage(*name, f * t);
  int out = defineAny(op.getResult());
  Step step;
  std::string kernel =
      newKernel("bspline_basis of order " + std::to_string(order) + " on " +
                    std::to_string(t) + " knots",
                step);
  step.threads = 256;
  step.grid = Step::Persistent;
  step.rowsPerCta = 256;
  step.args = {
      {Arg::ValueRef, *x}, {Arg::ImageRef, image}, {Arg::ValueRef, out}};
  addCountArg(step, result, product(staticDims(result)));
  const char *it = cType(program.values[*x].dtype),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << it << " *x, const float *grid, " << ot
      << " *y, long long n";
  llvm::raw_string_ostream(body)
      << "mlpc::runBSpline<" << it << ", " << ot << ", " << f << ", " << t
      << ", " << order << ">(x, grid, y, n);";
  addStep(step, params, body);
  return success();
}

bool ProgramBuilder::needsGenericMatmul(Operation *op) const {
  Value input = op->getOperand(0), weight = op->getOperand(1);
  Value bias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
  return !isBatchMatrix(input.getType()) ||
         !isBatchMatrix(op->getResult(0).getType()) ||
         !weight.getDefiningOp<mlp::ParamOp>() ||
         (bias && !bias.getDefiningOp<mlp::ParamOp>());
}

/// x [M, K] times a weight on CUDA cores in fp32, for what the linear
/// kernels do not take: no batch (parameters only), or a weight the model
/// computes (a transposed or scaled parameter).
LogicalResult ProgramBuilder::emitGenericMatmul(Operation *op) {
  const bool isMatmul = isa<mlp::MatmulOp>(op);
  Value input = op->getOperand(0), weight = op->getOperand(1);
  Value bias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
  auto in = cast<RankedTensorType>(input.getType());
  auto wt = cast<RankedTensorType>(weight.getType());
  if (!writable(op->getResult(0).getType()) || wt.getRank() != 2 ||
      !wt.hasStaticShape() || in.getRank() < (isBatched(in) ? 2 : 1))
    return op->emitError("the CUDA backend multiplies [N, ..., K] or static "
                         "tensors by a 2-D weight only");
  const int64_t k = wt.getDimSize(isMatmul ? 0 : 1),
                n = wt.getDimSize(isMatmul ? 1 : 0);
  auto x = operandOf(input, op);
  auto w = operandOf(weight, op);
  if (failed(x) || failed(w))
    return failure();
  if (x->kind == Operand::Scalar || w->kind == Operand::Scalar)
    return op->emitError("the CUDA backend needs tensor operands");
  int biasImage = -1;
  if (bias) {
    auto name = paramName(bias, op, "bias");
    if (failed(name))
      return failure();
    biasImage = paramImage(*name, n);
  }
  Value resultValue = op->getResult(0);
  int act = 0;
  if (resultValue.hasOneUse() && !outputIndex.count(resultValue)) {
    Operation *user = *resultValue.getUsers().begin();
    if (activationOf(user) >= 0) {
      act = activationOf(user);
      resultValue = user->getResult(0);
      consumed.insert(user);
    }
  }
  int out = defineAny(resultValue);
  const int64_t rowsPer = product(staticDims(in)) / k;
  Step step;
  std::string kernel = newKernel(std::string(isMatmul ? "matmul" : "linear") +
                                     " " + std::to_string(k) + " -> " +
                                     std::to_string(n) + " (fp32, general)",
                                 step);
  step.threads = 256;
  step.grid = Step::RowTiles;
  step.rowsPerCta = 64;
  step.gridY = (n + 63) / 64;
  step.args = {operandArg(*x),
               operandArg(*w),
               {Arg::ImageRef, biasImage},
               {Arg::ValueRef, out}};
  addCountArg(step, in, rowsPer);
  const char *xt = operandType(*x), *wtt = operandType(*w),
             *ot = cType(program.values[out].dtype);
  std::string params, body;
  llvm::raw_string_ostream(params)
      << "const " << xt << " *x, const " << wtt << " *w, const float *bias, "
      << ot << " *y, long long m";
  llvm::raw_string_ostream(body)
      << "mlpc::runSmallMatmul<" << xt << ", " << wtt << ", " << ot << ", " << k
      << ", " << n << ", " << (isMatmul ? "true" : "false") << ", " << act
      << ">(x, w, bias, y, m);";
  addStep(step, params, body);
  return success();
}
