//===- Passes.td - CPU lowering passes ---------------------*- tablegen -*-===//
#ifndef MLP_CODEGEN_CPU_PASSES_TD
#define MLP_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def MLPParamsToArguments : Pass<"mlp-params-to-arguments", "mlir::ModuleOp"> {
  let summary = "Turn mlp.param ops into function arguments";
  let description = [{
    Kernels receive weights as arguments, so the runtime can hand them
    pointers into the embedded or memory-mapped weight store. Every distinct
    `mlp.param` of a model function becomes a new argument appended after the
    inputs, carrying `mlp.param = "<name>"`; the function records the order
    in `mlp.params` and is marked `llvm.emit_c_interface`, so that the
    generated entry point can call it with memref descriptors. Every
    argument is marked `bufferization.writable = false`: inputs belong to
    the caller and weights may be read-only. When the batch is the leading
    dimension of every input and output and no transpose moves it, the
    function is marked `mlp.rows_independent`: the runtime may then split a
    batch into row blocks.
  }];
}

def ConvertMLPToLinalg : Pass<"convert-mlp-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower mlp ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Linear layers become `linalg.matmul` of a 2-D view (leading dimensions
    collapsed) and the transposed weight, accumulating into the broadcast
    bias; elementwise
    ops and normalizations become `linalg.generic`. Only f32 is supported; any
    other element type is reported at the op's location. A result that is a
    function argument unchanged is returned as a copy
    (`bufferization.alloc_tensor ... copy(...)`), so that it is
    written into the caller's output buffer.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect"
  ];
}

def MLPPackWeights : Pass<"mlp-cpu-pack-weights", "mlir::ModuleOp"> {
  let summary = "Store weights in the layout the kernels read";
  let description = [{
    A weight argument whose every use is the same `linalg.transpose` is
    stored transposed instead: the argument takes the transposed type and
    records the permutation as `mlp.layout`, and the transposes disappear.
    The weight store (the embedded blob, or the runtime when it reads a
    .safetensors file) lays the data out accordingly, once, before any run.
  }];
}

def MLPTile : Pass<"mlp-tile", "mlir::ModuleOp"> {
  let summary = "Choose tile sizes for the target from a cost model";
  let description = [{
    Records the tiling decisions as attributes, which `mlpc --emit=linalg`
    shows and the later passes and the runtime follow:

    - every `linalg.matmul` gets `mlp.tile = {register = [rows, cols, 1],
      source = "cost-model" | "autotune"}`: the register tile, ranked by a
      model of the FMA and load ports, the register file and where B comes
      from (L1 or L2), or the measured winner from the autotune cache;
    - the model function gets `mlp.scratch_bytes_per_row` (the bytes of
      intermediate tensors per batch row) and, when its rows are
      independent, `mlp.rows_per_block`: the runtime's row block, sized so
      that a block's intermediates stay in L2 (a whole narrow MLP chain then
      runs in cache, layer after layer, for one block of rows).
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"generic\"",
           "CPU name (part of the autotune cache keys)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of one vector register (16 for AVX-512, 8 for AVX2)">,
    Option<"vectorRegisters", "vector-registers", "int64_t", /*default=*/"32",
           "architectural vector registers (32 for AVX-512, 16 for AVX2)">,
    Option<"l2Bytes", "l2-bytes", "int64_t", /*default=*/"1048576",
           "per-core L2 cache size in bytes">,
    Option<"cachePath", "cache", "std::string", /*default=*/"",
           "autotune cache (JSON) whose measured winners override the model">
  ];
}

