"""Record the reference's values for a student's handout: ``dlkit release record [WEEK|all]``.

Runs a week's checks on the reference solution with the live oracle (:mod:`autograder.oracle`), which
keeps every value a check draws or asks of the reference, and writes them per exercise to
``autograder/recorded/<week>/<exercise>.pt`` (shipped in the handout), with a manifest kept here, in
``dlkit/release/recorded/<week>/<exercise>.json``: the sha256 of each file they come from (every
reference module of the week, the exercise's oracle module and its check file), the PyTorch version,
profile, device and threads, and how many values and bytes. ``--check`` only compares those digests:
the values are stale when one of those files changed since.

Each week records in a fresh process (``python -m dlkit.release.record WEEK``): the checks' modules,
the reference and PyTorch's seeds start clean, as they do for a student.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from autograder.i18n import _, join, n_
from autograder.oracle import RECORDED_ROOT, recorded_path
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec

RECORD_PROFILE, RECORD_DEVICE, RECORD_THREADS = "quick", "cpu", 1
"""Values are recorded on the quick profile on the CPU with one thread (so a recording is the same
byte for byte wherever it is made), in float32 as the checks compute them: a handout run with other
threads or on a GPU compares within each check's own tolerance (scripts/recorded_spread.py)."""


MANIFEST_ROOT = Path(__file__).resolve().parent / "recorded"


def manifest_path(week: str, exercise: str) -> Path:
    return MANIFEST_ROOT / week / f"{exercise}.json"


def recorded_manifest(week: str, exercise: str) -> dict | None:
    """What one exercise's values were recorded from, or ``None`` when they never were."""
    path = manifest_path(week, exercise)
    return json.loads(path.read_text()) if path.exists() else None


class Recorder:
    """pytest plugin: makes every check's oracle live and recording (see ``GradingSession.oracle``)."""

    dlkit_recorder = True

    def __init__(self):
        self.values: dict[str, dict] = {}
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self.failed.append(report.nodeid)


