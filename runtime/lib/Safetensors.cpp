//===- Safetensors.cpp - Minimal safetensors reader and writer ------------===//
//
// The file is untrusted input: every length and offset read from it is
// checked against the mapping before use, and every arithmetic step on them
// is overflow-checked, so a hostile file gives an error, never a bad read.
//
//===----------------------------------------------------------------------===//

#include "mlp/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using json = nlohmann::json;

namespace mlp {
namespace {

// The reference implementation refuses headers above 100 MB; a larger value
// is certainly garbage and would only make us allocate for nothing.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeEntry {
  const char *code; // as spelled in the file
  const char *name; // as spelled by mlpc
  size_t size;
};

const DtypeEntry kDtypes[] = {
    {"BOOL", "bool", 1},
    {"U8", "uint8", 1},
    {"I8", "int8", 1},
    {"F8_E5M2", "float8_e5m2", 1},
    {"F8_E4M3", "float8_e4m3fn", 1},
    {"I16", "int16", 2},
    {"U16", "uint16", 2},
    {"F16", "float16", 2},
    {"BF16", "bfloat16", 2},
    {"I32", "int32", 4},
    {"U32", "uint32", 4},
    {"F32", "float32", 4},
    {"I64", "int64", 8},
    {"U64", "uint64", 8},
    {"F64", "float64", 8},
};

const DtypeEntry *dtypeByCode(const std::string &code) {
  for (const DtypeEntry &e : kDtypes)
    if (code == e.code)
      return &e;
  return nullptr;
}

const DtypeEntry *dtypeByName(const std::string &name) {
  for (const DtypeEntry &e : kDtypes)
    if (name == e.name)
      return &e;
  return nullptr;
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string formatRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// Bytes needed by `shape` of elements of `elemSize` bytes; false if a
// dimension is negative or the count does not fit in 64 bits.
bool byteCount(const std::vector<int64_t> &shape, size_t elemSize,
               uint64_t &bytes, std::string &why) {
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      why = "shape " + formatShape(shape) + " has a negative dimension";
      return false;
    }
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count)) {
      why = "shape " + formatShape(shape) +
            " has too many elements (overflows 64 bits)";
      return false;
    }
  }
  if (__builtin_mul_overflow(count, static_cast<uint64_t>(elemSize), &bytes)) {
    why = "shape " + formatShape(shape) +
          " has too many bytes (overflows 64 bits)";
    return false;
  }
  return true;
}

// The offset of the first byte of [begin, end) that is not part of
// well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), or -1 if all of it is.
int64_t firstInvalidUtf8(const unsigned char *begin, const unsigned char *end) {
  const unsigned char *p = begin;
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int length;
    unsigned char lo = 0x80, hi = 0xBF; // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0)
        lo = 0xA0; // overlong
      else if (c == 0xED)
        hi = 0x9F; // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0)
        lo = 0x90; // overlong
      else if (c == 0xF4)
        hi = 0x8F; // above U+10FFFF
    } else {
      return p - begin;
    }
    if (end - p < length || p[1] < lo || p[1] > hi)
      return p - begin;
    for (int i = 2; i < length; ++i)
      if (p[i] < 0x80 || p[i] > 0xBF)
        return p - begin;
    p += length;
  }
  return -1;
}

// Reads a JSON integer that must be >= 0.
bool getUnsigned(const json &v, uint64_t &out) {
  if (!v.is_number_unsigned())
    return false; // negative ints are number_integer; floats are rejected
  out = v.get<uint64_t>();
  return true;
}

