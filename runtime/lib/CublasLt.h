//===- CublasLt.h - cuBLASLt, loaded at run time ----------------*- C++ -*-===//
//
// Linear layers the compiler described for cuBLASLt (CudaGemm, the
// "cublaslt" object of a step) run through it when the runtime can load
// libcublasLt; otherwise, or with MLPC_CUBLASLT=0, their generated kernels
// run. Like the driver (CudaDriver.h), the library is opened with dlopen and
// its ABI is declared here, so the runtime builds and links without the
// CUDA Toolkit (test/unit/CublasLtAbiTest.cpp checks the declarations
// against cublasLt.h where the Toolkit is installed).
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_CUBLASLT_H
#define MLP_RUNTIME_CUBLASLT_H

#include "CudaDriver.h"
#include "CudaPlan.h"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace mlp::rt::cublaslt {

using Status = int; // cublasStatus_t
using Handle = struct cublasLtContext *;
using MatmulDesc = void *;
using MatrixLayout = void *;
using Preference = void *;

struct Algo {
  uint64_t data[8];
};
struct HeuristicResult {
  Algo algo;
  size_t workspaceSize;
  Status state;
  float wavesCount;
  int reserved[4];
};

// cublasLt.h / library_types.h constants.
constexpr Status kSuccess = 0;
constexpr int kR32F = 0, kR16F = 2, kR16BF = 14; // cudaDataType
constexpr int kCompute32F = 68;                  // CUBLAS_COMPUTE_32F
constexpr int kOpN = 0, kOpT = 1;                // cublasOperation_t
constexpr int kDescTransA = 3, kDescTransB = 4, kDescEpilogue = 7,
              kDescBiasPointer = 8;
constexpr int kEpilogueDefault = 1, kEpilogueRelu = 2, kEpilogueBias = 4,
              kEpilogueGelu = 32;
constexpr int kLayoutBatchCount = 5, kLayoutStridedBatchOffset = 6;
constexpr int kPrefMaxWorkspace = 1, kPrefMinAlignmentA = 5,
              kPrefMinAlignmentB = 6, kPrefMinAlignmentC = 7,
              kPrefMinAlignmentD = 8;

struct Library {
  bool loaded = false;
  std::string error; // why not

  Status (*create)(Handle *);
  Status (*destroy)(Handle);
  Status (*matmulDescCreate)(MatmulDesc *, int computeType, int scaleType);
  Status (*matmulDescDestroy)(MatmulDesc);
  Status (*matmulDescSetAttribute)(MatmulDesc, int, const void *, size_t);
  Status (*matrixLayoutCreate)(MatrixLayout *, int type, uint64_t rows,
                               uint64_t cols, int64_t ld);
  Status (*matrixLayoutDestroy)(MatrixLayout);
  Status (*matrixLayoutSetAttribute)(MatrixLayout, int, const void *, size_t);
  Status (*preferenceCreate)(Preference *);
  Status (*preferenceDestroy)(Preference);
  Status (*preferenceSetAttribute)(Preference, int, const void *, size_t);
  Status (*algoGetHeuristic)(Handle, MatmulDesc, MatrixLayout, MatrixLayout,
                             MatrixLayout, MatrixLayout, Preference, int,
                             HeuristicResult *, int *);
  Status (*matmul)(Handle, MatmulDesc, const void *alpha, const void *a,
                   MatrixLayout, const void *b, MatrixLayout, const void *beta,
                   const void *c, MatrixLayout, void *d, MatrixLayout,
                   const Algo *, void *workspace, size_t workspaceBytes,
                   cuda::CUstream);

  /// The process-wide library, opened on first use: $MLPC_CUBLASLT_LIBRARY,
  /// else libcublasLt.so.13, .so.12, .so.
  static const Library &get();
};

/// The cuBLASLt steps of one model, on its context: a handle, one
/// operation per step, and per batch size and pointer alignment the
/// layouts and the algorithm the heuristic chose. Thread-safe.
class Gemms {
public:
  /// Workspace each run passes to cuBLASLt (its guide's size for Hopper).
  static constexpr uint64_t kWorkspaceBytes = 32u << 20;

  Gemms() = default;
  ~Gemms();
  Gemms(const Gemms &) = delete;
  Gemms &operator=(const Gemms &) = delete;

  /// Sets up the plan's cuBLASLt steps with the uploaded images, those of
  /// the activations in the comma-separated `only` ("none", "relu",
  /// "gelu_tanh", "gelu"; empty: all); false (with `why`) leaves every step
  /// to its kernel.
  bool init(const CudaPlan &plan, const std::vector<cuda::CUdeviceptr> &images,
            const std::string &only, std::string &why);
  /// Whether any step runs through cuBLASLt.
  bool active() const {
    for (const Op &op : ops_)
      if (op.desc)
        return true;
    return false;
  }
  bool has(size_t step) const { return step < ops_.size() && ops_[step].desc; }

  /// Queues step `step` on `stream` for `rows` batch rows; false when
  /// cuBLASLt has no algorithm for it (the caller launches the kernel).
  bool run(size_t step, int64_t rows, cuda::CUdeviceptr x,
           cuda::CUdeviceptr residual, cuda::CUdeviceptr y,
           cuda::CUdeviceptr workspace, cuda::CUstream stream);

private:
  struct Op { // desc null: the step is a kernel
    CudaGemm gemm;
    int64_t rowsPerBatch = 1;
    int64_t channels = 0; // token mixing: the columns of x and y
    int xType = 0, yType = 0;
    cuda::CUdeviceptr weight = 0;
    MatmulDesc desc = nullptr;
    MatrixLayout weightLayout = nullptr;
  };
  /// One step at one (batch rows, alignments of x, residual and y).
  struct Plan {
    MatrixLayout x = nullptr, y = nullptr;
    /// Token mixing: the weight's and the bias's layouts carry the batch.
    MatrixLayout w = nullptr, bias = nullptr;
    bool found = false;
    Algo algo{};
  };
  using Key = std::tuple<size_t, int64_t, unsigned>;
  bool makePlan(const Op &op, int64_t rows, unsigned alignments, Plan &out);
  bool makeTokenPlan(const Op &op, int64_t rows, unsigned alignments,
                     Plan &out);
  /// The heuristic's algorithm for matrices A, B, C, D of these layouts and
  /// (byte) alignments, into `out`.
  bool chooseAlgorithm(const Op &op, const std::array<MatrixLayout, 4> &abcd,
                       const std::array<uint32_t, 4> &alignments, Plan &out);
  void destroyPlan(Plan &plan);

  const Library *lib_ = nullptr;
  Handle handle_ = nullptr;
  std::vector<Op> ops_; // per step
  std::mutex mutex_;    // guards plans_ and serializes the calls
  std::map<Key, Plan> plans_;
};

} // namespace mlp::rt::cublaslt

#endif // MLP_RUNTIME_CUBLASLT_H
