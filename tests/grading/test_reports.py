"""The batch's files: results.json round trip, gradebook, feedback, summary and progress (no grading runs)."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import replace

from dlkit.grading import outcome as outcome_file
from dlkit.grading.feedback import write_feedback
from dlkit.grading.gradebook import write_gradebook
from dlkit.grading.outcome import CRASHED, GRADED, StudentOutcome
from dlkit.grading.progress import Progress
from dlkit.grading.summary import check_summaries, write_summary
from autograder.results import CheckResult

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PROVENANCE = {"kit_version": "0.1.0", "torch_version": "2.x", "python_version": "3.11", "device": "cpu",
              "device_name": "x86_64", "profile": "quick", "threads": 1, "seeds": {}}


def result(exercise: str, check: str, points: float, passed: bool, output: str = "") -> CheckResult:
    return CheckResult("week1", exercise, check, points, points if passed else 0.0,
                       "passed" if passed else "failed", output, 7)


def outcome(student: str, passes: tuple[bool, bool, bool], status: str = GRADED, message: str = "",
            plots: dict | None = None) -> StudentOutcome:
    results = [result("tensor_ops", "matvec", 2, passes[0], "matvec(m, v) gave X, expected Y"),
               result("tensor_ops", "transpose", 1, passes[1], "not implemented yet: transpose in tensor_ops.py"),
               result("spiral", "shapes", 3, passes[2], "spiral.py is missing: expected it at week1/spiral.py")]
    return StudentOutcome(student, "week1", status, message, results, dict(PROVENANCE), "abc", plots=plots or {},
                          settings={"timeout_s": 5})


def test_results_json_round_trip_is_gradescope_json(tmp_path):
    original = outcome("ann", (True, False, False), CRASHED, "tensor_ops/transpose: crashed")
    outcome_file.write(original, tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text())
    assert (data["score"], data["max_score"], data["output"]) == (2, 6, "tensor_ops/transpose: crashed")
    assert [t["name"] for t in data["tests"]] == ["week1/tensor_ops/matvec", "week1/tensor_ops/transpose",
                                                 "week1/spiral/shapes"]
    assert data["extra_data"]["dlkit"]["kit_version"] == "0.1.0"
    assert data["extra_data"]["dlkit_grading"]["status"] == CRASHED
    read = outcome_file.read(tmp_path / "results.json")
    assert replace(read, provenance={}) == replace(original, provenance={})
    assert read.provenance["seeds"] == {r.id: 7 for r in original.results}


def test_read_refuses_what_is_not_a_complete_result(tmp_path):
    assert outcome_file.read(tmp_path / "missing.json") is None
    (tmp_path / "half.json").write_text('{"score": 1, "tests": [')
    assert outcome_file.read(tmp_path / "half.json") is None
    plain = {"score": 0, "max_score": 0, "tests": [], "extra_data": {"dlkit": PROVENANCE}}
    (tmp_path / "plain.json").write_text(json.dumps(plain))  # a single-student run's file: no batch record
    assert outcome_file.read(tmp_path / "plain.json") is None


def test_gradebook_columns_and_rows(tmp_path):
    outcomes = [outcome("bob", (True, True, True)), outcome("ann", (True, False, False), CRASHED, "it, crashed")]
    write_gradebook(outcomes, ["tensor_ops", "spiral"], tmp_path / "gradebook.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "gradebook.csv").read_text())))
    assert rows == [["student", "total", "max", "status", "tensor_ops", "spiral", "message", "language"],
                    ["ann", "2", "6", "crashed", "2", "0", "it, crashed", "en"],
                    ["bob", "6", "6", "graded", "3", "3", "", "en"]]
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]  # no temporary file left behind


def test_feedback_groups_messages_and_embeds_plots(tmp_path):
    (tmp_path / "spiral.png").write_bytes(PNG)
    student = outcome("ann", (False, False, False), plots={"spiral.png": "your model's regions"})
    write_feedback(student, tmp_path, {"tensor_ops": "Tensor operations", "spiral": "Spiral"})
    markdown = (tmp_path / "feedback.md").read_text()
    assert "**Score: 0 / 6** (graded)" in markdown
    assert "| Tensor operations | 0 / 3 |" in markdown
    assert "`matvec` (-2):" in markdown and "matvec(m, v) gave X, expected Y" in markdown
    assert "spiral.py is missing" in markdown
    assert "![your model's regions](spiral.png)" in markdown
    page = (tmp_path / "feedback.html").read_text()
    assert base64.b64encode(PNG).decode() in page  # one self-contained file
    assert "<script" not in page and "http" not in page


def test_summary_sorts_checks_by_most_failed(tmp_path):
    outcomes = [outcome("ann", (True, False, False)), outcome("bob", (True, False, True)),
                outcome("cat", (False, False, True))]
    checks = check_summaries(outcomes)
    assert [(c.check, c.failed) for c in checks] == [("week1/tensor_ops/transpose", 3),
                                                     ("week1/tensor_ops/matvec", 1), ("week1/spiral/shapes", 1)]
    assert checks[0].common_message == "not implemented yet: transpose in tensor_ops.py"
    write_summary(outcomes, tmp_path)
    assert (tmp_path / "score_histogram.png").read_bytes().startswith(b"\x89PNG")
    assert "| week1/tensor_ops/transpose | 1 | 3 / 3 | 100% |" in (tmp_path / "summary.md").read_text()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "summary.csv").read_text())))
    assert rows[0]["check"] == "week1/tensor_ops/transpose" and rows[0]["share"] == "1.0000"


def test_progress_lines_and_final_table():
    stream = io.StringIO()
    progress = Progress(3, already=1, stream=stream, header="grading class")
    progress.start("bob")
    progress.finish(outcome("bob", (True, True, True)))
    progress.close([outcome("ann", (True, False, False), CRASHED, "segfault"), outcome("bob", (True, True, True))])
    text = stream.getvalue()
    assert text.startswith("grading class\n1 of 3 already graded")
    assert "[2/3] bob: graded, 6/6" in text and "ETA" in text
    assert "ann      crashed" in text and "2 students in" in text and "1 graded, 1 crashed" in text