// Parses the header, recording the first key that appears twice in one
// object: nlohmann keeps only the last duplicate, which would silently pick
// one of two tensors with the same name.
bool parseHeader(const char *begin, const char *end, json &out,
                 std::string &duplicate, bool &duplicateIsTensor,
                 std::string &why) {
  std::vector<std::set<std::string>> keys;
  auto callback = [&](int, json::parse_event_t event, json &parsed) {
    switch (event) {
    case json::parse_event_t::object_start:
      keys.emplace_back();
      break;
    case json::parse_event_t::object_end:
      if (!keys.empty())
        keys.pop_back();
      break;
    case json::parse_event_t::key:
      if (!keys.empty() && parsed.is_string() &&
          !keys.back().insert(parsed.get<std::string>()).second &&
          duplicate.empty()) {
        duplicate = parsed.get<std::string>();
        duplicateIsTensor = keys.size() == 1;
      }
      break;
    default:
      break;
    }
    return true;
  };
  try {
    out = json::parse(begin, end, callback);
  } catch (const json::exception &e) {
    why = e.what();
    return false;
  }
  return true;
}

} // namespace

size_t dtypeSize(const std::string &dtype) {
  const DtypeEntry *e = dtypeByName(dtype);
  return e ? e->size : 0;
}

SafetensorsFile::~SafetensorsFile() {
  if (Base)
    ::munmap(Base, Size);
}

