//===- ModelAbiTest.cpp - The C ABI of runtime.h --------------------------===//
//
// Drives the public functions against FakeModel.cpp (a stand-in for a
// generated object): creation from embedded and file weights, info queries,
// correct runs, and every validation error of mlp_model_run.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "Model.h"
#include "TempDir.h"

#include "mlp/runtime.h"
#include "mlp/safetensors.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using mlp::test::fakeEntryCalls;
using mlp::test::TempDir;

namespace {

const DLDataType kF32 = {kDLFloat, 32, 1};

/// A host DLTensor over `data` with the given shape (kept alive by caller).
DLTensor tensor(void *data, std::vector<int64_t> &shape,
                DLDataType dtype = kF32) {
  DLTensor t{};
  t.data = data;
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = dtype;
  t.shape = shape.data();
  return t;
}

/// Reference y = x @ w^T for x [batch, 3] and w [2, 3].
std::vector<float> reference(const std::vector<float> &x, const float *w) {
  std::vector<float> y;
  for (size_t b = 0; b < x.size() / 3; ++b)
    for (int o = 0; o < 2; ++o)
      y.push_back(x[3 * b] * w[3 * o] + x[3 * b + 1] * w[3 * o + 1] +
                  x[3 * b + 2] * w[3 * o + 2]);
  return y;
}

bool contains(const char *haystack, const std::string &needle) {
  return std::string(haystack).find(needle) != std::string::npos;
}

#define EXPECT_ERROR(call, status, phrase)                                     \
  do {                                                                         \
    EXPECT_EQ((call), (status)) << mlp_last_error();                           \
    EXPECT_TRUE(contains(mlp_last_error(), (phrase)))                          \
        << "message: " << mlp_last_error() << "\nexpected: " << (phrase);      \
  } while (0)

/// A model with embedded weights and a batch-4 problem ready to run.
class ModelAbiTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(mlp_model_create(nullptr, &Model), MLP_OK) << mlp_last_error();
    for (int i = 0; i < 12; ++i)
      X[i] = 0.5f * i - 2;
    Y.assign(8, -99.0f);
    In = tensor(X.data(), XShape);
    Out = tensor(Y.data(), YShape);
  }
  void TearDown() override { mlp_model_destroy(Model); }

  mlp_status run() { return mlp_model_run(Model, &In, 1, &Out, 1); }
  /// The run failed before reaching the generated code, leaving y alone.
  void expectUntouched() {
    EXPECT_EQ(fakeEntryCalls.load(), CallsBefore);
    EXPECT_EQ(Y, std::vector<float>(8, -99.0f));
  }

  mlp_model *Model = nullptr;
  std::vector<float> X = std::vector<float>(12), Y;
  std::vector<int64_t> XShape = {4, 3}, YShape = {4, 2};
  DLTensor In, Out;
  int CallsBefore = fakeEntryCalls.load();
};

TEST_F(ModelAbiTest, VersionAndName) {
  EXPECT_EQ(mlp_abi_version(), MLP_ABI_VERSION);
  EXPECT_STREQ(mlp_model_name(), "fake");
}

TEST_F(ModelAbiTest, Info) {
  EXPECT_EQ(mlp_model_num_inputs(Model), 1);
  EXPECT_EQ(mlp_model_num_outputs(Model), 1);
  mlp_tensor_info info;
  ASSERT_EQ(mlp_model_input_info(Model, 0, &info), MLP_OK);
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.dtype.code, kDLFloat);
  EXPECT_EQ(info.dtype.bits, 32);
  EXPECT_EQ(info.dtype.lanes, 1);
  ASSERT_EQ(info.ndim, 2);
  EXPECT_EQ(info.shape[0], -1);
  EXPECT_EQ(info.shape[1], 3);
  mlp_tensor_info again;
  ASSERT_EQ(mlp_model_input_info(Model, 0, &again), MLP_OK);
  EXPECT_EQ(again.name, info.name) << "pointers must be stable";
  EXPECT_EQ(again.shape, info.shape);
  ASSERT_EQ(mlp_model_output_info(Model, 0, &info), MLP_OK);
  EXPECT_STREQ(info.name, "y");
  ASSERT_EQ(info.ndim, 2);
  EXPECT_EQ(info.shape[0], -1);
  EXPECT_EQ(info.shape[1], 2);
}

