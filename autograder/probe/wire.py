"""The one format that crosses between the grading process and the worker: JSON plus raw buffers.

A message is ``<header length: uint32><buffer count: uint32><header: UTF-8 JSON>`` followed by each
buffer as ``<length: uint64><bytes>``. Reading one runs no code of the sender's: JSON is parsed,
tags are matched against a fixed list, and tensors are rebuilt from raw bytes with a dtype from a
fixed list and a shape that must account for every byte. Never pickle.

Values (``encode`` / ``decode``):

- ``None``, ``bool``, ``int``, ``float``, ``str`` as JSON; a ``list`` as a JSON array;
- tagged objects ``{"$": tag, ...}`` for everything else: ``tuple``, ``dict`` (keys of any
  encodable type, order kept), ``tensor`` (dtype, shape, device, requires_grad, a buffer),
  ``ndarray``, ``bytes``, ``dtype``, ``device``, ``size`` (``torch.Size``), and ``handle``:
  an object that stays on the worker's side, known to the other side by a number.

Which objects become handles is the caller's choice (``to_handle``); anything else that is not
plain data cannot be sent and raises :class:`WireError`.
"""

from __future__ import annotations

import json
import os
import struct
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch

HEADER = struct.Struct("<II")
BUFFER_LENGTH = struct.Struct("<Q")
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_MESSAGE_BYTES = 4 * 1024 ** 3
"""A message larger than this is refused (a full CIFAR-10 split is 150 MB, VGG's weights 37 MB)."""

TENSOR_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16, torch.int8,
    torch.uint8, torch.bool, torch.complex64, torch.complex128)}
ARRAY_DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}


class WireError(ValueError):
    """A value cannot be sent, or a message is not one this format allows."""


class ChannelClosed(EOFError):
    """The other end closed the channel (the worker ended, or the grading process went away)."""


class Handle:
    """An object kept on the worker's side: its number and what the worker says it is."""

    __slots__ = ("id", "type")

    def __init__(self, id: int, type: dict | None = None):
        self.id = id
        self.type = type or {}

    def __repr__(self) -> str:
        return f"Handle({self.id}, {self.type.get('name', '?')})"


# ---------------------------------------------------------------- values


