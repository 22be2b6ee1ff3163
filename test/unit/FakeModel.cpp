//===- FakeModel.cpp - A hand-written stand-in for generated code ---------===//
//
// Reads its memref descriptors exactly as compiled code would
// (docs/runtime-abi.md), so the tests check the descriptors the runtime
// builds, not just the results.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include <cstdint>
#include <cstring>

std::atomic<int> mlp::test::fakeEntryCalls{0};
const float mlp::test::fakeWeights[6] = {1, 2, 3, 4, 5, 6};

const char mlpc_model_metadata[] = R"({
  "abi": 1,
  "name": "fake",
  "inputs":  [{"name": "x", "dtype": "float32", "shape": [-1, 3]}],
  "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 2]}],
  "params":  [{"name": "w", "dtype": "float32", "shape": [2, 3], "offset": 0}],
  "weights": {"embedded": true, "nbytes": 64}
})";

// The floats 1..6 in little-endian IEEE-754, padded to the 64 bytes the
// metadata declares.
alignas(64) const unsigned char mlpc_weights_blob[64] = {
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40,
    0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40};

namespace {

/// A rank-2 float memref descriptor: allocated, aligned, offset, sizes[2],
/// strides[2], as 8-byte words.
struct Memref2D {
  float *data;
  int64_t size[2];
  int64_t stride[2];

  explicit Memref2D(void *descriptor) {
    const int64_t *w = static_cast<const int64_t *>(descriptor);
    data = reinterpret_cast<float *>(static_cast<intptr_t>(w[1])) + w[2];
    std::memcpy(size, w + 3, sizeof(size));
    std::memcpy(stride, w + 5, sizeof(stride));
  }
  float &at(int64_t i, int64_t j) const {
    return data[i * stride[0] + j * stride[1]];
  }
};

} // namespace

extern "C" void mlpc_model_entry(void **args) {
  ++mlp::test::fakeEntryCalls;
  Memref2D x(args[0]), w(args[1]), y(args[2]);
  for (int64_t b = 0; b < x.size[0]; ++b)
    for (int64_t o = 0; o < w.size[0]; ++o) {
      float sum = 0;
      for (int64_t k = 0; k < x.size[1]; ++k)
        sum += x.at(b, k) * w.at(o, k);
      y.at(b, o) = sum;
    }
}