TEST_F(ModelAbiTest, InfoErrors) {
  mlp_tensor_info info;
  EXPECT_EQ(mlp_model_num_inputs(nullptr), -1);
  EXPECT_EQ(mlp_model_num_outputs(nullptr), -1);
  EXPECT_ERROR(mlp_model_input_info(nullptr, 0, &info),
               MLP_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_ERROR(mlp_model_input_info(Model, 0, nullptr),
               MLP_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_ERROR(mlp_model_input_info(Model, 1, &info), MLP_ERR_INVALID_ARGUMENT,
               "index 1 is out of range");
  EXPECT_ERROR(mlp_model_output_info(Model, -1, &info),
               MLP_ERR_INVALID_ARGUMENT, "index -1 is out of range");
}

TEST_F(ModelAbiTest, RunComputes) {
  ASSERT_EQ(run(), MLP_OK) << mlp_last_error();
  EXPECT_EQ(fakeEntryCalls.load(), CallsBefore + 1);
  std::vector<float> want = reference(X, mlp::test::fakeWeights);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_FLOAT_EQ(Y[i], want[i]) << i;
}

TEST_F(ModelAbiTest, BatchOne) {
  XShape[0] = YShape[0] = 1;
  ASSERT_EQ(run(), MLP_OK) << mlp_last_error();
  std::vector<float> want =
      reference({X[0], X[1], X[2]}, mlp::test::fakeWeights);
  EXPECT_FLOAT_EQ(Y[0], want[0]);
  EXPECT_FLOAT_EQ(Y[1], want[1]);
  EXPECT_EQ(Y[2], -99.0f) << "wrote past a batch-1 output";
}

TEST_F(ModelAbiTest, BatchZeroSkipsTheEntry) {
  XShape[0] = YShape[0] = 0;
  In.data = nullptr; // allowed: no elements
  Out.data = nullptr;
  EXPECT_EQ(run(), MLP_OK) << mlp_last_error();
  EXPECT_EQ(fakeEntryCalls.load(), CallsBefore);
}

TEST_F(ModelAbiTest, ByteOffsetAndExplicitStrides) {
  std::vector<float> shifted(3 + 12);
  std::copy(X.begin(), X.end(), shifted.begin() + 3);
  In.data = shifted.data();
  In.byte_offset = 3 * sizeof(float);
  int64_t xStrides[2] = {3, 1}, yStrides[2] = {2, 1};
  In.strides = xStrides;
  Out.strides = yStrides;
  ASSERT_EQ(run(), MLP_OK) << mlp_last_error();
  EXPECT_FLOAT_EQ(Y[7], reference(X, mlp::test::fakeWeights)[7]);
}

TEST_F(ModelAbiTest, SizeOneDimsMayHaveAnyStride) {
  XShape[0] = YShape[0] = 1;
  int64_t xStrides[2] = {12345, 1};
  In.strides = xStrides;
  EXPECT_EQ(run(), MLP_OK) << mlp_last_error();
}

TEST_F(ModelAbiTest, PinnedHostMemoryIsAccepted) {
  In.device.device_type = kDLCUDAHost;
  EXPECT_EQ(run(), MLP_OK) << mlp_last_error();
}

TEST_F(ModelAbiTest, NullModel) {
  EXPECT_ERROR(mlp_model_run(nullptr, &In, 1, &Out, 1),
               MLP_ERR_INVALID_ARGUMENT, "model is NULL");
  expectUntouched();
}

TEST_F(ModelAbiTest, NullArrays) {
  EXPECT_ERROR(mlp_model_run(Model, nullptr, 1, &Out, 1),
               MLP_ERR_INVALID_ARGUMENT, "inputs is NULL");
  EXPECT_ERROR(mlp_model_run(Model, &In, 1, nullptr, 1),
               MLP_ERR_INVALID_ARGUMENT, "outputs is NULL");
  expectUntouched();
}

TEST_F(ModelAbiTest, WrongCounts) {
  EXPECT_ERROR(mlp_model_run(Model, &In, 2, &Out, 1), MLP_ERR_INVALID_ARGUMENT,
               "model 'fake' has 1 inputs, got num_inputs = 2");
  EXPECT_ERROR(mlp_model_run(Model, &In, 1, &Out, 0), MLP_ERR_INVALID_ARGUMENT,
               "has 1 outputs, got num_outputs = 0");
  EXPECT_ERROR(mlp_model_run(Model, &In, -1, &Out, 1), MLP_ERR_INVALID_ARGUMENT,
               "num_inputs = -1");
  expectUntouched();
}

TEST_F(ModelAbiTest, WrongDtype) {
  In.dtype = DLDataType{kDLFloat, 64, 1};
  EXPECT_ERROR(run(), MLP_ERR_DTYPE,
               "input 'x': expected dtype float32, got float64");
  In.dtype = DLDataType{kDLFloat, 32, 4};
  EXPECT_ERROR(run(), MLP_ERR_DTYPE, "got float32x4");
  In.dtype = kF32;
  Out.dtype = DLDataType{kDLInt, 32, 1};
  EXPECT_ERROR(run(), MLP_ERR_DTYPE,
               "output 'y': expected dtype float32, got int32");
  expectUntouched();
}

TEST_F(ModelAbiTest, WrongNdim) {
  std::vector<int64_t> shape = {4, 3, 1};
  In.shape = shape.data();
  In.ndim = 3;
  EXPECT_ERROR(run(), MLP_ERR_SHAPE,
               "input 'x': expected 2 dimensions (shape [N, 3]), got 3");
  expectUntouched();
}

TEST_F(ModelAbiTest, WrongDim) {
  XShape[1] = 2;
  EXPECT_ERROR(run(), MLP_ERR_SHAPE,
               "input 'x': expected shape [N, 3], got [4, 2]");
  XShape[1] = 3;
  YShape[1] = 3;
  EXPECT_ERROR(run(), MLP_ERR_SHAPE,
               "output 'y': expected shape [N, 2], got [4, 3]");
  expectUntouched();
}

TEST_F(ModelAbiTest, NegativeBatch) {
  XShape[0] = -1;
  EXPECT_ERROR(run(), MLP_ERR_SHAPE, "input 'x': negative batch size -1");
  expectUntouched();
}

TEST_F(ModelAbiTest, BatchMismatch) {
  YShape[0] = 3;
  EXPECT_ERROR(run(), MLP_ERR_SHAPE,
               "output 'y': batch 3 does not match the inputs' batch 4");
  expectUntouched();
}

TEST_F(ModelAbiTest, NonCompactStrides) {
  int64_t strides[2] = {1, 4}; // column-major
  In.strides = strides;
  EXPECT_ERROR(run(), MLP_ERR_LAYOUT,
               "input 'x': expected compact row-major strides [3, 1], got "
               "[1, 4]");
  In.strides = nullptr;
  int64_t padded[2] = {4, 1};
  Out.strides = padded;
  EXPECT_ERROR(run(), MLP_ERR_LAYOUT, "output 'y': expected compact row-major");
  expectUntouched();
}

TEST_F(ModelAbiTest, MisalignedData) {
  In.byte_offset = 2;
  EXPECT_ERROR(run(), MLP_ERR_LAYOUT,
               "input 'x': data + byte_offset is not "
               "aligned to the 4-byte element size");
  expectUntouched();
}

TEST_F(ModelAbiTest, NullData) {
  In.data = nullptr;
  EXPECT_ERROR(run(), MLP_ERR_INVALID_ARGUMENT, "input 'x': data is NULL");
  In.data = X.data();
  Out.data = nullptr;
  EXPECT_ERROR(run(), MLP_ERR_INVALID_ARGUMENT, "output 'y': data is NULL");
  expectUntouched();
}

TEST_F(ModelAbiTest, NullShape) {
  In.shape = nullptr;
  EXPECT_ERROR(run(), MLP_ERR_INVALID_ARGUMENT, "input 'x': shape is NULL");
  expectUntouched();
}

TEST_F(ModelAbiTest, CudaDevice) {
  // The fake model has CPU code only.
  In.device = {kDLCUDA, 0};
  EXPECT_ERROR(run(), MLP_ERR_DEVICE,
               "CUDA tensors given, but model 'fake' was compiled without "
               "CUDA code");
  In.device = {kDLCPU, 0};
  Out.device = {kDLCUDA, 1};
  EXPECT_ERROR(run(), MLP_ERR_DEVICE, "compiled without CUDA code");
  In.device = {kDLROCM, 0};
  Out.device = {kDLCPU, 0};
  EXPECT_ERROR(run(), MLP_ERR_DEVICE,
               "input 'x': expected a CPU tensor (kDLCPU), got kDLROCM");
  expectUntouched();
}

TEST_F(ModelAbiTest, HugeShape) {
  XShape[0] = YShape[0] = INT64_MAX / 2;
  EXPECT_ERROR(run(), MLP_ERR_SHAPE, "input 'x': shape");
  expectUntouched();
}

TEST_F(ModelAbiTest, ConcurrentRunsAndPerThreadErrors) {
  // One thread fails while others run: runs must not interfere and the
  // failure's message must stay on the failing thread.
  ASSERT_EQ(mlp_model_input_info(Model, 5, nullptr), MLP_ERR_INVALID_ARGUMENT);
  std::string mainError = mlp_last_error();
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::vector<float> x(3 * 64, float(t)), y(2 * 64);
      std::vector<int64_t> xs = {64, 3}, ys = {64, 2};
      DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
      bool good = std::string(mlp_last_error()).empty();
      for (int i = 0; i < 50; ++i)
        good &= mlp_model_run(Model, &in, 1, &out, 1) == MLP_OK;
      good &= y == reference(x, mlp::test::fakeWeights);
      ok[t] = good;
    });
  for (std::thread &th : threads)
    th.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
  EXPECT_EQ(mainError, mlp_last_error());
}

