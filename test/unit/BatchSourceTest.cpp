//===- BatchSourceTest.cpp - where a mismatched batch size came from ------===//
//
// The runtime builds its error messages only when a check fails (a batch-1
// run must not format strings); the batch's source is kept as the tensor
// that set it. These tests pin the message when that tensor is an output.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "Model.h"

#include "mlp/runtime.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

DLTensor tensor(float *data, std::vector<int64_t> &shape) {
  return DLTensor{data,
                  DLDevice{kDLCPU, 0},
                  static_cast<int32_t>(shape.size()),
                  DLDataType{kDLFloat, 32, 1},
                  shape.data(),
                  nullptr,
                  0};
}

// An input without a batch dimension, two batched outputs: the first
// output sets the batch size.
const char *kTwoOutputs = R"({"abi": 1, "name": "two",
  "inputs": [{"name": "x", "dtype": "float32", "shape": [3]}],
  "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 2]},
              {"name": "z", "dtype": "float32", "shape": [-1, 2]}],
  "params": [], "weights": {"embedded": true, "nbytes": 0}})";

TEST(BatchSource, OutputSetsTheBatch) {
  mlp_model *model = nullptr;
  ASSERT_EQ(mlp::rt::createModel({kTwoOutputs, mlpc_weights_blob,
                                  mlpc_model_entry},
                                 nullptr, &model),
            MLP_OK)
      << mlp_last_error();
  std::vector<float> x(3), y(8, 42.0f), z(6, 42.0f);
  std::vector<int64_t> xs = {3}, ys = {4, 2}, zs = {3, 2};
  DLTensor in = tensor(x.data(), xs);
  DLTensor out[2] = {tensor(y.data(), ys), tensor(z.data(), zs)};
  int calls = mlp::test::fakeEntryCalls.load();
  EXPECT_EQ(mlp_model_run(model, &in, 1, out, 2), MLP_ERR_SHAPE);
  EXPECT_EQ(std::string(mlp_last_error()),
            "output 'z': batch 3 does not match the batch 4 of output 'y'")
      << mlp_last_error();
  EXPECT_EQ(mlp::test::fakeEntryCalls.load(), calls);
  mlp_model_destroy(model);
}

} // namespace
