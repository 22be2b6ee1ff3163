//===- CudaRuntimeTest.cpp - the CUDA side of the runtime, without a GPU --===//
//
// What can be checked on any machine: the host float16/bfloat16 conversions
// that build weight images, the validation of the "cuda" metadata section,
// and the statuses when no CUDA driver is there (MLP_CUDA_DRIVER points at a
// file that does not exist). Runs on GPUs are checked by
// test/lib/cuda_cases.py (test/e2e/cuda_gpu.test).
//
//===----------------------------------------------------------------------===//

#include "CudaImage.h"
#include "FakeModel.h"
#include "HalfFloat.h"
#include "Model.h"

#include "mlp/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using namespace mlp::rt;

TEST(HalfFloat, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = halfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f))
      continue;
    EXPECT_EQ(floatToHalf(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(HalfFloat, KnownValues) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // rounds to infinity
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(5.9604645e-8f), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalf(2.9802322e-8f), 0x0000); // half of it: ties to even
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to even (1).
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalf(INFINITY), 0x7c00);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_FLOAT_EQ(halfToFloat(0x3555), 0.33325195f);
}

TEST(HalfFloat, Bfloat16) {
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(bfloat16ToFloat(0xc040), -3.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even.
  EXPECT_EQ(floatToBfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBfloat16(NAN))));
}

