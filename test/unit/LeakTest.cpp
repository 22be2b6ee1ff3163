//===- LeakTest.cpp - creating and destroying models in a loop ------------===//
//
// Each test creates and destroys a model 1000 times (from the embedded
// weights, from a safetensors file, from a file whose tensor must be copied
// for alignment, and failing creations), running it once per iteration.
// On their own these tests only prove that nothing crashes; the leak checks
// are done by running them under valgrind (test/e2e/valgrind_runtime.test,
// --gtest_filter=*Leak*) and by LeakSanitizer in the -DMLPC_SANITIZE=ON build,
// which both fail on any block still unreachable at exit.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "TempDir.h"

#include "mlp/runtime.h"
#include "mlp/safetensors.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr int kIterations = 1000;

/// Creates a model from `path` (NULL: embedded), runs it once on a batch of
/// 2, checks the result against w and destroys it, kIterations times.
void createRunDestroy(const char *path, const float *w) {
  std::vector<float> x = {1, 2, 3, -4, 5, 6}, y(4);
  std::vector<int64_t> xs = {2, 3}, ys = {2, 2};
  DLTensor in{}, out{};
  in.data = x.data();
  in.device = out.device = {kDLCPU, 0};
  in.ndim = out.ndim = 2;
  in.dtype = out.dtype = {kDLFloat, 32, 1};
  in.shape = xs.data();
  out.data = y.data();
  out.shape = ys.data();
  const float want0 = x[0] * w[0] + x[1] * w[1] + x[2] * w[2];
  for (int i = 0; i < kIterations; ++i) {
    mlp_model *m = nullptr;
    ASSERT_EQ(mlp_model_create(path, &m), MLP_OK) << mlp_last_error();
    ASSERT_EQ(mlp_model_run(m, &in, 1, &out, 1), MLP_OK) << mlp_last_error();
    ASSERT_EQ(y[0], want0);
    mlp_model_destroy(m);
  }
}

/// How many mappings of `path` the process holds (valgrind and LSan track
/// heap blocks, not mmap, so the loader's mappings are checked here).
int mappingsOf(const std::string &path) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);)
    n += line.find(path) != std::string::npos;
  return n;
}

class ModelLeakTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(Dir.ok()); }

  std::string writeWeights(const std::vector<mlp::TensorToWrite> &tensors) {
    std::string path = Dir.file("w.safetensors"), error;
    EXPECT_TRUE(mlp::writeSafetensors(path, tensors, error)) << error;
    return path;
  }

  mlp::test::TempDir Dir;
  const float W[6] = {-1, 0, 1, 2, 0.5f, -3};
};

TEST_F(ModelLeakTest, EmbeddedWeights) {
  createRunDestroy(nullptr, mlp::test::fakeWeights);
}

TEST_F(ModelLeakTest, SafetensorsFile) {
  std::string path = writeWeights({{"w", "float32", {2, 3}, W, sizeof(W)}});
  createRunDestroy(path.c_str(), W);
  EXPECT_EQ(mappingsOf(path), 0) << "a weights file is still mapped";
}

TEST_F(ModelLeakTest, SafetensorsFileWithAlignmentCopy) {
  // A 1-byte tensor first misaligns w, which is then copied at creation.
  const uint8_t pad = 7;
  std::string path = writeWeights(
      {{"pad", "uint8", {1}, &pad, 1}, {"w", "float32", {2, 3}, W, sizeof(W)}});
  createRunDestroy(path.c_str(), W);
  EXPECT_EQ(mappingsOf(path), 0) << "a weights file is still mapped";
}

TEST_F(ModelLeakTest, FailedCreation) {
  // Every failure path after the file is mapped must release it.
  std::string missing = writeWeights({{"v", "float32", {2, 3}, W, sizeof(W)}});
  std::string corrupt = Dir.write("bad.safetensors", std::string(8, '\xff'));
  std::string shape = Dir.file("shape.safetensors"), error;
  ASSERT_TRUE(mlp::writeSafetensors(
      shape, {{"w", "float32", {3, 2}, W, sizeof(W)}}, error))
      << error;
  for (int i = 0; i < kIterations; ++i)
    for (const std::string *path : {&missing, &corrupt, &shape}) {
      mlp_model *m = nullptr;
      ASSERT_NE(mlp_model_create(path->c_str(), &m), MLP_OK);
      ASSERT_EQ(m, nullptr);
    }
  for (const std::string *path : {&missing, &corrupt, &shape})
    EXPECT_EQ(mappingsOf(*path), 0) << *path << " is still mapped";
}

TEST_F(ModelLeakTest, SafetensorsOpenClose) {
  // The loader on its own: valid and rejected files.
  std::string good = writeWeights({{"w", "float32", {2, 3}, W, sizeof(W)}});
  std::string bad =
      Dir.write("bad.safetensors", std::string("\x03\0\0\0\0\0\0\0{}x", 11));
  for (int i = 0; i < kIterations; ++i) {
    std::string error;
    ASSERT_NE(mlp::SafetensorsFile::open(good, error), nullptr) << error;
    ASSERT_EQ(mlp::SafetensorsFile::open(bad, error), nullptr);
  }
  EXPECT_EQ(mappingsOf(good), 0);
  EXPECT_EQ(mappingsOf(bad), 0);
}

} // namespace
