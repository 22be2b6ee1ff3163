//===- SharedLibraryLinker.cpp - objects + runtime into a .so -------------===//
#include "mlp/Codegen/CPU/ObjectEmitter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <unistd.h>

#ifndef MLPC_DEFAULT_CXX
#define MLPC_DEFAULT_CXX "c++"
#endif

bool mlp::cpu::linkSharedLibrary(const std::vector<std::string> &objects,
                                 const std::string &runtimeArchive,
                                 const std::string &exportsScript,
                                 const std::string &output,
                                 std::string &error) {
  // The runtime is C++ (it parses JSON), so a C++ driver links: it brings
  // libstdc++ and libm, and nothing of LLVM or MLIR.
  const char *fromEnv = std::getenv("MLPC_CXX");
  std::string driverName = fromEnv && *fromEnv ? fromEnv : MLPC_DEFAULT_CXX;
  auto driver = llvm::sys::findProgramByName(driverName);
  if (!driver) {
    error = "cannot find the linker driver '" + driverName +
            "' (set MLPC_CXX to a C++ compiler)";
    return false;
  }
  std::string temporary = output + ".tmp" + std::to_string(::getpid());
  std::vector<std::string> args = {*driver, "-shared", "-o", temporary};
  args.insert(args.end(), objects.begin(), objects.end());
  // The generated code never calls the mlp_* ABI, so the whole archive is
  // linked; the version script exports exactly that ABI.
  args.insert(args.end(),
              {"-Wl,--whole-archive", runtimeArchive, "-Wl,--no-whole-archive",
               "-Wl,--version-script=" + exportsScript, "-lm", "-ldl",
               "-Wl,--no-undefined", "-Wl,-z,noexecstack"});
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*driver, argRefs, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    llvm::sys::fs::remove(temporary);
    error = "linking " + output + " failed (" + driverName + " exited with " +
            std::to_string(rc) + (message.empty() ? "" : ": " + message) + ")";
    return false;
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, output)) {
    llvm::sys::fs::remove(temporary);
    error = "cannot write " + output + ": " + ec.message();
    return false;
  }
  return true;
}
