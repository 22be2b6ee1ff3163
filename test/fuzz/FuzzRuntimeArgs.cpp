//===- FuzzRuntimeArgs.cpp - libFuzzer target: mlp_model_run's arguments --===//
//
// Decodes the bytes into DLTensor descriptors (counts, null arrays, device,
// dtype, ndim, shape, strides, byte_offset, data) and calls mlp_model_run on
// the unit tests' fake model (test/unit/FakeModel.cpp: x f32[N, 3] ->
// y f32[N, 2], y = x @ w^T), whose entry reads every element of x and writes
// every element of y through the memref descriptors the runtime builds, just
// as generated code does. mlp_model_run must return a status, never crash.
//
// What the runtime can and cannot check, and so what the harness allocates:
//
//  - It CAN check everything that is in the descriptor: counts, device,
//    dtype, rank, dims against the model, batch agreement, that the byte size
//    fits in memory at all (no 64-bit overflow, <= INTPTR_MAX), compact
//    strides, non-NULL data for a non-empty tensor, element alignment of
//    data + byte_offset, and that data + byte_offset does not wrap around the
//    address space.
//  - It CANNOT know how large the caller's buffer really is. A descriptor of
//    [1000, 3] floats over a 12-byte buffer is a caller bug the runtime has no
//    way to see; the kernel would read past the buffer. The same holds for a
//    byte_offset that points past the buffer without wrapping, and for shape
//    and strides arrays shorter than ndim.
//
// So the harness never lies about memory: every shape/strides array has
// exactly ndim entries, every inputs/outputs array exactly num_* entries, and
// the data of every tensor that could be accepted (its byte size is
// representable) is a heap buffer of exactly byte_offset + nbytes bytes, so
// that ASan reports any access the kernel makes outside the described
// tensor. Dims whose byte size is representable but too large to allocate
// (more than kMaxBytes) are reduced until they fit; dims whose byte size
// overflows are kept, since the runtime must reject them. The only huge
// byte_offsets generated are ones that wrap around the address space when
// added to data, which the runtime must reject too.
//
// Besides "no crash", the harness checks the runtime against an independent
// model of runtime.h's contract (tensorVerdict below): it must accept
// exactly the valid calls (corners the header leaves open may go either
// way); a failed call must set a message, leave the outputs untouched and
// never reach the model's entry; a successful one must compute y.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"

#include "mlp/runtime.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

// The fake model's tensors.
constexpr int64_t kXFeatures = 3, kYFeatures = 2;
// The largest data buffer the harness allocates, in bytes.
constexpr uint64_t kMaxBytes = 1 << 16;
// The largest ndim the harness backs with a real shape array.
constexpr int32_t kMaxNdim = 64;

[[noreturn]] void violated(const char *what) {
  std::fprintf(stderr, "fuzz-runtime-args: %s (status message: '%s')\n", what,
               mlp_last_error());
  __builtin_trap();
}

mlp_model *model() {
  static mlp_model *m = [] {
    mlp_model *created = nullptr;
    if (mlp_model_create(nullptr, &created) != MLP_OK) {
      std::fprintf(stderr, "cannot create the fake model: %s\n",
                   mlp_last_error());
      std::abort();
    }
    return created;
  }();
  return m;
}

/// Memory for one tensor, owned by the harness for the duration of a call.
struct TensorStorage {
  std::vector<int64_t> shape, strides;
  bool nullShape = false, nullStrides = true;
  std::unique_ptr<unsigned char[]> buffer; // exactly `bufferBytes` long
  size_t bufferBytes = 0;
  DLTensor t{};
};

int64_t pickDim(FuzzedDataProvider &fdp, int64_t declared) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
  case 0:
  case 1:
  case 2:
    return declared; // -1 (the batch) becomes a real batch below
  case 3:
  case 4:
  case 5:
    return fdp.ConsumeIntegralInRange<int64_t>(0, 9);
  case 6:
    return fdp.PickValueInArray<int64_t>(
        {-1, 0, 1, INT64_MIN, INT64_MAX, INT64_MAX / 2, int64_t(1) << 32,
         int64_t(1) << 61, int64_t(1) << 62, (int64_t(1) << 62) + 1,
         INT64_MAX / 4 + 1, INT64_MAX / 12 + 1});
  case 7:
    return fdp.ConsumeIntegral<int64_t>();
  default:
    return fdp.ConsumeIntegralInRange<int64_t>(0, 300);
  }
}

