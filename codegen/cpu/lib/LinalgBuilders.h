//===- LinalgBuilders.h - building blocks of the mlp lowering ---*- C++ -*-===//
//
// Private to codegen/cpu/lib: helpers that ConvertMLPToLinalg.cpp defines and
// the lowering patterns of the model-zoo ops (Lower*Ops.cpp) share, and the
// populate functions those files export to the -convert-mlp-to-linalg pass.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_CODEGEN_CPU_LIB_LINALGBUILDERS_H
#define MLP_CODEGEN_CPU_LIB_LINALGBUILDERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlp::cpu {

/// tensor.empty of `type`, taking dynamic sizes from `source` at the positions
/// given by `sourceDims` (sourceDims[i] is the source dim of result dim i, or
/// -1 where the result dim is static).
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type, mlir::Value source,
                        llvm::ArrayRef<int64_t> sourceDims);
/// tensor.empty of `type` whose dim i has the size of `source`'s dim i.
mlir::Value emptyLike(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::RankedTensorType type, mlir::Value source);
mlir::Value constantF32(mlir::OpBuilder &b, mlir::Location loc, double value);
llvm::SmallVector<mlir::utils::IteratorType> parallel(int64_t rank);
/// Appends the optional affine weight and bias of a normalization (each
/// read through `map`) to the operands of an elementwise generic.
void appendAffineOperands(llvm::SmallVectorImpl<mlir::Value> &inputs,
                          llvm::SmallVectorImpl<mlir::AffineMap> &maps,
                          mlir::Value weight, mlir::Value bias,
                          mlir::AffineMap map);
/// An elementwise linalg.generic over `inputs` read through `inputMaps`,
/// writing `init`, whose body yields `body(args)`.
mlir::Value
elementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
            mlir::ValueRange inputs, llvm::ArrayRef<mlir::AffineMap> inputMaps,
            llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::ValueRange)>
                body,
            mlir::Value init);
/// `value` reshaped (row-major) to `type`, whose dims are `sizes`, with
/// tensor.reshape: unlike collapse_shape / expand_shape, elementwise fusion
/// does not fold it into a neighbouring linalg.matmul (which would become a
/// linalg.generic contraction that the CPU tiler does not register-tile).
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                      mlir::RankedTensorType type,
                      llvm::ArrayRef<mlir::OpFoldResult> sizes);
/// Sums `input` (or, when `center` holds the sums, (x - center / count)^2)
/// over `axis`, producing a tensor without that axis.
mlir::Value sumOverAxis(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value input, int64_t axis, mlir::Value center,
                        int64_t count);
/// Reassociation that folds all leading dims into one: [[0..r-2], [r-1]].
llvm::SmallVector<mlir::ReassociationIndices> collapseLeading(int64_t rank);
/// `input` (..., in) times the (in, out) matrix that `weight()` builds (when
/// the matmul is created) plus the optional `bias` (out), as one
/// linalg.matmul over the leading dims collapsed into rows, accumulating into
/// the broadcast bias; the result has `resultType`.
/// `epilogue`, if given, maps the 2-D (rows, out) product to the value that
/// is reshaped back (see lowerFusedGroups).
mlir::Value buildRowMatmul(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
    llvm::function_ref<mlir::Value()> weight, mlir::Value bias,
    mlir::RankedTensorType resultType,
    llvm::function_ref<mlir::Value(mlir::Value)> epilogue = nullptr);
/// The scalar body of the elementwise mlp op `op` (an activation, or add /
/// sub / mul / div) applied to `x`, with `other` the second operand of a
/// binary op; `xIsLhs` says on which side `x` stands.
mlir::Value applyElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Operation *op, mlir::Value x,
                             mlir::Value other, bool xIsLhs);
/// Lowers every mlp.fused group of `module` to linalg on tensors (the ops
/// outside the groups are left to the conversion patterns).
mlir::LogicalResult lowerFusedGroups(mlir::ModuleOp module);

// Lowering patterns of the model-zoo ops, one file per kind of op.
void populateLowerBasisOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerElementwiseOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerEmbeddingOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerNormalizationOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerReductionOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerLinearAlgebraOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerShapeOpsPatterns(mlir::RewritePatternSet &patterns);
void populateLowerSpatialOpsPatterns(mlir::RewritePatternSet &patterns);

} // namespace mlp::cpu

#endif // MLP_CODEGEN_CPU_LIB_LINALGBUILDERS_H
