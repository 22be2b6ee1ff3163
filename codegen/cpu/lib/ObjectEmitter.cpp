//===- ObjectEmitter.cpp - LLVM dialect to object code --------------------===//
#include "mlp/Codegen/CPU/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlp::cpu;

static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const TargetOptions &target, std::string &error) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser(); // for the weight blob's asm
    return true;
  }();
  (void)initialized;
  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return nullptr;
  std::string cpu = target.cpu;
  std::string features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures()) {
      if (!features.empty())
        features += ",";
      features += (feature.second ? "+" : "-") + feature.first().str();
    }
  }
  llvm::TargetOptions options;
  auto level = target.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
               : target.optLevel == 0 ? llvm::CodeGenOptLevel::None
                                      : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    error = "cannot create a target machine for " + triple + " / " + cpu;
  return machine;
}

static uint64_t hostL2Bytes() {
  auto buffer = llvm::MemoryBuffer::getFile(
      "/sys/devices/system/cpu/cpu0/cache/index2/size", /*IsText=*/true);
  if (!buffer)
    return 1u << 20;
  llvm::StringRef text = (*buffer)->getBuffer().trim();
  uint64_t value = 0;
  if (text.consume_back("K") && !text.getAsInteger(10, value))
    return value * 1024;
  if (text.consume_back("M") && !text.getAsInteger(10, value))
    return value << 20;
  return 1u << 20;
}

CpuTarget mlp::cpu::describeTarget(const TargetOptions &target,
                                   std::string &error) {
  CpuTarget result;
  auto machine = createTargetMachine(target, error);
  if (!machine)
    return result;
  result.name = machine->getTargetCPU().str();
  const llvm::MCSubtargetInfo *info = machine->getMCSubtargetInfo();
  bool avx512 = info->checkFeatures("+avx512f");
  bool avx = info->checkFeatures("+avx");
  result.vectorWidth = avx512 ? 16 : avx ? 8 : 4;
  result.vectorRegisters = avx512 ? 32 : 16;
  result.l2Bytes = target.cpu == "native" ? hostL2Bytes() : (1u << 20);
  return result;
}

/// `symbol`(void **args, ...): calls the C interface of `function` with
/// args[i] as its i-th memref descriptor pointer; its trailing `extra`
/// integer arguments are the wrapper's own.
static bool addEntryWrapper(llvm::Module &module, const std::string &function,
                            const char *symbol, unsigned extra,
                            std::string &error) {
  llvm::Function *callee = module.getFunction("_mlir_ciface_" + function);
  if (!callee || callee->arg_size() < extra) {
    error = "generated code lacks _mlir_ciface_" + function;
    return false;
  }
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  std::vector<llvm::Type *> params = {ptrTy};
  for (unsigned i = callee->arg_size() - extra; i < callee->arg_size(); ++i)
    params.push_back(callee->getArg(i)->getType());
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params,
                                       /*isVarArg=*/false);
  auto *entry = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                       symbol, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  std::vector<llvm::Value *> args;
  for (unsigned i = 0; i < callee->arg_size() - extra; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptrTy, slot));
  }
  for (unsigned i = 0; i < extra; ++i)
    args.push_back(entry->getArg(1 + i));
  b.CreateCall(callee, args);
  b.CreateRetVoid();
  return true;
}

static void addMetadata(llvm::Module &module, const std::string &json) {
  llvm::Constant *text =
      llvm::ConstantDataArray::getString(module.getContext(), json, true);
  new llvm::GlobalVariable(module, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text,
                           "mlpc_model_metadata");
}

/// Embeds a file through the assembler's .incbin, so that its bytes never
/// pass through LLVM IR (weight blobs reach hundreds of megabytes). An empty
/// path embeds 64 zero bytes.
static void embedFile(llvm::Module &module, const std::string &symbol,
                      const std::string &path, uint64_t nbytes) {
  std::string body;
  if (path.empty())
    body = "  .zero 64\n";
  else
    body = "  .incbin \"" + llvm::Twine(path).str() + "\"\n";
  module.appendModuleInlineAsm(
      "  .section .rodata." + symbol + ",\"a\",@progbits\n"
      "  .p2align 6\n"
      "  .globl " + symbol + "\n"
      "  .hidden " + symbol + "\n"
      "  .type " + symbol + ",@object\n" +
      symbol + ":\n" + body + "  .size " + symbol + ", " +
      std::to_string(path.empty() ? 64 : nbytes) + "\n  .text\n");
}

static void addWeightBlob(llvm::Module &module, const std::string &path,
                          uint64_t nbytes) {
  embedFile(module, "mlpc_weights_blob", path, nbytes);
}

void mlp::cpu::addCudaFatbin(llvm::Module &module, const std::string &path,
                             uint64_t bytes) {
  embedFile(module, "mlpc_cuda_fatbin", path, bytes);
}

