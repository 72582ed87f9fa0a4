"""The handout's transplant test: can any function or class a student can import from the handout,
put in place of one of their own, earn a point?

For every stub of the release (a function or class that raises ``NotImplementedError``) and every
function or class defined in the students' package (``autograder``, which the handout ships whole)
whose signature accepts the stub's parameters (the stub's required ones by position, its optional
ones by name) or, for a class, every ``nn.Module`` subclass, a submission is made: the untouched
release with the candidate's module copied beside the stub's file and the candidate bound to the
stub's name at the end of it. (A copy, because ``dlkit grade``'s workers cannot see the check
files, while a handout's student can import them.) The submissions of a week are graded together
with ``dlkit grade`` (the warm pool) against the recorded values, as a handout grades, and any of
them that earns a point in the stub's exercise is a leak.

    python scripts/transplant.py [--modules checks|all] [--weeks week1 week2] [--jobs 2] [--markdown F]

``checks`` (the default) takes candidates from the check files and the modules that compute with
models and data (``models``, ``learning``, ``batches``, ``probe/instruments``); ``all`` from every
module of the package.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT_ROOT))

from autograder.expect import is_unwritten  # noqa: E402
from autograder.spec import load_spec  # noqa: E402

NUMERIC_MODULES = ("models", "learning", "batches", "instruments", "acceleration")


@dataclass(frozen=True)
class Transplant:
    week: str
    exercise: str
    file: str
    stub: str
    module: str
    candidate: str

    @property
    def student(self) -> str:
        return f"{self.exercise}--{self.stub}--{self.module.replace('.', '_')}--{self.candidate}"


def stubs(week: str, file: str) -> dict[str, ast.stmt]:
    """The functions and classes of a release file that a student writes (their name -> definition)."""
    tree = ast.parse((KIT_ROOT / "assignments" / week / file).read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and is_unwritten(node):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef) and any(isinstance(n, ast.FunctionDef) and is_unwritten(n)
                                                    for n in node.body):
            found[node.name] = node
    return found


def candidates(scope: str) -> list[tuple[str, str, object]]:
    """(module, name, object) of every function and class defined in the students' package."""
    found = []
    for path in sorted((KIT_ROOT / "autograder").rglob("*.py")):
        if scope == "checks" and not (path.parent.name.startswith("week") or path.stem in NUMERIC_MODULES):
            continue
        parts = path.relative_to(KIT_ROOT).with_suffix("").parts
        module_name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == module_name \
                    and not name.startswith("test_"):  # a check needs its fixtures: it raises at once
                found.append((module_name, name, value))
    return found


def compatible(stub: ast.stmt, value: object) -> bool:
    """Whether ``value`` can stand where ``stub`` stands: it accepts the stub's parameters."""
    import torch.nn as nn

    if isinstance(stub, ast.ClassDef):
        return inspect.isclass(value) and issubclass(value, nn.Module)
    if not inspect.isfunction(value):
        return False
    arguments = stub.args.args
    required = len(arguments) - len(stub.args.defaults)
    try:
        inspect.signature(value).bind(*(object() for _ in arguments[:required]),
                                      **{a.arg: object() for a in arguments[required:]})
    except TypeError:
        return False
    return True


def transplants(weeks: list[str], scope: str, exercises: list[str] | None = None,
                only: list[str] | None = None) -> list[Transplant]:
    pool = candidates(scope)
    found = []
    for week in weeks:
        for exercise, spec in load_spec()[week].items():
            if exercises and exercise not in exercises:
                continue
            for stub_name, stub in stubs(week, spec.file).items():
                if only and stub_name not in only:
                    continue
                found += [Transplant(week, exercise, spec.file, stub_name, module, name)
                          for module, name, value in pool if compatible(stub, value)]
    return found


TRANSPLANT = """

import importlib.util as _util  # transplant: {module}.{candidate} as {stub}
_spec = _util.spec_from_file_location("_transplanted", __file__[: -len("{file}")] + "_transplanted.py")
_transplanted = _util.module_from_spec(_spec)
_spec.loader.exec_module(_transplanted)
{stub} = _transplanted.{candidate}
"""