def encode(value: Any, buffers: list[bytes], to_handle: Callable[[Any], dict] | None = None) -> Any:
    """``value`` as JSON-ready data; tensor and array bytes are appended to ``buffers``.

    ``to_handle(obj)`` turns an object that is not plain data into ``{"$": "handle", ...}``; without
    it such an object raises :class:`WireError`.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value
    if isinstance(value, Handle):
        return {"$": "handle", "id": value.id}
    if isinstance(value, torch.Tensor) and type(value) in (torch.Tensor, torch.nn.Parameter) \
            and value.layout == torch.strided:
        return _encode_tensor(value, buffers)
    if isinstance(value, np.ndarray) and value.dtype.name in ARRAY_DTYPES:
        buffers.append(np.ascontiguousarray(value).tobytes())
        return {"$": "ndarray", "dtype": value.dtype.name, "shape": list(value.shape), "b": len(buffers) - 1}
    if isinstance(value, np.generic) and value.dtype.name in ARRAY_DTYPES:
        return value.item()
    if isinstance(value, torch.Size):
        return {"$": "size", "v": [int(n) for n in value]}
    if isinstance(value, list) and type(value) is list:
        return [encode(v, buffers, to_handle) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return {"$": "tuple", "v": [encode(v, buffers, to_handle) for v in value]}
    if isinstance(value, dict) and type(value) in (dict, OrderedDict):
        return {"$": "dict", "v": [[encode(k, buffers, to_handle), encode(v, buffers, to_handle)]
                                   for k, v in value.items()]}
    if isinstance(value, torch.dtype):
        return {"$": "dtype", "v": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"$": "device", "v": str(value)}
    if isinstance(value, (bytes, bytearray)):
        buffers.append(bytes(value))
        return {"$": "bytes", "b": len(buffers) - 1}
    if to_handle is not None:
        return to_handle(value)
    raise WireError(f"cannot send a {type(value).__module__}.{type(value).__qualname__}")


def _encode_tensor(tensor: torch.Tensor, buffers: list[bytes]) -> dict:
    name = str(tensor.dtype).removeprefix("torch.")
    if name not in TENSOR_DTYPES:
        raise WireError(f"cannot send a tensor of dtype {tensor.dtype}")
    data = tensor.detach()
    if data.is_conj():
        data = data.resolve_conj()
    data = data.to("cpu").contiguous().reshape(-1)
    raw = data.view(torch.uint8) if data.dtype != torch.bool else data
    buffers.append(raw.numpy().tobytes())
    return {"$": "tensor", "dtype": name, "shape": list(tensor.shape), "device": str(tensor.device),
            "grad": bool(tensor.requires_grad), "b": len(buffers) - 1}


def decode(data: Any, buffers: list[bytes], from_handle: Callable[[dict], Any] | None = None,
           devices: Callable[[str], str] | None = None) -> Any:
    """The value ``data`` (from :func:`encode`) stands for. ``from_handle`` resolves ``handle``
    entries (without it they become :class:`Handle`); ``devices`` maps a sender's device to one
    that exists here (default: the same name)."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, buffers, from_handle, devices) for v in data]
    if not isinstance(data, dict) or not isinstance(data.get("$"), str):
        raise WireError("malformed value")
    tag = data["$"]
    if tag == "tuple":
        return tuple(decode(v, buffers, from_handle, devices) for v in _list(data, "v"))
    if tag == "dict":
        pairs = _list(data, "v")
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise WireError("malformed dict")
        return {_hashable(decode(k, buffers, from_handle, devices)): decode(v, buffers, from_handle, devices)
                for k, v in pairs}
    if tag == "tensor":
        return _decode_tensor(data, buffers, devices)
    if tag == "ndarray":
        dtype = data.get("dtype")
        if dtype not in ARRAY_DTYPES:
            raise WireError(f"unknown array dtype {dtype!r}")
        shape = _shape(data)
        raw = _buffer(data, buffers)
        if len(raw) != int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize:
            raise WireError("array bytes do not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if tag == "size":
        return torch.Size(_ints(_list(data, "v")))
    if tag == "dtype":
        if data.get("v") not in TENSOR_DTYPES:
            raise WireError(f"unknown dtype {data.get('v')!r}")
        return TENSOR_DTYPES[data["v"]]
    if tag == "device":
        return torch.device(_device(str(data.get("v")), devices))
    if tag == "bytes":
        return _buffer(data, buffers)
    if tag == "handle":
        if not isinstance(data.get("id"), int):
            raise WireError("malformed handle")
        return from_handle(data) if from_handle is not None else Handle(data["id"], data.get("type"))
    raise WireError(f"unknown tag {tag!r}")


def _decode_tensor(data: dict, buffers: list[bytes], devices) -> torch.Tensor:
    dtype = TENSOR_DTYPES.get(data.get("dtype"))
    if dtype is None:
        raise WireError(f"unknown tensor dtype {data.get('dtype')!r}")
    shape = _shape(data)
    raw = _buffer(data, buffers)
    count = 1
    for n in shape:
        count *= n
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != count * itemsize:
        raise WireError("tensor bytes do not match its shape")
    if count == 0:
        tensor = torch.empty(shape, dtype=dtype)
    else:
        tensor = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
        tensor = (tensor.view(dtype) if dtype != torch.bool else tensor.bool()).reshape(shape)
    device = _device(str(data.get("device", "cpu")), devices)
    if device != "cpu":
        tensor = tensor.to(device)
    if data.get("grad") is True and (dtype.is_floating_point or dtype.is_complex):
        tensor.requires_grad_(True)
    return tensor


def _device(name: str, devices) -> str:
    if devices is not None:
        return devices(name)
    try:
        return str(torch.device(name))
    except (RuntimeError, ValueError) as error:
        raise WireError(f"unknown device {name!r}") from error


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise WireError(f"malformed {data.get('$')}")
    return value


def _ints(values: list) -> list[int]:
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in values):
        raise WireError("malformed shape")
    return values


def _shape(data: dict) -> list[int]:
    return _ints(_list(data, "shape"))


def _buffer(data: dict, buffers: list[bytes]) -> bytes:
    index = data.get("b")
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise WireError("malformed buffer reference")
    return buffers[index]


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        raise WireError("a dict key that cannot be a key") from None
    return key


# ---------------------------------------------------------------- messages


def pack(header: Any, buffers: list[bytes]) -> bytes:
    """One message: the JSON ``header`` and its buffers."""
    text = json.dumps(header, separators=(",", ":")).encode()
    parts = [HEADER.pack(len(text), len(buffers)), text]
    for buffer in buffers:
        parts += [BUFFER_LENGTH.pack(len(buffer)), buffer]
    return b"".join(parts)


def send(fd: int, header: Any, buffers: list[bytes]) -> None:
    """Write one message to the file descriptor ``fd``."""
    data = memoryview(pack(header, buffers))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def read_exactly(fd: int, n: int) -> bytes:
    """``n`` bytes from ``fd``; :class:`ChannelClosed` at end of file."""
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 24))
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, read: Callable[[int, int], bytes] = read_exactly) -> tuple[Any, list[bytes]]:
    """One message from ``fd``: (header, buffers). ``read(fd, n)`` reads exactly ``n`` bytes."""
    header_length, count = HEADER.unpack(read(fd, HEADER.size))
    if header_length > MAX_HEADER_BYTES or count > 1_000_000:
        raise WireError("message header too large")
    try:
        header = json.loads(read(fd, header_length))
    except (UnicodeDecodeError, ValueError) as error:
        raise WireError(f"malformed message: {error}") from None
    buffers, total = [], header_length
    for _ in range(count):
        (length,) = BUFFER_LENGTH.unpack(read(fd, BUFFER_LENGTH.size))
        total += length
        if total > MAX_MESSAGE_BYTES:
            raise WireError("message too large")
        buffers.append(read(fd, length))
    return header, buffers
