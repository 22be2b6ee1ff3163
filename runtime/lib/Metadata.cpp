//===- Metadata.cpp - The model description the compiler embeds -----------===//
//
// The metadata comes from our own compiler, but the runtime still validates
// it fully: a mismatch between compiler and runtime versions should give a
// clear error at mlp_model_create, not memory corruption at mlp_model_run.
//
//===----------------------------------------------------------------------===//

#include "Metadata.h"

#include "mlp/tensor_layout.h"

#include "mlp/runtime.h"

#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace mlp::rt {
namespace {

// kDLBool was added in DLPack 0.8; older headers (like Debian's 0.6) lack it.
constexpr uint8_t kBoolCode = 6;

struct DtypeName {
  const char *name;
  uint8_t code;
  uint8_t bits;
};

const DtypeName kDtypeNames[] = {
    {"float16", kDLFloat, 16}, {"float32", kDLFloat, 32},
    {"float64", kDLFloat, 64}, {"bfloat16", kDLBfloat, 16},
    {"int8", kDLInt, 8},       {"int16", kDLInt, 16},
    {"int32", kDLInt, 32},     {"int64", kDLInt, 64},
    {"uint8", kDLUInt, 8},     {"uint16", kDLUInt, 16},
    {"uint32", kDLUInt, 32},   {"uint64", kDLUInt, 64},
    {"bool", kBoolCode, 8},
};

bool parseTensor(const json &j, bool isParam, TensorSpec &out,
                 std::string &error) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    error = "entry without a string 'name'";
    return false;
  }
  out.name = j["name"].get<std::string>();
  auto err = [&](const std::string &msg) {
    error = "'" + out.name + "': " + msg;
    return false;
  };
  if (!j.contains("dtype") || !j["dtype"].is_string())
    return err("missing string 'dtype'");
  out.dtypeName = j["dtype"].get<std::string>();
  if (!dtypeFromName(out.dtypeName, out.dtype))
    return err("unsupported dtype '" + out.dtypeName + "'");
  if (!j.contains("shape") || !j["shape"].is_array())
    return err("missing array 'shape'");
  int batchDims = 0;
  for (const json &d : j["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < -1 ||
        (d.is_number_unsigned() && d.get<uint64_t>() > INT64_MAX))
      return err("'shape' must hold integers >= -1");
    int64_t v = d.get<int64_t>();
    batchDims += v == -1;
    out.shape.push_back(v);
  }
  if (batchDims > (isParam ? 0 : 1))
    return err(isParam ? "a parameter cannot have a batch dimension"
                       : "more than one batch dimension");
  if (!isParam)
    return true;
  if (!j.contains("offset") || !j["offset"].is_number_unsigned())
    return err("missing non-negative integer 'offset'");
  out.offset = j["offset"].get<uint64_t>();
  uint64_t n = out.dtype.bits / 8;
  for (int64_t d : out.shape)
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      return err("size overflows 64 bits");
  out.nbytes = n;
  out.storedShape = out.shape;
  if (j.contains("layout")) {
    if (!j["layout"].is_array())
      return err("'layout' must be an array");
    for (const json &d : j["layout"]) {
      if (!d.is_number_integer())
        return err("'layout' must hold integers");
      out.layout.push_back(d.get<int64_t>());
    }
    if (!isPermutation(out.layout, out.shape.size()))
      return err("'layout' is not a permutation of the shape's dimensions");
    out.storedShape = permuteShape(out.shape, out.layout);
  }
  return true;
}

bool parseList(const json &root, const char *key, bool isParam,
               std::vector<TensorSpec> &out, std::string &error) {
  if (!root.contains(key) || !root[key].is_array()) {
    error = std::string("missing array '") + key + "'";
    return false;
  }
  for (const json &j : root[key]) {
    out.emplace_back();
    if (!parseTensor(j, isParam, out.back(), error)) {
      error = std::string(key) + " " + error;
      return false;
    }
  }
  return true;
}

} // namespace

bool dtypeFromName(const std::string &name, DLDataType &out) {
  for (const DtypeName &d : kDtypeNames)
    if (name == d.name) {
      out = DLDataType{d.code, d.bits, 1};
      return true;
    }
  return false;
}

