//===- mlpc.cpp - the mlpc compiler driver --------------------------------===//
//
//   mlpc model.mlp --weights w.safetensors -o libmodel.so
//   mlpc model.mlp --emit=<stage>          print one stage of the lowering
//   mlpc model.mlp --dump-stages=DIR ...   write every stage into DIR
//
//===----------------------------------------------------------------------===//
#include "Autotune.h"
#include "CompilerStages.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {
cl::OptionCategory category("mlpc options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlp>"),
                               cl::Required, cl::cat(category));
cl::opt<std::string> outputFile(
    "o", cl::value_desc("file"), cl::init(""), cl::cat(category),
    cl::desc("Output file ('-' for stdout). Default: stdout for text stages, "
             "lib<model>.so for --emit=so, <model>.o for --emit=obj"));
cl::opt<std::string> weightsFile(
    "weights", cl::value_desc("file.safetensors"), cl::cat(category),
    cl::desc("Weights, named as the model's parameters; checked against the "
             "model and embedded in the .so (required for --emit=so unless "
             "--no-embed-weights)"));
cl::opt<mlpc::Stage> emitStage(
    "emit", cl::init(mlpc::Stage::SharedLib), cl::cat(category),
    cl::desc("The stage to stop at and write out, in pipeline order:"),
    cl::values(
        clEnumValN(mlpc::Stage::AST, "ast", "the parsed .mlp syntax tree"),
        clEnumValN(mlpc::Stage::MLP, "mlp", "mlp dialect from the frontend"),
        clEnumValN(mlpc::Stage::MLPOpt, "mlp-opt",
                   "mlp dialect after the optimization passes"),
        clEnumValN(mlpc::Stage::Linalg, "linalg",
                   "linalg on tensors, weights as arguments"),
        clEnumValN(mlpc::Stage::Loops, "loops",
                   "bufferized, tiled and vectorized loops"),
        clEnumValN(mlpc::Stage::LLVMDialect, "llvm", "the MLIR LLVM dialect"),
        clEnumValN(mlpc::Stage::LLVMIR, "llvm-ir",
                   "optimized LLVM IR with the ABI entry point"),
        clEnumValN(mlpc::Stage::Assembly, "asm", "target assembly"),
        clEnumValN(mlpc::Stage::Object, "obj", "an object file"),
        clEnumValN(mlpc::Stage::SharedLib, "so",
                   "a shared library with the runtime (default)"),
        clEnumValN(mlpc::Stage::Cuda, "cuda",
                   "the CUDA C++ of the CUDA target (after mlp-opt)")));
cl::opt<std::string> dumpStagesDir(
    "dump-stages", cl::value_desc("dir"), cl::cat(category),
    cl::desc("Also write every stage up to --emit into DIR, one file each"));
cl::opt<bool> noEmbedWeights(
    "no-embed-weights", cl::init(false), cl::cat(category),
    cl::desc("Do not embed weights: the library then reads a .safetensors "
             "file given to mlp_model_create"));
cl::opt<std::string> targetName(
    "target", cl::init("cpu"), cl::cat(category),
    cl::desc("Target devices: cpu (default), cuda, or cpu,cuda for one "
             "library holding both"));
cl::opt<std::string> precisionName(
    "precision", cl::init(""), cl::cat(category),
    cl::desc("CUDA arithmetic: f32, f16 or bf16 (tensor cores, fp32 "
             "accumulation); default: the model inputs' type"));
cl::list<std::string> cudaArchs(
    "cuda-arch", cl::CommaSeparated, cl::cat(category),
    cl::desc("GPU architectures to build SASS for (default 80,90a; the "
             "first also gets PTX for newer GPUs)"));
cl::opt<int> cudaChainRowTiles(
    "cuda-chain-row-tiles", cl::init(0), cl::Hidden, cl::cat(category),
    cl::desc(
        "Tuning: m16 row tiles per warp in fused chain kernels (0: auto)"));
cl::opt<int> cudaChainThreads(
    "cuda-chain-threads", cl::init(0), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: threads per CTA of fused chain kernels (0: auto)"));
cl::opt<int> cudaChainPrefetch(
    "cuda-chain-prefetch", cl::init(0), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: input tiles each warpgroup of a fused chain kernel "
             "loads ahead (0: auto)"));
