//===- CompilerStages.cpp - the stages mlpc runs, in order ----------------===//
#include "CompilerStages.h"
#include "Autotune.h"
#include "ExportModel.h"

#include "mlp/Codegen/CPU/DialectRegistration.h"
#include "mlp/Codegen/CPU/ModelSignature.h"
#include "mlp/Codegen/CPU/Passes.h"
#include "mlp/Codegen/CUDA/Program.h"
#include "mlp/Frontend/MLIRGen.h"
#include "mlp/Frontend/Parser.h"
#include "mlp/Passes/Passes.h"
#include "mlp/IR/MLPOps.h"
#include "mlp/Passes/WeightStore.h"
#include "mlp/safetensors.h"
#include "mlp/tensor_layout.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>

using namespace mlpc;
using llvm::errs;

namespace {

struct StageInfo {
  const char *name;
  const char *extension;
};

StageInfo info(Stage stage) {
  switch (stage) {
  case Stage::AST:
    return {"ast", "txt"};
  case Stage::MLP:
    return {"mlp", "mlir"};
  case Stage::MLPOpt:
    return {"mlp-opt", "mlir"};
  case Stage::Linalg:
    return {"linalg", "mlir"};
  case Stage::Loops:
    return {"loops", "mlir"};
  case Stage::LLVMDialect:
    return {"llvm", "mlir"};
  case Stage::LLVMIR:
    return {"llvm-ir", "ll"};
  case Stage::Assembly:
    return {"asm", "s"};
  case Stage::Object:
    return {"obj", "o"};
  case Stage::SharedLib:
    return {"so", "so"};
  case Stage::Cuda:
    return {"cuda", "cu"};
  }
  return {"?", "txt"};
}

int fail(const llvm::Twine &message) {
  errs() << "mlpc: error: " << message << "\n";
  return 1;
}

/// Removes the scratch directory (weight blob, object file) on every exit.
struct ScratchDir {
  llvm::SmallString<128> path;
  ~ScratchDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

class Compiler {
public:
  explicit Compiler(const Options &options) : options(options) {}
  int run();

private:
  /// Writes a text stage to the dump directory and, if it is the requested
  /// stage, to the output. Returns true when the pipeline should stop.
  bool writeStage(Stage stage, const std::function<void(llvm::raw_ostream &)>
                                   &print);
  bool runPasses(Stage stage,
                 const std::function<void(mlir::OpPassManager &)> &build);
  std::string defaultOutput(Stage stage) const;
  bool writeWeightBlob(const std::string &path, std::string &error);
  std::string runtimeArchive() const;
  std::string runtimeExports() const;

  const Options &options;
  llvm::SourceMgr sourceMgr;
  bool addPruningPasses(mlir::OpPassManager &pm);
  bool exportPrunedModel();
  mlir::func::FuncOp modelFunction();
  /// -1 to go on, else the exit code.
  int buildCudaProgram();
  bool compileCuda(const std::string &workDir, std::string &error);
  int emitCudaOnlyLibrary();
  int emitLibrary(llvm::Module &module, const std::string &dir);

  bool wantCpu = true, wantCuda = false;
  std::optional<mlp::cuda::Program> cudaProgram;
  std::string fatbinPath;
  uint64_t fatbinBytes = 0;

  std::unique_ptr<mlp::WeightStore> weights;
  std::vector<std::string> layerWidths; // storage of the prune options
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlp::cpu::ModelSignature signature;
  bool failed = false;
};

std::string Compiler::defaultOutput(Stage stage) const {
  if (!options.outputFile.empty())
    return options.outputFile;
  if (stage == Stage::SharedLib)
    return "lib" + signature.name + ".so";
  if (stage == Stage::Object)
    return signature.name + ".o";
  return "-";
}

bool Compiler::writeStage(
    Stage stage, const std::function<void(llvm::raw_ostream &)> &print) {
  if (!options.dumpStagesDir.empty()) {
    // The CUDA source branches off after mlp-opt (stage 2).
    int index = stage == Stage::Cuda ? 2 : static_cast<int>(stage);
    std::string file = (llvm::Twine(options.dumpStagesDir) + "/" +
                        llvm::Twine(index) + "-" +
                        info(stage).name + "." + info(stage).extension)
                           .str();
    if (llvm::Error e = llvm::writeToOutput(file, [&](llvm::raw_ostream &os) {
          print(os);
          return llvm::Error::success();
        })) {
      fail("cannot write " + file + ": " + llvm::toString(std::move(e)));
      failed = true;
      return true;
    }
  }
  if (stage != options.emit)
    return false;
  std::string output = defaultOutput(stage);
  if (llvm::Error e = llvm::writeToOutput(output, [&](llvm::raw_ostream &os) {
        print(os);
        return llvm::Error::success();
      })) {
    fail("cannot write " + output + ": " + llvm::toString(std::move(e)));
    failed = true;
  }
  return true;
}

bool Compiler::runPasses(
    Stage stage, const std::function<void(mlir::OpPassManager &)> &build) {
  mlir::PassManager pm(context.get());
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm))) {
    failed = true;
    return true;
  }
  build(pm);
  if (mlir::failed(pm.run(*module))) {
    failed = true;
    return true;
  }
  return writeStage(stage, [&](llvm::raw_ostream &os) { module->print(os); });
}

