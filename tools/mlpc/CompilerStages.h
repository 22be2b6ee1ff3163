//===- CompilerStages.h - the stages mlpc runs, in order --------*- C++ -*-===//
#ifndef MLPC_COMPILERSTAGES_H
#define MLPC_COMPILERSTAGES_H

#include "mlp/Codegen/CPU/ObjectEmitter.h"
#include "mlp/Codegen/CPU/Pipeline.h"

#include <string>

namespace mlpc {

/// Stages in pipeline order; --emit stops after one of them.
enum class Stage {
  AST,
  MLP,
  MLPOpt,
  Linalg,
  Loops,
  LLVMDialect,
  LLVMIR,
  Assembly,
  Object,
  SharedLib
};

struct Options {
  std::string inputFile;
  std::string outputFile;  // empty: the stage's default
  std::string weightsFile; // empty: none
  Stage emit = Stage::SharedLib;
  std::string dumpStagesDir; // empty: no dumps
  bool embedWeights = true;
  std::string target = "cpu";
  mlp::cpu::TargetOptions targetOptions;
  mlp::cpu::LoopOptions loopOptions;
  bool autotune = false;      // measure tilings first (--autotune)
  std::string autotuneCache;  // "" = none
};

/// Runs the compiler; returns the process exit code. Diagnostics go to
/// stderr as file:line:col: error: ...
int compile(const Options &options);

} // namespace mlpc

#endif // MLPC_COMPILERSTAGES_H
