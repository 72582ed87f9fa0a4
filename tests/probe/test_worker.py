"""The worker and its client: calls, handles, failures as exceptions here, crashes and timeouts."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

from autograder.probe.client import (ImportFailed, ProtocolError, Remote, StudentRaised, WorkerClient, WorkerDied,
                                     wait_status_reason)
from autograder.probe.zygote import Zygote, launched, warm_up
from autograder.timeout import CheckClock, CheckTimeout

STUDENT = '''
import os, time, torch
from torch import nn

def add(a, b):
    return a + b

def model():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU())

def stub(x):
    """Not written yet."""
    raise NotImplementedError()

def broken(x):
    return helper(x)

def helper(x):
    return x / "text"

def exits(code):
    os._exit(code)

def crashes():
    import ctypes
    ctypes.string_at(0)

def loops():
    while True:
        time.sleep(0.01)

def writes_on_the_channel():
    for fd in range(3, 64):
        try:
            os.write(fd, b"\\x05\\x00\\x00\\x00\\x00\\x00\\x00\\x00{\\"a\\"}")
        except OSError:
            pass
'''


@pytest.fixture(scope="module")
def zygote():
    forked = Zygote(prepare=warm_up)
    yield forked
    forked.close()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "student.py").write_text(STUDENT)
    (tmp_path / "syntax.py").write_text("def f(:\n    pass\n")
    (tmp_path / "exits.py").write_text("import sys\nsys.exit('bye')\n")
    (tmp_path / "dies.py").write_text("import os\nos._exit(4)\n")
    return tmp_path


@pytest.fixture
def client(zygote, folder):
    printed = []
    made = WorkerClient(lambda: launched(zygote, str(folder), 1, env=dict(os.environ)), wait_status_reason,
                        on_output=printed.append)
    made.printed = printed
    yield made
    made.close()


def test_plain_values_come_back_by_value_and_objects_stay(client):
    student = client.student("student.py")
    assert torch.equal(student.add(torch.ones(2), torch.ones(2)), torch.full((2,), 2.0))
    model = student.model()
    assert isinstance(model, Remote) and model.is_model
    spec = model.describe("module")
    assert [child["class"].rsplit(".", 1)[1] for _, child in spec["children"]] == ["Linear", "ReLU"]
    assert set(model.state_dict()) == {"0.weight", "0.bias"}
    assert model(torch.zeros(4, 2)).shape == (4, 3)
    kept = model.keep(torch.zeros(1, 2))
    assert isinstance(kept, Remote) and kept.kind["name"] == "Tensor"


def test_a_model_of_this_process_is_sent_and_comes_back(client):
    here = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    there = client.build(here)
    x = torch.randn(5, 3)
    assert torch.allclose(there(x), here(x))


def test_what_the_student_raised_names_only_their_frames(client):
    student = client.student("student.py")
    with pytest.raises(StudentRaised) as raised:
        student.broken(torch.ones(1))
    assert raised.value.type_name == "TypeError"
    assert [(f["file"], f["name"]) for f in raised.value.frames] == [("student.py", "broken"), ("student.py", "helper")]
    with pytest.raises(StudentRaised) as raised:
        student.stub(1)
    assert raised.value.not_implemented and raised.value.frames[-1]["qualname"] == "stub"


@pytest.mark.parametrize("file, kind, detail", [("missing.py", "missing", None), ("syntax.py", "import", "syntax"),
                                                ("exits.py", "import", "exit")])
def test_an_import_that_fails_is_described_and_remembered(client, file, kind, detail):
    for _ in range(2):
        with pytest.raises(ImportFailed) as failed:
            client.student(file)
        assert failed.value.info["kind"] == kind
        if detail:
            assert detail in failed.value.info
    assert client.starts == 1


def test_an_import_that_ends_the_worker_is_never_tried_again(client):
    with pytest.raises(ImportFailed) as failed:
        client.student("dies.py")
    assert failed.value.info["kind"] == "died" and "exit status 4" in failed.value.info["reason"]
    with pytest.raises(ImportFailed):
        client.student("dies.py")
    assert client.starts == 1


def test_a_crash_costs_the_request_and_the_next_one_gets_a_fresh_worker(client):
    student = client.student("student.py")
    with pytest.raises(WorkerDied, match="exit status 3"):
        student.exits(3)
    with pytest.raises(WorkerDied, match="segmentation fault"):
        client.student("student.py").crashes()
    assert torch.equal(client.student("student.py").add(torch.ones(1), torch.ones(1)), torch.full((1,), 2.0))
    assert client.starts == 3 and len(client.deaths) == 2


def test_a_loop_is_stopped_at_the_check_limit_and_says_where(client):
    student = client.student("student.py")
    clock = CheckClock(3.0, "the check")
    with pytest.raises((StudentRaised, CheckTimeout)) as stopped:
        with clock.running():
            student.loops()
    if isinstance(stopped.value, StudentRaised):  # the worker's own timer caught it: it says which line
        assert stopped.value.timed_out and stopped.value.frames[-1]["name"] == "loops"


def test_bytes_written_on_the_kit_channel_are_refused(client):
    with pytest.raises(ProtocolError, match="file descriptor"):
        client.student("student.py").writes_on_the_channel()
    assert client.process is None  # stopped: the next request starts afresh
