//===- mlp-opt.cpp - the optimizer driver for mlp IR ----------------------===//
//
// mlir-opt with the mlp dialect, our passes and the upstream dialects and
// passes that the CPU pipeline uses: the tool the lit tests drive.
//
//===----------------------------------------------------------------------===//
#include "mlp/Codegen/CPU/DialectRegistration.h"
#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/Codegen/CPU/Pipeline.h"
#include "mlp/Passes/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlp::registerMLPPasses();
  mlp::registerMLPCPUPasses();
  mlp::cpu::registerPipelines();
  mlir::DialectRegistry registry;
  mlp::cpu::registerCodegenDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "mlp optimizer driver\n", registry));
}