def interned(value, seen: dict | None = None):
    """``value`` with equal tensors replaced by one instance, so ``torch.save`` stores each once (the
    course's data, asked by several checks, is kept a single time)."""
    import torch

    seen = {} if seen is None else seen
    if isinstance(value, torch.Tensor):
        key = (value.dtype, tuple(value.shape), hashlib.sha256(value.reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest())
        return seen.setdefault(key, value)
    if isinstance(value, dict):
        return {k: interned(v, seen) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(interned(v, seen) for v in value)
    return value


def sources(week: str, exercise: str) -> list[Path]:
    """The files an exercise's recorded values depend on: its check file and oracle module, and every
    reference module of the week (an oracle may use another exercise's: residual trains cifar10's Net)."""
    return [*sorted((KIT_ROOT / "solutions" / week).glob("*.py")),
            KIT_ROOT / "dlkit" / "oracles" / week / f"{exercise}.py",
            KIT_ROOT / "autograder" / week / f"test_{exercise}.py"]


def file_digests(week: str, exercise: str) -> dict[str, str]:
    """sha256 of each of the exercise's :func:`sources` (``""`` for a missing file)."""
    return {str(path.relative_to(KIT_ROOT)): hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
            for path in sources(week, exercise)}


def stale(week: str) -> list:
    """One line (a message) per exercise of ``week`` whose recorded values are missing or out of date."""
    lines = []
    for exercise in load_spec()[week]:
        manifest = recorded_manifest(week, exercise)
        qualified, file = f"{week}/{exercise}", f"autograder/recorded/{week}/{exercise}.pt"
        if manifest is None:
            lines.append(_("{exercise}: no recorded values ({file})", exercise=qualified, file=file))
        elif manifest.get("files") != (now := file_digests(week, exercise)):
            before = manifest.get("files", {})
            changed = sorted(path for path in before.keys() | now.keys() if before.get(path) != now.get(path))
            lines.append(_("{exercise}: recorded values are stale: {files} changed since they were recorded",
                           exercise=qualified, files=", ".join(changed)))
    return lines


def record_week(week: str, exercises: list[str] | None = None, into: Path | None = None,
                threads: int = RECORD_THREADS) -> dict[str, int]:
    """Record ``week`` (only ``exercises``, when given) in this process; returns values recorded per
    exercise. Raises ``RuntimeError`` when a check fails on the reference (its values would be a
    failing run's). ``into``: write the values under this folder instead, without manifests (to
    compare recordings: ``scripts/recorded_spread.py``)."""
    import pytest
    import torch

    exercises = exercises or list(load_spec()[week])
    recorder = Recorder()
    paths = [str(KIT_ROOT / "autograder" / week / f"test_{exercise}.py") for exercise in exercises]
    args = [*paths, "--submission", str(KIT_ROOT / "solutions"), "--oracle", "live",
            "--profile", RECORD_PROFILE, "--device", RECORD_DEVICE, "--threads", str(threads), "-p", "no:randomly",
            "-q", "--no-header",
            "-p", "no:cacheprovider", "--rootdir", str(KIT_ROOT), "-c", str(KIT_ROOT / "pyproject.toml")]
    code = pytest.main(args, plugins=[recorder])
    if code != 0 or recorder.failed:
        raise RuntimeError(str(_("{week}: the reference did not pass every check (pytest exit {code}; failed: "
                                 "{failed}); nothing was recorded", week=week, code=int(code),
                                 failed=", ".join(recorder.failed) or _("none"))))
    counts = {}
    for exercise in exercises:
        values = {check: found for check, found in recorder.values.items()
                  if check.startswith(f"{week}/{exercise}/") and found}
        path = recorded_path(week, exercise) if into is None else Path(into) / week / f"{exercise}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".pt.tmp")
        torch.save(interned(values), temporary)
        temporary.replace(path)
        counts[exercise] = sum(map(len, values.values()))
        if into is not None:
            continue
        manifest = {"week": week, "exercise": exercise, "files": file_digests(week, exercise),
                    "torch": torch.__version__, "profile": RECORD_PROFILE, "device": RECORD_DEVICE,
                    "threads": RECORD_THREADS,
                    "checks": len(values), "values": counts[exercise], "bytes": path.stat().st_size}
        manifest_path(week, exercise).parent.mkdir(parents=True, exist_ok=True)
        manifest_path(week, exercise).write_text(json.dumps(manifest, indent=2) + "\n")
    return counts


def record(weeks: list[str]) -> int:
    """Record each week in a fresh process; 0 when all were recorded."""
    status = 0
    for week in weeks:
        print(_("{week}: recording the reference's values ...", week=week), flush=True)
        done = subprocess.run([sys.executable, "-m", "dlkit.release.record", week], cwd=KIT_ROOT)
        status = status or done.returncode
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=str(_("record one week's reference values (in this process)")))
    parser.add_argument("week")
    parser.add_argument("--exercise", action="append", default=None,
                        help=str(_("record only this exercise (repeatable)")))
    parser.add_argument("--into", type=Path, default=None,
                        help=str(_("write the values under this folder, no manifest")))
    parser.add_argument("--threads", type=int, default=RECORD_THREADS,
                        help=str(_("PyTorch threads (with --into only: a release records with one)")))
    args = parser.parse_args(argv)
    if args.threads != RECORD_THREADS and args.into is None:
        parser.error(str(_("--threads other than 1 only with --into: the handout's values are recorded with one "
                           "thread")))
    try:
        counts = record_week(args.week, args.exercise, args.into, args.threads)
    except RuntimeError as error:
        print(f"dlkit release record: {error}", file=sys.stderr)
        return 1
    folder = (args.into or RECORDED_ROOT) / args.week
    size = sum(p.stat().st_size for p in folder.glob("*.pt"))
    recorded = [n_("{n} value for {exercise}", "{n} values for {exercise}", n, exercise=e) for e, n in counts.items()]
    print(_("{week}: recorded {counts} ({kib:.0f} KiB) in {folder}", week=args.week, kib=size / 1024,
            folder=str(folder), counts=join(recorded, ", ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
