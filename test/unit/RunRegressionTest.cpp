//===- RunRegressionTest.cpp - mlp_model_run bugs found by fuzzing --------===//
//
// Each test reproduces a bug that test/fuzz (fuzz-runtime-args) found in
// runtime/lib/Run.cpp, fixed in afed10b. Bugs 1 and 2 were undefined
// behaviour behind correct statuses, which only clang's UBSan (the fuzz
// build) turns into failures; scripts/fuzz.sh also replays their fuzz inputs
// from test/fuzz/regressions/fuzz-runtime-args/.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include "mlp/runtime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

class RunRegression : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(mlp_model_create(nullptr, &Model), MLP_OK) << mlp_last_error();
    In.device = Out.device = {kDLCPU, 0};
    In.ndim = Out.ndim = 2;
    In.dtype = Out.dtype = {kDLFloat, 32, 1};
    In.shape = XShape.data();
    Out.shape = YShape.data();
    In.data = X.data();
    Out.data = Y.data();
  }
  void TearDown() override { mlp_model_destroy(Model); }

  mlp_model *Model = nullptr;
  std::vector<float> X = std::vector<float>(64, 1.0f),
                     Y = std::vector<float>(64);
  std::vector<int64_t> XShape = {2, 3}, YShape = {2, 2};
  DLTensor In{}, Out{};
};

// Bug 3: data + byte_offset wrapping around the address space was accepted:
// Run.cpp computed `(char *)data + byte_offset` unchecked (undefined
// behaviour) and handed the wrapped pointer, here data - 16, to the kernel,
// which read (for an input) or wrote (for an output) outside the tensor.
TEST_F(RunRegression, WrappingByteOffsetIsRejected) {
  // data points 32 floats into X, so that with the bug data - 16 bytes is
  // still inside X and the test does not corrupt its own memory.
  In.data = X.data() + 32;
  In.byte_offset = UINT64_MAX - 15; // data + byte_offset == data - 16
  mlp_status s = mlp_model_run(Model, &In, 1, &Out, 1);
  EXPECT_NE(s, MLP_OK) << "a wrapped data pointer reached the kernel";
  EXPECT_NE(std::strstr(mlp_last_error(), "byte_offset"), nullptr)
      << mlp_last_error();
}

// Bug 1: a device_type outside DLDeviceType's enumerators (a C caller may
// pass any int) was loaded as a DLDeviceType, undefined in C++ (UBSan: "load
// of value 1000, which is not a valid value for type 'DLDeviceType'").
TEST_F(RunRegression, DeviceTypeOutsideTheEnumIsRejectedCleanly) {
  const int32_t type = 1000;
  std::memcpy(&In.device.device_type, &type, sizeof type);
  EXPECT_EQ(mlp_model_run(Model, &In, 1, &Out, 1), MLP_ERR_DEVICE)
      << mlp_last_error();
}

// Bug 2: an empty batch with data == NULL and byte_offset != 0 is valid (no
// element is addressed), but Run.cpp computed NULL + byte_offset, undefined
// (clang UBSan: "applying non-zero offset 4 to null pointer").
TEST_F(RunRegression, NullDataWithByteOffsetInEmptyBatch) {
  XShape[0] = YShape[0] = 0;
  In.data = Out.data = nullptr;
  In.byte_offset = Out.byte_offset = 4;
  EXPECT_EQ(mlp_model_run(Model, &In, 1, &Out, 1), MLP_OK) << mlp_last_error();
}

} // namespace
