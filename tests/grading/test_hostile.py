"""A class of hostile submissions: each must end as its own row with a status and a message, and nothing else.

The class is graded once (two jobs) and every test reads the result; the
endless loop gets a batch of its own with a short timeout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.i18n import from_data, render
from tests.support import assert_messages_in_both_languages, untranslated
from tests.grading.grading_classes import (BASE, HOSTILE, HOSTILE_CHECK_TIMEOUT, WEEK, declared_files, grade_command,
                                           read_gradebook, read_student, reference_with, week_folder)

from autograder.settings import KIT_ROOT
from autograder.spec import load_spec

EXPECTED = {
    "memory_bomb": "out_of_memory",
    "exit_at_import": "crashed",
    "loop_at_import": "graded",  # the check limit stops the import; the loader turns that into a message
    "exit_in_function": "crashed",
    "sys_exit_at_import": "graded",  # the loader turns SystemExit at import into a message: nothing crashed
    "segfault": "crashed",
    "fork_bomb": "crashed",
    "forges_kit_error": "crashed",  # its row says so; the batch goes on
    "print_flood": "graded",
    "deletes_cwd": "graded",
    "own_autograder": "graded",
    "corrupt": "invalid_submission",
    "traversal": "invalid_submission",
    "notes.txt": "invalid_submission",
}
TENSOR_OPS = load_spec()[WEEK]["tensor_ops"].checks
CHECK_TIMEOUT = HOSTILE_CHECK_TIMEOUT
LOST = {"memory_bomb": {"concat_cols"}, "exit_at_import": set(TENSOR_OPS), "loop_at_import": set(TENSOR_OPS),
        "exit_in_function": {"transpose"}, "sys_exit_at_import": set(TENSOR_OPS), "segfault": {"concat_rows"},
        "fork_bomb": {"first_row_product"}, "forges_kit_error": set(TENSOR_OPS), "print_flood": set(),
        "deletes_cwd": set(), "own_autograder": set(TENSOR_OPS)}
"""Hostile student -> the tensor_ops checks their behaviour costs them."""


def points(*checks: str) -> float:
    return sum(TENSOR_OPS[c].points for c in checks) if checks else sum(c.points for c in TENSOR_OPS.values())


def processes_with_tmpdir(folder: Path) -> list[int]:
    """Processes started for this batch: the children get TMPDIR inside their private folder, under ``folder``."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(item.startswith(f"TMPDIR={folder}".encode()) for item in environ):
            found.append(int(entry))
    return found


def result_of(data: dict, check: str) -> dict:
    return next(t for t in data["tests"] if t["name"] == f"{WEEK}/tensor_ops/{check}")


def test_every_submission_is_a_row_with_its_status(hostile, namespaces):
    _, out, _, proc = hostile
    expected = {**EXPECTED, **({"writes_out": "graded"} if namespaces else {})}
    rows = read_gradebook(out)
    assert {student: row["status"] for student, row in rows.items()} == expected
    for student, row in rows.items():
        if row["status"] != "graded":
            assert row["message"], student
    assert "students in" in proc.stderr  # the final table


@pytest.mark.parametrize("student", sorted(LOST))
def test_every_hostile_behaviour_costs_its_checks_and_says_why(hostile, student):
    data = read_student(hostile[1], student)
    lost = {t["name"].rsplit("/", 1)[1] for t in data["tests"] if "/tensor_ops/" in t["name"] and t["score"] == 0}
    assert lost == LOST[student]
    assert all(t["output"] for t in data["tests"] if t["score"] < t["max_score"])
    assert data["output"]  # at least the missing files; for a file that could not run, what happened to it


@pytest.mark.parametrize("student", sorted(set(EXPECTED) - {"notes.txt"}))
def test_every_declared_check_has_a_result(hostile, student):
    data = read_student(hostile[1], student)
    declared = [f"{WEEK}/{e}/{c}" for e, ex in load_spec()[WEEK].items() for c in ex.checks]
    assert [t["name"] for t in data["tests"]] == declared
    assert data["max_score"] == sum(ex_check.points for ex in load_spec()[WEEK].values()
                                    for ex_check in ex.checks.values())


def test_segfault_costs_only_its_check(hostile):
    data = read_student(hostile[1], "segfault")
    assert "segmentation fault" in result_of(data, "concat_rows")["output"]
    assert data["score"] == points() - points("concat_rows")
    assert data["extra_data"]["dlkit_grading"]["attempts"] == 2


def test_os_exit_in_a_function_costs_only_its_check(hostile):
    data = read_student(hostile[1], "exit_in_function")
    assert "exit status 3" in result_of(data, "transpose")["output"]
    assert data["score"] == points() - points("transpose")


def test_os_exit_at_import_gives_up_on_that_file_at_once_but_grades_the_others(hostile):
    data = read_student(hostile[1], "exit_at_import")
    outputs = [t["output"] for t in data["tests"] if "/tensor_ops/" in t["name"]]
    assert all(o.startswith("importing tensor_ops.py ended with exit status 0") for o in outputs)
    assert data["extra_data"]["dlkit_grading"]["attempts"] <= 2  # tensor_ops.py is never imported again
    assert f"none of its {len(TENSOR_OPS)} checks could run" in read_gradebook(hostile[1])["exit_at_import"]["message"]
    for name in declared_files():  # the other files were still looked at (and found missing)
        if name != BASE:
            stem = name.removesuffix(".py")
            assert all(f"{name} is missing" in t["output"] for t in data["tests"] if f"/{stem}/" in t["name"])


