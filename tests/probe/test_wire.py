"""The wire format: values survive the trip, and reading a message runs nothing and accepts nothing else."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from autograder.probe import wire


def round_trip(value):
    buffers: list[bytes] = []
    header = {"v": wire.encode(value, buffers)}
    read, write = os.pipe()
    try:
        data = wire.pack(header, buffers)
        os.write(write, data)
        os.close(write)
        got, got_buffers = wire.receive(read)
    finally:
        os.close(read)
    return wire.decode(got["v"], got_buffers)


@pytest.mark.parametrize("dtype", sorted(wire.TENSOR_DTYPES.values(), key=str))
def test_tensors_of_every_dtype_come_back_equal(dtype):
    values = torch.arange(12).reshape(3, 4) % 2 if dtype == torch.bool else torch.randn(3, 4).mul(5)
    tensor = values.to(dtype)
    back = round_trip(tensor)
    assert back.dtype == dtype and back.shape == tensor.shape and torch.equal(back, tensor)


def test_odd_tensors_and_plain_values_come_back():
    value = {"scalar": torch.tensor(7), "empty": torch.empty(0, 3), "strided": torch.arange(20.0).reshape(4, 5).T,
             "grad": torch.ones(2, requires_grad=True), ("tuple", 1): (1, 2.5, None, True, "x"),
             "list": [torch.Size([2, 3]), torch.float64, torch.device("cpu"), b"\x00png"],
             "array": np.arange(6, dtype=np.uint8).reshape(2, 3)}
    back = round_trip(value)
    assert list(back) == list(value)
    assert torch.equal(back["scalar"], value["scalar"]) and back["empty"].shape == (0, 3)
    assert torch.equal(back["strided"], value["strided"]) and back["grad"].requires_grad
    assert back[("tuple", 1)] == (1, 2.5, None, True, "x")
    assert back["list"] == [torch.Size([2, 3]), torch.float64, torch.device("cpu"), b"\x00png"]
    assert np.array_equal(back["array"], value["array"])


def test_anything_else_cannot_be_sent_without_a_handle():
    with pytest.raises(wire.WireError, match="cannot send"):
        wire.encode(object(), [])
    assert wire.encode(object(), [], lambda obj: {"$": "handle", "id": 5}) == {"$": "handle", "id": 5}


def _message(header: dict, buffers: list[bytes]) -> bytes:
    return wire.pack(header, buffers)


@pytest.mark.parametrize("value, buffers, error", [
    ({"$": "pickle", "b": 0}, [pickle.dumps(print)], "unknown tag"),
    ({"$": "tensor", "dtype": "object", "shape": [1], "b": 0}, [b"x"], "unknown tensor dtype"),
    ({"$": "tensor", "dtype": "float32", "shape": [3], "b": 0}, [b"\x00" * 8], "do not match"),
    ({"$": "tensor", "dtype": "float32", "shape": [-1], "b": 0}, [b""], "malformed shape"),
    ({"$": "tensor", "dtype": "float32", "shape": [1], "b": 3}, [b"\x00" * 4], "buffer reference"),
    ({"$": "dict", "v": [[[1, 2], 3]]}, [], "cannot be a key"),
    ({"$": "ndarray", "dtype": "O", "shape": [1], "b": 0}, [b"x"], "unknown array dtype"),
    ({"not": "tagged"}, [], "malformed value"),
])
def test_a_message_that_is_not_ours_is_refused(value, buffers, error):
    with pytest.raises(wire.WireError, match=error):
        wire.decode(value, buffers)


def test_a_forged_header_length_is_refused_before_reading_it():
    read, write = os.pipe()
    os.write(write, struct.pack("<II", wire.MAX_HEADER_BYTES + 1, 0))
    os.close(write)
    with pytest.raises(wire.WireError, match="too large"):
        wire.receive(read)
    os.close(read)


def test_header_is_json_and_buffers_follow():
    data = wire.pack({"a": 1}, [b"xyz"])
    length, count = struct.unpack("<II", data[:8])
    assert json.loads(data[8:8 + length]) == {"a": 1} and count == 1 and data.endswith(b"xyz")
