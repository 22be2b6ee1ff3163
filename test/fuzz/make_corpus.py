#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets under test/fuzz/corpus/.

  corpus/fuzz-frontend/     models/*.mlp and every .mlp under test/frontend/
  corpus/fuzz-safetensors/  small valid files and one hostile file per check
                            the loader makes (see test/unit/SafetensorsTest.cpp)
  corpus/fuzz-runtime-args/ a few byte strings (the harness decodes any bytes)

Deterministic (fixed seed, sorted inputs), so re-running it gives the same
files; the generated files are committed. Uses only NumPy, json and struct.

    /usr/bin/python3 test/fuzz/make_corpus.py
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16,
          "I64": np.int64, "I32": np.int32, "I8": np.int8, "U8": np.uint8,
          "BOOL": np.bool_}


def safetensors(tensors, metadata=None, pad=True):
    """Bytes of a valid file: tensors is a list of (name, code, ndarray)."""
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, code, array in tensors:
        raw = np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    return raw_file(json.dumps(header, separators=(",", ":")), data, pad=pad)


def raw_file(header, data=b"", length=None, pad=False):
    """Length prefix (the header's own unless given), header, data."""
    text = header.encode("utf-8") if isinstance(header, str) else header
    if pad:
        text += b" " * (-len(text) % 8)
    if length is None:
        length = len(text)
    return struct.pack("<Q", length) + text + data


def entry(code, shape, begin, end):
    return {"dtype": code, "shape": shape, "data_offsets": [begin, end]}


def header(**tensors):
    return json.dumps(tensors, separators=(",", ":"))


def safetensors_corpus(rng):
    w = rng.standard_normal((2, 3)).astype(np.float32)
    files = {
        # Valid.
        "valid_one_f32": safetensors([("w", "F32", w)]),
        "valid_linear": safetensors([
            ("fc1.weight", "F32", rng.standard_normal((4, 3))),
            ("fc1.bias", "F32", rng.standard_normal(4))]),
        "valid_mixed_dtypes": safetensors([
            ("a", "F64", rng.standard_normal(3)),
            ("b", "I64", np.arange(4)),
            ("c", "F16", rng.standard_normal((2, 2))),
            ("d", "U8", np.arange(5)),
            ("e", "BOOL", np.array([True, False])),
            ("f", "I8", np.array([-1, 1]))]),
        "valid_empty_and_scalar": safetensors([
            ("empty", "F32", np.zeros((0, 5))),
            ("scalar", "F32", np.array(1.5))]),
        "valid_metadata": safetensors([("w", "F32", w)],
                                      metadata={"format": "pt"}),
        "valid_unpadded_misaligned": safetensors([
            ("pad", "U8", np.array([7])), ("w", "F32", w)], pad=False),
        "valid_no_tensors": raw_file("{}"),
        "valid_reversed_offsets": raw_file(
            header(b=entry("F32", [3], 12, 24), a=entry("F32", [3], 0, 12)),
            bytes(24)),
        # Hostile: one per check of the loader.
        "bad_empty_file": b"",
        "bad_too_short": b"abcde",
        "bad_header_beyond_file": raw_file("{}", length=1000),
        "bad_header_length_max": raw_file("{}", length=2**64 - 1),
        "bad_header_not_json": raw_file('{"w": nonsense'),
        "bad_header_empty": raw_file(""),
        "bad_header_nul": raw_file(b"{}\0\0"),
        "bad_header_array": raw_file("[1, 2]"),
        "bad_header_invalid_utf8": raw_file(
            b'{"w\xff":' + header(x=entry("F32", [0], 0, 0)).encode()[5:]),
        "bad_header_lone_surrogate": raw_file(
            '{"\\ud800":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'),
        "bad_entry_not_object": raw_file('{"w": 3}'),
        "bad_missing_offsets": raw_file('{"w":{"dtype":"F32","shape":[2]}}'),
        "bad_dtype_not_string": raw_file(
            '{"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}', bytes(8)),
        "bad_unknown_dtype": raw_file(header(w=entry("F99", [2], 0, 8)),
                                      bytes(8)),
        "bad_shape_float": raw_file(header(w=entry("F32", [2.5], 0, 8)),
                                    bytes(8)),
        "bad_negative_dim": raw_file(header(w=entry("F32", [-2], 0, 8)),
                                     bytes(8)),
        "bad_offsets_negative": raw_file(header(w=entry("F32", [2], -8, 0))),
        "bad_offsets_begin_after_end": raw_file(
            header(w=entry("F32", [0], 8, 4)), bytes(24)),
        "bad_offsets_out_of_range": raw_file(
            header(w=entry("F32", [2], 2**64 - 8, 2**64 - 1)), bytes(8)),
        "bad_element_count_overflow": raw_file(
            header(w=entry("F32", [2**32, 2**32], 0, 0))),
        "bad_byte_count_overflow": raw_file(
            header(w=entry("F64", [2**62], 0, 0))),
        "bad_nbytes_disagree": raw_file(header(w=entry("F32", [2, 3], 0, 20)),
                                        bytes(24)),
        "bad_truncated_data": raw_file(header(w=entry("F32", [2, 3], 0, 24)),
                                       bytes(20)),
        "bad_overlap": raw_file(
            header(a=entry("F32", [4], 0, 16), b=entry("F32", [4], 8, 24)),
            bytes(24)),
        "bad_duplicate_name": raw_file(
            '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
            '"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
            bytes(16)),
        "bad_duplicate_key": raw_file(
            '{"w":{"dtype":"F32","dtype":"F64","shape":[2],'
            '"data_offsets":[0,8]}}', bytes(8)),
        "bad_metadata_not_string": raw_file('{"__metadata__":{"n":1}}'),
        "bad_deep_nesting": raw_file("[" * 2000 + "]" * 2000),
    }
    # A valid file cut inside its data.
    files["bad_truncated_valid"] = files["valid_linear"][:-5]
    return files


def reset(directory):
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(directory)


def main():
    rng = np.random.default_rng(7)

    frontend = os.path.join(CORPUS, "fuzz-frontend")
    reset(frontend)
    sources = [os.path.join(ROOT, "models", f)
               for f in sorted(os.listdir(os.path.join(ROOT, "models")))
               if f.endswith(".mlp")]
    for dirpath, _, names in sorted(os.walk(os.path.join(ROOT, "test",
                                                         "frontend"))):
        sources += [os.path.join(dirpath, n) for n in sorted(names)
                    if n.endswith(".mlp")]
    for path in sources:
        rel = os.path.relpath(path, ROOT).replace(os.sep, "_")
        shutil.copyfile(path, os.path.join(frontend, rel))

    weights = os.path.join(CORPUS, "fuzz-safetensors")
    reset(weights)
    for name, data in sorted(safetensors_corpus(rng).items()):
        with open(os.path.join(weights, name + ".safetensors"), "wb") as f:
            f.write(data)

    # The runtime harness decodes any bytes into a call; a few patterns of
    # different lengths get it going.
    args = os.path.join(CORPUS, "fuzz-runtime-args")
    reset(args)
    seeds = {"zeros_64": bytes(64), "zeros_512": bytes(512),
             "ones_64": b"\xff" * 64,
             "random_256": rng.integers(0, 256, 256, dtype=np.uint8).tobytes()}
    for name, data in sorted(seeds.items()):
        with open(os.path.join(args, name), "wb") as f:
            f.write(data)

    total = sum(os.path.getsize(os.path.join(d, f))
                for d in (frontend, weights, args) for f in os.listdir(d))
    print(f"make_corpus: {len(sources)} .mlp files, "
          f"{len(os.listdir(weights))} safetensors files, "
          f"{len(os.listdir(args))} runtime seeds, {total} bytes in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
