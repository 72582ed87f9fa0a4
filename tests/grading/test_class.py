"""A realistic class: statuses and messages, the same grades with one job or two, the same totals as ``pytest autograder``."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from autograder.plugin import check_seed
from autograder.spec import load_spec
from tests.grading.grading_classes import (BASE, CLASS_SEED, ONE_JOB, WEEK, declared_files, grade_command,
                                           read_gradebook, read_student, reference_with)
from tests.support import grade

DECLARED = load_spec()[WEEK]
MAX = sum(check.points for exercise in DECLARED.values() for check in exercise.checks.values())


def test_same_grades_with_two_jobs_and_the_warm_pool_as_with_one_job_and_none(graded):
    """Neither the number of jobs nor the pool changes a grade: the part of the class graded again with one
    job, each grading process started afresh, gets the two-job pooled run's rows, checks and seeds."""
    _, outs = graded
    assert read_gradebook(outs[1]) == {s: row for s, row in read_gradebook(outs[2]).items() if s in ONE_JOB}
    for student in ONE_JOB:
        one, two = read_student(outs[1], student), read_student(outs[2], student)
        assert one["tests"] == two["tests"] and one["extra_data"]["dlkit"] == two["extra_data"]["dlkit"], student


def test_the_class_seed_is_recorded_and_every_check_draws_from_it(graded):
    out = graded[1][2]
    assert json.loads((out / "provenance.json").read_text())["class_seed"] == CLASS_SEED
    for student in ("reference", "partial"):
        data = read_student(out, student)
        assert data["extra_data"]["dlkit"]["class_seed"] == CLASS_SEED
        assert data["extra_data"]["dlkit"]["seeds"]["week1/tensor_ops/concat_rows"] == \
            check_seed("week1/tensor_ops/concat_rows", CLASS_SEED) != check_seed("week1/tensor_ops/concat_rows")


def test_rows(graded):
    rows = read_gradebook(graded[1][2])
    assert {s: r["status"] for s, r in rows.items()} == dict.fromkeys(
        ["only_tensor_ops", "partial", "reference", "release", "syntax_error", "zipped"], "graded")
    assert rows["reference"]["total"] == f"{MAX:g}" and rows["reference"]["max"] == f"{MAX:g}"
    assert rows["release"]["total"] == "0"
    others = [name for name in declared_files() if name != BASE]
    assert rows["only_tensor_ops"]["message"] == f"missing {', '.join(others)}"
    assert rows["zipped"]["message"] == f"missing {', '.join(others)}; graded the files in zipped/{WEEK}/"
    for exercise in DECLARED:  # one gradebook column per declared exercise
        assert rows["reference"][exercise] == f"{sum(c.points for c in DECLARED[exercise].checks.values()):g}"


@pytest.mark.parametrize("exercise", sorted(DECLARED))
def test_release_says_not_implemented_and_missing_files_say_so(graded, exercise):
    out = graded[1][2]
    release = {t["name"]: t["output"] for t in read_student(out, "release")["tests"]}
    only = {t["name"]: t["output"] for t in read_student(out, "only_tensor_ops")["tests"]}
    for check in DECLARED[exercise].checks:
        name = f"{WEEK}/{exercise}/{check}"
        assert "not implemented yet" in release[name]
        if exercise != "tensor_ops":
            assert f"{DECLARED[exercise].file} is missing: expected it at {WEEK}/{DECLARED[exercise].file}" in only[name]


def test_syntax_error_names_the_line(graded):
    data = read_student(graded[1][2], "syntax_error")
    outputs = [t["output"] for t in data["tests"] if "/tensor_ops/" in t["name"]]
    line = reference_with("def broken(:\n").splitlines().index("def broken(:") + 1
    assert outputs and all(o.startswith(f"{BASE} has a syntax error at line {line} (") for o in outputs)
    row = read_gradebook(graded[1][2])["syntax_error"]
    assert row["message"].startswith(f"{BASE} has a syntax error at line {line} (")
    assert f"none of its {len(outputs)} checks could run" in row["message"]


def test_feedback_files(graded):
    folder = graded[1][2] / "students" / "partial"
    assert "# week1 feedback: partial" in (folder / "feedback.md").read_text()
    assert (folder / "feedback.html").read_text().startswith("<!DOCTYPE html>")
    summary = (graded[1][2] / "summary.md").read_text()
    assert "6 students; 6 graded" in summary and (graded[1][2] / "score_histogram.png").is_file()


@pytest.mark.parametrize("student", ["partial", "syntax_error", "zipped"])
def test_totals_match_the_single_student_path(graded, student, tmp_path):
    root, outs = graded
    submission = root / student
    if not submission.exists():  # the zip: the single-student path gets the same files unpacked
        with zipfile.ZipFile(root / f"{student}.zip") as zf:
            zf.extractall(tmp_path / "unzipped")
        submission = tmp_path / "unzipped" / student
        shutil.rmtree(submission / "__MACOSX")
    single = grade(WEEK, submission, tmp_path, env={"DLKIT_CLASS_SEED": str(CLASS_SEED)})
    batch = read_student(outs[2], student)
    hidden = {f"{WEEK}/{e}/{c}" for e, spec in DECLARED.items() for c, check in spec.checks.items() if check.hidden}
    assert hidden and hidden <= {t["name"] for t in batch["tests"]}  # dlkit grade runs the hidden checks,
    assert not hidden & {t["name"] for t in single["tests"]}            # a student's own run does not
    scores = {t["name"]: t["score"] for t in batch["tests"] if t["name"] not in hidden}
    assert scores == {t["name"]: t["score"] for t in single["tests"]}
    seeds = batch["extra_data"]["dlkit"]["seeds"]
    assert {k: v for k, v in seeds.items() if k not in hidden} == single["extra_data"]["dlkit"]["seeds"]


def test_the_other_language_rewrites_the_reports_without_grading_again(graded, tmp_path):
    """``--lang zh`` on a graded class: every report in Chinese, not one student graded again; ``--lang en``
    then gives back the English reports byte for byte."""
    out = tmp_path / "out"
    shutil.copytree(graded[1][2], out)
    english = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.suffix in (".md", ".html", ".csv")}
    students = sorted(read_gradebook(out))
    before = {s: read_student(out, s) for s in students}
    proc = grade_command(graded[0], out, "--class-seed", str(CLASS_SEED), "--lang", "zh")
    assert proc.returncode == 0, proc.stderr
    assert f"{len(students)} 人中已有 {len(students)} 人评完" in proc.stderr, proc.stderr  # nobody graded again
    for student in students:
        after = read_student(out, student)
        assert after["extra_data"]["language"] == "zh"
        assert [(t["name"], t["score"], t.get("status")) for t in after["tests"]] == \
            [(t["name"], t["score"], t.get("status")) for t in before[student]["tests"]]
        assert after["execution_time"] == before[student]["execution_time"]  # not graded again
    feedback = (out / "students" / "partial" / "feedback.md").read_text()
    assert "得分" in feedback and "What to fix" not in feedback
    assert "未实现" in (out / "students" / "release" / "feedback.md").read_text()
    assert read_gradebook(out)["partial"]["language"] == "zh"
    assert "中文" in (out / "summary.md").read_text()
    proc = grade_command(graded[0], out, "--class-seed", str(CLASS_SEED), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
            if p.suffix in (".md", ".html", ".csv")} == english