def test_sys_exit_at_import_is_a_message(hostile):
    data = read_student(hostile[1], "sys_exit_at_import")
    said = "tensor_ops.py stopped the program at import (sys.exit('no more') at line "
    assert all(result_of(data, c)["output"].startswith(said) for c in TENSOR_OPS)
    message = read_gradebook(hostile[1])["sys_exit_at_import"]["message"]
    assert message.startswith(said) and f"none of its {len(TENSOR_OPS)} checks could run" in message
    assert said in (hostile[1] / "students" / "sys_exit_at_import" / "feedback.md").read_text()


def test_loop_at_import_costs_one_check_limit(hostile):
    data = read_student(hostile[1], "loop_at_import")
    said = f"tensor_ops.py was still running at import after {CHECK_TIMEOUT} s, the limit for one check"
    assert all(result_of(data, c)["output"].startswith(said) for c in TENSOR_OPS)
    assert data["extra_data"]["dlkit_grading"]["seconds"] < 2 * CHECK_TIMEOUT  # one limit, not one per check


def test_memory_bomb_is_out_of_memory_and_the_rest_is_graded(hostile):
    data = read_student(hostile[1], "memory_bomb")
    assert "MemoryError" in result_of(data, "concat_cols")["output"]
    assert "ran out of memory (limit 512 MB)" in data["output"]
    assert result_of(data, "matvec_float_vector")["status"] == "passed"


def test_fork_bomb_is_stopped_and_leaves_no_process(hostile):
    _, out, tmp, _ = hostile
    data = read_student(out, "fork_bomb")
    assert "more than 64 processes" in result_of(data, "first_row_product")["output"]
    assert result_of(data, "matvec_float_vector")["status"] == "passed"
    assert processes_with_tmpdir(tmp) == []


def test_print_flood_is_capped(hostile):
    out = hostile[1]
    log = (out / "students" / "print_flood" / "output.log").read_text()
    assert len(log) < 300_000 and "bytes of output left out" in log
    assert read_student(out, "print_flood")["tests"][0]["status"] == "passed"
    assert sum(t["score"] for t in read_student(out, "print_flood")["tests"] if "/tensor_ops/" in t["name"]) == points()


def test_deleting_its_folder_deletes_only_its_copy(hostile):
    root, out, _, _ = hostile
    log = (out / "students" / "deletes_cwd" / "output.log").read_text()
    assert f"/sub/{WEEK}" in log.split("deleted ", 1)[1].splitlines()[0]
    assert (root / "deletes_cwd" / WEEK / BASE).is_file()
    assert (KIT_ROOT / "autograder" / WEEK / f"test_{BASE}").is_file()
    assert read_student(out, "deletes_cwd")["score"] == points()


def test_own_autograder_and_conftest_are_ignored(hostile):
    data = read_student(hostile[1], "own_autograder")
    assert all("not implemented yet" in result_of(data, c)["output"] for c in TENSOR_OPS)


def test_output_folder_and_kit_are_out_of_reach(hostile, namespaces):
    if not namespaces:
        pytest.skip("without namespaces (root and unshare) the child can find and write the output folder")
    _, out, _, _ = hostile
    log = (out / "students" / "writes_out" / "output.log").read_text()
    assert "found out folders: []" in log and "kit read-only" in log
    assert not list(out.rglob("pwned.txt"))
    assert not (KIT_ROOT / "autograder" / WEEK / "_pwned_probe.txt").exists()


def test_bad_zips_are_invalid_and_unpack_nothing(hostile, session_tmp):
    out = hostile[1]
    assert "not a readable zip" in read_student(out, "corrupt")["output"]
    assert "points outside its folder" in read_student(out, "traversal")["output"]
    assert not list(session_tmp.rglob("escaped.py"))


def test_endless_loop_times_out(session_tmp):
    root = session_tmp / "loop_class"
    week_folder(root / "endless_loop", {BASE: reference_with(HOSTILE["endless_loop"])})
    out, tmp = session_tmp / "loop_out", session_tmp / "loop_tmp"
    tmp.mkdir()
    proc = grade_command(root, out, "--timeout", "10", tmp=tmp)
    assert proc.returncode == 0, proc.stderr
    row = read_gradebook(out)["endless_loop"]
    assert row["status"] == "timeout" and "timed out after 10 s" in row["message"]
    assert processes_with_tmpdir(session_tmp / "loop_tmp") == []


@pytest.mark.parametrize("student", sorted(set(EXPECTED) - {"notes.txt"}))
def test_every_message_is_stored_as_data_and_has_a_chinese_text(hostile, student):
    """What the sandbox and the grading process say (timeouts, crashes, memory) has a Chinese text too."""
    data = read_student(hostile[1], student)
    assert_messages_in_both_languages(data)
    stored = data["extra_data"]["dlkit_grading"]["message"]
    assert render(from_data(stored), "en") == data["output"]
    assert not untranslated(from_data(stored))
