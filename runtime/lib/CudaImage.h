//===- CudaImage.h - weight images of the CUDA kernels ----------*- C++ -*-===//
//
// The bytes of one "cuda" image (CudaPlan.h), built on the host from the
// model's parameters before they are uploaded once: each piece converts a
// parameter to its dtype (f16/bf16 rounding to nearest even), zero pads it,
// lays it out (rows or 8 x 8 core matrices), permutes rows or columns into
// the chain kernels' fragment order, and folds layer scales in.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_CUDAIMAGE_H
#define MLP_RUNTIME_CUDAIMAGE_H

#include "Metadata.h"

#include <vector>

namespace mlp::rt {

/// Fills `out` (image.bytes bytes) from `params` (one pointer per metadata
/// param, in the stored layout); the plan was validated by parseCudaPlan.
void buildCudaImage(const ModelMetadata &meta, const CudaImage &image,
                    const std::vector<const void *> &params,
                    std::vector<unsigned char> &out);

} // namespace mlp::rt

#endif // MLP_RUNTIME_CUDAIMAGE_H
