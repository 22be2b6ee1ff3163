//===- SafetensorsTest.cpp - The safetensors loader -----------------------===//
//
// A round trip through writeSafetensors, then one hostile file per check the
// loader makes: each must be refused with a message naming the problem.
//
//===----------------------------------------------------------------------===//

#include "TempDir.h"

#include "mlp/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlp;
using mlp::test::TempDir;

namespace {

/// The bytes of a safetensors file: length prefix (the header's own unless
/// `length` is given), header, data.
std::string rawFile(const std::string &header, const std::string &data = "",
                    uint64_t length = UINT64_MAX) {
  if (length == UINT64_MAX)
    length = header.size();
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(length >> (8 * i));
  return bytes + header + data;
}

class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(Dir.ok()); }

  /// Opens `bytes` written to a file; expects failure with a message that
  /// names the file and contains `phrase`.
  void expectRejected(const std::string &bytes, const std::string &phrase,
                      SafetensorsError kind = SafetensorsError::Format) {
    std::string path = Dir.write("bad.safetensors", bytes);
    std::string error;
    SafetensorsError gotKind = SafetensorsError::None;
    EXPECT_EQ(SafetensorsFile::open(path, error, &gotKind), nullptr);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find(phrase), std::string::npos)
        << "message: " << error << "\nexpected to contain: " << phrase;
    EXPECT_EQ(gotKind, kind);
  }

  TempDir Dir;
};

const std::string kData24(24, '\x01');

TEST_F(SafetensorsTest, RoundTrip) {
  const float w[6] = {1, 2, 3, 4, 5, 6};
  const int64_t ids[4] = {-1, 0, 1, INT64_MAX};
  const uint8_t flag = 1;
  std::vector<TensorToWrite> in = {
      {"layer.weight", "float32", {2, 3}, w, sizeof(w)},
      {"ids", "int64", {4}, ids, sizeof(ids)},
      {"empty", "bfloat16", {0, 5}, nullptr, 0},
      {"flag", "uint8", {}, &flag, 1},
  };
  std::string path = Dir.file("ok.safetensors"), error;
  ASSERT_TRUE(writeSafetensors(path, in, error)) << error;
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "temp file left";

  auto file = SafetensorsFile::open(path, error);
  ASSERT_NE(file, nullptr) << error;
  EXPECT_EQ(file->path(), path);
  ASSERT_EQ(file->tensors().size(), in.size());
  // Written in order, so sorted by offset they come back in the same order.
  for (size_t i = 0; i < in.size(); ++i) {
    const TensorView &t = file->tensors()[i];
    SCOPED_TRACE(in[i].name);
    EXPECT_EQ(t.name, in[i].name);
    EXPECT_EQ(t.dtype, in[i].dtype);
    EXPECT_EQ(t.shape, in[i].shape);
    ASSERT_EQ(t.nbytes, in[i].nbytes);
    if (t.nbytes) {
      EXPECT_EQ(std::memcmp(t.data, in[i].data, t.nbytes), 0);
    }
    EXPECT_EQ(file->find(in[i].name), &t);
  }
  // The padded header keeps the data section 8-byte aligned.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file->tensors()[0].data) % 8, 0u);
  EXPECT_EQ(file->find("absent"), nullptr);
}

TEST_F(SafetensorsTest, TensorsSortedByOffset) {
  std::string header =
      R"({"b":{"dtype":"F32","shape":[3],"data_offsets":[12,24]},)"
      R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
  std::string path = Dir.write("order.safetensors", rawFile(header, kData24));
  std::string error;
  auto file = SafetensorsFile::open(path, error);
  ASSERT_NE(file, nullptr) << error;
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "a");
  EXPECT_EQ(file->tensors()[1].name, "b");
}

