//===- CompilerStages.h - the stages mlpc runs, in order --------*- C++ -*-===//
#ifndef MLPC_COMPILERSTAGES_H
#define MLPC_COMPILERSTAGES_H

#include "mlp/Codegen/CPU/ObjectEmitter.h"
#include "mlp/Codegen/CPU/Pipeline.h"
#include "mlp/Codegen/CUDA/Program.h"

#include <string>
#include <vector>

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
  SharedLib,
  /// The CUDA backend's C++ source; it branches off after MLPOpt.
  Cuda
};

struct Options {
  std::string inputFile;
  std::string outputFile;  // empty: the stage's default
  std::string weightsFile; // empty: none
  Stage emit = Stage::SharedLib;
  std::string dumpStagesDir; // empty: no dumps
  bool embedWeights = true;
  std::string target = "cpu";      // cpu, cuda or cpu,cuda
  std::string precision;            // CUDA: f32|f16|bf16 ("" = the inputs')
  std::vector<std::string> cudaArchs = {"80", "90a"};
  mlp::cuda::Tuning cudaTuning;
  mlp::cpu::TargetOptions targetOptions;
  mlp::cpu::LoopOptions loopOptions;
  std::string calibrationFile; // --calibration
  std::string prune;           // --prune=width:R|width:W|2:4|magnitude:R
  std::vector<std::string> pruneExclude;
  bool distill = false;
  int64_t distillEpochs = 0;
  double distillTemperature = 2.0;
  double distillLearningRate = 1e-3;
  std::string exportPruned;    // prefix of the .mlp + .safetensors export
  bool autotune = false;      // measure tilings first (--autotune)
  std::string autotuneCache;  // "" = none
};

/// Runs the compiler; returns the process exit code. Diagnostics go to
/// stderr as file:line:col: error: ...
int compile(const Options &options);

} // namespace mlpc

#endif // MLPC_COMPILERSTAGES_H
