"""Reading and writing .safetensors files in pure Python + NumPy.

The format (https://github.com/huggingface/safetensors):

    8 bytes    N, little-endian uint64: the length of the header
    N bytes    JSON object {name: {"dtype": "F32", "shape": [..],
                                   "data_offsets": [begin, end]}, ...,
                            "__metadata__": {str: str}}   (optional)
               padded with spaces so the data starts 8-byte aligned
    rest       the tensors' bytes, little-endian, row-major; offsets are
               relative to the start of this section

bfloat16 and the 8-bit float formats have no NumPy dtype: they are read as
uint16 / uint8 arrays holding the raw bits, and written from such arrays by
naming their dtype in `dtypes` (see `to_bfloat16` / `from_bfloat16`).
"""

import json
import os
import tempfile

import numpy as np

# The reference implementation refuses larger headers.
MAX_HEADER_BYTES = 100 * 1024 * 1024

# safetensors code -> NumPy dtype used to hold it (little-endian).
_CODE_TO_NUMPY = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "F8_E5M2": np.dtype("u1"),
    "F8_E4M3": np.dtype("u1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
    "F64": np.dtype("<f8"),
}

# (NumPy kind, itemsize) -> safetensors code, for writing.
_NUMPY_TO_CODE = {
    ("b", 1): "BOOL",
    ("u", 1): "U8",
    ("i", 1): "I8",
    ("i", 2): "I16",
    ("u", 2): "U16",
    ("f", 2): "F16",
    ("i", 4): "I32",
    ("u", 4): "U32",
    ("f", 4): "F32",
    ("i", 8): "I64",
    ("u", 8): "U64",
    ("f", 8): "F64",
}


class SafetensorsError(ValueError):
    """A file is not valid safetensors, or tensors cannot be stored."""


def _code_for(name, array, dtypes):
    code = (dtypes or {}).get(name)
    if code is not None:
        if code not in _CODE_TO_NUMPY:
            raise SafetensorsError("tensor '%s': unknown safetensors dtype %r" % (name, code))
        if _CODE_TO_NUMPY[code].itemsize != array.dtype.itemsize:
            raise SafetensorsError(
                "tensor '%s': dtype %s needs %d-byte elements, the array has %s"
                % (name, code, _CODE_TO_NUMPY[code].itemsize, array.dtype))
        return code
    key = (array.dtype.kind, array.dtype.itemsize)
    if key not in _NUMPY_TO_CODE:
        raise SafetensorsError("tensor '%s': NumPy dtype %s cannot be stored in safetensors"
                               % (name, array.dtype))
    return _NUMPY_TO_CODE[key]


def save_safetensors(tensors, path, metadata=None, dtypes=None):
    """Writes `tensors` ({name: array-like}) to `path` as safetensors.

    metadata: optional {str: str} stored as "__metadata__".
    dtypes: optional {name: code} to store an array under another code of the
    same element size, e.g. {"fc1.weight": "BF16"} for a uint16 array holding
    bfloat16 bits.

    The file is written to a temporary file next to `path` and renamed, so a
    reader never sees a partial file. Tensors are laid out by decreasing
    element size, so each one is naturally aligned in the file.
    """
    path = os.fspath(path)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise SafetensorsError("metadata must be a dict of str to str")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise SafetensorsError("tensor names must be strings, got %r" % (name,))
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is reserved and cannot name a tensor")
        array = np.asarray(value)
        code = _code_for(name, array, dtypes)
        # Little-endian, compact row-major bytes; the values are not changed.
        little = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
        arrays[name] = (code, np.asarray(array, dtype=little, order="C"))

    order = sorted(arrays, key=lambda n: (-arrays[n][1].dtype.itemsize, n))
    header = {}
    offset = 0
    for name in order:
        code, array = arrays[name]
        header[name] = {"dtype": code, "shape": [int(d) for d in array.shape],
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates it 0600
        with os.fdopen(fd, "wb") as f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for name in order:
                array = arrays[name][1]
                if array.nbytes:
                    f.write(array.reshape(-1).view(np.uint8).data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _read_header(f, path, file_size):
    prefix = f.read(8)
    if len(prefix) != 8:
        raise SafetensorsError("%s: file too short for a safetensors header" % path)
    n = int.from_bytes(prefix, "little")
    if n > MAX_HEADER_BYTES or 8 + n > file_size:
        raise SafetensorsError("%s: header length %d is invalid for a %d-byte file"
                               % (path, n, file_size))
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError("%s: header is not valid JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise SafetensorsError("%s: header is not a JSON object" % path)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SafetensorsError("%s: __metadata__ is not an object" % path)
    data_size = file_size - 8 - n
    spans = []
    for name, entry in header.items():
        try:
            code = entry["dtype"]
            shape = [int(d) for d in entry["shape"]]
            begin, end = (int(o) for o in entry["data_offsets"])
        except (TypeError, KeyError, ValueError):
            raise SafetensorsError("%s: tensor '%s' has an invalid entry %r" % (path, name, entry))
        if code not in _CODE_TO_NUMPY:
            raise SafetensorsError("%s: tensor '%s' has unsupported dtype %r" % (path, name, code))
        if any(d < 0 for d in shape):
            raise SafetensorsError("%s: tensor '%s' has a negative dimension" % (path, name))
        nbytes = int(np.prod(shape, dtype=np.int64)) * _CODE_TO_NUMPY[code].itemsize
        if not (0 <= begin <= end <= data_size) or end - begin != nbytes:
            raise SafetensorsError(
                "%s: tensor '%s' (%s %s) has data_offsets [%d, %d] that do not fit "
                "its %d bytes in the %d-byte data section"
                % (path, name, code, shape, begin, end, nbytes, data_size))
        entry["shape"] = shape
        entry["data_offsets"] = [begin, end]
        spans.append((begin, end, name))
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise SafetensorsError("%s: tensors '%s' and '%s' overlap" % (path, n0, n1))
    return n, header, metadata


def read_safetensors_header(path):
    """Returns ({name: {"dtype", "shape", "data_offsets"}}, metadata) of a
    safetensors file without reading its data."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        _, header, metadata = _read_header(f, path, os.fstat(f.fileno()).st_size)
    return header, metadata


def load_safetensors(path):
    """Reads a safetensors file into {name: NumPy array} (native byte order).

    BF16 tensors come back as uint16 arrays of raw bits (`from_bfloat16`
    converts them), F8 ones as uint8.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        n, header, _ = _read_header(f, path, size)
        data = bytearray(size - 8 - n)
        view = memoryview(data)
        got = 0
        while got < len(data):
            k = f.readinto(view[got:])
            if not k:
                raise SafetensorsError("%s: file shrank while reading" % path)
            got += k
    out = {}
    for name, entry in header.items():
        dtype = _CODE_TO_NUMPY[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // dtype.itemsize
        array = np.frombuffer(data, dtype=dtype, count=count, offset=begin)
        array = array.reshape(entry["shape"])
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        elif not array.flags.aligned:
            array = array.copy()
        out[name] = array
    return out


def to_bfloat16(array):
    """float32 values -> uint16 bfloat16 bits, rounding to nearest even."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    nan = np.isnan(bits.view(np.float32))
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return np.where(nan, np.uint16(0x7FC0), rounded.astype(np.uint16))


def from_bfloat16(bits):
    """uint16 bfloat16 bits -> float32 values (exact)."""
    bits = np.ascontiguousarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)