std::string Compiler::runtimeArchive() const {
  if (auto fromEnv = llvm::sys::Process::GetEnv("MLPC_RUNTIME_ARCHIVE"))
    return *fromEnv;
  if (llvm::sys::fs::exists(MLPC_RUNTIME_ARCHIVE))
    return MLPC_RUNTIME_ARCHIVE;
  // An installed layout: <prefix>/bin/mlpc next to <prefix>/lib/.
  std::string self =
      llvm::sys::fs::getMainExecutable(nullptr, (void *)&fail);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(self)));
  llvm::sys::path::append(path, "lib", "libmlp_runtime.a");
  return std::string(path);
}

std::string Compiler::runtimeExports() const {
  if (auto fromEnv = llvm::sys::Process::GetEnv("MLPC_RUNTIME_EXPORTS"))
    return *fromEnv;
  if (llvm::sys::fs::exists(MLPC_RUNTIME_EXPORTS))
    return MLPC_RUNTIME_EXPORTS;
  std::string self =
      llvm::sys::fs::getMainExecutable(nullptr, (void *)&fail);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(self)));
  llvm::sys::path::append(path, "lib", "mlp_runtime.exports");
  return std::string(path);
}

bool Compiler::writeWeightBlob(const std::string &path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  uint64_t written = 0;
  for (const mlp::cpu::TensorSignature &param : signature.params) {
    const mlp::TensorView *tensor = weights->find(param.name);
    if (!tensor || tensor->nbytes != param.nbytes) {
      error = "weight '" + param.name + "' is missing or has the wrong size";
      return false;
    }
    os.write_zeros(param.offset - written);
    if (param.layout.empty()) {
      os.write(reinterpret_cast<const char *>(tensor->data), tensor->nbytes);
    } else {
      std::vector<char> packed(tensor->nbytes);
      mlp::permuteTensor(tensor->data, packed.data(), tensor->shape,
                         param.layout, mlp::dtypeSize(tensor->dtype));
      os.write(packed.data(), packed.size());
    }
    written = param.offset + tensor->nbytes;
  }
  os.close();
  if (os.has_error()) {
    error = "cannot write " + path + ": " + os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

bool Compiler::addPruningPasses(mlir::OpPassManager &pm) {
  if (options.prune.empty() && !options.distill)
    return true;
  mlp::MLPPruneOptions prune;
  prune.calibrationPath = options.calibrationFile;
  prune.exclude = options.pruneExclude;
  prune.keepTeacher = options.distill;
  llvm::StringRef spec = options.prune;
  if (spec.empty() && options.distill) {
    fail("--distill needs --prune=width:...");
    return false;
  }
  auto [kind, amount] = spec.split(':');
  double value = 0;
  if (kind == "2:4" || spec == "2:4") {
    prune.mode = "2:4";
  } else if (kind == "width" && amount.contains('=')) {
    // Per-layer targets: width:fc1=64,fc2=32 (unnamed layers keep all).
    prune.mode = "width";
    prune.ratio = 1.0;
    llvm::SmallVector<llvm::StringRef> entries;
    amount.split(entries, ',');
    for (llvm::StringRef entry : entries)
      layerWidths.push_back(entry.str());
    prune.layerWidths = layerWidths;
  } else if ((kind == "width" || kind == "magnitude") &&
             !amount.getAsDouble(value)) {
    prune.mode = kind.str();
    if (kind == "width" && value > 1.0 && value == std::floor(value))
      prune.width = static_cast<int64_t>(value);
    else
      prune.ratio = value;
  } else {
    fail("--prune=" + spec +
         ": expected width:RATIO, width:NEURONS, width:LAYER=NEURONS,..., "
         "2:4 or magnitude:RATIO");
    return false;
  }
  if (options.distill && prune.mode != "width") {
    fail("--distill refits width-pruned layers; use --prune=width:...");
    return false;
  }
  pm.addPass(mlp::createMLPPrune(prune, *weights));
  if (options.distill) {
    mlp::MLPDistillOptions distill;
    distill.calibrationPath = options.calibrationFile;
    distill.epochs = options.distillEpochs;
    distill.temperature = options.distillTemperature;
    distill.learningRate = options.distillLearningRate;
    pm.addPass(mlp::createMLPDistill(distill, *weights));
  }
  return true;
}

bool Compiler::exportPrunedModel() {
  mlir::func::FuncOp model;
  std::vector<std::string> params;
  for (auto func : module->getOps<mlir::func::FuncOp>())
    if (func->hasAttr("mlp.model"))
      model = func;
  if (!model) {
    fail("no model to export");
    return false;
  }
  model.walk([&](mlp::ParamOp p) {
    if (std::find(params.begin(), params.end(), p.getName().str()) ==
        params.end())
      params.push_back(p.getName().str());
  });
  std::string text;
  llvm::raw_string_ostream os(text);
  if (mlir::failed(mlpc::exportModel(model, os)))
    return false;
  std::string error;
  if (!weights) {
    fail("--export-pruned needs --weights");
    return false;
  }
  if (!weights->write(options.exportPruned + ".safetensors", params, error)) {
    fail(error);
    return false;
  }
  std::string mlpPath = options.exportPruned + ".mlp";
  if (llvm::Error e = llvm::writeToOutput(mlpPath, [&](llvm::raw_ostream &out) {
        out << text;
        return llvm::Error::success();
      })) {
    fail("cannot write " + mlpPath + ": " + llvm::toString(std::move(e)));
    return false;
  }
  return true;
}

int Compiler::run() {
  llvm::SmallVector<llvm::StringRef> targets;
  llvm::StringRef(options.target).split(targets, ',');
  wantCpu = wantCuda = false;
  for (llvm::StringRef t : targets) {
    if (t == "cpu")
      wantCpu = true;
    else if (t == "cuda")
      wantCuda = true;
    else
      return fail("unsupported --target=" + options.target +
                  " (expected cpu, cuda or cpu,cuda)");
  }
  if (options.emit == Stage::Cuda && !wantCuda)
    return fail("--emit=cuda needs --target=cuda (or cpu,cuda)");
  if (!wantCpu && options.emit >= Stage::Linalg &&
      options.emit <= Stage::Assembly)
    return fail("--emit=" + std::string(info(options.emit).name) +
                " is a stage of the CPU backend; use --target=cpu or cpu,cuda");
  mlp::cuda::Precision precision;
  if (!options.precision.empty() &&
      !mlp::cuda::parsePrecision(options.precision, precision))
    return fail("--precision=" + options.precision +
                ": expected f32, f16 or bf16");
  if (!wantCuda && !options.precision.empty() && options.precision != "f32")
    return fail("--precision=" + options.precision +
                " applies to the CUDA target; the CPU backend computes in "
                "the model's types");
  bool wantsLibrary =
      options.emit == Stage::SharedLib || options.emit == Stage::Object;
  if (wantsLibrary && options.embedWeights && options.weightsFile.empty())
    return fail("--emit=" + std::string(info(options.emit).name) +
                " needs --weights FILE.safetensors (or --no-embed-weights)");
  if (!options.dumpStagesDir.empty())
    if (std::error_code ec =
            llvm::sys::fs::create_directories(options.dumpStagesDir))
      return fail("cannot create " + options.dumpStagesDir + ": " +
                  ec.message());

  // Source and syntax.
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(options.inputFile);
  if (!buffer)
    return fail("cannot read '" + options.inputFile +
                "': " + buffer.getError().message());
  unsigned bufferId =
      sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  auto ast = mlp::frontend::parseModule(sourceMgr, bufferId);
  if (!ast)
    return 1;
  if (writeStage(Stage::AST, [&](llvm::raw_ostream &os) {
        mlp::frontend::printAST(*ast, os);
      }))
    return failed;

  // The mlp dialect, checked against the weights.
  mlir::DialectRegistry registry;
  mlp::cpu::registerCodegenDialects(registry);
  context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, context.get());
  module = mlp::frontend::emitMLIR(*context, *ast);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 1;
  if (!options.weightsFile.empty()) {
    std::string error;
    weights = mlp::WeightStore::open(options.weightsFile, error);
    if (!weights)
      return fail(error);
    mlir::PassManager check(context.get());
    check.addPass(mlp::createMLPCheckWeights(*weights));
    if (mlir::failed(check.run(*module)))
      return 1;
  }
  if (writeStage(Stage::MLP,
                 [&](llvm::raw_ostream &os) { module->print(os); }))
    return failed;

  // Lowering, one stage at a time.
  bool pruning = !options.prune.empty() || options.distill;
  if (pruning && !weights)
    return fail("--prune and --distill need --weights FILE.safetensors");
  bool pruneOk = true;
  bool stop = runPasses(Stage::MLPOpt, [&](mlir::OpPassManager &pm) {
    mlp::addOptimizationPasses(pm);
    pruneOk = addPruningPasses(pm);
    // The CUDA backend forms its own kernel groups from plain mlp IR, and
    // --export-pruned writes plain mlp IR back as .mlp.
    if (!wantCuda && options.exportPruned.empty())
      mlp::addFusionPasses(pm);
  });
  if (failed || !pruneOk)
    return 1;
  if (!options.exportPruned.empty() && !exportPrunedModel())
    return 1;
  if (stop)
    return 0;
  if (wantCuda) {
    int code = buildCudaProgram();
    if (code >= 0)
      return code;
  }
  if (!wantCpu)
    return emitCudaOnlyLibrary();
  std::string targetError;
  mlp::cpu::CpuTarget target =
      mlp::cpu::describeTarget(options.targetOptions, targetError);
  if (!targetError.empty())
    return fail(targetError);
  if (options.autotune) {
    // Measure on a copy lowered to linalg, then lower the real module with
    // the winners in the cache.
    mlir::OwningOpRef<mlir::ModuleOp> copy(module->clone());
    mlir::PassManager pm(context.get());
    mlp::cpu::addLowerToLinalgPasses(pm, target, options.autotuneCache);
    std::string error;
    if (options.autotuneCache.empty())
      return fail("--autotune needs a cache file (--autotune-cache=FILE)");
    if (mlir::failed(pm.run(*copy)) ||
        !autotune(*copy, target, options, options.autotuneCache, error))
      return fail("autotuning failed: " + error);
  }
  if (runPasses(Stage::Linalg, [&](mlir::OpPassManager &pm) {
        mlp::cpu::addLowerToLinalgPasses(pm, target, options.autotuneCache);
      }))
    return failed;
  auto extracted = mlp::cpu::extractSignature(*module);
  if (mlir::failed(extracted))
    return 1;
  signature = *extracted;
  signature.weightsEmbedded = options.embedWeights && weights;
  if (runPasses(Stage::Loops, [&](mlir::OpPassManager &pm) {
        mlp::cpu::LoopOptions loops = options.loopOptions;
        loops.vectorWidth = target.vectorWidth;
        mlp::cpu::addLowerToLoopsPasses(pm, loops);
      }))
    return failed;
  if (runPasses(Stage::LLVMDialect, mlp::cpu::addLowerToLLVMPasses))
    return failed;

  // LLVM IR and machine code.
  ScratchDir scratch;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("mlpc", scratch.path))
    return fail("cannot create a temporary directory: " + ec.message());
  std::string blobPath;
  std::string error;
  if (signature.weightsEmbedded && wantsLibrary) {
    blobPath = (scratch.path + "/weights.bin").str();
    if (!writeWeightBlob(blobPath, error))
      return fail(error);
  }
  if (wantCuda && wantsLibrary && !compileCuda(scratch.path.str().str(), error))
    return fail(error);
  llvm::LLVMContext llvmContext;
  auto llvmModule =
      mlp::cpu::translateToLLVMIR(*module, llvmContext, signature, blobPath,
                                  options.targetOptions, error);
  if (!llvmModule)
    return fail(error);
  if (!fatbinPath.empty())
    mlp::cpu::addCudaFatbin(*llvmModule, fatbinPath, fatbinBytes);
  if (writeStage(Stage::LLVMIR,
                 [&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); }))
    return failed;
  if (options.emit == Stage::Assembly || !options.dumpStagesDir.empty()) {
    llvm::SmallString<0> text;
    llvm::raw_svector_ostream os(text);
    auto copy = llvm::CloneModule(*llvmModule);
    if (!mlp::cpu::emitCode(*copy, os, mlp::cpu::CodeKind::Assembly,
                            options.targetOptions, error))
      return fail(error);
    if (writeStage(Stage::Assembly,
                   [&](llvm::raw_ostream &out) { out << text; }))
      return failed;
  }

  return emitLibrary(*llvmModule, scratch.path.str().str());
}

