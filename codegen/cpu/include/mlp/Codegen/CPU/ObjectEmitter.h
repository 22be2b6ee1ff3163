//===- ObjectEmitter.h - LLVM dialect to object code ------------*- C++ -*-===//
#ifndef MLP_CODEGEN_CPU_OBJECTEMITTER_H
#define MLP_CODEGEN_CPU_OBJECTEMITTER_H

#include "mlp/Codegen/CPU/CostModel.h"
#include "mlp/Codegen/CPU/ModelSignature.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace mlp::cpu {

struct TargetOptions {
  std::string cpu = "native"; // or an LLVM CPU name such as "znver4"
  unsigned optLevel = 2;
};

/// Translates a module in the LLVM dialect to LLVM IR for the target, adds
/// the ABI symbols of docs/runtime-abi.md (entry wrapper, metadata, weight
/// blob read from `weightsBlobPath`, empty for none) and optimizes it.
std::unique_ptr<llvm::Module>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                  const ModelSignature &signature,
                  const std::string &weightsBlobPath,
                  const TargetOptions &target, std::string &error);

/// A module with only the ABI's data symbols (metadata, weight blob, and
/// the CUDA fatbin when `fatbinPath` is set): the object of a library
/// without CPU code.
std::unique_ptr<llvm::Module>
makeDataOnlyModule(llvm::LLVMContext &context, const ModelSignature &signature,
                   const std::string &weightsBlobPath,
                   const std::string &fatbinPath, uint64_t fatbinBytes,
                   const TargetOptions &target, std::string &error);

/// Embeds the CUDA fatbin at `path` as the hidden symbol mlpc_cuda_fatbin.
void addCudaFatbin(llvm::Module &module, const std::string &path,
                   uint64_t bytes);

/// What the cost model needs to know of the target: vector width and
/// registers from its features (AVX-512 or not), L2 size from the host's
/// sysfs when compiling for the host, 1 MiB otherwise.
CpuTarget describeTarget(const TargetOptions &target, std::string &error);

enum class CodeKind { Assembly, Object };

/// Runs the LLVM backend on an optimized module.
bool emitCode(llvm::Module &module, llvm::raw_pwrite_stream &os, CodeKind kind,
              const TargetOptions &target, std::string &error);

/// Links objects and the runtime archive into a shared library at `output`,
/// through a temporary file renamed on success. `exportsScript` is the
/// linker version script that keeps only the mlp_* ABI visible.
bool linkSharedLibrary(const std::vector<std::string> &objects,
                       const std::string &runtimeArchive,
                       const std::string &exportsScript,
                       const std::string &output, std::string &error);

} // namespace mlp::cpu

#endif // MLP_CODEGEN_CPU_OBJECTEMITTER_H
