//===- KnownBugsTest.cpp - reproducers of open runtime bugs ---------------===//
//
// Each test here reproduces a bug found by test/fuzz (fuzz-runtime-args) in
// code this suite may not fix (runtime/lib/Run.cpp). They are DISABLED_ so
// that the GoogleTest lit suite skips them; test/runtime/known-bug-*.test run
// them explicitly and are marked XFAIL, so a fix shows up as an unexpected
// pass: then drop the DISABLED_ prefix, delete the .test file and the
// fuzz harness's steering for the bug (FuzzRuntimeArgs.cpp, knownBugs()).
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include "mlp/runtime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

class KnownBugs : public ::testing::Test {
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
  std::vector<float> X = std::vector<float>(64, 1.0f), Y = std::vector<float>(64);
  std::vector<int64_t> XShape = {2, 3}, YShape = {2, 2};
  DLTensor In{}, Out{};
};

// Bug 3: data + byte_offset wrapping around the address space is accepted.
// Run.cpp computes `(char *)data + byte_offset` unchecked (undefined
// behaviour) and hands the wrapped pointer, here data - 16, to the kernel,
// which reads (for an input) or writes (for an output) outside the tensor:
// heap corruption from a descriptor the runtime could have rejected, since
// no buffer can extend past the end of the address space.
TEST_F(KnownBugs, WrappingByteOffsetIsRejected) {
  // data points 32 floats into X, so data - 16 bytes is still inside X and
  // the bug does not corrupt this test's own memory.
  In.data = X.data() + 32;
  In.byte_offset = UINT64_MAX - 15; // data + byte_offset == data - 16
  mlp_status s = mlp_model_run(Model, &In, 1, &Out, 1);
  EXPECT_NE(s, MLP_OK) << "a wrapped data pointer reached the kernel";
  EXPECT_NE(std::strstr(mlp_last_error(), "byte_offset"), nullptr)
      << mlp_last_error();
}

// Bug 1: a device_type outside DLDeviceType's enumerators (any int is a valid
// C enum value, so a C caller may pass one) is loaded as a DLDeviceType in
// Run.cpp, which is undefined in C++ (UBSan: "load of value 1000, which is
// not a valid value for type 'DLDeviceType'"). The status is right in an
// ordinary build; clang's UBSan (the fuzz build) aborts. Fix: read it as an
// int32_t (memcpy) before comparing.
TEST_F(KnownBugs, DeviceTypeOutsideTheEnumIsRejectedCleanly) {
  const int32_t type = 1000;
  std::memcpy(&In.device.device_type, &type, sizeof type);
  EXPECT_EQ(mlp_model_run(Model, &In, 1, &Out, 1), MLP_ERR_DEVICE)
      << mlp_last_error();
}

// Bug 2: an empty batch with data == NULL and byte_offset != 0 is valid (no
// element is addressed), but Run.cpp computes NULL + byte_offset, undefined
// (clang UBSan: "applying non-zero offset 4 to null pointer"). Fix: add the
// offset as an integer (uintptr_t), or only when data is non-NULL.
TEST_F(KnownBugs, NullDataWithByteOffsetInEmptyBatch) {
  XShape[0] = YShape[0] = 0;
  In.data = Out.data = nullptr;
  In.byte_offset = Out.byte_offset = 4;
  EXPECT_EQ(mlp_model_run(Model, &In, 1, &Out, 1), MLP_OK) << mlp_last_error();
}

} // namespace
