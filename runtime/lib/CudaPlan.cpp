//===- CudaPlan.cpp - parsing the "cuda" metadata section -----------------===//
//
// Validated as strictly as the rest of the metadata: a plan that does not
// match the model's tensors must fail mlp_model_create, never launch a kernel
// on the wrong buffer.
//
//===----------------------------------------------------------------------===//
#include "CudaPlan.h"
#include "Metadata.h"

#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace mlp::rt {
namespace {

bool getInt(const json &j, const char *key, int64_t lo, int64_t hi,
            int64_t &out, std::string &error) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) {
    error = std::string("missing integer '") + key + "'";
    return false;
  }
  out = j[key].get<int64_t>();
  if (out < lo || out > hi) {
    error = std::string("'") + key + "' = " + std::to_string(out) +
            " is out of range";
    return false;
  }
  return true;
}

bool getString(const json &j, const char *key, std::string &out,
               std::string &error) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
    error = std::string("missing string '") + key + "'";
    return false;
  }
  out = j[key].get<std::string>();
  return true;
}

int elemBytes(const std::string &dtype) {
  if (dtype == "float32")
    return 4;
  if (dtype == "float16" || dtype == "bfloat16")
    return 2;
  return 0;
}

/// Values may also be integer model inputs (embedding ids).
int valueElemBytes(const std::string &dtype) {
  if (dtype == "int64")
    return 8;
  if (dtype == "int32")
    return 4;
  return elemBytes(dtype);
}

constexpr int64_t kMax = int64_t(1) << 40;

bool parseValue(const json &j, const ModelMetadata &meta, CudaPlan &plan,
                std::string &error) {
  CudaValue v;
  std::string kind;
  int64_t index, cols;
  if (!getString(j, "kind", kind, error) ||
      !getInt(j, "index", 0, 1 << 20, index, error) ||
      !getInt(j, "cols", 0, kMax, cols, error) ||
      !getString(j, "dtype", v.dtype, error))
    return false;
  v.index = static_cast<int>(index);
  v.cols = cols;
  if (j.contains("rows_per_batch") &&
      !getInt(j, "rows_per_batch", 1, kMax, v.rowsPerBatch, error))
    return false;
  if (j.contains("batched")) {
    if (!j["batched"].is_boolean()) {
      error = "value with a non-boolean 'batched'";
      return false;
    }
    v.batched = j["batched"].get<bool>();
  }
  v.elemBytes = valueElemBytes(v.dtype);
  if (!v.elemBytes) {
    error = "value of unsupported dtype '" + v.dtype + "'";
    return false;
  }
  const std::vector<TensorSpec> *list = nullptr;
  if (kind == "input") {
    v.kind = CudaValue::Input;
    list = &meta.inputs;
  } else if (kind == "output") {
    v.kind = CudaValue::Output;
    list = &meta.outputs;
  } else if (kind == "temp") {
    v.kind = CudaValue::Temp;
    plan.numTemps = std::max(plan.numTemps, v.index + 1);
    if (v.dtype == "int32" || v.dtype == "int64") {
      error = "temp value of integer dtype '" + v.dtype + "'";
      return false;
    }
  } else {
    error = "value of unknown kind '" + kind + "'";
    return false;
  }
  if (list) {
    if (static_cast<size_t>(v.index) >= list->size()) {
      error = kind + " value #" + std::to_string(v.index) + " does not exist";
      return false;
    }
    const TensorSpec &spec = (*list)[v.index];
    int64_t middle = 1;
    for (size_t d = 1; d + 1 < spec.shape.size(); ++d)
      middle *= spec.shape[d];
    // [N] is one column per batch row.
    const int64_t cols = spec.shape.size() == 1 ? 1 : spec.shape.back();
    if (spec.shape.empty() || spec.shape[0] != -1 || cols != v.cols ||
        middle != v.rowsPerBatch || spec.dtypeName != v.dtype || !v.batched ||
        (v.kind == CudaValue::Output && !elemBytes(v.dtype))) {
      error = kind + " '" + spec.name + "' does not match its CUDA value";
      return false;
    }
  }
  plan.values.push_back(v);
  return true;
}