TEST_F(SafetensorsTest, MetadataIsIgnored) {
  std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
  std::string path = Dir.write("meta.safetensors", rawFile(header, kData24));
  std::string error;
  auto file = SafetensorsFile::open(path, error);
  ASSERT_NE(file, nullptr) << error;
  ASSERT_EQ(file->tensors().size(), 1u);
  EXPECT_EQ(file->find("__metadata__"), nullptr);
}

TEST_F(SafetensorsTest, EmptyTensorsMayShareOffsets) {
  std::string header =
      R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
      R"("w":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}})";
  std::string path = Dir.write("empty.safetensors", rawFile(header, kData24));
  std::string error;
  EXPECT_NE(SafetensorsFile::open(path, error), nullptr) << error;
}

TEST_F(SafetensorsTest, MetadataMustHoldStrings) {
  expectRejected(rawFile(R"({"__metadata__":{"n":1}})"),
                 "__metadata__ value 'n' is not a string");
}

TEST_F(SafetensorsTest, MissingFile) {
  std::string path = Dir.file("nope.safetensors"), error;
  SafetensorsError kind;
  EXPECT_EQ(SafetensorsFile::open(path, error, &kind), nullptr);
  EXPECT_NE(error.find(path + ": cannot open file"), std::string::npos)
      << error;
  EXPECT_EQ(kind, SafetensorsError::Io);
}

TEST_F(SafetensorsTest, Directory) {
  std::string error;
  SafetensorsError kind;
  EXPECT_EQ(SafetensorsFile::open("/tmp", error, &kind), nullptr);
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  EXPECT_EQ(kind, SafetensorsError::Io);
}

TEST_F(SafetensorsTest, EmptyFile) { expectRejected("", "file is empty"); }

TEST_F(SafetensorsTest, FiveByteFile) {
  expectRejected("abcde", "too short (5 bytes)");
}

TEST_F(SafetensorsTest, HeaderLengthBeyondFile) {
  expectRejected(rawFile("{}", "", 1000), "header length 1000 is beyond");
  expectRejected(rawFile("{}", "", UINT64_MAX - 1), "is beyond");
}

TEST_F(SafetensorsTest, HeaderLengthAbsurd) {
  // A sparse file just over the 100 MiB limit costs no disk space.
  std::string path = Dir.write("huge.safetensors", rawFile("", "", 101 << 20));
  ASSERT_EQ(truncate(path.c_str(), (101 << 20) + 8), 0);
  std::string error;
  EXPECT_EQ(SafetensorsFile::open(path, error), nullptr);
  EXPECT_NE(error.find("absurdly large"), std::string::npos) << error;
}

TEST_F(SafetensorsTest, HeaderNotJson) {
  expectRejected(rawFile("{\"w\": nonsense"), "header is not valid JSON");
  expectRejected(rawFile(""), "header is not valid JSON");
  expectRejected(rawFile(std::string("{}\0\0", 4)), "header is not valid JSON");
}

TEST_F(SafetensorsTest, HeaderJsonArray) {
  expectRejected(rawFile("[1, 2]"), "header is not a JSON object (got array)");
}

TEST_F(SafetensorsTest, EntryNotObject) {
  expectRejected(rawFile(R"({"w": 3})"),
                 "tensor 'w': entry is not a JSON object");
}

TEST_F(SafetensorsTest, MissingDataOffsets) {
  expectRejected(rawFile(R"({"w":{"dtype":"F32","shape":[2]}})"),
                 "tensor 'w': missing 'data_offsets'");
}

TEST_F(SafetensorsTest, MissingDtypeAndShape) {
  expectRejected(
      rawFile(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", "12345678"),
      "tensor 'w': missing 'dtype'");
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", "12345678"),
      "tensor 'w': missing 'shape'");
}

TEST_F(SafetensorsTest, WrongJsonTypes) {
  expectRejected(
      rawFile(R"({"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})"),
      "tensor 'w': 'dtype' is not a string");
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})"),
      "tensor 'w': 'shape' is not an array");
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})"),
      "tensor 'w': 'shape' contains a non-integer");
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})"),
      "tensor 'w': 'data_offsets' is not a pair");
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})"),
      "tensor 'w': 'data_offsets' is not a pair");
}