int Compiler::emitLibrary(llvm::Module &llvmModule, const std::string &dir) {
  std::string error;
  std::string objectPath = dir + "/model.o";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec);
    if (ec)
      return fail("cannot write " + objectPath + ": " + ec.message());
    if (!mlp::cpu::emitCode(llvmModule, os, mlp::cpu::CodeKind::Object,
                            options.targetOptions, error))
      return fail(error);
  }
  if (options.emit == Stage::Object) {
    std::string output = defaultOutput(Stage::Object);
    if (std::error_code ec = llvm::sys::fs::copy_file(objectPath, output))
      return fail("cannot write " + output + ": " + ec.message());
    return 0;
  }
  std::string output = defaultOutput(Stage::SharedLib);
  if (!mlp::cpu::linkSharedLibrary({objectPath}, runtimeArchive(),
                                   runtimeExports(), output, error))
    return fail(error);
  return 0;
}

mlir::func::FuncOp Compiler::modelFunction() {
  for (auto func : module->getOps<mlir::func::FuncOp>())
    if (func->hasAttr("mlp.model"))
      return func;
  return nullptr;
}

int Compiler::buildCudaProgram() {
  mlir::func::FuncOp model = modelFunction();
  if (!model)
    return fail("no model function");
  mlp::cuda::Precision precision = mlp::cuda::Precision::F32;
  if (!options.precision.empty()) {
    mlp::cuda::parsePrecision(options.precision, precision);
  } else if (model.getNumArguments() > 0) {
    // Without --precision, the inputs' element type decides.
    auto type = llvm::dyn_cast<mlir::RankedTensorType>(
        model.getArgument(0).getType());
    if (type && type.getElementType().isF16())
      precision = mlp::cuda::Precision::F16;
    else if (type && type.getElementType().isBF16())
      precision = mlp::cuda::Precision::BF16;
  }
  auto program =
      mlp::cuda::buildProgram(model, precision, options.cudaTuning);
  if (mlir::failed(program))
    return 1;
  cudaProgram = std::move(*program);
  if (writeStage(Stage::Cuda, [&](llvm::raw_ostream &os) {
        os << cudaProgram->source;
      }))
    return failed;
  return -1;
}

