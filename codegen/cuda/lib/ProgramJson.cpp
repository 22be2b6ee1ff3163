//===- ProgramJson.cpp - the "cuda" section of the model metadata ---------===//
#include "mlp/Codegen/CUDA/Program.h"

#include <nlohmann/json.hpp>

using json = nlohmann::json;
using namespace mlp::cuda;

static const char *kindName(Buffer::Kind kind) {
  return kind == Buffer::Input    ? "input"
         : kind == Buffer::Output ? "output"
                                  : "temp";
}

static const char *permName(ImagePiece::Permutation p) {
  return p == ImagePiece::AFragments   ? "a_fragments"
         : p == ImagePiece::CFragments ? "c_fragments"
                                       : "identity";
}

std::string mlp::cuda::toJson(const Program &program,
                              const std::map<std::string, int> &paramIndex,
                              uint64_t fatbinBytes) {
  json j;
  j["precision"] = precisionName(program.precision);
  j["fatbin_bytes"] = fatbinBytes;
  json values = json::array();
  for (const Buffer &v : program.values) {
    json value = {{"kind", kindName(v.kind)},
                  {"index", v.index},
                  {"cols", v.cols},
                  {"rows_per_batch", v.rowsPerBatch},
                  {"dtype", v.dtype}};
    if (!v.batched)
      value["batched"] = false;
    values.push_back(value);
  }
  j["values"] = values;
  json images = json::array();
  for (const Image &image : program.images) {
    json pieces = json::array();
    for (const ImagePiece &p : image.pieces) {
      pieces.push_back(
          {{"param", paramIndex.at(p.param)},
           {"dtype", p.dtype},
           {"rows", p.rows},
           {"cols", p.cols},
           {"padded_rows", p.paddedRows},
           {"row_stride", p.rowStride},
           {"offset", p.offset},
           {"layout",
            p.layout == ImagePiece::CoreMatrices ? "core8x8" : "rows"},
           {"row_perm", permName(p.rowPerm)},
           {"col_perm", permName(p.colPerm)},
           {"transposed", p.transposed}});
      if (!p.rowScale.empty())
        pieces.back()["row_scale"] = paramIndex.at(p.rowScale);
      if (!p.colScale.empty())
        pieces.back()["col_scale"] = paramIndex.at(p.colScale);
      if (!p.productMatrix.empty())
        pieces.back()["plus_product"] = {
            {"matrix", paramIndex.at(p.productMatrix)},
            {"vector", paramIndex.at(p.productVector)},
            {"transposed", p.productTransposed}};
      if (p.repeatInRow)
        pieces.back()["repeat_in_row"] = true;
    }
    images.push_back({{"bytes", image.bytes}, {"pieces", pieces}});
  }
  j["images"] = images;
  json steps = json::array();
  for (const Step &s : program.steps) {
    json args = json::array();
    for (const Arg &a : s.args) {
      switch (a.kind) {
      case Arg::ValueRef:
        args.push_back({{"value", a.index}});
        break;
      case Arg::ImageRef:
        args.push_back({{"image", a.index}});
        break;
      case Arg::Rows:
        args.push_back({{"rows", a.perBatch}});
        break;
      case Arg::F32:
        args.push_back({{"f32", a.number}});
        break;
      case Arg::Count:
        args.push_back({{"count", a.perBatch}});
        break;
      case Arg::TensorMap: {
        json m = {{a.ofImage ? "image" : "value", a.index},
                  {"rows", a.perBatch},
                  {"cols", a.cols},
                  {"box_rows", a.boxRows}};
        args.push_back({{"tensor_map", m}});
        break;
      }
      case Arg::TmaReady:
        args.push_back({{"tma_ready", true}});
        break;
      }
    }
    steps.push_back(
        {{"kernel", s.kernel},
         {"what", s.what},
         {"threads", s.threads},
         {"shared_bytes", s.sharedBytes},
         {"grid", s.grid == Step::Persistent ? "persistent" : "row_tiles"},
         {"rows_per_cta", s.rowsPerCta},
         {"grid_y", s.gridY},
         {"args", args}});
    if (s.earlyLaunch)
      steps.back()["early_launch"] = true;
    if (s.pingPong)
      steps.back()["ping_pong"] = {{"kernel", s.pingPong->kernel},
                                   {"threads", s.pingPong->threads},
                                   {"shared_bytes", s.pingPong->sharedBytes},
                                   {"col_tiles", s.pingPong->colTiles}};
    if (s.gemm) {
      static const char *acts[] = {"none", "relu", "gelu_tanh", "gelu"};
      const LibraryGemm &g = *s.gemm;
      steps.back()["cublaslt"] = {{"x", g.x},
                                  {"y", g.y},
                                  {"residual", g.residual},
                                  {"image", g.image},
                                  {"k", g.k},
                                  {"n", g.n},
                                  {"bias_offset", g.biasOffset},
                                  {"activation", acts[g.activation]}};
      if (g.tokens)
        steps.back()["cublaslt"]["tokens"] = true;
      if (!g.afterKernel.empty())
        steps.back()["cublaslt"]["after_kernel"] = g.afterKernel;
    }
  }
  j["steps"] = steps;
  return j.dump();
}
