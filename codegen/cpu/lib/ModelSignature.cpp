//===- ModelSignature.cpp - what a compiled model looks like --------------===//
#include "mlp/Codegen/CPU/ModelSignature.h"
#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/IR/MLPOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"

#include <nlohmann/json.hpp>

using namespace mlir;
using namespace mlp::cpu;

using mlp::dtypeName;

static FailureOr<TensorSignature> describe(Location loc, Type type,
                                           StringRef name) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || dtypeName(tensor.getElementType()).empty())
    return emitError(loc, "model tensor '") << name << "' has unsupported type "
                                            << type;
  TensorSignature sig;
  sig.name = name.str();
  sig.dtype = dtypeName(tensor.getElementType());
  uint64_t count = 1;
  for (int64_t d : tensor.getShape()) {
    sig.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
    if (!ShapedType::isDynamic(d))
      count *= d;
  }
  sig.nbytes = count * tensor.getElementTypeBitWidth() / 8;
  return sig;
}

FailureOr<ModelSignature> mlp::cpu::extractSignature(ModuleOp module) {
  func::FuncOp model;
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(kModelAttr))
      model = func;
  if (!model)
    return module.emitError("no function marked '") << kModelAttr << "'";

  ModelSignature signature;
  signature.name = model.getSymName().str();
  uint64_t offset = 0;
  for (auto [i, type] : llvm::enumerate(model.getArgumentTypes())) {
    bool isParam = static_cast<bool>(model.getArgAttr(i, kParamAttr));
    auto name = model.getArgAttrOfType<StringAttr>(i, isParam ? kParamAttr
                                                              : kNameAttr);
    if (!name)
      return model.emitError("argument #") << i << " has no name";
    auto sig = describe(model.getLoc(), type, name.getValue());
    if (failed(sig))
      return failure();
    if (isParam) {
      // A packed weight is stored permuted; the metadata keeps the
      // checkpoint's shape so the runtime can check a .safetensors file.
      if (auto layout =
              model.getArgAttrOfType<DenseI64ArrayAttr>(i, kLayoutAttr)) {
        sig->layout.assign(layout.asArrayRef().begin(),
                           layout.asArrayRef().end());
        std::vector<int64_t> original(sig->shape.size());
        for (auto [j, p] : llvm::enumerate(sig->layout))
          original[p] = sig->shape[j];
        sig->shape = original;
      }
      offset = (offset + kWeightAlignment - 1) / kWeightAlignment *
               kWeightAlignment;
      sig->offset = offset;
      offset += sig->nbytes;
      signature.params.push_back(*sig);
    } else {
      signature.inputs.push_back(*sig);
    }
  }
  signature.weightsBytes = offset;
  signature.rowsIndependent = model->hasAttr(kRowsIndependentAttr);
  if (auto scratch = model->getAttrOfType<IntegerAttr>(kScratchAttr))
    signature.scratchBytesPerRow = scratch.getInt();
  if (auto rows = model->getAttrOfType<IntegerAttr>(kRowsPerBlockAttr))
    signature.rowsPerBlock = rows.getInt();
  for (auto [i, type] : llvm::enumerate(model.getResultTypes())) {
    auto name = model.getResultAttrOfType<StringAttr>(i, kNameAttr);
    if (!name)
      return model.emitError("result #") << i << " has no name";
    auto sig = describe(model.getLoc(), type, name.getValue());
    if (failed(sig))
      return failure();
    signature.outputs.push_back(*sig);
  }
  return signature;
}

std::string mlp::cpu::toMetadataJson(const ModelSignature &signature) {
  auto tensors = [](const std::vector<TensorSignature> &list, bool params) {
    nlohmann::json array = nlohmann::json::array();
    for (const TensorSignature &t : list) {
      nlohmann::json entry = {
          {"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}};
      if (params)
        entry["offset"] = t.offset;
      if (!t.layout.empty())
        entry["layout"] = t.layout;
      array.push_back(entry);
    }
    return array;
  };
  nlohmann::json json = {
      {"abi", 1},
      {"name", signature.name},
      {"inputs", tensors(signature.inputs, false)},
      {"outputs", tensors(signature.outputs, false)},
      {"params", tensors(signature.params, true)},
      {"rows_independent", signature.rowsIndependent},
      {"scratch_bytes_per_row", signature.scratchBytesPerRow},
      {"rows_per_block", signature.rowsPerBlock},
      {"weights",
       {{"embedded", signature.weightsEmbedded},
        {"nbytes", signature.weightsEmbedded ? signature.weightsBytes : 0}}},
      {"cpu", signature.hasCpuCode}};
  if (signature.columnScratchBytesPerRow)
    json["column_scratch_bytes_per_row"] = signature.columnScratchBytesPerRow;
  if (!signature.cudaSection.empty())
    json["cuda"] = nlohmann::json::parse(signature.cudaSection);
  return json.dump();
}