std::string dtypeToString(DLDataType dtype) {
  for (const DtypeName &d : kDtypeNames)
    if (dtype.code == d.code && dtype.bits == d.bits) {
      if (dtype.lanes == 1)
        return d.name;
      return d.name + std::string("x") + std::to_string(dtype.lanes);
    }
  return "dtype(code=" + std::to_string(dtype.code) +
         ", bits=" + std::to_string(dtype.bits) +
         ", lanes=" + std::to_string(dtype.lanes) + ")";
}

std::string formatShape(const int64_t *dims, int64_t ndim) {
  std::string s = "[";
  for (int64_t i = 0; i < ndim; ++i) {
    if (i)
      s += ", ";
    s += dims[i] == -1 ? std::string("N") : std::to_string(dims[i]);
  }
  return s + "]";
}

bool parseMetadata(const char *text, ModelMetadata &out, std::string &error) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    error = "not a JSON object";
    return false;
  }
  if (!root.contains("abi") || !root["abi"].is_number_integer() ||
      root["abi"].get<int64_t>() != MLP_ABI_VERSION) {
    error = "the model was compiled for a different runtime ABI (this "
            "runtime implements ABI " +
            std::to_string(MLP_ABI_VERSION) + ")";
    return false;
  }
  if (!root.contains("name") || !root["name"].is_string()) {
    error = "missing string 'name'";
    return false;
  }
  out.name = root["name"].get<std::string>();
  if (!parseList(root, "inputs", false, out.inputs, error) ||
      !parseList(root, "params", true, out.params, error) ||
      !parseList(root, "outputs", false, out.outputs, error))
    return false;
  const json *weights = root.contains("weights") ? &root["weights"] : nullptr;
  if (!weights || !weights->is_object() || !weights->contains("embedded") ||
      !(*weights)["embedded"].is_boolean()) {
    error = "missing object 'weights' with boolean 'embedded'";
    return false;
  }
  if (root.contains("rows_independent")) {
    if (!root["rows_independent"].is_boolean()) {
      error = "'rows_independent' must be a boolean";
      return false;
    }
    out.rowsIndependent = root["rows_independent"].get<bool>();
  }
  if (root.contains("rows_per_block")) {
    if (!root["rows_per_block"].is_number_unsigned()) {
      error = "'rows_per_block' must be a non-negative integer";
      return false;
    }
    out.rowsPerBlock = root["rows_per_block"].get<int64_t>();
  }
  if (root.contains("column_scratch_bytes_per_row")) {
    if (!root["column_scratch_bytes_per_row"].is_number_unsigned()) {
      error = "'column_scratch_bytes_per_row' must be a non-negative integer";
      return false;
    }
    out.columnScratchBytesPerRow =
        root["column_scratch_bytes_per_row"].get<uint64_t>();
  }
  if (root.contains("scratch_bytes_per_row")) {
    if (!root["scratch_bytes_per_row"].is_number_unsigned()) {
      error = "'scratch_bytes_per_row' must be a non-negative integer";
      return false;
    }
    out.scratchBytesPerRow = root["scratch_bytes_per_row"].get<uint64_t>();
  }
  if (root.contains("cpu")) {
    if (!root["cpu"].is_boolean()) {
      error = "'cpu' must be a boolean";
      return false;
    }
    out.hasCpu = root["cpu"].get<bool>();
  }
  if (root.contains("cuda")) {
    out.hasCuda = true;
    if (!parseCudaPlan(root["cuda"], out, out.cuda, error)) {
      error = "cuda: " + error;
      return false;
    }
  }
  if (!out.hasCpu && !out.hasCuda) {
    error = "the library holds neither CPU nor CUDA code";
    return false;
  }
  out.embedded = (*weights)["embedded"].get<bool>();
  if (!out.embedded)
    return true;
  if (!weights->contains("nbytes") ||
      !(*weights)["nbytes"].is_number_unsigned()) {
    error = "'weights' lacks a non-negative integer 'nbytes'";
    return false;
  }
  out.weightsBytes = (*weights)["nbytes"].get<uint64_t>();
  for (const TensorSpec &p : out.params) {
    uint64_t end;
    if (__builtin_add_overflow(p.offset, p.nbytes, &end) ||
        end > out.weightsBytes) {
      error = "param '" + p.name + "' lies outside the embedded weights (" +
              std::to_string(out.weightsBytes) + " bytes)";
      return false;
    }
  }
  return true;
}

} // namespace mlp::rt
