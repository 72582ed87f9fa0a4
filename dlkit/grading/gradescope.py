"""Grading one submission inside Gradescope's autograder container (``run_autograder`` calls :func:`main`).

Gradescope unpacks the zip of ``dlkit release gradescope`` into ``/autograder/source`` (the kit in
``source/kit``, its settings in ``source/dlkit-gradescope.json``), puts the student's files in
``/autograder/submission`` and reads ``/autograder/results/results.json`` once ``run_autograder``
ends. Everything there runs as root, the student's code included unless something stops it. Here the
submission is graded as a class of one by :func:`.run.grade_class`, the same path as ``dlkit grade``:
the checks and the live reference, the answer keys and the hidden checks in this process and its
grading process, the student's code in a sandboxed worker that runs as ``nobody`` (with namespaces
where the container allows them, else without, with the instructor's files kept to root by
``setup.sh``). What is left of ``nobody``'s processes is killed before the results are written.

``DLKIT_AUTOGRADER_ROOT`` replaces ``/autograder`` (the tests run the whole flow in a temporary folder).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from autograder.i18n import _, render, set_language
from autograder.results import write_json_atomically

CONFIG_NAME = "dlkit-gradescope.json"
"""In ``source/``: the week, the class seed, the language and the isolation the zip was built with."""
STUDENT = "submission"
"""The one student of the class graded here (Gradescope knows who it is)."""
ROOT_ENV = "DLKIT_AUTOGRADER_ROOT"
KEPT_PROVENANCE = ("kit_version", "torch_version", "python_version", "device", "profile")
"""What of the grading's provenance goes into Gradescope's results (not the seeds: they are the class's)."""


def autograder_root() -> Path:
    """``$DLKIT_AUTOGRADER_ROOT``, else ``/autograder``."""
    return Path(os.environ.get(ROOT_ENV) or "/autograder")


def gradescope_results(graded: dict) -> dict:
    """Gradescope's ``results.json`` from a student's ``results.json`` of ``dlkit grade``: the score, each
    check with its points, its message and its visibility, the row's message on top; the grading's
    seeds stay out (every student of the course is graded from the same class seed)."""
    tests = [{key: test[key] for key in ("name", "score", "max_score", "status", "output", "visibility") if key in test}
             for test in graded["tests"]]
    provenance = graded.get("extra_data", {}).get("dlkit", {})
    return {"score": graded["score"], "execution_time": graded.get("execution_time", 0), "output": graded["output"],
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"dlkit": {key: provenance[key] for key in KEPT_PROVENANCE if key in provenance},
                           "language": graded.get("extra_data", {}).get("language", "en")}}


def failed_results(message) -> dict:
    """What the student sees when the autograder itself could not grade (no points given, none taken)."""
    return {"score": 0, "output": render(message), "visibility": "visible", "stdout_visibility": "hidden",
            "tests": []}


def kill_unprivileged() -> int:
    """Kill every process of ``nobody`` (a student's process that outlived its check, without namespaces to
    end it); returns how many. Only in a container of one submission, as root: nothing else runs as nobody."""
    from dlkit.grading.sandbox import NOBODY

    killed = 0
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{entry}").st_uid == NOBODY:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
        except (OSError, ProcessLookupError):
            pass
    return killed


def main(root: str | Path | None = None) -> int:
    """Grade ``<root>/submission`` and write ``<root>/results/results.json``; exit status 0 when graded."""
    from dlkit.grading.isolate import GradeOptions, detect_isolation, unprivileged_without_namespaces
    from dlkit.grading.run import BatchOptions, grade_class

    root = Path(root or autograder_root())
    source, results = root / "source", root / "results"
    results.mkdir(parents=True, exist_ok=True)
    os.chmod(results, 0o700)
    config = json.loads((source / CONFIG_NAME).read_text(encoding="utf-8"))
    set_language(config.get("lang") or "en")
    work = Path(tempfile.mkdtemp(prefix="dlkit-gradescope-"))
    os.chmod(work, 0o711)  # the worker passes through to its private folder, and sees nothing else here
    try:
        klass, out = work / "class", work / "out"
        klass.mkdir(mode=0o700)
        submission = root / "submission"
        if not submission.is_dir():
            raise FileNotFoundError(str(_("no submission folder at {path}", path=str(submission))))
        shutil.copytree(submission, klass / STUDENT, symlinks=True)
        isolation = detect_isolation(config.get("isolation", "auto"))
        if isolation != "namespaces" and not unprivileged_without_namespaces():
            print("dlkit run_autograder: " + str(_(
                "warning: no namespaces, and nobody cannot reach Python or the kit here: students' code runs as "
                "this process's user, and can read the reference solutions; install Python where everyone may "
                "read it (as Gradescope's images do)")), file=sys.stderr)
        data = source / "data"
        options = GradeOptions(config["week"], data_root=str(data) if data.is_dir() else None, isolation=isolation,
                               plots=False, hidden=(str(klass), str(out), str(results)),
                               class_seed=int(config["class_seed"]), lang=config.get("lang"))
        grade_class(BatchOptions(klass, out, options, jobs=1, pool=False), stream=sys.stderr, temp_parent=str(work))
        if isolation != "namespaces" and os.geteuid() == 0:
            kill_unprivileged()
        graded = json.loads((out / "students" / STUDENT / "results.json").read_text(encoding="utf-8"))
        write_json_atomically(gradescope_results(graded), results / "results.json")
        return 0
    except Exception as error:  # noqa: BLE001 - the student must see a result whatever went wrong here
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        print(f"dlkit run_autograder: {render(message)}", file=sys.stderr)
        write_json_atomically(failed_results(_(
            "The autograder could not grade this submission ({error}). Nothing was scored: tell your course "
            "staff, who can see the autograder's output.", error=message)), results / "results.json")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