bool parseImage(const json &j, const ModelMetadata &meta, CudaPlan &plan,
                std::string &error) {
  CudaImage image;
  int64_t bytes;
  if (!getInt(j, "bytes", 0, kMax, bytes, error))
    return false;
  image.bytes = bytes;
  if (!j.contains("pieces") || !j["pieces"].is_array()) {
    error = "image without 'pieces'";
    return false;
  }
  for (const json &pj : j["pieces"]) {
    CudaImagePiece p;
    int64_t param, offset;
    if (!getInt(pj, "param", 0, 1 << 30, param, error) ||
        !getString(pj, "dtype", p.dtype, error) ||
        !getInt(pj, "rows", 1, kMax, p.rows, error) ||
        !getInt(pj, "cols", 1, kMax, p.cols, error) ||
        !getInt(pj, "padded_rows", 1, kMax, p.paddedRows, error) ||
        !getInt(pj, "row_stride", 1, kMax, p.rowStride, error) ||
        !getInt(pj, "offset", 0, kMax, offset, error))
      return false;
    p.param = static_cast<int>(param);
    p.offset = offset;
    if (pj.contains("layout")) {
      std::string layout;
      if (!getString(pj, "layout", layout, error))
        return false;
      if (layout != "rows" && layout != "core8x8") {
        error = "image piece with unknown layout '" + layout + "'";
        return false;
      }
      p.coreMatrices = layout == "core8x8";
    }
    if (pj.contains("transposed")) {
      if (!pj["transposed"].is_boolean()) {
        error = "image piece with a non-boolean 'transposed'";
        return false;
      }
      p.transposed = pj["transposed"].get<bool>();
    }
    if (pj.contains("repeat_in_row")) {
      if (!pj["repeat_in_row"].is_boolean()) {
        error = "image piece with a non-boolean 'repeat_in_row'";
        return false;
      }
      p.repeatInRow = pj["repeat_in_row"].get<bool>();
    }
    for (const char *key : {"row_scale", "col_scale"}) {
      if (!pj.contains(key))
        continue;
      int64_t scale;
      if (!getInt(pj, key, 0, int64_t(meta.params.size()) - 1, scale, error))
        return false;
      const bool rows = key[0] == 'r';
      const TensorSpec &s = meta.params[scale];
      int64_t count = 1;
      for (int64_t d : s.shape)
        count *= d;
      if (count != (rows ? p.rows : p.cols) || !elemBytes(s.dtypeName)) {
        error = std::string("image piece's '") + key + "' '" + s.name +
                "' does not match the piece";
        return false;
      }
      (rows ? p.rowScale : p.colScale) = static_cast<int>(scale);
    }
    if (pj.contains("plus_product")) {
      const json &pp = pj["plus_product"];
      int64_t matrix = -1, vector = -1;
      if (!pp.is_object() ||
          !getInt(pp, "matrix", 0, int64_t(meta.params.size()) - 1, matrix,
                  error) ||
          !getInt(pp, "vector", 0, int64_t(meta.params.size()) - 1, vector,
                  error))
        return false;
      auto count = [&](int64_t i) {
        int64_t n = 1;
        for (int64_t d : meta.params[i].shape)
          n *= d;
        return n;
      };
      const int64_t k = count(vector);
      if (p.rows != 1 || count(matrix) != p.cols * k ||
          !elemBytes(meta.params[matrix].dtypeName) ||
          !elemBytes(meta.params[vector].dtypeName) ||
          (pp.contains("transposed") && !pp["transposed"].is_boolean())) {
        error = "image piece's 'plus_product' does not match the piece";
        return false;
      }
      p.productMatrix = static_cast<int>(matrix);
      p.productVector = static_cast<int>(vector);
      p.productTransposed =
          pp.contains("transposed") && pp["transposed"].get<bool>();
    }
    for (const char *key : {"row_perm", "col_perm"}) {
      if (!pj.contains(key))
        continue;
      std::string name;
      if (!getString(pj, key, name, error))
        return false;
      CudaImagePiece::Permutation perm =
          name == "a_fragments"   ? CudaImagePiece::AFragments
          : name == "c_fragments" ? CudaImagePiece::CFragments
                                  : CudaImagePiece::Identity;
      if (perm == CudaImagePiece::Identity && name != "identity") {
        error = "image piece with unknown permutation '" + name + "'";
        return false;
      }
      // A permutation covers the whole extent: no padding may be read.
      const bool rows = key[0] == 'r';
      const int64_t extent = rows ? p.rows : p.cols;
      const int64_t padded = rows ? p.paddedRows : p.rowStride;
      const int64_t unit = perm == CudaImagePiece::AFragments ? 16 : 8;
      if (perm != CudaImagePiece::Identity &&
          (extent != padded || extent % unit != 0)) {
        error = std::string("image piece permuted along an extent that is "
                            "not a multiple of ") +
                std::to_string(unit);
        return false;
      }
      (rows ? p.rowPerm : p.colPerm) = perm;
      if (p.coreMatrices && (p.paddedRows % 8 || p.rowStride % 8)) {
        error = "core8x8 image piece not padded to multiples of 8";
        return false;
      }
    }
    if (static_cast<size_t>(p.param) >= meta.params.size()) {
      error = "image piece of param #" + std::to_string(p.param) +
              ", which does not exist";
      return false;
    }
    const TensorSpec &spec = meta.params[p.param];
    int64_t count = 1;
    for (int64_t d : spec.shape)
      count *= d;
    int elem = elemBytes(p.dtype), from = elemBytes(spec.dtypeName);
    // A repeated vector: no transpose, permutation, column scale or fold.
    if (p.repeatInRow &&
        (p.transposed || p.coreMatrices || p.colScale >= 0 ||
         p.productMatrix >= 0 || p.rowPerm != CudaImagePiece::Identity ||
         p.colPerm != CudaImagePiece::Identity)) {
      error = "image piece 'repeat_in_row' with other transformations";
      return false;
    }
    if (!elem || !from ||
        count != (p.repeatInRow ? p.rows : p.rows * p.cols) ||
        p.paddedRows < p.rows ||
        p.rowStride < p.cols ||
        p.offset + uint64_t(p.paddedRows) * p.rowStride * elem > image.bytes) {
      error = "image piece of '" + spec.name + "' is inconsistent";
      return false;
    }
    image.pieces.push_back(p);
  }
  plan.images.push_back(image);
  return true;
}