TEST(ModelStatus, Strings) {
  const std::pair<mlp_status, const char *> all[] = {
      {MLP_OK, "MLP_OK"},
      {MLP_ERR_INVALID_ARGUMENT, "MLP_ERR_INVALID_ARGUMENT"},
      {MLP_ERR_SHAPE, "MLP_ERR_SHAPE"},
      {MLP_ERR_DTYPE, "MLP_ERR_DTYPE"},
      {MLP_ERR_DEVICE, "MLP_ERR_DEVICE"},
      {MLP_ERR_LAYOUT, "MLP_ERR_LAYOUT"},
      {MLP_ERR_IO, "MLP_ERR_IO"},
      {MLP_ERR_FORMAT, "MLP_ERR_FORMAT"},
      {MLP_ERR_MISSING_TENSOR, "MLP_ERR_MISSING_TENSOR"},
      {MLP_ERR_OUT_OF_MEMORY, "MLP_ERR_OUT_OF_MEMORY"},
      {MLP_ERR_INTERNAL, "MLP_ERR_INTERNAL"},
  };
  for (const auto &[status, name] : all)
    EXPECT_STREQ(mlp_status_string(status), name);
  EXPECT_STREQ(mlp_status_string(static_cast<mlp_status>(42)),
               "MLP_ERR_UNKNOWN");
}