cl::opt<int> cudaChainMinCtas(
    "cuda-chain-min-ctas", cl::init(0), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: CTAs per SM the registers of fused chain kernels must "
             "allow (0: the compiler's choice)"));
cl::opt<int> cudaChainRing(
    "cuda-chain-ring", cl::init(-1), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: input tiles each warpgroup of a fused chain kernel "
             "keeps in flight through shared memory (0: in registers, -1: "
             "auto)"));
cl::opt<bool> cudaGemmPingPong(
    "cuda-gemm-ping-pong", cl::init(true), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: also emit the warp-specialized ping-pong form of the "
             "tensor-core linear kernels (sm_90a, TMA)"));
cl::opt<bool> cudaEarlyLaunch(
    "cuda-early-launch", cl::init(true), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: kernels may launch while the previous kernel finishes "
             "(programmatic dependent launch, sm_90)"));
cl::opt<int> cudaGemmKernel(
    "cuda-gemm-kernel", cl::init(0), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: tensor-core linear kernel, 1 no deep prefetch nor "
             "staged epilogue, 3 the "
             "two-CTA configuration everywhere, 4 the wide one (0: auto)"));
cl::opt<bool> cudaGemmTma(
    "cuda-gemm-tma", cl::init(true), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: tensor-core linear kernels load their tiles through the "
             "Tensor Memory Accelerator where rows are 16-byte multiples "
             "(sm_90a; default on)"));
cl::opt<bool> cudaCublasLt(
    "cuda-cublaslt", cl::init(true), cl::cat(category),
    cl::desc("Let the runtime run wide f16/bf16 linear layers through "
             "cuBLASLt where its epilogues compute them (bias, ReLU, GELU, "
             "a residual add; on by default, measured faster on an H200 in "
             "bench/RESULTS.md); the generated kernel where it cannot load "
             "libcublasLt, with MLPC_CUBLASLT=0 or --cuda-cublaslt=false"));
cl::opt<bool> cudaTokenGemm(
    "cuda-token-gemm", cl::init(true), cl::Hidden, cl::cat(category),
    cl::desc("Tuning: with cuBLASLt, token mixing (transpose, linear over "
             "the tokens, transpose back) as one batched GEMM on [N, T, C] "
             "(default on); off: transposes and a chain kernel"));
cl::opt<std::string> cpuName(
    "mcpu", cl::init("native"), cl::cat(category),
    cl::desc("CPU to generate code for: 'native' (this machine, default) or "
             "an LLVM CPU name such as znver4 or x86-64-v3"));
cl::opt<unsigned> optLevel(
    "O", cl::init(2), cl::Prefix, cl::cat(category),
    cl::desc("LLVM optimization level 0-3 (default 2: as fast as 3 on the "
             "vectorized kernels, and half the compile time of big models)"));
cl::opt<std::string> calibrationFile(
    "calibration", cl::value_desc("file.safetensors"), cl::cat(category),
    cl::desc("Calibration inputs for --prune=width and --distill: one float32 "
             "tensor per model input, the batch being the samples"));
cl::opt<std::string> pruneSpec(
    "prune", cl::value_desc("spec"), cl::cat(category),
    cl::desc("Prune before compiling: width:RATIO (keep that fraction of "
             "hidden neurons, Minitron importance), width:NEURONS, "
             "width:fc1=64,fc2=32 (per layer, by producer weight name), 2:4 "
             "(semi-structured), magnitude:RATIO (zero that fraction)"));
cl::list<std::string> pruneExclude(
    "prune-exclude", cl::value_desc("prefix"), cl::CommaSeparated,
    cl::cat(category),
    cl::desc("Weight-name prefixes of layers not to prune (comma-separated)"));
cl::opt<bool> distillFlag(
    "distill", cl::init(false), cl::cat(category),
    cl::desc("After --prune=width, refit each pruned layer against the "
             "unpruned model by least squares on the calibration data"));
cl::opt<int64_t> distillEpochs(
    "distill-epochs", cl::init(0), cl::cat(category),
    cl::desc("After the least-squares refit, this many epochs of logit "
             "distillation (KL with temperature) on the calibration data"));