def MLPFuseElementwise : Pass<"mlp-cpu-fuse-elementwise"> {
  let summary = "Fuse elementwise linalg producers into their consumers";
  let description = [{
    `-linalg-fuse-elementwise-ops` (elementwise producers with one use fused
    into their consumers, reshapes folded by expansion, constants folded),
    only where the consumer reads the producer through a permutation of its
    loops, once per element. Through a map that skips loops (a contraction
    reading its input), the fused producer would be recomputed once per
    skipped iteration, and one that updates its destination in place (an
    epilogue) would apply the update that many times: wrong numbers.

    ```mlir
    // Not fused: %act updates %h in place, and the contraction reads it as
    // x[b, k, c] while looping over i as well.
    %act = linalg.generic {...} outs(%h : tensor<?x24x32xf32>) {gelu}
    %y = linalg.generic {mlp.token_matmul} ins(%w, %act : ...) outs(...)
    ```
  }];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def MLPOutlineKernels : Pass<"mlp-cpu-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Outline each kernel into a function, one per distinct structure";
  let description = [{
    Every linalg op on tensors, together with the `linalg.fill` or
    `linalg.broadcast` that initializes its destination (when used only
    there), moves into a private function marked `mlp.kernel`, and the op
    becomes a `func.call`. The kernel takes the values it reads and its
    destination tensor as arguments and returns the result in that
    destination (destination-passing style), so one-shot bufferization
    writes it in place into the caller's buffer; scalar constants are cloned
    into the kernel. Kernels whose structure is identical (ops, attributes
    such as `mlp.tile`, operand types including static sizes, bodies) are one
    function: the blocks of a `repeat` then share their kernels, which are
    tiled, vectorized and compiled by LLVM once, whatever the depth. Kernels
    called more than once are marked `no_inline`, so that LLVM keeps them
    shared; kernels called once may still be inlined. Slices and reshapes
    of a kernel's inputs are cloned into it with their sources, so that every
    argument bufferizes to a whole, identity-layout buffer. Ops nested in
    regions and ops whose destination is a slice of a larger tensor stay in
    place.

    ```mlir
    func.func private @model_kernel0_matmul(%a: tensor<?x64xf32>,
        %w: tensor<64x64xf32>, %init: tensor<?x64xf32>) -> tensor<?x64xf32>
        attributes {mlp.kernel, no_inline} {
      %zero = arith.constant 0.0 : f32
      %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<?x64xf32>) -> tensor<?x64xf32>
      %r = linalg.matmul ins(%a, %w : ...) outs(%acc : tensor<?x64xf32>) -> tensor<?x64xf32>
      return %r : tensor<?x64xf32>
    }
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::LLVM::LLVMDialect"];
}

def MLPTileAndVectorize : Pass<"mlp-cpu-tile-and-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile linalg ops into register blocks and vectorize them";
  let description = [{
    Tiles every linalg op on tensors into register-sized blocks: matmuls into
    the register tile that `-mlp-tile` recorded (default `row-tile` x
    (2 x `vector-width`) x 1), whose accumulators stay in vector registers
    across the reduction; elementwise ops, broadcasts and
    reductions into rows of `vector-width` lanes. Loops whose trip count is
    not a multiple of the tile are peeled, so the main loops hold static
    tiles that vectorize without masks; the remainder rows of a batch that
    is not a multiple of `row-tile` go through an `scf.index_switch` on
    their count with one static tile per count (1 .. row-tile - 1), so the
    weights are read once. Every row goes through the same FMAs in the
    same order: results are bit-identical whatever the batch size. Ops that
    the vectorizer does not support stay scalar.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of one vector register (16 for AVX-512, 8 for AVX2)">,
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"8",
           "rows of a matmul register tile">
  ];
  let dependentDialects = [
    "mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
    "mlir::scf::SCFDialect", "mlir::tensor::TensorDialect",
    "mlir::vector::VectorDialect"
  ];
}

def MLPSplitColumns : Pass<"mlp-cpu-split-columns", "mlir::ModuleOp"> {
  let summary = "Add a column-chunk variant to kernels for small-batch threading";
  let description = [{
    For tiny batches there are fewer row blocks than threads, so the runtime
    splits each layer's output columns across threads instead. For every
    outlined kernel (`mlp.kernel`) whose ops all write the same
    `tensor<?xN>` destination (fill or broadcast, matmul, epilogue), with N
    a multiple of `chunk` and at least two chunks, this pass adds
    `<kernel>_columns(args..., %col: index)`: the same ops on the columns
    `[%col, %col + chunk)` of every operand indexed by the output columns
    (extract_slice of the weights, bias and destination), inserted back into
    the destination. The chunk is static, so the variant is register-tiled
    and vectorized like the kernel; each output element still sums over k in
    the same order with the same FMAs, so results are bit-identical. The
    kernel records its variant in `mlp.column_kernel` and the chunk width in
    `mlp.column_chunk`.
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"128",
           "output columns per chunk (a multiple of the vector width)">
  ];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def MLPColumnEntry : Pass<"mlp-cpu-column-entry", "mlir::ModuleOp"> {
  let summary = "Add the SPMD entry that runs a tiny batch column-parallel";
  let description = [{
    After bufferization: clones the row-independent model function `@m` into
    `@m_columns(args..., %scratch: memref<?xi8>, %thread: index,
    %threads: index)`, which every thread of the runtime's team runs at once.
    Buffers the model allocates become views into `%scratch` (shared by the
    team; `mlp.column_scratch_bytes_per_row` on the module gives its size per
    batch row). A call of a kernel with a column variant runs this thread's
    share of the chunks; any other op that writes memory runs on thread 0.
    A call to `mlpc_column_barrier` (in the runtime) separates a step from
    the next one that may read it. Models whose body holds anything else
    (nested regions, allocations not sized by the batch) get no such entry.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect"];
}

def MLPLowerVectors : Pass<"mlp-cpu-lower-vectors", "mlir::func::FuncOp"> {
  let summary = "Lower vector contractions to FMAs on 1-D vectors";
  let description = [{
    After bufferization: contractions become outer products (broadcast +
    FMA), multi-reductions are lowered inner-parallel, transfers and shape
    casts become 1-D loads and stores. Applied in three separate rounds,
    because mixing broadcast lowering with canonicalization never converges.
  }];
  let dependentDialects = ["mlir::vector::VectorDialect", "mlir::scf::SCFDialect"];
}

#endif // MLP_CODEGEN_CPU_PASSES_TD