std::unique_ptr<llvm::Module> mlp::cpu::makeDataOnlyModule(
    llvm::LLVMContext &context, const ModelSignature &signature,
    const std::string &weightsBlobPath, const std::string &fatbinPath,
    uint64_t fatbinBytes, const TargetOptions &target, std::string &error) {
  auto module = std::make_unique<llvm::Module>(signature.name, context);
  auto machine = createTargetMachine(target, error);
  if (!machine)
    return nullptr;
  module->setDataLayout(machine->createDataLayout());
  module->setTargetTriple(machine->getTargetTriple().getTriple());
  addMetadata(*module, toMetadataJson(signature));
  addWeightBlob(*module, weightsBlobPath, signature.weightsBytes);
  if (!fatbinPath.empty())
    addCudaFatbin(*module, fatbinPath, fatbinBytes);
  for (llvm::GlobalValue &value : module->global_values())
    if (!value.isDeclaration())
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);
  return module;
}

std::unique_ptr<llvm::Module> mlp::cpu::translateToLLVMIR(
    mlir::ModuleOp module, llvm::LLVMContext &context,
    const ModelSignature &signature, const std::string &weightsBlobPath,
    const TargetOptions &target, std::string &error) {
  // The mlp.* argument attributes served the metadata; LLVM has no use
  // for them.
  module.walk([](mlir::FunctionOpInterface func) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      for (auto attr : llvm::to_vector(func.getArgAttrs(i)))
        if (attr.getName().getValue().starts_with("mlp."))
          func.removeArgAttr(i, attr.getName());
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      for (auto attr : llvm::to_vector(func.getResultAttrs(i)))
        if (attr.getName().getValue().starts_with("mlp."))
          func.removeResultAttr(i, attr.getName());
  });
  // Read before translation, which drops the module's discardable attrs.
  uint64_t scratchPerRow = 0;
  if (auto attr = module->getAttrOfType<mlir::IntegerAttr>(
          "mlp.column_scratch_bytes_per_row"))
    scratchPerRow = attr.getInt();
  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, signature.name);
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  auto machine = createTargetMachine(target, error);
  if (!machine)
    return nullptr;
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple().getTriple());

  if (!addEntryWrapper(*llvmModule, signature.name, "mlpc_model_entry", 0,
                       error))
    return nullptr;
  // The column-parallel entry for tiny batches (-mlp-cpu-column-entry):
  // mlpc_model_columns_entry(args, thread, threads), args ending in the
  // scratch descriptor.
  ModelSignature withColumns = signature;
  const std::string columns = signature.name + "_columns";
  if (llvmModule->getFunction("_mlir_ciface_" + columns)) {
    if (!scratchPerRow ||
        !addEntryWrapper(*llvmModule, columns, "mlpc_model_columns_entry", 2,
                         error))
      return nullptr;
    withColumns.columnScratchBytesPerRow = scratchPerRow;
  }
  // The model function takes every memref descriptor as separate scalars
  // (over 1,700 for a 30-block model); instruction selection of the one call
  // to it from its C interface wrapper is quadratic in that count (4 s for
  // gMLP-S). Inlined into the wrapper, the call disappears.
  for (const std::string &name : {signature.name, columns})
    if (llvm::Function *model = llvmModule->getFunction(name)) {
      model->setLinkage(llvm::GlobalValue::InternalLinkage);
      model->removeFnAttr(llvm::Attribute::NoInline);
      model->addFnAttr(llvm::Attribute::AlwaysInline);
    }
  addMetadata(*llvmModule, toMetadataJson(withColumns));
  addWeightBlob(*llvmModule, weightsBlobPath, signature.weightsBytes);
  // Only the runtime's C ABI is exported from the final library.
  // (Symbols of local linkage, the kernels, are not exported anyway and
  // must keep the default visibility.)
  for (llvm::GlobalValue &value : llvmModule->global_values())
    if (!value.isDeclaration() && !value.hasLocalLinkage())
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);
  {
    std::string message;
    llvm::raw_string_ostream os(message);
    if (llvm::verifyModule(*llvmModule, &os)) {
      error = "internal error: invalid LLVM IR: " + message;
      return nullptr;
    }
  }

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(machine.get());
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  auto level = target.optLevel >= 3   ? llvm::OptimizationLevel::O3
               : target.optLevel == 2 ? llvm::OptimizationLevel::O2
               : target.optLevel == 1 ? llvm::OptimizationLevel::O1
                                      : llvm::OptimizationLevel::O0;
  llvm::ModulePassManager passes =
      level == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(level)
          : builder.buildPerModuleDefaultPipeline(level);
  passes.run(*llvmModule, mam);
  return llvmModule;
}

bool mlp::cpu::emitCode(llvm::Module &module, llvm::raw_pwrite_stream &os,
                        CodeKind kind, const TargetOptions &target,
                        std::string &error) {
  auto machine = createTargetMachine(target, error);
  if (!machine)
    return false;
  llvm::legacy::PassManager passes;
  auto fileType = kind == CodeKind::Object ? llvm::CodeGenFileType::ObjectFile
                                           : llvm::CodeGenFileType::AssemblyFile;
  if (machine->addPassesToEmitFile(passes, os, nullptr, fileType)) {
    error = "the target cannot emit this file type";
    return false;
  }
  passes.run(module);
  return true;
}