/// A model whose metadata has a "cuda" section: y = x W^T, one chain step.
std::string cudaMetadata(bool cpu, const std::string &pieceExtra = "",
                         int valueIndex = 0) {
  return std::string(R"({"abi": 1, "name": "gpu", "cpu": )") +
         (cpu ? "true" : "false") + R"(,
    "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 3]}],
    "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 2]}],
    "params": [{"name": "w", "dtype": "float32", "shape": [2, 3], "offset": 0}],
    "weights": {"embedded": true, "nbytes": 24},
    "cuda": {"precision": "f32", "fatbin_bytes": 64,
      "values": [{"kind": "input", "index": )" +
         std::to_string(valueIndex) + R"(, "cols": 3, "dtype": "float32"},
                 {"kind": "output", "index": 0, "cols": 2, "dtype": "float32"}],
      "images": [{"bytes": 32, "pieces": [{"param": 0, "dtype": "float32",
         "rows": 2, "cols": 3, "padded_rows": 2, "row_stride": 4,
         "offset": 0)" +
         pieceExtra + R"(}]}],
      "steps": [{"kernel": "k", "threads": 256, "shared_bytes": 0,
         "grid": "row_tiles", "rows_per_cta": 64, "grid_y": 1,
         "args": [{"value": 0}, {"image": 0}, {"value": 1}, {"rows": true}]}]}})";
}

const unsigned char kWeights[64] = {};
const unsigned char kFatbin[64] = {};

class NoDriver : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("MLP_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  }
};

TEST_F(NoDriver, CudaOnlyModelNeedsTheDriver) {
  std::string meta = cudaMetadata(/*cpu=*/false);
  mlp_model *m = nullptr;
  EXPECT_EQ(
      createModel({meta.c_str(), kWeights, nullptr, kFatbin}, nullptr, &m),
      MLP_ERR_DEVICE);
  EXPECT_NE(std::string(mlp_last_error()).find("no CUDA driver"),
            std::string::npos)
      << mlp_last_error();
  EXPECT_EQ(m, nullptr);
  DLDevice cpu = {kDLCPU, 0};
  EXPECT_EQ(createModel({meta.c_str(), kWeights, nullptr, kFatbin}, nullptr, &m,
                        &cpu),
            MLP_ERR_DEVICE);
  EXPECT_NE(std::string(mlp_last_error()).find("compiled for CUDA only"),
            std::string::npos)
      << mlp_last_error();
}

TEST_F(NoDriver, CpuAndCudaModelFallsBackToTheCpu) {
  std::string meta = cudaMetadata(/*cpu=*/true);
  mlp_model *m = nullptr;
  ASSERT_EQ(createModel({meta.c_str(), kWeights, mlpc_model_entry, kFatbin},
                        nullptr, &m),
            MLP_OK)
      << mlp_last_error();
  // CUDA tensors then fail with the reason the GPU is unavailable.
  float x[3] = {}, y[2] = {};
  int64_t xs[2] = {1, 3}, ys[2] = {1, 2};
  DLTensor in{x, {kDLCUDA, 0}, 2, {kDLFloat, 32, 1}, xs, nullptr, 0};
  DLTensor out{y, {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, ys, nullptr, 0};
  EXPECT_EQ(mlp_model_run(m, &in, 1, &out, 1), MLP_ERR_DEVICE);
  EXPECT_NE(std::string(mlp_last_error()).find("no CUDA driver"),
            std::string::npos)
      << mlp_last_error();
  in.device = {kDLCPU, 0};
  EXPECT_EQ(mlp_model_run(m, &in, 1, &out, 1), MLP_OK) << mlp_last_error();
  mlp_model_destroy(m);
  // Asking for the GPU explicitly fails.
  DLDevice gpu = {kDLCUDA, 0};
  EXPECT_EQ(createModel({meta.c_str(), kWeights, mlpc_model_entry, kFatbin},
                        nullptr, &m, &gpu),
            MLP_ERR_DEVICE);
}

TEST(CudaPlan, InconsistentPlansAreRejected) {
  const std::string bad[] = {
      cudaMetadata(true, R"(, "rows": 3)"),       // 3 x 3 is not w's size
      cudaMetadata(true, R"(, "row_stride": 2)"), // narrower than a row
      cudaMetadata(true, R"(, "offset": 16)"),    // past the image's end
      cudaMetadata(true, "", /*valueIndex=*/1),   // there is no input #1
  };
  for (const std::string &text : bad) {
    // A duplicated key keeps its last value in nlohmann::json.
    ModelMetadata meta;
    std::string error;
    EXPECT_FALSE(parseMetadata(text.c_str(), meta, error)) << text;
    EXPECT_NE(error.find("cuda: "), std::string::npos) << error;
  }
  ModelMetadata meta;
  std::string error;
  EXPECT_TRUE(parseMetadata(cudaMetadata(true).c_str(), meta, error)) << error;
  EXPECT_TRUE(meta.hasCuda);
  ASSERT_EQ(meta.cuda.steps.size(), 1u);
  EXPECT_FALSE(meta.cuda.steps[0].persistent);
}

/// Integer ids of shape [N] (one column), a temp without a batch and a
/// fixed work count: what embeddings and parameter-only math need.
std::string idsMetadata(const std::string &idsValue,
                        const std::string &tempValue) {
  return R"({"abi": 1, "name": "ids", "cpu": false,
    "inputs": [{"name": "ids", "dtype": "int64", "shape": [-1]}],
    "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 4]}],
    "params": [{"name": "t", "dtype": "float32", "shape": [3, 4], "offset": 0}],
    "weights": {"embedded": true, "nbytes": 48},
    "cuda": {"precision": "f32", "fatbin_bytes": 64,
      "values": [)" +
         idsValue + R"(,
                 {"kind": "output", "index": 0, "cols": 4, "dtype": "float32"},
                 )" +
         tempValue + R"(],
      "images": [{"bytes": 48, "pieces": [{"param": 0, "dtype": "float32",
         "rows": 1, "cols": 12, "padded_rows": 1, "row_stride": 12,
         "offset": 0}]}],
      "steps": [{"kernel": "k", "threads": 256, "shared_bytes": 0,
         "grid": "persistent", "rows_per_cta": 256, "grid_y": 1,
         "args": [{"image": 0}, {"value": 2}, {"count": 12}]},
        {"kernel": "g", "threads": 256, "shared_bytes": 0,
         "grid": "persistent", "rows_per_cta": 256, "grid_y": 1,
         "args": [{"value": 0}, {"value": 2}, {"value": 1}, {"rows": 4}]}]}})";
}