/// Product of dims as the runtime would need it; false if a dim is negative
/// or the byte size is not representable (those the runtime must reject).
bool byteSize(const std::vector<int64_t> &shape, uint64_t &bytes,
              uint64_t &count) {
  unsigned __int128 n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    n *= static_cast<uint64_t>(d);
    if (n > UINT64_MAX)
      return false;
  }
  count = static_cast<uint64_t>(n);
  n *= 4;
  if (n > static_cast<uint64_t>(INTPTR_MAX))
    return false;
  bytes = static_cast<uint64_t>(n);
  return true;
}

void makeTensor(FuzzedDataProvider &fdp, bool isInput, int64_t batch,
                TensorStorage &s) {
  const int64_t features = isInput ? kXFeatures : kYFeatures;
  DLTensor &t = s.t;
  // Device: CPU or pinned host memory are accepted.
  switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
  case 0:
    t.device.device_type = kDLCUDA;
    break;
  case 1:
    t.device.device_type = kDLCUDAHost;
    break;
  case 2: {
    // Any int, as a C caller may pass; written bytewise, since a C++ load
    // of a DLDeviceType outside its enumerators is itself undefined.
    int32_t type = fdp.ConsumeIntegral<int32_t>();
    std::memcpy(&t.device.device_type, &type, sizeof type);
    break;
  }
  default:
    t.device.device_type = kDLCPU;
  }
  t.device.device_id = fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegral<int32_t>();
  if (fdp.ConsumeIntegralInRange<int>(0, 7) == 0)
    t.dtype = {fdp.ConsumeIntegral<uint8_t>(), fdp.ConsumeIntegral<uint8_t>(),
               fdp.ConsumeIntegral<uint16_t>()};
  else
    t.dtype = {kDLFloat, 32, 1};

  // Rank, and a shape array of exactly that many entries.
  int32_t ndim = 2;
  switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
  case 0:
    ndim = fdp.ConsumeIntegralInRange<int32_t>(0, 4);
    break;
  case 1:
    ndim = fdp.PickValueInArray<int32_t>({-1, INT32_MIN, kMaxNdim});
    break;
  default:
    break;
  }
  t.ndim = ndim;
  const int32_t entries = ndim > 0 ? ndim : 0;
  for (int32_t i = 0; i < entries; ++i) {
    int64_t declared = i == 0 ? -1 : i == 1 ? features : 1;
    int64_t d = pickDim(fdp, declared);
    if (i == 0 && d == -1 && fdp.ConsumeBool())
      d = batch; // most tensors agree on the batch
    s.shape.push_back(d);
  }
  // Reduce dims whose size is representable but too large to allocate.
  uint64_t bytes = 0, count = 0;
  while (byteSize(s.shape, bytes, count) && bytes > kMaxBytes)
    *std::max_element(s.shape.begin(), s.shape.end()) /= 2;
  s.nullShape = fdp.ConsumeIntegralInRange<int>(0, 15) == 0;
  t.shape = s.nullShape ? nullptr : s.shape.data();
  if (s.nullShape && entries > 0)
    s.shape.clear(); // nothing to read: NULL

  // Strides: mostly NULL, sometimes compact, sometimes anything.
  switch (fdp.ConsumeIntegralInRange<int>(0, 5)) {
  case 0: {
    s.nullStrides = false;
    s.strides.resize(entries);
    uint64_t stride = 1; // wraps harmlessly for shapes too large to run
    for (int32_t i = entries - 1; i >= 0; --i) {
      s.strides[i] = static_cast<int64_t>(stride);
      if (!s.shape.empty())
        stride *= static_cast<uint64_t>(s.shape[i]);
    }
    if (entries > 0 && fdp.ConsumeBool())
      s.strides[fdp.ConsumeIntegralInRange<int32_t>(0, entries - 1)] =
          fdp.ConsumeIntegralInRange<int64_t>(-2, 12);
    break;
  }
  case 1:
    s.nullStrides = false;
    for (int32_t i = 0; i < entries; ++i)
      s.strides.push_back(fdp.ConsumeIntegral<int64_t>());
    break;
  default:
    break;
  }
  t.strides = s.nullStrides ? nullptr : s.strides.data();

  // Data and byte_offset.
  const int dataKind = fdp.ConsumeIntegralInRange<int>(0, 9);
  const unsigned misalign = fdp.ConsumeIntegralInRange<unsigned>(0, 3);
  uint64_t offset = 0;
  bool wrapping = false;
  switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
  case 0:
    offset = 4 * fdp.ConsumeIntegralInRange<uint64_t>(1, 16);
    break;
  case 1:
    offset = fdp.ConsumeIntegralInRange<uint64_t>(1, 7);
    break;
  case 2:
    // Wraps around the address space when added to data (set below).
    wrapping = true;
    offset = fdp.ConsumeIntegralInRange<uint64_t>(1, 64);
    break;
  default:
    break;
  }
  if (wrapping) // data + offset == data - k (mod 2^64)
    offset = UINT64_MAX - offset + 1;
  if (dataKind == 0) {
    t.data = nullptr;
  } else {
    // Allocated whatever the descriptor says, so that a tensor the runtime
    // must reject still has honest memory behind it.
    uint64_t described = 0, n = 0;
    if (s.nullShape || !byteSize(s.shape, described, n))
      described = 0;
    s.bufferBytes = misalign + (wrapping ? 0 : offset) + described;
    s.buffer.reset(new unsigned char[s.bufferBytes ? s.bufferBytes : 1]);
    // Small integers keep the float results exact, whatever the rounding;
    // outputs start as a sentinel that a failed call must leave alone.
    for (size_t i = 0; i + 4 <= s.bufferBytes; i += 4) {
      float v = isInput
                    ? static_cast<float>(fdp.ConsumeIntegralInRange<int>(-8, 8))
                    : -99.0f;
      std::memcpy(s.buffer.get() + i, &v, 4);
    }
    t.data = s.buffer.get() + misalign;
  }
  t.byte_offset = offset;
}

