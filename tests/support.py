"""Helpers for the kit's own tests: run the autograder as a student would, build submissions, read results."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.data import DataError
from autograder.i18n import catalog, ids_of, map_plain, render
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec

SOLUTIONS = KIT_ROOT / "solutions"
ASSIGNMENTS = KIT_ROOT / "assignments"
ONE_THREAD = {"DLKIT_THREADS": "1"}  # two graders at a time on a 2-core machine


def run_autograder(*args: str, submission: Path | None = None, results: Path | None = None,
                   env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``pytest autograder ARGS`` as a student would, in a subprocess."""
    command = [sys.executable, "-m", "pytest", "autograder", "-p", "no:randomly", *args]
    if submission is not None:
        command += ["--submission", str(submission)]
    if results is not None:
        command += ["--results-json", str(results)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(command, cwd=KIT_ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)


def grade_into(results: Path, selection: str, submission: Path, **kwargs) -> dict:
    """Grade ``submission`` for the checks selected by ``-k selection``, writing the results JSON to
    ``results``; returns it. ``kwargs`` go to :func:`run_autograder` (``env``, ``timeout``)."""
    proc = run_autograder("-k", selection, submission=submission, results=results, **kwargs)
    if not results.exists():
        raise AssertionError(f"no results written (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(results.read_text())


def grade(selection: str, submission: Path, tmp_path: Path, **kwargs) -> dict:
    """Grade ``submission`` for the checks selected by ``-k selection``; returns the results JSON."""
    results = tmp_path / f"results-{abs(hash((selection, str(submission))))}.json"
    return grade_into(results, selection, submission, **kwargs)


def grade_all(runs: dict[str, tuple[Path, str]], root: Path, env: dict | None = ONE_THREAD,
              workers: int = 2) -> dict[str, dict]:
    """Grade every ``name -> (submission, selection)``, ``workers`` at a time; results JSON by name.

    Each run writes ``root/<name>.json``.
    """
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(grade_into, root / f"{name}.json", selection, folder, env=env)
                   for name, (folder, selection) in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def copy_week(source_root: Path, week: str, destination: Path) -> Path:
    """Copy ``source_root/week`` into ``destination/week``; returns ``destination``."""
    shutil.copytree(source_root / week, destination / week,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return destination


def patch_file(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur) with ``new`` in ``path``."""
    text = path.read_text()
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new))


def patched_week(week: str, file: str, patches: Iterable[tuple[str, str]], destination: Path,
                 source_root: Path = SOLUTIONS) -> Path:
    """``source_root/week`` copied into ``destination`` with each ``(old, new)`` applied to ``week/file``;
    returns ``destination`` (a submission folder)."""
    folder = copy_week(source_root, week, destination)
    for old, new in patches:
        patch_file(folder / week / file, old, new)
    return folder


def student_submission(root: Path, week: str):
    """``root/week`` as the checks see a student's files: a :class:`~autograder.submission.Submission`
    whose modules are imported in a worker of their own."""
    from autograder.submission import Submission
    from tests.conftest import worker_for

    return Submission(worker_for(Path(root) / week), root, week)


def has_data(load: Callable[[bool], object]) -> bool:
    """Whether ``load(True)`` (``mnist_tensors``, ``cifar10_tensors``) finds its training split."""
    try:
        load(True)
        return True
    except DataError:
        return False


# ---------------------------------------------------------------- reading results JSON


def _check_id(test: dict, full_ids: bool) -> str:
    return test["name"] if full_ids else test["name"].split("/")[-1]


def checks_by_name(data: dict, full_ids: bool = False) -> dict[str, dict]:
    """Check name (``"concat_rows"``; with ``full_ids``, ``"week1/tensor_ops/concat_rows"``) -> its entry."""
    return {_check_id(t, full_ids): t for t in data["tests"]}


def lost_points(data: dict, full_ids: bool = False) -> dict[str, float]:
    """Check name -> points lost, for every check that did not get full marks."""
    return {_check_id(t, full_ids): t["max_score"] - t["score"] for t in data["tests"] if t["score"] < t["max_score"]}


def check_output(data: dict, check: str) -> str:
    """The student-facing output of the check named ``check`` (its last id segment)."""
    return checks_by_name(data)[check]["output"]


def declared_points(week: str, exercise: str, *checks: str) -> dict[str, float]:
    """Check name -> its points in ``exercises.toml``, for ``checks`` of ``week/exercise``."""
    declared = load_spec()[week][exercise].checks
    return {check: declared[check].points for check in checks}


def status_of(test: dict) -> str:
    """A results.json entry's ``"passed"``, ``"failed"`` or ``"pending"`` (Gradescope knows two statuses:
    a pending check is marked apart, in its ``extra_data``)."""
    return "pending" if (test.get("extra_data") or {}).get("pending") else test["status"]


def grade_with_oracle(runs: dict[str, tuple[Path, str]], root: Path, oracle: str) -> dict[str, dict]:
    """:func:`grade_all` with one thread and the ``live`` or ``recorded`` oracle (a student's handout)."""
    return grade_all(runs, root, env={**ONE_THREAD, "DLKIT_ORACLE": oracle})


def assert_handout_verdicts_as_kits(live: dict[str, dict], recorded: dict[str, dict], messages: bool = False) -> None:
    """Every run graded with the recorded values has the live reference's status for every check (and
    message, with ``messages``) and the same score; but a multiple-choice check (``answer_*``) whose
    answer is well formed, right or wrong, is pending there (a handout has no key)."""
    def verdicts(data: dict) -> dict:
        return {t["name"]: (status_of(t), t["output"]) if messages else status_of(t) for t in data["tests"]}

    def choice_answered(test: dict) -> bool:
        return "/answer_" in test["name"] and (test["status"] == "passed" or "is not the right answer" in test["output"])

    differences = {}
    for name, data in live.items():
        answered = {t["name"] for t in data["tests"] if choice_answered(t)}
        mine, theirs = verdicts(data), verdicts(recorded[name])
        found = {check: (mine.get(check), theirs.get(check)) for check in mine.keys() | theirs.keys()
                 if mine.get(check) != theirs.get(check)
                 and not (check in answered and status_of(checks_by_id(recorded[name])[check]) == "pending")}
        found.update({check: (mine[check], theirs.get(check)) for check in answered
                      if status_of(checks_by_id(recorded[name]).get(check, {"status": "?"})) != "pending"})
        if found:
            differences[name] = found
    assert differences == {}, f"checks whose verdict differs (live, recorded): {differences}"
    pending = {name: sum(t["max_score"] for t in data["tests"] if choice_answered(t) and t["status"] == "passed")
               for name, data in live.items()}
    assert {name: recorded[name]["score"] for name in live} == \
        {name: data["score"] - pending[name] for name, data in live.items()}


def checks_by_id(data: dict) -> dict[str, dict]:
    """A results.json's entries by check id (``week/exercise/check``)."""
    return {t["name"]: t for t in data["tests"]}


ENGLISH_RUN = re.compile(r"(?<![\w.'/-])[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w(/-])")
"""Three English words in a row: a sentence, not a code name (``matvec_float_vector``, ``nn.Linear``)."""


def skeleton(message, lang: str) -> str:
    """``message`` in ``lang`` with every plain-string argument (code, a student's own error text) blanked:
    what is left is the kit's own wording."""
    return render(map_plain(message, lambda text: "∎" if text else ""), lang)


def untranslated(message) -> list[str]:
    """Ids inside ``message`` without a Chinese text, and English left in its Chinese skeleton."""
    zh = catalog("zh")
    missing = [t.msgid for t in ids_of(message) if re.search("[A-Za-z]{2}", re.sub(r"\{[^}]*\}", "", t.msgid))
               and (zh.ngettext(t.msgid, t.plural, 1) if t.plural else zh.gettext(t.msgid)) == t.msgid]
    return missing + ENGLISH_RUN.findall(skeleton(message, "zh"))


def assert_messages_in_both_languages(data: dict) -> None:
    """Every message of a results.json is stored as data, renders as its text in the language it was written
    in, and has a Chinese text with no English sentence left in the kit's own wording."""
    from autograder.i18n import from_data, render

    language = data.get("extra_data", {}).get("language", "en")
    problems = []
    for test in data["tests"]:
        if not test.get("output"):
            continue
        stored = (test.get("extra_data") or {}).get("message")
        if stored is None:
            problems.append(f"{test['name']}: stored as text only: {test['output'][:80]!r}")
            continue
        message = from_data(stored)
        if render(message, language) != test["output"]:
            problems.append(f"{test['name']}: does not render as its text")
        problems += [f"{test['name']}: untranslated {text!r}" for text in untranslated(message)]
        render(message, "en" if language == "zh" else "zh")
    assert problems == []
