//===- HalfFloat.h - float16 / bfloat16 conversions on the host -*- C++ -*-===//
//
// The runtime converts weights into the GPU kernels' compute type when it
// builds their images; both directions round to nearest even, as the GPU's
// own conversions do.
//
//===----------------------------------------------------------------------===//
#ifndef MLP_RUNTIME_HALFFLOAT_H
#define MLP_RUNTIME_HALFFLOAT_H

#include <cstdint>

namespace mlp::rt {

float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bfloat16ToFloat(uint16_t b);
uint16_t floatToBfloat16(float f);

} // namespace mlp::rt

#endif // MLP_RUNTIME_HALFFLOAT_H
