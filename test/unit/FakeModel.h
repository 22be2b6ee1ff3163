//===- FakeModel.h - A hand-written stand-in for generated code -*- C++ -*-===//
//
// FakeModel.cpp defines the three symbols mlpc generates for a model named
// "fake": input x float32 [-1, 3], param w float32 [2, 3] (embedded), output
// y float32 [-1, 2], computing y = x @ w^T.
//
//===----------------------------------------------------------------------===//

#ifndef MLP_TEST_UNIT_FAKEMODEL_H
#define MLP_TEST_UNIT_FAKEMODEL_H

#include <atomic>

extern "C" {
extern const char mlpc_model_metadata[];
extern const unsigned char mlpc_weights_blob[];
void mlpc_model_entry(void **args);
}

namespace mlp::test {
/// How many times mlpc_model_entry ran (to check that failed or empty runs
/// never reach the generated code).
extern std::atomic<int> fakeEntryCalls;
/// The embedded weights, as floats.
extern const float fakeWeights[6];
} // namespace mlp::test

#endif // MLP_TEST_UNIT_FAKEMODEL_H