def build_class(week: str, items: list[Transplant], root: Path) -> None:
    for item in items:
        folder = root / item.student / week
        shutil.copytree(KIT_ROOT / "assignments" / week, folder,
                        ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        module = importlib.import_module(item.module)
        shutil.copy2(module.__file__, folder / "_transplanted.py")
        path = folder / item.file
        path.write_text(without(path.read_text(encoding="utf-8"), item.stub) + TRANSPLANT.format(**vars(item)))


def without(source: str, name: str) -> str:
    """``source`` with the top-level definition of ``name`` cut out (a stub says it is unwritten)."""
    node = next(n for n in ast.parse(source).body
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = source.splitlines(keepends=True)
    return "".join(lines[: first - 1] + lines[node.end_lineno:])


NOT_GRADED = -1.0
"""The points of a transplant ``dlkit grade`` wrote no results for (a harness failure, never a pass)."""


def earned(out: Path, items: list[Transplant]) -> dict[str, float]:
    """Points each transplant earned in its stub's exercise (:data:`NOT_GRADED` without results)."""
    import json

    points = {}
    for item in items:
        results = out / "students" / item.student / "results.json"
        if not results.exists():
            points[item.student] = NOT_GRADED
            continue
        data = json.loads(results.read_text())
        points[item.student] = sum(t["score"] for t in data["tests"]
                                   if t["name"].startswith(f"{item.week}/{item.exercise}/"))
    return points


def grade(week: str, items: list[Transplant], jobs: int) -> tuple[dict[str, float], float]:
    """Grade the transplants of one week as one class; (points by student, seconds)."""
    with tempfile.TemporaryDirectory(prefix="dlkit-transplant-") as scratch:
        root = Path(scratch)
        build_class(week, items, root / "class")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dlkit.cli", "grade", str(root / "class"), "--week", week,
                        "--out", str(root / "out"), "--jobs", str(jobs), "--no-plots", "--timeout", "300"],
                       cwd=KIT_ROOT, check=False, capture_output=True, text=True,
                       env={**os.environ, "DLKIT_ORACLE": "recorded"})
        return earned(root / "out", items), time.perf_counter() - start


def run(weeks: list[str], scope: str, jobs: int, exercises: list[str] | None = None,
        only: list[str] | None = None) -> tuple[list[Transplant], dict[str, float], dict[str, float]]:
    """Grade every transplant of ``weeks`` (of ``exercises``, of the stubs named ``only``, when given);
    (transplants, points by student, seconds by week)."""
    items = transplants(weeks, scope, exercises, only)
    points, seconds = {}, {}
    for week in weeks:
        mine = [item for item in items if item.week == week]
        if mine:
            found, seconds[week] = grade(week, mine, jobs)
            points.update(found)
    return items, points, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", choices=("checks", "all"), default="checks")
    parser.add_argument("--weeks", nargs="+", default=list(load_spec()))
    parser.add_argument("--exercises", nargs="+", default=None, help="only these exercises' stubs")
    parser.add_argument("--stubs", nargs="+", default=None, help="only these stubs")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    items, points, seconds = run(args.weeks, args.modules, args.jobs, args.exercises, args.stubs)
    leaks = [item for item in items if points.get(item.student, 0) > 0]
    missing = [item for item in items if points.get(item.student) == NOT_GRADED]
    lines = [f"Transplants ({args.modules} modules): {len(items)} graded in "
             + ", ".join(f"{week} {s:.0f} s" for week, s in seconds.items()) + f" with {args.jobs} jobs.", ""]
    by_stub: dict[tuple[str, str, str], int] = {}
    for item in items:
        by_stub[(item.week, item.exercise, item.stub)] = by_stub.get((item.week, item.exercise, item.stub), 0) + 1
    lines += ["| week | exercise | stub | candidates |", "| --- | --- | --- | --- |"]
    lines += [f"| {w} | {e} | `{s}` | {n} |" for (w, e, s), n in by_stub.items()]
    lines += ["", f"Transplants that earned a point: {len(leaks)}"]
    lines += [f"- {i.week}/{i.exercise}: `{i.module}.{i.candidate}` as `{i.stub}`: {points[i.student]:g} points"
              for i in leaks]
    if missing:
        lines += ["", f"Transplants without results (the harness failed): {len(missing)}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 1 if leaks or missing else 0


if __name__ == "__main__":
    sys.exit(main())