TEST(CudaPlan, IntegerInputsAndBatchFreeTemps) {
  const std::string ids =
      R"({"kind": "input", "index": 0, "cols": 1, "dtype": "int64"})";
  const std::string temp =
      R"({"kind": "temp", "index": 0, "cols": 12, "dtype": "float32",
          "batched": false})";
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(idsMetadata(ids, temp).c_str(), meta, error))
      << error;
  ASSERT_EQ(meta.cuda.values.size(), 3u);
  EXPECT_EQ(meta.cuda.values[0].elemBytes, 8);
  EXPECT_TRUE(meta.cuda.values[0].batched);
  EXPECT_FALSE(meta.cuda.values[2].batched);
  ASSERT_EQ(meta.cuda.steps.size(), 2u);
  EXPECT_EQ(meta.cuda.steps[0].args[2].kind, CudaArg::Count);
  EXPECT_EQ(meta.cuda.steps[0].args[2].perBatch, 12);

  const std::string bad[] = {
      // The ids are int64, not int32.
      idsMetadata(R"({"kind": "input", "index": 0, "cols": 1,
                      "dtype": "int32"})",
                  temp),
      // [N] is one column.
      idsMetadata(R"({"kind": "input", "index": 0, "cols": 2,
                      "dtype": "int64"})",
                  temp),
      // A caller's tensor always has the batch.
      idsMetadata(R"({"kind": "input", "index": 0, "cols": 1,
                      "dtype": "int64", "batched": false})",
                  temp),
      // Kernels compute floats only.
      idsMetadata(ids, R"({"kind": "temp", "index": 0, "cols": 12,
                           "dtype": "int64"})"),
  };
  for (const std::string &text : bad) {
    ModelMetadata m;
    EXPECT_FALSE(parseMetadata(text.c_str(), m, error)) << text;
    EXPECT_NE(error.find("cuda: "), std::string::npos) << error;
  }
}

/// idsMetadata's plan with `keys` added to its second step.
std::string withSecondStep(const std::string &keys) {
  std::string text = idsMetadata(
      R"({"kind": "input", "index": 0, "cols": 1, "dtype": "int64"})",
      R"({"kind": "temp", "index": 0, "cols": 12, "dtype": "float32",
          "batched": false})");
  const std::string at = R"({"kernel": "g",)";
  return text.insert(text.find(at) + at.size(), keys);
}

TEST(CudaPlan, EarlyLaunchSteps) {
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(withSecondStep(R"( "early_launch": true,)").c_str(),
                            meta, error))
      << error;
  ASSERT_EQ(meta.cuda.steps.size(), 2u);
  EXPECT_FALSE(meta.cuda.steps[0].earlyLaunch);
  EXPECT_TRUE(meta.cuda.steps[1].earlyLaunch);

  ModelMetadata bad;
  EXPECT_FALSE(parseMetadata(withSecondStep(R"( "early_launch": 1,)").c_str(),
                             bad, error));
  EXPECT_NE(error.find("non-boolean 'early_launch'"), std::string::npos)
      << error;
}

TEST(CudaPlan, PingPongKernels) {
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(
      withSecondStep(R"( "ping_pong": {"kernel": "g_pp", "threads": 384,
                         "shared_bytes": 201728, "col_tiles": 8},)")
          .c_str(),
      meta, error))
      << error;
  const CudaStep &step = meta.cuda.steps[1];
  EXPECT_EQ(step.pingPongKernel, "g_pp");
  EXPECT_EQ(step.pingPongThreads, 384);
  EXPECT_EQ(step.pingPongSharedBytes, 201728u);
  EXPECT_EQ(step.pingPongColTiles, 8);
  EXPECT_TRUE(meta.cuda.steps[0].pingPongKernel.empty());

  const std::string bad[] = {
      R"( "ping_pong": "g_pp",)",
      R"( "ping_pong": {"kernel": "g_pp", "threads": 384, "shared_bytes": 1},)",
      R"( "ping_pong": {"kernel": "g_pp", "threads": 384, "shared_bytes": 1,
                        "col_tiles": 0},)",
  };
  for (const std::string &keys : bad) {
    ModelMetadata m;
    EXPECT_FALSE(parseMetadata(withSecondStep(keys).c_str(), m, error))
        << keys;
  }
}

