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
  std::vector<unsigned char> ordered, orderedMatrix, orderedVector;
  // A param in the checkpoint's layout (those stored in the CPU kernels'
  // layout are permuted back into `buffer`).
  auto inCheckpointOrder = [&](int param, std::vector<unsigned char> &buffer) {
    const TensorSpec &spec = meta.params[param];
    if (spec.layout.empty())
      return params[param];
    std::vector<int64_t> inverse(spec.layout.size());
    for (size_t i = 0; i < spec.layout.size(); ++i)
      inverse[spec.layout[i]] = static_cast<int64_t>(i);
    buffer.resize(spec.nbytes);
    permuteTensor(params[param], buffer.data(), spec.storedShape, inverse,
                  spec.dtype.bits / 8);
    return static_cast<const void *>(buffer.data());
  };
  for (const CudaImagePiece &p : image.pieces) {
    const TensorSpec &spec = meta.params[p.param];
    const void *src = inCheckpointOrder(p.param, ordered);
    // An affine map folded into a bias: matrix times vector, in double.
    std::vector<double> product;
    if (p.productMatrix >= 0) {
      const void *m = inCheckpointOrder(p.productMatrix, orderedMatrix),
                 *v = inCheckpointOrder(p.productVector, orderedVector);
      const std::string &mt = meta.params[p.productMatrix].dtypeName,
                        &vt = meta.params[p.productVector].dtypeName;
      const int64_t k = meta.params[p.productVector].nbytes * 8 /
                        meta.params[p.productVector].dtype.bits;
      product.assign(p.cols, 0.0);
      for (int64_t c = 0; c < p.cols; ++c)
        for (int64_t i = 0; i < k; ++i)
          product[c] +=
              double(readElement(m, mt, p.productTransposed ? i * p.cols + c
                                                            : c * k + i)) *
              readElement(v, vt, i);
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
        const int64_t at = p.repeatInRow  ? sr
                           : p.transposed ? sc * p.rows + sr
                                          : sr * p.cols + sc;
        const double v = readElement(src, spec.dtypeName, at) +
                         (product.empty() ? 0.0 : product[sc]);
        writeElement(dst, p.dtype, p.index(r, c),
                     static_cast<float>(v * rowScale * scaleOf(p.colScale, sc)));
      }
    }
  }
}

} // namespace mlp::rt
