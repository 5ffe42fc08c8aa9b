"""Minimal, dependency-free (numpy + torch) safetensors writer/reader.

Format: u64 little-endian header length N, then N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
space-padded so that 8 + N is a multiple of 8, then the raw little-endian tensor
bytes, contiguous from offset 0 in the order the offsets say.

Only the dtypes the fixtures use are supported (F32, I64; F64/I32/I8/U8/BOOL/F16 for
convenience). The writer is deterministic and mirrors the Rust `safetensors` library
(0.3.x/0.4.x): "__metadata__" first (caller's key order), then tensors sorted by
(dtype size descending, name), laid out in that order. Re-saving every shared
transformers-4.31 fixture with this writer reproduces it byte-for-byte.
"""
import json
import struct

import numpy as np
import torch

_NP = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32,
       "F16": np.float16, "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8}
_TORCH2ST = {torch.float32: "F32", torch.int64: "I64", torch.float64: "F64",
             torch.int32: "I32", torch.float16: "F16", torch.bool: "BOOL"}


def save(path, tensors, metadata=None):
    """tensors: {name: torch.Tensor | np.ndarray}; metadata: {str: str} or None."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0

    def _key(name):
        t = tensors[name]
        size = t.element_size() if isinstance(t, torch.Tensor) else np.asarray(t).dtype.itemsize
        return (-size, name)

    for name in sorted(tensors, key=_key):
        t = tensors[name]
        if isinstance(t, torch.Tensor):
            dtype = _TORCH2ST[t.dtype]
            arr = t.detach().cpu().contiguous().numpy()
        else:
            arr = np.ascontiguousarray(t)
            dtype = {v: k for k, v in _NP.items()}[arr.dtype.type]
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    meta = header.pop("__metadata__", None)
    ordered = {}
    if meta is not None:
        ordered["__metadata__"] = meta
    ordered.update(header)
    hjson = json.dumps(ordered, separators=(",", ":")).encode("utf-8")
    pad = (8 - (8 + len(hjson)) % 8) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns ({name: torch.Tensor}, metadata dict or {})."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    end_max = 0
    for name, info in header.items():
        b, e = info["data_offsets"]
        end_max = max(end_max, e)
        dt = np.dtype(_NP[info["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(raw[base + b:base + e], dtype=dt).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True))
    if base + end_max != len(raw):
        raise ValueError(f"{path}: trailing/missing bytes ({base + end_max} vs {len(raw)})")
    return out, meta