/// y = relu(x W^T + b) in f16, with a cuBLASLt description of the step
/// (`gemm` is the "cublaslt" object's body, `extra` more piece keys of W).
std::string gemmMetadata(const std::string &gemm,
                         const std::string &extra = "") {
  return R"({"abi": 1, "name": "lt", "cpu": false,
    "inputs": [{"name": "x", "dtype": "float16", "shape": [-1, 8]}],
    "outputs": [{"name": "y", "dtype": "float16", "shape": [-1, 8]}],
    "params": [{"name": "w", "dtype": "float32", "shape": [8, 8], "offset": 0},
               {"name": "b", "dtype": "float32", "shape": [8], "offset": 256},
               {"name": "s", "dtype": "float32", "shape": [8], "offset": 288}],
    "weights": {"embedded": true, "nbytes": 320},
    "cuda": {"precision": "f16", "fatbin_bytes": 64,
      "values": [{"kind": "input", "index": 0, "cols": 8, "dtype": "float16"},
                 {"kind": "output", "index": 0, "cols": 8, "dtype": "float16"}],
      "images": [{"bytes": 176, "pieces": [
         {"param": 0, "dtype": "float16", "rows": 8, "cols": 8,
          "padded_rows": 8, "row_stride": 8, "offset": 0)" +
         extra + R"(},
         {"param": 1, "dtype": "float32", "rows": 1, "cols": 8,
          "padded_rows": 1, "row_stride": 8, "offset": 128},
         {"param": 1, "dtype": "float16", "rows": 1, "cols": 8,
          "padded_rows": 1, "row_stride": 8, "offset": 160}]}],
      "steps": [{"kernel": "k", "threads": 256, "shared_bytes": 0,
         "grid": "row_tiles", "rows_per_cta": 128, "grid_y": 1,
         "args": [{"value": 0}, {"image": 0}, {"value": 1}, {"value": 1},
                  {"rows": true}],
         "cublaslt": {)" +
         gemm + R"(}}]}})";
}

TEST(CudaPlan, CublasLtSteps) {
  const std::string good = R"("x": 0, "y": 1, "residual": -1, "image": 0,
      "k": 8, "n": 8, "bias_offset": 160, "activation": "relu")";
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(gemmMetadata(good, R"(, "row_scale": 2)").c_str(),
                            meta, error))
      << error;
  ASSERT_EQ(meta.cuda.steps.size(), 1u);
  ASSERT_TRUE(meta.cuda.steps[0].hasGemm);
  const CudaGemm &g = meta.cuda.steps[0].gemm;
  EXPECT_EQ(g.activation, CudaGemm::Relu);
  EXPECT_EQ(g.biasOffset, 160);
  EXPECT_EQ(g.residual, -1);
  EXPECT_EQ(meta.cuda.images[0].pieces[0].rowScale, 2);
  ModelMetadata gelu;
  ASSERT_TRUE(parseMetadata(
      gemmMetadata(R"("x": 0, "y": 1, "residual": -1, "image": 0, "k": 8,
          "n": 8, "bias_offset": 160, "activation": "gelu",
          "after_kernel": "k_gelu")")
          .c_str(),
      gelu, error))
      << error;
  EXPECT_EQ(gelu.cuda.steps[0].gemm.activation, CudaGemm::Gelu);
  EXPECT_EQ(gelu.cuda.steps[0].gemm.afterKernel, "k_gelu");

  const std::string bad[] = {
      // cuBLASLt's bias has y's type: the f32 piece is not it.
      gemmMetadata(R"("x": 0, "y": 1, "residual": -1, "image": 0, "k": 8,
          "n": 8, "bias_offset": 128, "activation": "relu")"),
      // k is not x's width.
      gemmMetadata(R"("x": 0, "y": 1, "residual": -1, "image": 0, "k": 4,
          "n": 8, "bias_offset": 160, "activation": "relu")"),
      // The exact GELU runs after cuBLASLt: it needs its kernel.
      gemmMetadata(R"("x": 0, "y": 1, "residual": -1, "image": 0, "k": 8,
          "n": 8, "bias_offset": 160, "activation": "gelu")"),
      // No such activation.
      gemmMetadata(R"("x": 0, "y": 1, "residual": -1, "image": 0, "k": 8,
          "n": 8, "bias_offset": 160, "activation": "swish")"),
      // It would add the residual before the activation.
      gemmMetadata(R"("x": 0, "y": 1, "residual": 1, "image": 0, "k": 8,
          "n": 8, "bias_offset": 160, "activation": "relu")"),
      // No such image.
      gemmMetadata(R"("x": 0, "y": 1, "residual": -1, "image": 1, "k": 8,
          "n": 8, "bias_offset": 160, "activation": "none")"),
      // A row scale needs one element per row of W, not 64.
      gemmMetadata(good, R"(, "row_scale": 0)"),
  };
  for (const std::string &text : bad) {
    ModelMetadata m;
    EXPECT_FALSE(parseMetadata(text.c_str(), m, error)) << text;
    EXPECT_NE(error.find("cuda: "), std::string::npos) << error;
  }
}

/// Token mixing, 12 -> 12 tokens padded to 16, of 8 channels, in f16: W
/// (12, 12) zero padded to (16, 16), the bias repeated along 8 columns.
std::string tokenGemmMetadata(const std::string &gemm,
                              const std::string &biasKeys =
                                  R"(, "repeat_in_row": true)") {
  return R"({"abi": 1, "name": "tok", "cpu": false,
    "inputs": [{"name": "x", "dtype": "float16", "shape": [-1, 16, 8]}],
    "outputs": [{"name": "y", "dtype": "float16", "shape": [-1, 16, 8]}],
    "params": [{"name": "w", "dtype": "float32", "shape": [12, 12], "offset": 0},
               {"name": "b", "dtype": "float32", "shape": [12], "offset": 576}],
    "weights": {"embedded": true, "nbytes": 624},
    "cuda": {"precision": "f16", "fatbin_bytes": 64,
      "values": [{"kind": "input", "index": 0, "cols": 8, "dtype": "float16",
                  "rows_per_batch": 16},
                 {"kind": "output", "index": 0, "cols": 8, "dtype": "float16",
                  "rows_per_batch": 16}],
      "images": [{"bytes": 768, "pieces": [
         {"param": 0, "dtype": "float16", "rows": 12, "cols": 12,
          "padded_rows": 16, "row_stride": 16, "offset": 0},
         {"param": 1, "dtype": "float16", "rows": 12, "cols": 8,
          "padded_rows": 16, "row_stride": 8, "offset": 512)" +
         biasKeys + R"(}]}],
      "steps": [{"kernel": "k", "threads": 256, "shared_bytes": 0,
         "grid": "persistent", "rows_per_cta": 1, "grid_y": 1,
         "args": [{"value": 0}, {"image": 0}, {"value": 1}, {"rows": 1}],
         "cublaslt": {)" +
         gemm + R"(}}]}})";
}

TEST(CudaPlan, CublasLtTokenMixing) {
  const std::string good = R"("tokens": true, "x": 0, "y": 1,
      "residual": -1, "image": 0, "k": 16, "n": 16, "bias_offset": 512,
      "activation": "none")";
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(tokenGemmMetadata(good).c_str(), meta, error))
      << error;
  const CudaGemm &g = meta.cuda.steps[0].gemm;
  EXPECT_TRUE(g.tokens);
  EXPECT_EQ(g.k, 16);
  EXPECT_TRUE(meta.cuda.images[0].pieces[1].repeatInRow);
  // MLP-Mixer's token MLP: an activation after the first layer.
  ModelMetadata relu;
  ASSERT_TRUE(parseMetadata(
      tokenGemmMetadata(R"("tokens": true, "x": 0, "y": 1, "residual": -1,
          "image": 0, "k": 16, "n": 16, "bias_offset": 512,
          "activation": "relu")")
          .c_str(),
      relu, error))
      << error;
  EXPECT_EQ(relu.cuda.steps[0].gemm.activation, CudaGemm::Relu);
  const std::string bad[] = {
      // k is x's rows a sample, 16, not its tokens.
      tokenGemmMetadata(R"("tokens": true, "x": 0, "y": 1, "residual": -1,
          "image": 0, "k": 12, "n": 16, "bias_offset": 512,
          "activation": "none")"),
      // cuBLASLt adds the bias as C: it must repeat along rows.
      tokenGemmMetadata(good, ""),
      // No residual in token mixing.
      tokenGemmMetadata(R"("tokens": true, "x": 0, "y": 1, "residual": 0,
          "image": 0, "k": 16, "n": 16, "bias_offset": 512,
          "activation": "none")"),
      // A repeated vector is not also transposed.
      tokenGemmMetadata(good, R"(, "repeat_in_row": true, "transposed": true)"),
  };
  for (const std::string &text : bad) {
    ModelMetadata m;
    EXPECT_FALSE(parseMetadata(text.c_str(), m, error)) << text;
    EXPECT_NE(error.find("cuda: "), std::string::npos) << error;
  }
}

/// The TMA kernels' arguments: a tensor map of the input value and one of
/// the weight image, then the flag saying both were encoded.
TEST(CudaPlan, TensorMapArgs) {
  auto withArgs = [](const std::string &args) {
    std::string text = gemmMetadata(R"("x": 0, "y": 1, "residual": -1,
        "image": 0, "k": 8, "n": 8, "bias_offset": 160, "activation": "relu")");
    const std::string from = R"("args": [{"value": 0})";
    text.replace(text.find(from), from.size(), "\"args\": [" + args + R"(, {"value": 0})");
    return text;
  };
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(
      withArgs(R"({"tensor_map": {"value": 0, "rows": 1, "cols": 8, "box_rows": 128}},
          {"tensor_map": {"image": 0, "rows": 8, "cols": 8, "box_rows": 128}},
          {"tma_ready": true})")
          .c_str(),
      meta, error))
      << error;
  const std::vector<CudaArg> &args = meta.cuda.steps[0].args;
  ASSERT_EQ(args.size(), 8u);
  EXPECT_EQ(args[0].kind, CudaArg::TensorMap);
  EXPECT_FALSE(args[0].ofImage);
  EXPECT_FALSE(args[0].bfloat16); // the value's own type, float16
  EXPECT_EQ(args[0].boxRows, 128);
  EXPECT_TRUE(args[1].ofImage);
  EXPECT_FALSE(args[1].bfloat16); // the type of the image's piece at byte 0
  EXPECT_EQ(args[1].perBatch, 8);
  EXPECT_EQ(args[2].kind, CudaArg::TmaReady);

  const std::string bad[] = {
      // Rows of 4 elements are not 16-byte multiples.
      R"({"tensor_map": {"value": 0, "rows": 1, "cols": 4, "box_rows": 128}})",
      // Boxes hold at most 256 rows.
      R"({"tensor_map": {"value": 0, "rows": 1, "cols": 8, "box_rows": 512}})",
      // The image's piece at byte 0 is 8 rows of 8, not 100 rows ...
      R"({"tensor_map": {"image": 0, "rows": 100, "cols": 8, "box_rows": 128}})",
      // ... nor rows of 16.
      R"({"tensor_map": {"image": 0, "rows": 8, "cols": 16, "box_rows": 128}})",
      // No such value.
      R"({"tensor_map": {"value": 7, "rows": 1, "cols": 8, "box_rows": 128}})",
  };
  for (const std::string &arg : bad) {
    ModelMetadata m;
    EXPECT_FALSE(parseMetadata(withArgs(arg).c_str(), m, error)) << arg;
    EXPECT_NE(error.find("cuda: "), std::string::npos) << error;
  }
}

/// The image a layer with a folded layer scale gets: W (3, 2) as f16 rows
/// of 8 (zero padded, 4 rows), each row times s[r]; the bias as f32 times
/// s[c]; W again transposed (a matmul weight stored (in, out)).
/// A model with params w (3, 2), b (3), s (3) (then `moreParams`, after
/// byte 48) and one image, `image`, for a layer 2 -> 3 in f16.
std::string imageMetadata(const std::string &moreParams, int weightBytes,
                          const std::string &image) {
  return R"({"abi": 1, "name": "img", "cpu": false,
    "inputs": [{"name": "x", "dtype": "float16", "shape": [-1, 2]}],
    "outputs": [{"name": "y", "dtype": "float16", "shape": [-1, 3]}],
    "params": [{"name": "w", "dtype": "float32", "shape": [3, 2], "offset": 0},
               {"name": "b", "dtype": "float32", "shape": [3], "offset": 24},
               {"name": "s", "dtype": "float32", "shape": [3], "offset": 36})" +
         moreParams + R"(],
    "weights": {"embedded": true, "nbytes": )" +
         std::to_string(weightBytes) + R"(},
    "cuda": {"precision": "f16", "fatbin_bytes": 64,
      "values": [{"kind": "input", "index": 0, "cols": 2, "dtype": "float16"},
                 {"kind": "output", "index": 0, "cols": 3, "dtype": "float16"}],
      "images": [)" +
         image + R"(], "steps": []}})";
}

/// The values of imageMetadata's params w, b and s.
const float w[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0.5f, -1, 2},
            s[3] = {2, -0.5f, 0.25f};

/// Builds image 0 of `text` (imageMetadata) from w, b and s into `out`.
::testing::AssertionResult buildImageOf(const std::string &text,
                                        std::vector<unsigned char> &out) {
  ModelMetadata meta;
  std::string error;
  if (!parseMetadata(text.c_str(), meta, error))
    return ::testing::AssertionFailure() << error;
  buildCudaImage(meta, meta.cuda.images[0], {w, b, s}, out);
  return ::testing::AssertionSuccess();
}

TEST(CudaImage, PiecesConvertPadScaleAndTranspose) {
  const std::string text = imageMetadata("", 48, R"({"bytes": 104, "pieces": [
         {"param": 0, "dtype": "float16", "rows": 3, "cols": 2,
          "padded_rows": 4, "row_stride": 8, "offset": 0, "row_scale": 2},
         {"param": 1, "dtype": "float32", "rows": 1, "cols": 3,
          "padded_rows": 1, "row_stride": 4, "offset": 64, "col_scale": 2},
         {"param": 0, "dtype": "float32", "rows": 2, "cols": 3,
          "padded_rows": 2, "row_stride": 3, "offset": 80,
          "transposed": true}]})");
  std::vector<unsigned char> out;
  ASSERT_TRUE(buildImageOf(text, out));
  ASSERT_EQ(out.size(), 104u);
  auto half = [&](int i) {
    uint16_t h;
    std::memcpy(&h, out.data() + 2 * i, 2);
    return halfToFloat(h);
  };
  auto f32 = [&](int byte) {
    float v;
    std::memcpy(&v, out.data() + byte, 4);
    return v;
  };
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 8; ++c)
      EXPECT_EQ(half(r * 8 + c), r < 3 && c < 2 ? w[r * 2 + c] * s[r] : 0.f)
          << r << " " << c;
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(f32(64 + 4 * c), b[c] * s[c]);
  // Element (r, c) of the transposed piece reads w's (c, r).
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(f32(80 + 4 * (r * 3 + c)), w[c * 2 + r]) << r << " " << c;
}

/// A per-token bias as cuBLASLt's C: element (r, c) is b[r], zero rows of
/// padding after.
TEST(CudaImage, BiasRepeatedAlongRows) {
  const std::string text = imageMetadata("", 48, R"({"bytes": 32, "pieces": [
         {"param": 1, "dtype": "float16", "rows": 3, "cols": 4,
          "padded_rows": 4, "row_stride": 4, "offset": 0,
          "repeat_in_row": true}]})");
  std::vector<unsigned char> out;
  ASSERT_TRUE(buildImageOf(text, out));
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      uint16_t h;
      std::memcpy(&h, out.data() + 2 * (r * 4 + c), 2);
      EXPECT_EQ(halfToFloat(h), r < 3 ? b[r] : 0.f) << r << " " << c;
    }
  // The repeated param must have one element per row (w has six).
  std::string bad = text;
  bad.replace(bad.find(R"("param": 1)"), 10, R"("param": 0)");
  ModelMetadata m;
  std::string error;
  EXPECT_FALSE(parseMetadata(bad.c_str(), m, error));
}

} // namespace