TEST(ModelLifetime, DestroyNullIsNoOp) { mlp_model_destroy(nullptr); }

TEST(ModelLifetime, CreateNeedsOut) {
  EXPECT_ERROR(mlp_model_create(nullptr, nullptr), MLP_ERR_INVALID_ARGUMENT,
               "'out' is NULL");
}

/// Creation from a safetensors file, against the same fake model.
class ModelFileTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(Dir.ok()); }

  std::string writeWeights(const std::vector<mlp::TensorToWrite> &tensors) {
    std::string path = Dir.file("w.safetensors"), error;
    EXPECT_TRUE(mlp::writeSafetensors(path, tensors, error)) << error;
    return path;
  }
  /// Expects creation to fail with `status` and a message containing
  /// `phrase`, leaving *out NULL.
  void expectCreateFails(const std::string &path, mlp_status status,
                         const std::string &phrase) {
    mlp_model *m = reinterpret_cast<mlp_model *>(0x1); // must be reset
    EXPECT_ERROR(mlp_model_create(path.c_str(), &m), status, phrase);
    EXPECT_EQ(m, nullptr);
  }

  TempDir Dir;
  const float W[6] = {-1, 0, 1, 2, 0.5f, -3};
};

TEST_F(ModelFileTest, Valid) {
  const double unused[2] = {1, 2};
  std::string path = writeWeights({{"other", "float64", {2}, unused, 16},
                                   {"w", "float32", {2, 3}, W, sizeof(W)}});
  mlp_model *m = nullptr;
  ASSERT_EQ(mlp_model_create(path.c_str(), &m), MLP_OK) << mlp_last_error();
  std::vector<float> x = {1, 2, 3, -4, 5, 0.25f}, y(4);
  std::vector<int64_t> xs = {2, 3}, ys = {2, 2};
  DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
  ASSERT_EQ(mlp_model_run(m, &in, 1, &out, 1), MLP_OK) << mlp_last_error();
  EXPECT_EQ(y, reference(x, W)) << "the file's weights must be used";
  mlp_model_destroy(m);
}