const TensorView *SafetensorsFile::find(const std::string &name) const {
  for (const TensorView &t : Tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string &path,
                                                       std::string &error,
                                                       SafetensorsError *kind) {
  auto fail = [&](SafetensorsError k, const std::string &msg) {
    error = path + ": " + msg;
    if (kind)
      *kind = k;
    return nullptr;
  };
  auto ioFail = [&](const char *what) {
    return fail(SafetensorsError::Io,
                std::string(what) + ": " + std::strerror(errno));
  };
  using E = SafetensorsError;
  if (kind)
    *kind = E::None;

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ioFail("cannot open file");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return ioFail("cannot stat file");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(E::Io, "not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return fail(E::Format, "file is empty (0 bytes); not a safetensors file");
  }
  if (size < 8) {
    ::close(fd);
    return fail(E::Format, "file is too short (" + std::to_string(size) +
                               " bytes) to hold the 8-byte header length");
  }
  void *base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int mmapErrno = errno;
  // The mapping keeps the file alive; the descriptor is no longer needed.
  ::close(fd);
  if (base == MAP_FAILED) {
    errno = mmapErrno;
    return ioFail("cannot map file");
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->Path = path;
  file->Base = base;
  file->Size = size;
  const uint8_t *bytes = static_cast<const uint8_t *>(base);

  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) // little-endian, whatever the host order
    headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > size - 8)
    return fail(E::Format, "header length " + std::to_string(headerLen) +
                               " is beyond the end of the file (" +
                               std::to_string(size) + " bytes)");
  if (headerLen > kMaxHeaderBytes)
    return fail(E::Format, "header length " + std::to_string(headerLen) +
                               " is absurdly large (limit " +
                               std::to_string(kMaxHeaderBytes) + " bytes)");

  json header;
  std::string duplicate, why;
  bool duplicateIsTensor = false;
  const char *text = reinterpret_cast<const char *>(bytes + 8);
  // nlohmann stops at a NUL as if the input ended there, which would let
  // arbitrary bytes follow; JSON never contains one, so refuse it up front.
  if (const void *nul = std::memchr(text, '\0', headerLen))
    return fail(E::Format,
                "header is not valid JSON: NUL byte at header offset " +
                    std::to_string(static_cast<const char *>(nul) - text));
  // JSON text is UTF-8; saying so beats nlohmann's "syntax error" for the
  // usual culprit, a tensor name written in some other encoding.
  if (int64_t bad = firstInvalidUtf8(
          reinterpret_cast<const unsigned char *>(text),
          reinterpret_cast<const unsigned char *>(text) + headerLen);
      bad >= 0) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x",
                  static_cast<unsigned char>(text[bad]));
    return fail(E::Format,
                "header is not valid UTF-8: byte " + std::string(hex) +
                    " at header offset " + std::to_string(bad) +
                    " (tensor names and all header text must be UTF-8)");
  }
  if (!parseHeader(text, text + headerLen, header, duplicate, duplicateIsTensor,
                   why))
    return fail(E::Format, "header is not valid JSON: " + why);
  if (!header.is_object())
    return fail(E::Format, std::string("header is not a JSON object (got ") +
                               header.type_name() + ")");
  if (!duplicate.empty())
    return fail(E::Format, (duplicateIsTensor ? "duplicate tensor name '"
                                              : "duplicate key '") +
                               duplicate + "' in the header");

  const uint64_t dataStart = 8 + headerLen;
  const uint64_t dataSize = size - dataStart;
  std::vector<std::pair<uint64_t, uint64_t>> ranges; // parallel to Tensors
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    const json &entry = it.value();
    if (name == "__metadata__") {
      // Free-form string metadata: we do not use it, but it must be well
      // formed as the format requires.
      if (!entry.is_object())
        return fail(E::Format, "__metadata__ is not a JSON object");
      for (auto m = entry.begin(); m != entry.end(); ++m)
        if (!m.value().is_string())
          return fail(E::Format,
                      "__metadata__ value '" + m.key() + "' is not a string");
      continue;
    }
    auto tfail = [&](const std::string &msg) {
      return fail(E::Format, "tensor '" + name + "': " + msg);
    };
    if (!entry.is_object())
      return tfail("entry is not a JSON object");
    auto dtypeIt = entry.find("dtype");
    auto shapeIt = entry.find("shape");
    auto offsetsIt = entry.find("data_offsets");
    if (dtypeIt == entry.end())
      return tfail("missing 'dtype'");
    if (shapeIt == entry.end())
      return tfail("missing 'shape'");
    if (offsetsIt == entry.end())
      return tfail("missing 'data_offsets'");
    if (!dtypeIt->is_string())
      return tfail("'dtype' is not a string");
    const DtypeEntry *dtype = dtypeByCode(dtypeIt->get<std::string>());
    if (!dtype)
      return tfail("unknown dtype '" + dtypeIt->get<std::string>() + "'");

    if (!shapeIt->is_array())
      return tfail("'shape' is not an array");
    std::vector<int64_t> shape;
    for (const json &d : *shapeIt) {
      if (d.is_number_integer() && !d.is_number_unsigned() &&
          d.get<int64_t>() < 0)
        return tfail("negative dimension " + std::to_string(d.get<int64_t>()) +
                     " in 'shape'");
      uint64_t dim;
      if (!getUnsigned(d, dim))
        return tfail("'shape' contains a non-integer");
      if (dim > static_cast<uint64_t>(INT64_MAX))
        return tfail("dimension " + std::to_string(dim) + " is too large");
      shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t expected;
    if (!byteCount(shape, dtype->size, expected, why))
      return tfail(why);

    uint64_t begin, end;
    if (!offsetsIt->is_array() || offsetsIt->size() != 2 ||
        !getUnsigned((*offsetsIt)[0], begin) ||
        !getUnsigned((*offsetsIt)[1], end))
      return tfail("'data_offsets' is not a pair [begin, end] of "
                   "non-negative integers");
    if (begin > end)
      return tfail("data_offsets " + formatRange(begin, end) +
                   " has begin > end");
    if (end > dataSize)
      return tfail("data_offsets " + formatRange(begin, end) +
                   " extend beyond the data section (" +
                   std::to_string(dataSize) +
                   " bytes); the file may be truncated");
    if (end - begin != expected)
      return tfail("data_offsets " + formatRange(begin, end) + " hold " +
                   std::to_string(end - begin) + " bytes but shape " +
                   formatShape(shape) + " of " + dtype->name + " needs " +
                   std::to_string(expected) + " bytes");
    file->Tensors.push_back(TensorView{name, dtype->name, std::move(shape),
                                       bytes + dataStart + begin, end - begin});
    ranges.emplace_back(begin, end);
  }

  // Sort by offset, then check that no two non-empty ranges share a byte.
  std::vector<size_t> order(file->Tensors.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  const size_t none = static_cast<size_t>(-1);
  size_t furthest = none; // the non-empty range reaching furthest so far
  for (size_t i : order) {
    if (ranges[i].first == ranges[i].second)
      continue; // an empty tensor occupies no bytes
    if (furthest != none && ranges[i].first < ranges[furthest].second)
      return fail(
          E::Format,
          "tensors '" + file->Tensors[furthest].name + "' and '" +
              file->Tensors[i].name + "' have overlapping data " +
              formatRange(ranges[furthest].first, ranges[furthest].second) +
              " and " + formatRange(ranges[i].first, ranges[i].second));
    if (furthest == none || ranges[i].second > ranges[furthest].second)
      furthest = i;
  }
  std::vector<TensorView> sorted;
  sorted.reserve(order.size());
  for (size_t i : order)
    sorted.push_back(std::move(file->Tensors[i]));
  file->Tensors = std::move(sorted);
  return file;
}

