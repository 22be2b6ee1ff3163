//===- FuzzFrontend.cpp - libFuzzer target: .mlp text to verified IR ------===//
//
// Feeds arbitrary bytes to the frontend exactly as mlpc does
// (tools/mlpc/CompilerStages.cpp): parse, print the AST, emit the mlp dialect
// and verify it. The contract under test (dialect/frontend/*.h, DESIGN.md
// "errors are values"): any input either fails with diagnostics or yields a
// module that verifies; nothing crashes, reads out of bounds, hangs or leaks.
// A module that emitMLIR returns but that does not verify is a bug too, and
// traps.
//
// Diagnostics are swallowed (SourceMgr and MLIR handlers) so that the fuzzer
// is not slowed down by printing. Set MLPC_FUZZ_VERBOSE=1 to print them when
// reproducing a crash.
//
//===----------------------------------------------------------------------===//

#include "mlp/Codegen/CPU/DialectRegistration.h"
#include "mlp/Frontend/AST.h"
#include "mlp/Frontend/MLIRGen.h"
#include "mlp/Frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

namespace {

bool verbose() {
  static const bool on = [] {
    const char *v = std::getenv("MLPC_FUZZ_VERBOSE");
    return v && *v && *v != '0';
  }();
  return on;
}

const mlir::DialectRegistry &registry() {
  static const mlir::DialectRegistry *r = [] {
    auto *reg = new mlir::DialectRegistry();
    mlp::cpu::registerCodegenDialects(*reg);
    return reg;
  }();
  return *r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  if (!verbose())
    sourceMgr.setDiagHandler([](const llvm::SMDiagnostic &, void *) {});
  // A copy is NUL-terminated, as the files mlpc reads are.
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.mlp"),
      llvm::SMLoc());
  auto ast = mlp::frontend::parseModule(sourceMgr, bufferId);
  if (!ast)
    return 0;
  mlp::frontend::printAST(*ast, llvm::nulls());

  // A fresh context per input keeps runs independent (uniqued attributes of
  // one input never influence the next) and bounds memory. Threading off: a
  // thread pool per input would dominate the run time.
  mlir::MLIRContext context(registry(), mlir::MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler silence(&context, [](mlir::Diagnostic &diag) {
    if (verbose())
      llvm::errs() << diag << "\n";
    return mlir::success();
  });
  auto module = mlp::frontend::emitMLIR(context, *ast);
  if (!module)
    return 0;
  // MLIRGen.h promises that a returned module verifies.
  if (mlir::failed(mlir::verify(*module))) {
    llvm::errs() << "fuzz-frontend: emitMLIR returned a module that does not "
                    "verify\n";
    module->print(llvm::errs());
    __builtin_trap();
  }
  return 0;
}