/// The piece of `image` at `offset`, or null.
const CudaImagePiece *pieceAt(const CudaImage &image, uint64_t offset) {
  for (const CudaImagePiece &p : image.pieces)
    if (p.offset == offset)
      return &p;
  return nullptr;
}

/// A step's "cublaslt" object: checked against the values and the image it
/// names, since cuBLASLt reads them with no kernel to constrain it.
bool parseGemm(const json &j, const CudaPlan &plan, CudaGemm &g,
               std::string &error) {
  const int64_t values = int64_t(plan.values.size()) - 1;
  int64_t x, y, residual, image;
  std::string activation;
  if (!getInt(j, "x", 0, values, x, error) ||
      !getInt(j, "y", 0, values, y, error) ||
      !getInt(j, "residual", -1, values, residual, error) ||
      !getInt(j, "image", 0, int64_t(plan.images.size()) - 1, image, error) ||
      !getInt(j, "k", 1, kMax, g.k, error) ||
      !getInt(j, "n", 1, kMax, g.n, error) ||
      !getInt(j, "bias_offset", -1, kMax, g.biasOffset, error) ||
      !getString(j, "activation", activation, error))
    return false;
  if (j.contains("tokens")) {
    if (!j["tokens"].is_boolean()) {
      error = "cublaslt step with a non-boolean 'tokens'";
      return false;
    }
    g.tokens = j["tokens"].get<bool>();
  }
  g.x = static_cast<int>(x);
  g.y = static_cast<int>(y);
  g.residual = static_cast<int>(residual);
  g.image = static_cast<int>(image);
  if (activation == "none")
    g.activation = CudaGemm::None;
  else if (activation == "relu")
    g.activation = CudaGemm::Relu;
  else if (activation == "gelu_tanh")
    g.activation = CudaGemm::GeluTanh;
  else if (activation == "gelu")
    g.activation = CudaGemm::Gelu;
  else {
    error = "cublaslt step with unknown activation '" + activation + "'";
    return false;
  }
  // The exact GELU is a kernel of the fatbin that runs after cuBLASLt.
  if (g.activation == CudaGemm::Gelu &&
      !getString(j, "after_kernel", g.afterKernel, error))
    return false;
  const CudaValue &xv = plan.values[g.x], &yv = plan.values[g.y];
  const CudaImage &img = plan.images[g.image];
  const CudaImagePiece *w = pieceAt(img, 0);
  const CudaImagePiece *b =
      g.biasOffset >= 0 ? pieceAt(img, g.biasOffset) : nullptr;
  auto plain = [](const CudaImagePiece *p) {
    return !p->coreMatrices && p->rowPerm == CudaImagePiece::Identity &&
           p->colPerm == CudaImagePiece::Identity;
  };
  if (g.tokens) {
    // W (n, k) zero padded from its rows and columns; x and y hold k and n
    // rows a sample of the same columns; the bias repeats along rows.
    const bool ok =
        (xv.dtype == "float16" || xv.dtype == "bfloat16") &&
        yv.dtype == xv.dtype && xv.cols == yv.cols && xv.cols % 8 == 0 &&
        xv.rowsPerBatch == g.k && yv.rowsPerBatch == g.n && xv.batched &&
        yv.batched && g.residual < 0 && w &&
        plain(w) && w->dtype == xv.dtype && w->rows <= g.n &&
        w->paddedRows == g.n && w->cols <= g.k && w->rowStride == g.k &&
        (g.biasOffset < 0 ||
         (b && b->repeatInRow && !b->coreMatrices && b->dtype == yv.dtype &&
          b->rows <= g.n && b->paddedRows == g.n && b->cols == yv.cols &&
          b->rowStride == yv.cols && g.biasOffset % 16 == 0));
    if (!ok)
      error = "cublaslt token-mixing step does not match its values and "
              "image";
    return ok;
  }
  // W may be zero padded from its columns to k (convolution patches).
  bool ok = (xv.dtype == "float16" || xv.dtype == "bfloat16") &&
            elemBytes(yv.dtype) && xv.cols == g.k && yv.cols == g.n &&
            xv.rowsPerBatch == yv.rowsPerBatch && xv.batched && yv.batched &&
            w && plain(w) && w->dtype == xv.dtype && w->rows == g.n &&
            w->cols <= g.k && w->rowStride == g.k &&
            (g.biasOffset < 0 || (b && plain(b) && b->dtype == yv.dtype &&
                                  b->rows == 1 && b->cols == g.n));
  if (ok && g.residual >= 0) {
    const CudaValue &r = plan.values[g.residual];
    ok = g.activation == CudaGemm::None && r.dtype == yv.dtype &&
         r.cols == yv.cols && r.rowsPerBatch == yv.rowsPerBatch && r.batched;
  }
  if (!ok)
    error = "cublaslt step does not match its values and image";
  return ok;
}