namespace {

// write(2) until everything is written or an error other than EINTR occurs.
bool writeAll(int fd, const void *data, uint64_t n) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 30));
    ssize_t w = ::write(fd, p, chunk);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= static_cast<uint64_t>(w);
  }
  return true;
}

} // namespace

bool writeSafetensors(const std::string &path,
                      const std::vector<TensorToWrite> &tensors,
                      std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = path + ": " + msg;
    return false;
  };
  json header = json::object();
  uint64_t offset = 0;
  std::string why;
  for (const TensorToWrite &t : tensors) {
    auto tfail = [&](const std::string &msg) {
      return fail("tensor '" + t.name + "': " + msg);
    };
    if (t.name == "__metadata__")
      return tfail("the name is reserved by the format");
    // The header is JSON, hence UTF-8 (and nlohmann throws on anything else).
    if (int64_t bad = firstInvalidUtf8(
            reinterpret_cast<const unsigned char *>(t.name.data()),
            reinterpret_cast<const unsigned char *>(t.name.data()) +
                t.name.size());
        bad >= 0)
      return tfail("the name is not valid UTF-8 (at byte " +
                   std::to_string(bad) + ")");
    if (header.contains(t.name))
      return tfail("duplicate tensor name");
    const DtypeEntry *dtype = dtypeByName(t.dtype);
    if (!dtype)
      return tfail("unknown dtype '" + t.dtype + "'");
    uint64_t expected;
    if (!byteCount(t.shape, dtype->size, expected, why))
      return tfail(why);
    if (t.nbytes != expected)
      return tfail(std::to_string(t.nbytes) + " bytes given but shape " +
                   formatShape(t.shape) + " of " + t.dtype + " needs " +
                   std::to_string(expected));
    if (!t.data && t.nbytes)
      return tfail("data is null");
    uint64_t end;
    if (__builtin_add_overflow(offset, t.nbytes, &end))
      return tfail("total size overflows 64 bits");
    header[t.name] = {{"dtype", dtype->code},
                      {"shape", t.shape},
                      {"data_offsets", json::array({offset, end})}};
    offset = end;
  }
  std::string text = header.dump();
  // Padding keeps the data section 8-byte aligned in the file, hence in the
  // mapping, so readers can use the tensors in place.
  text.append((8 - text.size() % 8) % 8, ' ');

  uint8_t lengthBytes[8];
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));

  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail("cannot create '" + tmp + "': " + std::strerror(errno));
  bool ok =
      writeAll(fd, lengthBytes, 8) && writeAll(fd, text.data(), text.size());
  for (size_t i = 0; ok && i < tensors.size(); ++i)
    ok = writeAll(fd, tensors[i].data, tensors[i].nbytes);
  int savedErrno = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail("cannot write '" + tmp + "': " + std::strerror(savedErrno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    savedErrno = errno;
    ::unlink(tmp.c_str());
    return fail("cannot rename '" + tmp + "': " + std::strerror(savedErrno));
  }
  return true;
}

} // namespace mlp
