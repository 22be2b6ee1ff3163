//===- Nvcc.cpp - CUDA C++ to an embeddable fatbin
//-------------------------===//
#include "mlp/Codegen/CUDA/Program.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

std::string mlp::cuda::findNvcc() {
  if (const char *env = std::getenv("MLPC_NVCC"); env && *env)
    return env;
  if (auto onPath = llvm::sys::findProgramByName("nvcc"))
    return *onPath;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/nvcc"))
    return "/usr/local/cuda/bin/nvcc";
  return "";
}

bool mlp::cuda::compileFatbin(const std::string &source,
                              const std::string &workDir,
                              const std::vector<std::string> &archs,
                              std::string &fatbinPath, std::string &error) {
  std::string nvcc = findNvcc();
  if (nvcc.empty()) {
    error = "cannot find nvcc (install the CUDA Toolkit, put nvcc on PATH or "
            "set MLPC_NVCC)";
    return false;
  }
  std::string cu = workDir + "/model.cu", log = workDir + "/nvcc.log";
  fatbinPath = workDir + "/model.fatbin";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(cu, ec);
    if (ec) {
      error = "cannot write " + cu + ": " + ec.message();
      return false;
    }
    os << source;
  }
  std::vector<std::string> args = {nvcc, "-std=c++17", "-O3", "--fatbin",
                                   "-o", fatbinPath,   cu};
  for (const std::string &arch : archs) {
    // "90a" needs its own virtual architecture for the arch-specific
    // instructions; plain ones share compute_XX.
    args.push_back("-gencode=arch=compute_" + arch + ",code=sm_" + arch);
  }
  if (!archs.empty())
    args.push_back("-gencode=arch=compute_" + archs.front() + ",code=compute_" +
                   archs.front());
  std::vector<llvm::StringRef> refs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log, log};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(nvcc, refs, std::nullopt, redirects, 0, 0,
                                     &message);
  if (rc != 0) {
    std::string output;
    if (auto text = llvm::MemoryBuffer::getFile(log))
      output = (*text)->getBuffer().str();
    error = "nvcc failed (exit " + std::to_string(rc) + ")" +
            (message.empty() ? "" : ": " + message) +
            (output.empty() ? "" : "\n" + output);
    return false;
  }
  return true;
}
