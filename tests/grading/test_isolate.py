"""How the batch reads what one child did: output cap, node ids, crash causes, the kit's own failures."""

from __future__ import annotations

import signal

import pytest

from autograder.grading.isolate import (Attempt, CappedLog, KitError, Limits, SandboxError, _check_of, _crash_reason,
                                        _node_id, _startup_failure)
from autograder.settings import KIT_ROOT


def attempt(returncode: int = 0, killed: str | None = None, collected: bool = True, setup_error: str | None = None,
            log: str = "") -> Attempt:
    return Attempt(returncode, killed, collected, setup_error, [], None, {}, log, 0.0, 1)


def test_capped_log_keeps_head_and_tail():
    log = CappedLog(head=10, tail=5)
    for chunk in (b"0123456", b"789abcdef", b"ghijklmnop"):
        log.add(chunk)
    assert log.text() == "0123456789\n[... 11 bytes of output left out ...]\nlmnop"


def test_node_ids_round_trip():
    node = _node_id("week1", "spiral", "relu_accuracy")
    assert node == f"{KIT_ROOT}/autograder/week1/test_spiral.py::test_relu_accuracy"
    assert _check_of(node) == ("spiral", "relu_accuracy")
    assert _check_of("autograder/week1/test_spiral.py::test_shapes[3-0]") == ("spiral", "shapes")


@pytest.mark.parametrize("run, status, words", [
    (attempt(-signal.SIGSEGV), "crashed", "segmentation fault (SIGSEGV)"),
    (attempt(-signal.SIGUSR1), "crashed", "SIGUSR1"),
    (attempt(-signal.SIGKILL), "out_of_memory", "killed by the system"),
    (attempt(3), "crashed", "exit status 3"),
    (attempt(1, log="...\nMemoryError\n"), "out_of_memory", "ran out of memory (limit 4096 MB)"),
    (attempt(-signal.SIGKILL, killed="memory"), "out_of_memory", "more than 4096 MB"),
    (attempt(-signal.SIGKILL, killed="processes"), "crashed", "more than 64 processes"),
])
def test_crash_reasons(run, status, words):
    kind, why = _crash_reason(run, Limits())
    assert kind == status and words in why


def test_only_the_status_pipe_can_blame_the_kit():
    assert isinstance(_startup_failure(attempt(70, setup_error="OSError: busy"), "week1"), SandboxError)
    assert isinstance(_startup_failure(attempt(4, collected=False, log="ERROR: kit error"), "week1"), KitError)
    assert _startup_failure(attempt(4, log="ERROR: kit error"), "week1") is None  # a student can print that
    assert _startup_failure(attempt(-9, killed="timeout", collected=False), "week1") is None


def _flaky_then(real_attempt, failures: int):
    """A ``run_attempt`` whose first ``failures`` calls fail before any student code runs."""
    calls = []

    def run(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            return attempt(1, collected=False, log="unshare: sigprocmask unblock failed: Invalid argument")
        return real_attempt(*args, **kwargs)

    return run, calls


@pytest.mark.parametrize("failures, survives", [(2, True), (3, False)])
def test_a_sandbox_that_fails_before_student_code_is_tried_again(monkeypatch, tmp_path, failures, survives):
    from autograder.grading import isolate

    ok = attempt(0)
    ok.results = []
    run, calls = _flaky_then(lambda *a, **k: ok, failures)
    monkeypatch.setattr(isolate, "run_attempt", run)
    monkeypatch.setattr(isolate, "declared_checks", lambda week: [])
    options = isolate.GradeOptions.__new__(isolate.GradeOptions)
    object.__setattr__(options, "limits", Limits(timeout_s=60))
    object.__setattr__(options, "week", "week1")
    if survives:
        try:
            isolate.grade_copy(tmp_path, options)
        except KitError:
            pytest.fail("a startup failure that went away on retry stopped the batch")
        except Exception:  # noqa: BLE001 - what happens after a successful start is not this test's concern
            pass
        assert len(calls) == failures + 1
    else:
        with pytest.raises(KitError, match="sigprocmask"):
            isolate.grade_copy(tmp_path, options)
        assert len(calls) == isolate.STARTUP_RETRIES + 1
