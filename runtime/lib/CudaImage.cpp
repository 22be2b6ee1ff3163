//===- CudaImage.cpp - weight images of the CUDA kernels ------------------===//
#include "CudaImage.h"

#include "HalfFloat.h"

#include "mlp/tensor_layout.h"

#include <cstring>

namespace mlp::rt {
namespace {

float readElement(const void *src, const std::string &dtype, int64_t i) {
  if (dtype == "float32") {
    float v;
    std::memcpy(&v, static_cast<const char *>(src) + 4 * i, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, static_cast<const char *>(src) + 2 * i, 2);
  return dtype == "float16" ? halfToFloat(h) : bfloat16ToFloat(h);
}

void writeElement(void *dst, const std::string &dtype, int64_t i, float v) {
  if (dtype == "float32") {
    std::memcpy(static_cast<char *>(dst) + 4 * i, &v, 4);
    return;
  }
  uint16_t h = dtype == "float16" ? floatToHalf(v) : floatToBfloat16(v);
  std::memcpy(static_cast<char *>(dst) + 2 * i, &h, 2);
}

} // namespace

void buildCudaImage(const ModelMetadata &meta, const CudaImage &image,
                    const std::vector<const void *> &params,
                    std::vector<unsigned char> &out) {
  out.assign(image.bytes, 0);
  std::vector<unsigned char> ordered;
  for (const CudaImagePiece &p : image.pieces) {
    const TensorSpec &spec = meta.params[p.param];
    const void *src = params[p.param];
    if (!spec.layout.empty()) {
      // Stored in the CPU kernels' layout: back to the checkpoint's.
      std::vector<int64_t> inverse(spec.layout.size());
      for (size_t i = 0; i < spec.layout.size(); ++i)
        inverse[spec.layout[i]] = static_cast<int64_t>(i);
      ordered.resize(spec.nbytes);
      permuteTensor(src, ordered.data(), spec.storedShape, inverse,
                    spec.dtype.bits / 8);
      src = ordered.data();
    }
    // A folded layer scale (1-D, checked by parseCudaPlan).
    auto scaleOf = [&](int param, int64_t i) {
      return param < 0
                 ? 1.0f
                 : readElement(params[param], meta.params[param].dtypeName, i);
    };
    void *dst = out.data() + p.offset;
    for (int64_t r = 0; r < p.rows; ++r) {
      const int64_t sr = CudaImagePiece::permute(p.rowPerm, r, p.paddedRows);
      const float rowScale = scaleOf(p.rowScale, sr);
      for (int64_t c = 0; c < p.cols; ++c) {
        const int64_t sc = CudaImagePiece::permute(p.colPerm, c, p.rowStride);
        const int64_t at = p.transposed ? sc * p.rows + sr : sr * p.cols + sc;
        writeElement(dst, p.dtype, p.index(r, c),
                     readElement(src, spec.dtypeName, at) * rowScale *
                         scaleOf(p.colScale, sc));
      }
    }
  }
}

} // namespace mlp::rt
