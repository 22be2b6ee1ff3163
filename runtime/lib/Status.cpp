//===- Status.cpp - Error reporting across the C ABI ----------------------===//

#include "Status.h"

#include <utility>

namespace mlp::rt {

std::string &lastError() noexcept {
  // Per thread, so concurrent mlp_model_run calls do not mix up messages.
  thread_local std::string message;
  return message;
}

mlp_status fail(mlp_status status, std::string message) noexcept {
  lastError() = std::move(message);
  return status;
}

mlp_status fail(mlp_status status, const char *message) noexcept {
  try {
    lastError() = message;
  } catch (...) {
    lastError().clear();
  }
  return status;
}

} // namespace mlp::rt

extern "C" {

MLP_API const char *mlp_last_error(void) {
  return mlp::rt::lastError().c_str();
}

MLP_API const char *mlp_status_string(mlp_status status) {
  switch (status) {
  case MLP_OK:
    return "MLP_OK";
  case MLP_ERR_INVALID_ARGUMENT:
    return "MLP_ERR_INVALID_ARGUMENT";
  case MLP_ERR_SHAPE:
    return "MLP_ERR_SHAPE";
  case MLP_ERR_DTYPE:
    return "MLP_ERR_DTYPE";
  case MLP_ERR_DEVICE:
    return "MLP_ERR_DEVICE";
  case MLP_ERR_LAYOUT:
    return "MLP_ERR_LAYOUT";
  case MLP_ERR_IO:
    return "MLP_ERR_IO";
  case MLP_ERR_FORMAT:
    return "MLP_ERR_FORMAT";
  case MLP_ERR_MISSING_TENSOR:
    return "MLP_ERR_MISSING_TENSOR";
  case MLP_ERR_OUT_OF_MEMORY:
    return "MLP_ERR_OUT_OF_MEMORY";
  case MLP_ERR_INTERNAL:
    return "MLP_ERR_INTERNAL";
  }
  return "MLP_ERR_UNKNOWN";
}

MLP_API int32_t mlp_abi_version(void) { return MLP_ABI_VERSION; }

} // extern "C"
