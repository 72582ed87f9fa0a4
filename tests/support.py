"""Helpers for the kit's own tests: run the autograder as a student would, build submissions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.settings import KIT_ROOT


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


def grade(selection: str, submission: Path, tmp_path: Path, **kwargs) -> dict:
    """Grade ``submission`` for the checks selected by ``-k selection``; returns the results JSON."""
    results = tmp_path / f"results-{abs(hash((selection, str(submission))))}.json"
    proc = run_autograder("-k", selection, submission=submission, results=results, **kwargs)
    if not results.exists():
        raise AssertionError(f"no results written (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(results.read_text())


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