cl::opt<double> distillTemperature(
    "distill-temperature", cl::init(2.0), cl::cat(category),
    cl::desc("Softmax temperature of logit distillation (default 2)"));
cl::opt<double> distillLearningRate(
    "distill-learning-rate", cl::init(1e-3), cl::cat(category),
    cl::desc("Adam learning rate of logit distillation (default 1e-3)"));
cl::opt<std::string> exportPruned(
    "export-pruned", cl::value_desc("prefix"), cl::cat(category),
    cl::desc("Write the (pruned, distilled) model as PREFIX.mlp and its "
             "weights as PREFIX.safetensors"));
cl::opt<bool> autotuneFlag(
    "autotune", cl::init(false), cl::cat(category),
    cl::desc("Measure candidate tilings of the model's matmuls on this "
             "machine first and keep the winners in the autotune cache, "
             "which later compiles reuse"));
cl::opt<std::string> autotuneCache(
    "autotune-cache", cl::value_desc("file"), cl::cat(category),
    cl::init(mlpc::defaultAutotuneCache()),
    cl::desc(
        "Autotune cache, keyed by matmul shape and CPU (default: "
        "$MLPC_AUTOTUNE_CACHE or ~/.cache/mlpc/autotune.json; '' for none)"));
cl::opt<bool> noVectorize(
    "no-vectorize", cl::init(false), cl::cat(category),
    cl::desc("Lower linalg to scalar loops without tiling or vectorization"));

void printVersion(raw_ostream &os) {
  os << "mlpc " << MLPC_VERSION << " (MLIR/LLVM " << LLVM_VERSION_STRING
     << ")\n";
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  cl::AddExtraVersionPrinter(printVersion);
  cl::HideUnrelatedOptions({&category, &cl::getGeneralCategory()});
  // LLVM's backends put hundreds of options in the general category: --help
  // lists mlpc's own and MLIR's (-mlir-print-ir-after-all, ...) only; the
  // others still work.
  for (auto &entry : cl::getRegisteredOptions())
    if (!entry.getKey().starts_with("mlir-") &&
        llvm::is_contained(entry.getValue()->Categories,
                           &cl::getGeneralCategory()))
      entry.getValue()->setHiddenFlag(cl::Hidden);
  cl::ParseCommandLineOptions(
      argc, argv,
      "mlpc: compiles .mlp models to shared libraries with a C ABI\n");

  mlpc::Options options;
  options.inputFile = inputFile;
  options.outputFile = outputFile;
  options.weightsFile = weightsFile;
  options.emit = emitStage;
  options.dumpStagesDir = dumpStagesDir;
  options.embedWeights = !noEmbedWeights;
  options.target = targetName;
  options.precision = precisionName;
  options.cudaTuning.chainRowTiles = cudaChainRowTiles;
  options.cudaTuning.chainThreads = cudaChainThreads;
  options.cudaTuning.chainPrefetch = cudaChainPrefetch;
  options.cudaTuning.earlyLaunch = cudaEarlyLaunch;
  options.cudaTuning.chainMinCtas = cudaChainMinCtas;
  options.cudaTuning.chainRing = cudaChainRing;
  options.cudaTuning.gemmKernel = cudaGemmKernel;
  options.cudaTuning.gemmTma = cudaGemmTma;
  options.cudaTuning.gemmPingPong = cudaGemmPingPong;
  options.cudaTuning.cublasLt = cudaCublasLt;
  options.cudaTuning.tokenGemm = cudaTokenGemm;
  if (!cudaArchs.empty())
    options.cudaArchs.assign(cudaArchs.begin(), cudaArchs.end());
  options.targetOptions.cpu = cpuName;
  options.targetOptions.optLevel = optLevel;
  options.loopOptions.vectorize = !noVectorize;
  options.autotune = autotuneFlag;
  options.calibrationFile = calibrationFile;
  options.prune = pruneSpec;
  options.pruneExclude.assign(pruneExclude.begin(), pruneExclude.end());
  options.distill = distillFlag;
  options.distillEpochs = distillEpochs;
  options.distillTemperature = distillTemperature;
  options.distillLearningRate = distillLearningRate;
  options.exportPruned = exportPruned;
  options.autotuneCache = autotuneCache;
  return mlpc::compile(options);
}
