"""The batch's side and the grading process's side of one submission: output cap, node ids, the
words for a worker's end, what a worker may not see, and a sandbox that fails before student code."""

from __future__ import annotations

import signal

import pytest

from dlkit.grading import grader
from dlkit.grading.isolate import _check_of, secret_paths
from autograder.probe.client import wait_status_reason
from autograder.probe.launch import CappedOutput
from autograder.settings import KIT_ROOT

LIMITS = {"memory_mb": 4096, "max_processes": 64}


def test_capped_output_keeps_head_and_tail_and_hands_out_what_is_new_once():
    log = CappedOutput(head=10, tail=5)
    for chunk in (b"0123456", b"789abcdef", b"ghijklmnop"):
        log.add(chunk)
    assert log.text() == "0123456789\n[... 11 bytes of output left out ...]\nlmnop"
    assert log.take().endswith("lmnop") and "left out" in log.take() + "left out"
    assert log.take() == ""


def test_node_ids_name_their_check():
    assert _check_of(f"{KIT_ROOT}/autograder/week1/test_spiral.py::test_relu_accuracy") == ("spiral", "relu_accuracy")
    assert _check_of("autograder/week1/test_spiral.py::test_shapes[3-0]") == ("spiral", "shapes")


@pytest.mark.parametrize("status, killed, kind, words", [
    (-signal.SIGSEGV, None, "crashed", "segmentation fault (SIGSEGV)"),
    (-signal.SIGUSR1, None, "crashed", "SIGUSR1"),
    (-signal.SIGKILL, None, "out_of_memory", "killed by the system"),
    (3, None, "crashed", "exit status 3"),
    (-signal.SIGKILL, "memory", "out_of_memory", "more than 4096 MB"),
    (-signal.SIGKILL, "processes", "crashed", "more than 64 processes"),
])
def test_words_for_a_worker_that_ended(status, killed, kind, words):
    why, got = wait_status_reason(status, killed, LIMITS)
    assert got == kind and words in str(why)


def test_the_worker_may_not_see_the_reference_the_checks_or_the_kit_tests():
    hidden = secret_paths(("/class", "/out"))
    for name in ("solutions", "tests", "examples", "autograder/week1", "autograder/week2"):
        assert str(KIT_ROOT / name) in hidden
    assert str(KIT_ROOT / "autograder") not in hidden and hidden[-2:] == ["/class", "/out"]


@pytest.mark.parametrize("failures, survives", [(2, True), (3, False)])
def test_a_sandbox_that_fails_before_student_code_is_tried_again(monkeypatch, failures, survives):
    calls = []

    def start(self, folder):
        calls.append(folder)
        if len(calls) <= failures:
            raise grader.SandboxError("unshare: sigprocmask unblock failed: Invalid argument")
        return "worker"

    monkeypatch.setattr(grader.BatchWorkers, "_start", start)
    batch = grader.BatchWorkers({"timeout_s": 60}, events=-1, zygote=None)
    if survives:
        assert batch.launcher("folder", None) == "worker" and batch.sandbox_error is None
    else:
        with pytest.raises(grader.SandboxError, match="sigprocmask"):
            batch.launcher("folder", None)
        assert batch.sandbox_error and len(calls) == grader.SANDBOX_STARTS


def test_messages_from_the_grading_process_stay_messages():
    import json
    from dataclasses import asdict, replace

    from autograder.i18n import _, to_data
    from autograder.results import CheckResult
    from dlkit.grading.isolate import _streamed, _tidy, in_turn

    message = _("{what} gave shape {got}, expected {expected}", what="/tmp/copy/week1/x.py", got="(2,)",
                expected="(3,)")
    result = CheckResult("week1", "spiral", "shapes", 1, 0, "failed", message.render("en"), 7, message=message)
    event = {"event": "result", "nodeid": "n", "result": {**asdict(replace(result, message=None)),
                                                           "message": to_data(result.message)}}
    done, current, _provenance = _streamed([json.loads(json.dumps(event))])
    (got,) = done.values()
    assert got.message == message and current is None
    (tidy,) = _tidy([got], "/tmp/copy")
    assert tidy.message.render("en") == "week1/x.py gave shape (2,), expected (3,)"
    assert in_turn([]) == "" and in_turn(["a", "", "b"]).render("en") == "a; b"