/// What runtime.h's contract says of a call or a tensor. `Either` marks
/// corners the header leaves open, where accepting and refusing are both
/// right.
enum class Verdict { Invalid, Either, Valid };

Verdict both(Verdict a, Verdict b) { return a < b ? a : b; }

/// runtime.h's contract for one tensor, checked without the runtime's code.
Verdict tensorVerdict(const TensorStorage &s, int64_t features, int64_t &batch,
                      bool &batchKnown) {
  const DLTensor &t = s.t;
  int32_t device;
  std::memcpy(&device, &t.device.device_type, sizeof device);
  if (device != kDLCPU && device != kDLCUDAHost)
    return Verdict::Invalid;
  if (t.dtype.code != kDLFloat || t.dtype.bits != 32 || t.dtype.lanes != 1)
    return Verdict::Invalid;
  if (t.ndim != 2 || !t.shape)
    return Verdict::Invalid;
  if (t.shape[1] != features || t.shape[0] < 0)
    return Verdict::Invalid;
  if (batchKnown && t.shape[0] != batch)
    return Verdict::Invalid;
  batchKnown = true;
  batch = t.shape[0];
  uint64_t bytes, count;
  if (!byteSize(s.shape, bytes, count))
    return Verdict::Invalid;
  uintptr_t address;
  const bool wraps = __builtin_add_overflow(reinterpret_cast<uintptr_t>(t.data),
                                            t.byte_offset, &address);
  if (count == 0) // addresses no element: strides and data are moot, and
    return wraps ? Verdict::Either : Verdict::Valid; // a wrap is garbage
  if (t.strides) {
    int64_t compact = 1;
    for (int i = 1; i >= 0; --i) {
      if (t.shape[i] != 1 && t.strides[i] != compact)
        return Verdict::Invalid;
      compact *= t.shape[i];
    }
  }
  if (!t.data || wraps)
    return Verdict::Invalid;
  return address % 4 == 0 ? Verdict::Valid : Verdict::Invalid;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
  FuzzedDataProvider fdp(bytes, size);
  mlp_model *m =
      fdp.ConsumeIntegralInRange<int>(0, 31) == 0 ? nullptr : model();
  auto pickCount = [&] {
    return fdp.ConsumeIntegralInRange<int>(0, 7) == 0
               ? fdp.PickValueInArray<int32_t>({-1, 0, 2, 3, INT32_MIN})
               : 1;
  };
  const int32_t numInputs = pickCount(), numOutputs = pickCount();
  const bool nullInputs = fdp.ConsumeIntegralInRange<int>(0, 15) == 0;
  const bool nullOutputs = fdp.ConsumeIntegralInRange<int>(0, 15) == 0;
  const int64_t batch = fdp.ConsumeIntegralInRange<int64_t>(0, 40);

  std::vector<TensorStorage> in(numInputs > 0 ? numInputs : 0);
  std::vector<TensorStorage> out(numOutputs > 0 ? numOutputs : 0);
  for (TensorStorage &s : in)
    makeTensor(fdp, /*isInput=*/true, batch, s);
  for (TensorStorage &s : out)
    makeTensor(fdp, /*isInput=*/false, batch, s);
  std::vector<DLTensor> inT, outT;
  for (TensorStorage &s : in)
    inT.push_back(s.t);
  for (TensorStorage &s : out)
    outT.push_back(s.t);
  // An empty array: NULL, or a pointer that must not be read.
  DLTensor none{};
  const DLTensor *inputs = nullInputs    ? nullptr
                           : inT.empty() ? &none
                                         : inT.data();
  DLTensor *outputs = nullOutputs    ? nullptr
                      : outT.empty() ? &none
                                     : outT.data();

  // What runtime.h says must happen.
  Verdict verdict =
      m && numInputs == 1 && numOutputs == 1 && !nullInputs && !nullOutputs
          ? Verdict::Valid
          : Verdict::Invalid;
  int64_t runBatch = 0;
  bool batchKnown = false;
  if (verdict != Verdict::Invalid)
    verdict =
        both(verdict, tensorVerdict(in[0], kXFeatures, runBatch, batchKnown));
  if (verdict != Verdict::Invalid)
    verdict =
        both(verdict, tensorVerdict(out[0], kYFeatures, runBatch, batchKnown));

  std::vector<std::vector<unsigned char>> before;
  for (const TensorStorage &s : out)
    before.emplace_back(s.buffer.get(), s.buffer.get() + s.bufferBytes);
  const int callsBefore = mlp::test::fakeEntryCalls.load();

  mlp_status status = mlp_model_run(m, inputs, numInputs, outputs, numOutputs);

  if (status == MLP_OK && verdict == Verdict::Invalid)
    violated("accepted a call that runtime.h says is invalid");
  if (status != MLP_OK && verdict == Verdict::Valid)
    violated("rejected a valid call");
  if (status != MLP_OK) {
    if (!*mlp_last_error())
      violated("failed without a message");
    if (mlp::test::fakeEntryCalls.load() != callsBefore)
      violated("a failed call reached the model's entry");
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].bufferBytes &&
          std::memcmp(before[i].data(), out[i].buffer.get(),
                      out[i].bufferBytes) != 0)
        violated("a failed call changed an output");
    return 0;
  }
  if (runBatch == 0)
    return 0;
  // y = x @ w^T exactly (small integers in, exact float sums out).
  const char *x = static_cast<const char *>(in[0].t.data) + in[0].t.byte_offset;
  const char *y =
      static_cast<const char *>(out[0].t.data) + out[0].t.byte_offset;
  for (int64_t b = 0; b < runBatch; ++b)
    for (int64_t o = 0; o < kYFeatures; ++o) {
      float want = 0;
      for (int64_t k = 0; k < kXFeatures; ++k) {
        float xv;
        std::memcpy(&xv, x + 4 * (b * kXFeatures + k), 4);
        want += xv * mlp::test::fakeWeights[o * kXFeatures + k];
      }
      float got;
      std::memcpy(&got, y + 4 * (b * kYFeatures + o), 4);
      if (got != want)
        violated("wrong result");
    }
  return 0;
}