/// ResMLP's Affine norm x * a + v before a linear layer, folded into its
/// image: the weight's columns times a, the bias plus W v (then its scale).
TEST(CudaImage, AffineFoldedIntoWeightAndBias) {
  const std::string text = imageMetadata(R"(,
      {"name": "a", "dtype": "float32", "shape": [1, 1, 2], "offset": 48},
      {"name": "v", "dtype": "float32", "shape": [1, 1, 2], "offset": 56})",
                                         64, R"({"bytes": 48, "pieces": [
         {"param": 0, "dtype": "float16", "rows": 3, "cols": 2,
          "padded_rows": 3, "row_stride": 2, "offset": 0, "col_scale": 3},
         {"param": 1, "dtype": "float32", "rows": 1, "cols": 3,
          "padded_rows": 1, "row_stride": 3, "offset": 16, "col_scale": 2,
          "plus_product": {"matrix": 0, "vector": 4, "transposed": false}}]})");
  ModelMetadata meta;
  std::string error;
  ASSERT_TRUE(parseMetadata(text.c_str(), meta, error)) << error;
  const float a[2] = {0.5f, -2}, v[2] = {3, -1}; // with w, b, s above
  std::vector<unsigned char> out;
  buildCudaImage(meta, meta.cuda.images[0], {w, b, s, a, v}, out);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) {
      uint16_t h;
      std::memcpy(&h, out.data() + 2 * (r * 2 + c), 2);
      EXPECT_EQ(halfToFloat(h), w[r * 2 + c] * a[c]) << r << " " << c;
    }
  for (int c = 0; c < 3; ++c) {
    float got;
    std::memcpy(&got, out.data() + 16 + 4 * c, 4);
    EXPECT_FLOAT_EQ(got, (b[c] + w[c * 2] * v[0] + w[c * 2 + 1] * v[1]) * s[c])
        << c;
  }
  // The product needs a matrix of the piece's columns times the vector's
  // length.
  std::string bad = text;
  bad.replace(bad.find(R"("matrix": 0)"), 11, R"("matrix": 1)");
  ModelMetadata m;
  EXPECT_FALSE(parseMetadata(bad.c_str(), m, error));
  EXPECT_NE(error.find("plus_product"), std::string::npos) << error;
}