TEST_F(ModelFileTest, MisalignedTensorIsCopied) {
  // A 1-byte tensor first puts w at an odd offset in the mapping.
  const uint8_t pad = 7;
  std::string path = writeWeights(
      {{"pad", "uint8", {1}, &pad, 1}, {"w", "float32", {2, 3}, W, sizeof(W)}});
  std::string error;
  auto file = mlp::SafetensorsFile::open(path, error);
  ASSERT_NE(file, nullptr) << error;
  ASSERT_NE(reinterpret_cast<uintptr_t>(file->find("w")->data) % 4, 0u);

  mlp_model *m = nullptr;
  ASSERT_EQ(mlp_model_create(path.c_str(), &m), MLP_OK) << mlp_last_error();
  std::vector<float> x = {1, 2, 3}, y(2);
  std::vector<int64_t> xs = {1, 3}, ys = {1, 2};
  DLTensor in = tensor(x.data(), xs), out = tensor(y.data(), ys);
  ASSERT_EQ(mlp_model_run(m, &in, 1, &out, 1), MLP_OK) << mlp_last_error();
  EXPECT_EQ(y, reference(x, W));
  mlp_model_destroy(m);
}

TEST_F(ModelFileTest, MissingTensor) {
  std::string path = writeWeights({{"v", "float32", {2, 3}, W, sizeof(W)}});
  expectCreateFails(path, MLP_ERR_MISSING_TENSOR, "has no tensor 'w'");
}

TEST_F(ModelFileTest, WrongShape) {
  std::string path = writeWeights({{"w", "float32", {3, 2}, W, sizeof(W)}});
  expectCreateFails(path, MLP_ERR_SHAPE,
                    "tensor 'w': expected shape [2, 3], got [3, 2]");
}

TEST_F(ModelFileTest, WrongDtype) {
  const int32_t w[6] = {};
  std::string path = writeWeights({{"w", "int32", {2, 3}, w, sizeof(w)}});
  expectCreateFails(path, MLP_ERR_FORMAT,
                    "tensor 'w': expected dtype float32, got int32");
}

TEST_F(ModelFileTest, MissingFile) {
  expectCreateFails(Dir.file("absent.safetensors"), MLP_ERR_IO,
                    "absent.safetensors: cannot open file");
}

TEST_F(ModelFileTest, CorruptFile) {
  expectCreateFails(Dir.write("bad.safetensors", "abc"), MLP_ERR_FORMAT,
                    "too short");
}

// Metadata variants go through the internal createModel, since a binary can
// hold only one generated model.
TEST(ModelMetadata, NotEmbeddedNeedsAPath) {
  const char *meta = R"({"abi": 1, "name": "ext",
    "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 3]}],
    "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 2]}],
    "params": [{"name": "w", "dtype": "float32", "shape": [2, 3], "offset": 0}],
    "weights": {"embedded": false}})";
  mlp_model *m = reinterpret_cast<mlp_model *>(0x1);
  EXPECT_ERROR(
      mlp::rt::createModel({meta, nullptr, mlpc_model_entry}, nullptr, &m),
      MLP_ERR_INVALID_ARGUMENT,
      "model 'ext' was compiled without embedded weights; pass the "
      "path of a .safetensors file");
  EXPECT_EQ(m, nullptr);
}

TEST(ModelMetadata, InvalidMetadataIsInternalError) {
  const char *bad[] = {
      "not json",
      R"({"abi": 2, "name": "m", "inputs": [], "outputs": [], "params": [],
          "weights": {"embedded": true, "nbytes": 0}})",
      R"({"abi": 1, "name": "m", "inputs": [{"name": "x", "dtype": "complex",
          "shape": [1]}], "outputs": [], "params": [],
          "weights": {"embedded": true, "nbytes": 0}})",
      R"({"abi": 1, "name": "m", "inputs": [{"name": "x", "dtype": "float32",
          "shape": [-1, -1]}], "outputs": [], "params": [],
          "weights": {"embedded": true, "nbytes": 0}})",
      R"({"abi": 1, "name": "m", "inputs": [], "outputs": [], "params":
          [{"name": "w", "dtype": "float32", "shape": [4], "offset": 8}],
          "weights": {"embedded": true, "nbytes": 16}})",
  };
  for (const char *meta : bad) {
    mlp_model *m = nullptr;
    EXPECT_ERROR(
        mlp::rt::createModel({meta, nullptr, mlpc_model_entry}, nullptr, &m),
        MLP_ERR_INTERNAL, "metadata is invalid");
    EXPECT_EQ(m, nullptr);
  }
}

} // namespace