TEST_F(SafetensorsTest, UnknownDtype) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}})",
              "12345678"),
      "tensor 'w': unknown dtype 'F99'");
}

TEST_F(SafetensorsTest, NegativeDim) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
              "12345678"),
      "tensor 'w': negative dimension -2");
}

TEST_F(SafetensorsTest, ElementCountOverflow) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],)"
              R"("data_offsets":[0,0]}})"),
      "tensor 'w': shape [4294967296, 4294967296] has too many elements");
  // Fits as elements, overflows as bytes.
  expectRejected(rawFile(R"({"w":{"dtype":"F64","shape":[4611686018427387904],)"
                         R"("data_offsets":[0,0]}})"),
                 "too many bytes");
}

TEST_F(SafetensorsTest, NbytesDisagreeWithShape) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
              kData24),
      "tensor 'w': data_offsets [0, 20] hold 20 bytes but shape "
      "[2, 3] of float32 needs 24 bytes");
}

TEST_F(SafetensorsTest, BeginAfterEnd) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})",
              kData24),
      "has begin > end");
}

TEST_F(SafetensorsTest, TruncatedData) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
              std::string(20, 'x')),
      "tensor 'w': data_offsets [0, 24] extend beyond the data "
      "section (20 bytes)");
}

TEST_F(SafetensorsTest, OutOfRangeOffsets) {
  // Offsets near 2^64: end - begin is right, but both lie far beyond the
  // data section (an unchecked begin + data start would wrap around).
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],)"
              R"("data_offsets":[18446744073709551608,18446744073709551616]}})",
              kData24),
      "'data_offsets' is not a pair"); // 2^64 itself is not a uint64
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],)"
              R"("data_offsets":[18446744073709551600,18446744073709551608]}})",
              kData24),
      "tensor 'w': data_offsets [18446744073709551600, 18446744073709551608] "
      "extend beyond the data section (24 bytes)");
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}})",
              kData24),
      "tensor 'w': data_offsets [24, 32] extend beyond the data section");
}

TEST_F(SafetensorsTest, TruncatedInsideData) {
  // A real file cut short by 5 bytes: the last tensor loses its tail.
  const float a[4] = {1, 2, 3, 4}, b[3] = {5, 6, 7};
  std::string path = Dir.file("cut.safetensors"), error;
  ASSERT_TRUE(writeSafetensors(path,
                               {{"a", "float32", {4}, a, sizeof(a)},
                                {"b", "float32", {3}, b, sizeof(b)}},
                               error))
      << error;
  ASSERT_NE(SafetensorsFile::open(path, error), nullptr) << error;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  ASSERT_EQ(truncate(path.c_str(), st.st_size - 5), 0);
  SafetensorsError kind;
  EXPECT_EQ(SafetensorsFile::open(path, error, &kind), nullptr);
  EXPECT_NE(error.find("tensor 'b': data_offsets [16, 28] extend beyond the "
                       "data section (23 bytes); the file may be truncated"),
            std::string::npos)
      << error;
  EXPECT_EQ(kind, SafetensorsError::Format);
}

TEST_F(SafetensorsTest, NameNotUtf8) {
  // Latin-1 "é" (0xe9) in a tensor name, as a non-UTF-8 writer would emit.
  expectRejected(
      rawFile("{\"caf\xe9\":{\"dtype\":\"F32\",\"shape\":[2],"
              "\"data_offsets\":[0,8]}}",
              kData24),
      "header is not valid UTF-8: byte 0xe9 at header offset 5 (tensor names "
      "and all header text must be UTF-8)");
  // Overlong "/" (0xc0 0xaf), an encoded surrogate (0xed 0xa0 0x80), a code
  // point above U+10FFFF (0xf4 0x90 ...) and a sequence cut short.
  for (const char *name :
       {"a\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82"}) {
    SCOPED_TRACE(name);
    expectRejected(rawFile("{\"" + std::string(name) + "\":{}}"),
                   "header is not valid UTF-8");
  }
  // Escapes that decode to a lone surrogate are not UTF-8 either.
  expectRejected(rawFile(R"({"\ud800":{"dtype":"F32","shape":[0],)"
                         R"("data_offsets":[0,0]}})"),
                 "surrogate");
}

