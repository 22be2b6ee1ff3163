"""ctypes mirror of runtime/include/mlp/runtime.h and the DLPack 0.6 structs.

Nothing here knows about models; `mlpc.Model` builds on it. The layouts follow
/usr/include/dlpack/dlpack.h (DLPACK_VERSION 60):

    typedef struct { DLDeviceType device_type; int device_id; } DLDevice;
    typedef struct { uint8_t code; uint8_t bits; uint16_t lanes; } DLDataType;
    typedef struct { void* data; DLDevice device; int ndim; DLDataType dtype;
                     int64_t* shape; int64_t* strides; uint64_t byte_offset; } DLTensor;
"""

import ctypes

import numpy as np

# DLDeviceType / DLDataTypeCode (dlpack.h); kDLBool only exists from DLPack 0.8
# on, the runtime accepts its value anyway.
kDLCPU = 1
kDLCUDA = 2
kDLInt = 0
kDLUInt = 1
kDLFloat = 2
kDLBfloat = 4
kDLComplex = 5
kDLBool = 6

# mlp_status (runtime.h), value -> name. mlp_status_string() is preferred when
# a library is at hand; this table names codes without one.
STATUS_NAMES = {
    0: "MLP_OK",
    1: "MLP_ERR_INVALID_ARGUMENT",
    2: "MLP_ERR_SHAPE",
    3: "MLP_ERR_DTYPE",
    4: "MLP_ERR_DEVICE",
    5: "MLP_ERR_LAYOUT",
    6: "MLP_ERR_IO",
    7: "MLP_ERR_FORMAT",
    8: "MLP_ERR_MISSING_TENSOR",
    9: "MLP_ERR_OUT_OF_MEMORY",
    10: "MLP_ERR_INTERNAL",
}
MLP_OK = 0
ABI_VERSION = 1


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", DLDevice),
        ("ndim", ctypes.c_int),
        ("dtype", DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class TensorInfo(ctypes.Structure):
    """mlp_tensor_info."""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", DLDataType),
        ("ndim", ctypes.c_int32),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
    ]


# Sanity checks against the C layout on LP64 (x86-64 / aarch64 Linux).
assert ctypes.sizeof(DLDataType) == 4
assert ctypes.sizeof(DLDevice) == 8
assert ctypes.sizeof(DLTensor) == 48
assert DLTensor.byte_offset.offset == 40


# (code, bits) -> (name as the runtime spells it, NumPy dtype). bfloat16 has no
# NumPy dtype: its tensors travel as uint16 arrays holding the raw bits.
_DL_TO_NUMPY = {
    (kDLFloat, 16): ("float16", np.dtype(np.float16)),
    (kDLFloat, 32): ("float32", np.dtype(np.float32)),
    (kDLFloat, 64): ("float64", np.dtype(np.float64)),
    (kDLBfloat, 16): ("bfloat16", np.dtype(np.uint16)),
    (kDLInt, 8): ("int8", np.dtype(np.int8)),
    (kDLInt, 16): ("int16", np.dtype(np.int16)),
    (kDLInt, 32): ("int32", np.dtype(np.int32)),
    (kDLInt, 64): ("int64", np.dtype(np.int64)),
    (kDLUInt, 8): ("uint8", np.dtype(np.uint8)),
    (kDLUInt, 16): ("uint16", np.dtype(np.uint16)),
    (kDLUInt, 32): ("uint32", np.dtype(np.uint32)),
    (kDLUInt, 64): ("uint64", np.dtype(np.uint64)),
    (kDLBool, 8): ("bool", np.dtype(np.bool_)),
    (kDLComplex, 64): ("complex64", np.dtype(np.complex64)),
    (kDLComplex, 128): ("complex128", np.dtype(np.complex128)),
}


def dl_dtype_to_numpy(dtype):
    """DLDataType -> (runtime dtype name, NumPy dtype or None if unknown)."""
    key = (int(dtype.code), int(dtype.bits))
    if int(dtype.lanes) == 1 and key in _DL_TO_NUMPY:
        return _DL_TO_NUMPY[key]
    return ("dtype(code=%d, bits=%d, lanes=%d)" % (dtype.code, dtype.bits, dtype.lanes),
            None)


def numpy_to_dl_dtype(dtype):
    """The DLDataType of a NumPy dtype as it is laid out in memory, or None
    when DLPack cannot describe it (non-native byte order, objects, strings,
    structured or datetime dtypes)."""
    dtype = np.dtype(dtype)
    if not dtype.isnative or dtype.fields is not None or dtype.subdtype is not None:
        return None
    kind = dtype.kind
    bits = dtype.itemsize * 8
    if kind == "f":
        code = kDLFloat
    elif kind == "i":
        code = kDLInt
    elif kind == "u":
        code = kDLUInt
    elif kind == "b":
        code = kDLBool
    elif kind == "c":
        code = kDLComplex
    else:
        return None
    if bits > 255:  # float128 and friends
        return None
    return DLDataType(code, bits, 1)


def bind(lib):
    """Declares the argument and result types of the runtime.h functions in
    the ctypes library `lib`; raises AttributeError if one is missing."""
    c_model_p = ctypes.c_void_p
    status = ctypes.c_int  # a C enum is an int
    sigs = {
        "mlp_status_string": (ctypes.c_char_p, [status]),
        "mlp_last_error": (ctypes.c_char_p, []),
        "mlp_abi_version": (ctypes.c_int32, []),
        "mlp_model_name": (ctypes.c_char_p, []),
        "mlp_model_create": (status, [ctypes.c_char_p, ctypes.POINTER(c_model_p)]),
        "mlp_model_destroy": (None, [c_model_p]),
        "mlp_model_num_inputs": (ctypes.c_int32, [c_model_p]),
        "mlp_model_num_outputs": (ctypes.c_int32, [c_model_p]),
        "mlp_model_input_info": (status, [c_model_p, ctypes.c_int32,
                                          ctypes.POINTER(TensorInfo)]),
        "mlp_model_output_info": (status, [c_model_p, ctypes.c_int32,
                                           ctypes.POINTER(TensorInfo)]),
        "mlp_model_run": (status, [c_model_p, ctypes.POINTER(DLTensor), ctypes.c_int32,
                                   ctypes.POINTER(DLTensor), ctypes.c_int32]),
        "mlp_set_num_threads": (status, [ctypes.c_int32]),
        "mlp_get_num_threads": (ctypes.c_int32, []),
        "mlp_model_set_memory_limit": (status, [c_model_p, ctypes.c_uint64]),
        "mlp_model_working_memory": (ctypes.c_uint64, [c_model_p, ctypes.c_int64]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    # Device selection and asynchronous runs (CUDA); bound when present.
    optional = {
        "mlp_model_create_on_device": (status, [ctypes.c_char_p, DLDevice,
                                                ctypes.POINTER(c_model_p)]),
        "mlp_model_run_async": (status, [c_model_p, ctypes.POINTER(DLTensor), ctypes.c_int32,
                                         ctypes.POINTER(DLTensor), ctypes.c_int32,
                                         ctypes.c_void_p]),
    }
    for name, (restype, argtypes) in optional.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    return lib