bool parseStep(const json &j, CudaPlan &plan, std::string &error) {
  CudaStep s;
  int64_t threads, shared;
  std::string grid;
  if (!getString(j, "kernel", s.kernel, error) ||
      !getInt(j, "threads", 32, 1024, threads, error) ||
      !getInt(j, "shared_bytes", 0, 1 << 24, shared, error) ||
      !getString(j, "grid", grid, error) ||
      !getInt(j, "rows_per_cta", 1, kMax, s.rowsPerCta, error) ||
      !getInt(j, "grid_y", 1, 65535, s.gridY, error))
    return false;
  if (j.contains("what") && j["what"].is_string())
    s.what = j["what"].get<std::string>();
  s.threads = static_cast<int>(threads);
  s.sharedBytes = shared;
  if (grid != "persistent" && grid != "row_tiles") {
    error = "step '" + s.kernel + "' has unknown grid '" + grid + "'";
    return false;
  }
  s.persistent = grid == "persistent";
  if (j.contains("early_launch")) {
    if (!j["early_launch"].is_boolean()) {
      error = "step '" + s.kernel + "' with a non-boolean 'early_launch'";
      return false;
    }
    s.earlyLaunch = j["early_launch"].get<bool>();
  }
  if (j.contains("ping_pong")) {
    const json &v = j["ping_pong"];
    int64_t threads, shared;
    if (!v.is_object() || !getString(v, "kernel", s.pingPongKernel, error) ||
        !getInt(v, "threads", 128, 1024, threads, error) ||
        !getInt(v, "shared_bytes", 0, 1 << 24, shared, error) ||
        !getInt(v, "col_tiles", 1, kMax, s.pingPongColTiles, error)) {
      if (error.empty())
        error = "step '" + s.kernel + "' with a malformed 'ping_pong'";
      return false;
    }
    s.pingPongThreads = static_cast<int>(threads);
    s.pingPongSharedBytes = static_cast<uint64_t>(shared);
  }
  if (!j.contains("args") || !j["args"].is_array()) {
    error = "step '" + s.kernel + "' without 'args'";
    return false;
  }
  for (const json &a : j["args"]) {
    CudaArg arg;
    int64_t index;
    if (a.contains("value")) {
      arg.kind = CudaArg::Value;
      if (!getInt(a, "value", 0, int64_t(plan.values.size()) - 1, index, error))
        return false;
      arg.index = static_cast<int>(index);
    } else if (a.contains("image")) {
      arg.kind = CudaArg::Image;
      if (!getInt(a, "image", -1, int64_t(plan.images.size()) - 1, index,
                  error))
        return false;
      arg.index = static_cast<int>(index);
    } else if (a.contains("rows")) {
      arg.kind = CudaArg::Rows;
      if (!a["rows"].is_boolean() &&
          !getInt(a, "rows", 1, kMax, arg.perBatch, error))
        return false;
    } else if (a.contains("count")) {
      arg.kind = CudaArg::Count;
      if (!getInt(a, "count", 0, kMax, arg.perBatch, error))
        return false;
    } else if (a.contains("tensor_map") && a["tensor_map"].is_object()) {
      const json &m = a["tensor_map"];
      arg.kind = CudaArg::TensorMap;
      arg.ofImage = m.contains("image");
      std::string dtype;
      if (arg.ofImage) {
        if (!getInt(m, "image", 0, int64_t(plan.images.size()) - 1, index,
                    error))
          return false;
        // The matrix is the image's piece at byte 0.
        for (const CudaImagePiece &p : plan.images[index].pieces)
          if (p.offset == 0 && !p.coreMatrices)
            dtype = p.dtype;
      } else {
        if (!getInt(m, "value", 0, int64_t(plan.values.size()) - 1, index,
                    error))
          return false;
        dtype = plan.values[index].dtype;
      }
      arg.index = static_cast<int>(index);
      if (!getInt(m, "rows", 1, kMax, arg.perBatch, error) ||
          !getInt(m, "cols", 8, kMax, arg.cols, error) ||
          !getInt(m, "box_rows", 1, 256, arg.boxRows, error))
        return false;
      if ((dtype != "float16" && dtype != "bfloat16") || arg.cols % 8) {
        error = "step '" + s.kernel +
                "' has a tensor map of other than 16-bit elements in rows "
                "of a multiple of 8";
        return false;
      }
      arg.bfloat16 = dtype == "bfloat16";
      if (arg.ofImage) {
        bool piece = false;
        for (const CudaImagePiece &p : plan.images[index].pieces)
          piece |= p.offset == 0 && !p.coreMatrices &&
                   p.paddedRows == arg.perBatch && p.rowStride == arg.cols;
        if (!piece) {
          error = "step '" + s.kernel + "' maps no row-major piece at the "
                  "start of image " + std::to_string(index);
          return false;
        }
      }
    } else if (a.contains("tma_ready")) {
      arg.kind = CudaArg::TmaReady;
    } else if (a.contains("f32") && a["f32"].is_number()) {
      arg.kind = CudaArg::F32;
      arg.number = a["f32"].get<float>();
    } else {
      error = "step '" + s.kernel + "' has an unknown argument";
      return false;
    }
    s.args.push_back(arg);
  }
  if (j.contains("cublaslt")) {
    if (!parseGemm(j["cublaslt"], plan, s.gemm, error))
      return false;
    s.hasGemm = true;
  }
  plan.steps.push_back(s);
  return true;
}

} // namespace

bool parseCudaPlan(const json &j, const ModelMetadata &meta, CudaPlan &out,
                   std::string &error) {
  if (!j.is_object() || !getString(j, "precision", out.precision, error))
    return false;
  int64_t fatbin;
  if (!getInt(j, "fatbin_bytes", 1, kMax, fatbin, error))
    return false;
  out.fatbinBytes = fatbin;
  for (const char *key : {"values", "images", "steps"})
    if (!j.contains(key) || !j[key].is_array()) {
      error = std::string("missing array '") + key + "'";
      return false;
    }
  for (const json &v : j["values"])
    if (!parseValue(v, meta, out, error))
      return false;
  for (const json &i : j["images"])
    if (!parseImage(i, meta, out, error))
      return false;
  for (const json &s : j["steps"])
    if (!parseStep(s, out, error))
      return false;
  return true;
}

} // namespace mlp::rt