bool Compiler::compileCuda(const std::string &workDir, std::string &error) {
  if (!mlp::cuda::compileFatbin(cudaProgram->source, workDir,
                                options.cudaArchs, fatbinPath, error))
    return false;
  if (std::error_code ec = llvm::sys::fs::file_size(fatbinPath, fatbinBytes)) {
    error = "cannot read " + fatbinPath + ": " + ec.message();
    return false;
  }
  std::map<std::string, int> paramIndex;
  for (auto [i, p] : llvm::enumerate(signature.params))
    paramIndex[p.name] = static_cast<int>(i);
  signature.cudaSection =
      mlp::cuda::toJson(*cudaProgram, paramIndex, fatbinBytes);
  return true;
}

int Compiler::emitCudaOnlyLibrary() {
  bool wantsLibrary =
      options.emit == Stage::SharedLib || options.emit == Stage::Object;
  if (!wantsLibrary)
    return 0;
  // The signature in the checkpoint's layout: the CUDA runtime builds its
  // own weight images from the parameters.
  mlir::PassManager pm(context.get());
  pm.addPass(mlp::createMLPParamsToArguments());
  if (mlir::failed(pm.run(*module)))
    return 1;
  auto extracted = mlp::cpu::extractSignature(*module);
  if (mlir::failed(extracted))
    return 1;
  signature = *extracted;
  signature.weightsEmbedded = options.embedWeights && weights;
  signature.hasCpuCode = false;
  signature.rowsIndependent = false;
  ScratchDir scratch;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("mlpc", scratch.path))
    return fail("cannot create a temporary directory: " + ec.message());
  std::string error, blobPath;
  if (signature.weightsEmbedded) {
    blobPath = (scratch.path + "/weights.bin").str();
    if (!writeWeightBlob(blobPath, error))
      return fail(error);
  }
  if (!compileCuda(scratch.path.str().str(), error))
    return fail(error);
  llvm::LLVMContext llvmContext;
  auto llvmModule = mlp::cpu::makeDataOnlyModule(
      llvmContext, signature, blobPath, fatbinPath, fatbinBytes,
      options.targetOptions, error);
  if (!llvmModule)
    return fail(error);
  return emitLibrary(*llvmModule, scratch.path.str().str());
}

} // namespace

int mlpc::compile(const Options &options) { return Compiler(options).run(); }
