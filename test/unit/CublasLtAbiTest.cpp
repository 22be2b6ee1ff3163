//===- CublasLtAbiTest.cpp - runtime/lib/CublasLt.h against cublasLt.h ----===//
//
// The runtime declares cuBLASLt's ABI itself so that it builds without the
// CUDA Toolkit; where the Toolkit is installed this test compiles its
// declarations against the real header, and opens the real library.
//
//===----------------------------------------------------------------------===//
#include "CublasLt.h"

#include <cublasLt.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>

namespace {

using namespace mlp::rt::cublaslt;

static_assert(sizeof(Algo) == sizeof(cublasLtMatmulAlgo_t));
static_assert(sizeof(HeuristicResult) ==
              sizeof(cublasLtMatmulHeuristicResult_t));
static_assert(offsetof(HeuristicResult, workspaceSize) ==
              offsetof(cublasLtMatmulHeuristicResult_t, workspaceSize));
static_assert(offsetof(HeuristicResult, state) ==
              offsetof(cublasLtMatmulHeuristicResult_t, state));
static_assert(kSuccess == CUBLAS_STATUS_SUCCESS);
static_assert(kR32F == CUDA_R_32F && kR16F == CUDA_R_16F &&
              kR16BF == CUDA_R_16BF);
static_assert(kCompute32F == CUBLAS_COMPUTE_32F);
static_assert(kOpN == CUBLAS_OP_N && kOpT == CUBLAS_OP_T);
static_assert(kDescTransA == CUBLASLT_MATMUL_DESC_TRANSA &&
              kDescTransB == CUBLASLT_MATMUL_DESC_TRANSB &&
              kDescEpilogue == CUBLASLT_MATMUL_DESC_EPILOGUE &&
              kDescBiasPointer == CUBLASLT_MATMUL_DESC_BIAS_POINTER);
static_assert(kEpilogueDefault == CUBLASLT_EPILOGUE_DEFAULT &&
              kEpilogueRelu == CUBLASLT_EPILOGUE_RELU &&
              kEpilogueBias == CUBLASLT_EPILOGUE_BIAS &&
              kEpilogueGelu == CUBLASLT_EPILOGUE_GELU &&
              (kEpilogueGelu | kEpilogueBias) == CUBLASLT_EPILOGUE_GELU_BIAS &&
              (kEpilogueRelu | kEpilogueBias) == CUBLASLT_EPILOGUE_RELU_BIAS);
static_assert(
    kPrefMaxWorkspace == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES &&
    kPrefMinAlignmentA == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES &&
    kPrefMinAlignmentB == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES &&
    kPrefMinAlignmentC == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES &&
    kPrefMinAlignmentD == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES);
static_assert(kLayoutBatchCount == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT &&
              kLayoutStridedBatchOffset ==
                  CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET);
// The attribute values the runtime passes have the sizes cuBLASLt reads.
static_assert(sizeof(int) == sizeof(cublasOperation_t) &&
              sizeof(int) == sizeof(cublasLtEpilogue_t));

TEST(CublasLtAbi, EveryFunctionIsFoundInTheToolkitsLibrary) {
  setenv("MLPC_CUBLASLT_LIBRARY", MLPC_CUBLASLT_LIBRARY_PATH, 1);
  const Library &l = Library::get();
  EXPECT_TRUE(l.loaded) << l.error;
  EXPECT_TRUE(l.create && l.matmul && l.algoGetHeuristic &&
              l.matrixLayoutSetAttribute);
}

} // namespace
