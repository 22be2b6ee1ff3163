//===- Execution.cpp - threads and memory limits of runs ------------------===//
#include "Model.h"
#include "RowBlocks.h"
#include "Status.h"
#include "ThreadPool.h"

#include <algorithm>
#include <string>

extern "C" MLP_API mlp_status mlp_set_num_threads(int32_t n) {
  if (n < 0)
    return mlp::rt::fail(MLP_ERR_INVALID_ARGUMENT,
                         "mlp_set_num_threads: n must be >= 0, got " +
                             std::to_string(n));
  mlp::rt::setNumThreads(n);
  return MLP_OK;
}

extern "C" MLP_API int32_t mlp_get_num_threads(void) {
  return mlp::rt::numThreads();
}

extern "C" MLP_API mlp_status mlp_model_set_memory_limit(mlp_model *model,
                                                         uint64_t bytes) {
  if (!model)
    return mlp::rt::fail(MLP_ERR_INVALID_ARGUMENT,
                         "mlp_model_set_memory_limit: model is NULL");
  model->memoryLimit.store(bytes);
  return MLP_OK;
}

extern "C" MLP_API uint64_t mlp_model_working_memory(const mlp_model *model,
                                                     int64_t batch) {
  if (!model) {
    mlp::rt::fail(MLP_ERR_INVALID_ARGUMENT,
                  "mlp_model_working_memory: model is NULL");
    return 0;
  }
  if (batch < 0) {
    mlp::rt::fail(MLP_ERR_INVALID_ARGUMENT,
                  "mlp_model_working_memory: batch must be >= 0");
    return 0;
  }
  mlp::rt::RowPlan plan;
  const uint64_t limit = model->memoryLimit.load();
  if (mlp::rt::planRows(model->meta, batch, limit, plan) != MLP_OK)
    return 0;
  // A tiny batch may run column-parallel, on a scratch of its own.
  const uint64_t columns =
      model->columnsEntry
          ? mlp::rt::columnScratchBytes(model->meta, plan, batch, limit)
          : 0;
  return std::max(plan.workingMemory, columns);
}
