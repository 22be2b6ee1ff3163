//===- Status.h - Error reporting across the C ABI --------------*- C++ -*-===//
//
// Every public function reports failures through a status code plus a
// per-thread message, and must never let a C++ exception cross the C ABI.
// These helpers make both hard to get wrong.
//
//===----------------------------------------------------------------------===//

#ifndef MLP_RUNTIME_STATUS_H
#define MLP_RUNTIME_STATUS_H

#include "mlp/runtime.h"

#include <exception>
#include <new>
#include <string>

namespace mlp::rt {

/// The calling thread's last error message (what mlp_last_error returns).
std::string &lastError() noexcept;

/// Records `message` as the thread's last error and returns `status`.
/// Taking the string by value and moving it in cannot throw.
mlp_status fail(mlp_status status, std::string message) noexcept;
/// Same for a literal; if copying it fails for lack of memory, the message
/// is cleared rather than letting an exception escape.
mlp_status fail(mlp_status status, const char *message) noexcept;

/// Runs `body` (returning mlp_status), turning any escaping exception into a
/// status: std::bad_alloc into MLP_ERR_OUT_OF_MEMORY, anything else into
/// MLP_ERR_INTERNAL.
template <typename Body> mlp_status guard(const char *function, Body &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(MLP_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception &e) {
    try {
      return fail(MLP_ERR_INTERNAL,
                  std::string(function) + ": internal error: " + e.what());
    } catch (...) {
      return fail(MLP_ERR_INTERNAL, "internal error");
    }
  } catch (...) {
    return fail(MLP_ERR_INTERNAL, "internal error");
  }
}

} // namespace mlp::rt

#endif // MLP_RUNTIME_STATUS_H