TEST_F(SafetensorsTest, NameUtf8IsAccepted) {
  // Well-formed multi-byte names (2-, 3- and 4-byte sequences) are fine.
  std::string name = "caf\xc3\xa9.\xe6\x9d\x83\xe9\x87\x8d.\xf0\x9f\x98\x80";
  std::string path = Dir.write(
      "utf8.safetensors",
      rawFile(
          "{\"" + name +
              "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
          kData24));
  std::string error;
  auto file = SafetensorsFile::open(path, error);
  ASSERT_NE(file, nullptr) << error;
  EXPECT_NE(file->find(name), nullptr);
}

TEST_F(SafetensorsTest, OverlappingOffsets) {
  expectRejected(
      rawFile(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
              R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
              kData24),
      "tensors 'a' and 'b' have overlapping data [0, 16] and [8, 24]");
}

TEST_F(SafetensorsTest, DuplicateTensorNames) {
  expectRejected(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
              kData24),
      "duplicate tensor name 'w'");
  expectRejected(
      rawFile(
          R"({"w":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
          kData24),
      "duplicate key 'dtype'");
}

TEST_F(SafetensorsTest, WriterRejectsBadTensors) {
  const float w[6] = {};
  std::string path = Dir.file("w.safetensors"), error;
  EXPECT_FALSE(
      writeSafetensors(path, {{"w", "float32", {2, 3}, w, 20}}, error));
  EXPECT_NE(error.find("tensor 'w': 20 bytes given"), std::string::npos)
      << error;
  EXPECT_FALSE(writeSafetensors(path, {{"w", "complex", {1}, w, 8}}, error));
  EXPECT_NE(error.find("unknown dtype 'complex'"), std::string::npos) << error;
  EXPECT_FALSE(writeSafetensors(
      path, {{"w", "float32", {1}, w, 4}, {"w", "float32", {1}, w, 4}}, error));
  EXPECT_NE(error.find("duplicate tensor name"), std::string::npos) << error;
  // Not UTF-8: the JSON writer would throw; it must be an error instead.
  EXPECT_FALSE(
      writeSafetensors(path, {{"caf\xe9", "float32", {1}, w, 4}}, error));
  EXPECT_NE(error.find("tensor 'caf\xe9': the name is not valid UTF-8 (at "
                       "byte 3)"),
            std::string::npos)
      << error;
  EXPECT_FALSE(writeSafetensors(path, {{"w", "float32", {-1}, w, 4}}, error));
  EXPECT_NE(error.find("negative dimension"), std::string::npos) << error;
  EXPECT_FALSE(writeSafetensors(Dir.file("no/such/dir/w.safetensors"),
                                {{"w", "float32", {1}, w, 4}}, error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "nothing should be written";
}

TEST(DtypeSize, KnownAndUnknown) {
  EXPECT_EQ(dtypeSize("float32"), 4u);
  EXPECT_EQ(dtypeSize("bfloat16"), 2u);
  EXPECT_EQ(dtypeSize("float16"), 2u);
  EXPECT_EQ(dtypeSize("float64"), 8u);
  EXPECT_EQ(dtypeSize("int64"), 8u);
  EXPECT_EQ(dtypeSize("int32"), 4u);
  EXPECT_EQ(dtypeSize("int8"), 1u);
  EXPECT_EQ(dtypeSize("uint8"), 1u);
  EXPECT_EQ(dtypeSize("bool"), 1u);
  EXPECT_EQ(dtypeSize("F32"), 0u);
  EXPECT_EQ(dtypeSize("complex64"), 0u);
}

} // namespace
