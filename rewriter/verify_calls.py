"""Calling the original and the rewrite on the same arguments.

Both `verify` and `verify_distribution` classify their arguments (data or
static), hand the original fresh NumPy copies and the rewrite tensors, run the
rewrite on the chosen device, and flatten either side's outputs into
:class:`Leaf` records that can be compared.  The dtype helpers (bfloat16
counts as floating point, complex uses its component type) and the
per-dtype epsilons live here because every other `verify_*` module needs them.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import tensorflow as tf

# dtype name -> (machine epsilon, rtol floor, rtol cap)
VALUE_TOL = {
    "float64": (2.0**-52, 1e-10, 1e-7),
    "float32": (2.0**-23, 1e-5, 1e-4),
    "float16": (2.0**-10, 1e-2, 5e-2),
    "bfloat16": (2.0**-7, 5e-2, 2e-1),
}


# --------------------------------------------------------------------------
# dtypes and devices
# --------------------------------------------------------------------------


def quiet_call(fn, *args):
    """Call ``fn`` with NumPy floating-point warnings silenced."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def is_tensor(x) -> bool:
    return isinstance(x, (tf.Tensor, tf.Variable))


def _dtype_name(dt) -> str:
    return np.dtype(dt).name


def is_real_float(dt) -> bool:
    name = _dtype_name(dt)
    return name in VALUE_TOL


def is_complex(dt) -> bool:
    return np.dtype(dt).kind == "c"


def dtype_kind(dt) -> str:
    """``dtype.kind``, except that bfloat16 (an ml_dtypes extension type) is 'f'."""
    dt = np.dtype(dt)
    return "f" if dt.name in VALUE_TOL else dt.kind


def component_name(dt) -> str:
    """float dtype name used for tolerances (complex -> component type)."""
    name = _dtype_name(dt)
    if name == "complex64":
        return "float32"
    if name == "complex128":
        return "float64"
    return name if name in VALUE_TOL else "float64"


def resolve_device(device: str | None) -> str:
    logical = tf.config.list_logical_devices()
    if device is None:
        gpus = [d for d in logical if d.device_type == "GPU"]
        cpus = [d for d in logical if d.device_type == "CPU"]
        return (gpus or cpus or logical)[0].name
    if not isinstance(device, str) or not device.strip():
        raise ValueError(f"device must be a device string such as '/CPU:0', got {device!r}")
    text = device.strip()
    try:
        spec = tf.DeviceSpec.from_string(text if text.startswith("/") else "/" + text)
    except Exception:
        spec = None
    if spec is not None and spec.device_type:
        want_type = spec.device_type.upper()
        want_index = spec.device_index if spec.device_index is not None else 0
        for d in logical:
            ds = tf.DeviceSpec.from_string(d.name)
            if ds.device_type.upper() == want_type and (ds.device_index or 0) == want_index:
                return d.name
    available = ", ".join(d.name for d in logical) or "none"
    raise ValueError(f"unknown device {device!r}; TensorFlow sees: {available}")


# --------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------


DATA_KINDS = ("array", "npscalar", "tensor")


def classify_args(args) -> tuple[list[str], list[Any]]:
    kinds, values = [], []
    for a in args:
        if is_tensor(a):
            kinds.append("tensor")
            values.append(np.array(a.numpy()))
        elif isinstance(a, (tf.RaggedTensor, tf.SparseTensor)):
            raise TypeError(f"verify does not support {type(a).__name__} arguments")
        elif isinstance(a, np.ndarray):
            kinds.append("array")
            values.append(a)
        elif isinstance(a, np.generic):
            kinds.append("npscalar")
            values.append(a)
        else:
            kinds.append("static")
            values.append(a)
    return kinds, values


def np_call_args(kinds, values):
    out = []
    for k, v in zip(kinds, values):
        if k in ("array", "tensor"):
            out.append(np.array(v, copy=True))
        else:
            out.append(v)
    return out


def tf_call_args(kinds, values):
    return [tf.constant(v) if k in DATA_KINDS else v for k, v in zip(kinds, values)]


def describe_args(kinds, values) -> str:
    parts = []
    for i, (k, v) in enumerate(zip(kinds, values)):
        if k in DATA_KINDS:
            arr = np.asarray(v)
            parts.append(f"#{i} {tuple(arr.shape)} {arr.dtype.name}")
        else:
            shown = f" {v!r}" if isinstance(v, (int, float, bool)) else ""
            parts.append(f"#{i} {type(v).__name__}{shown}")
    return ", ".join(parts)


# --------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------


def output_leaves(out, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(out, (tuple, list)):
        res = []
        for i, o in enumerate(out):
            res.extend(output_leaves(o, f"{path}[{i}]" if path else str(i)))
        return res
    if isinstance(out, dict):
        res = []
        for key in sorted(out, key=repr):
            res.extend(output_leaves(out[key], f"{path}[{key!r}]" if path else repr(key)))
        return res
    return [(path or "0", out)]


@dataclasses.dataclass
class Leaf:
    path: str
    value: Any  # numpy array, or None
    dtype: np.dtype | None
    pyint: bool  # a Python int (matches any integer dtype)
    device: str | None = None


def np_leaf(path, x) -> Leaf:
    if x is None:
        return Leaf(path, None, None, False)
    pyint = isinstance(x, int) and not isinstance(x, (bool, np.generic))
    arr = np.asarray(x)
    return Leaf(path, arr, arr.dtype, pyint)


def tf_leaf(path, x) -> Leaf:
    if is_tensor(x):
        arr = np.asarray(x.numpy())
        try:
            dev = x.device
        except Exception:  # pragma: no cover - symbolic tensors
            dev = None
        return Leaf(path, arr, np.dtype(x.dtype.as_numpy_dtype), False, dev or None)
    if isinstance(x, (tf.RaggedTensor, tf.SparseTensor, tf.IndexedSlices)):
        raise TypeError(f"unsupported rewrite output type {type(x).__name__} at output {path}")
    return np_leaf(path, x)

