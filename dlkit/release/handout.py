"""``dlkit release handout OUT``: the folder an instructor publishes to students.

A handout is built by copying what belongs to students, never by filtering a mixed folder:

- ``assignments/`` (every week's stubs and notebooks, as ``dlkit release`` generated them);
- the ``autograder`` package whole: the public checks, the plugin and the runtime they need (data
  tools, expectations, points table) and ``autograder/recorded/``, the reference's values the checks
  compare with (:mod:`autograder.oracle`);
- files written here: its own ``pyproject.toml``, a student ``README.md``, ``.gitignore`` and
  ``data_cache/README.md``.

The instructors' package (``dlkit``: release, grading, the live reference, the oracles, the answer
keys), ``solutions/``, the sample class, the kit's tests, benchmarks and docs stay behind. The build
refuses stale recorded values (a solution changed since they were recorded) and a check file that
imports the instructors' package. The leak gate (tests/release/test_handout.py) checks the result.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder import __version__
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec
from dlkit.release.record import stale

STUDENT_PACKAGE = KIT_ROOT / "autograder"
ASSIGNMENTS = KIT_ROOT / "assignments"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.pt.tmp")


class HandoutError(Exception):
    """The handout cannot be built as asked; the message names the problem and the fix."""


@dataclass
class Handout:
    """A built handout: where it is, its files and their total size without data."""

    root: Path
    files: list[str]
    bytes: int


def instructor_imports(package: Path = STUDENT_PACKAGE) -> list[str]:
    """``path:line`` of every import of the instructors' package (``dlkit``) in the students' package:
    each would fail in a handout."""
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            if any(name == "dlkit" or name.startswith("dlkit.") for name in names):
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return found


LIVE_ONLY = {"autograder/oracle.py", "autograder/probe/zygote.py"}
"""Student-side modules that import the instructors' package only on a path a handout never takes
(the live oracle, ``dlkit grade``'s sandbox), lazily."""


def check_sources() -> list[str]:
    """Why the kit cannot make a handout now: stale recorded values, checks that need the live reference."""
    problems = []
    for week in load_spec():
        problems += [f"{line}; run `dlkit release record {week}`" for line in stale(week)]
    for where in instructor_imports():
        if where.split(":")[0] not in LIVE_ONLY:
            problems.append(f"{where} imports the instructors' package (dlkit), which a handout does not have; "
                            "reach the reference through the check's oracle")
    return problems


def _pyproject() -> str:
    return f'''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "dlkit-handout"
version = "{__version__}"
description = "Deep-learning course assignments with their checks: run `pytest autograder -k week1`"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
    "torch>=2.1,<3",
    "torchvision>=0.16,<1",
    "numpy>=1.24",
    "matplotlib>=3.7",
    "pytest>=7.4",
    "jupyter>=1.0",
    "nbformat>=5.9",
    "nbclient>=0.8",
    "ipykernel>=6.0",
    "tomli>=2.0; python_version < '3.11'",
]

[project.scripts]
dlkit = "autograder.cli:main"

[project.entry-points.pytest11]
dlkit = "autograder.plugin"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = ["*.toml", "**/*.toml", "**/*.json", "**/*.md", "recorded/*/*"]

[tool.pytest.ini_options]
pythonpath = ["."]
addopts = "-p no:cacheprovider --import-mode=importlib"
'''


def _weeks_table() -> str:
    rows = []
    for week, exercises in load_spec().items():
        for name, exercise in exercises.items():
            points = sum(check.points for check in exercise.public_checks.values())
            rows.append(f"| {week} | `assignments/{week}/{exercise.file}` | {exercise.title} | {points:g} |")
    return "\n".join(["| week | file | exercise | points |", "| --- | --- | --- | --- |", *rows])


def _readme() -> str:
    return f"""# Deep-learning assignments, weeks 1 and 2

Your work goes in `assignments/`: fill in every function or class that raises
`NotImplementedError` (and every `ANSWER_... = None`), keeping names and signatures. The
notebooks `assignments/week1/week1.ipynb` and `assignments/week2/week2.ipynb` walk through
the labs and call your functions.

{_weeks_table()}

## Install

```bash
pip install -e .          # Python 3.10+; pulls PyTorch, torchvision, pytest, Jupyter
```

## Data

Week 2 needs MNIST and CIFAR-10 in torchvision's layout. `dlkit data download all`
fetches them into `data_cache/` (about 200 MB); if your course gives you a copy, point to
it instead: `export DLKIT_DATA=/path/to/data` or `dlkit data link /path/to/data`.
`dlkit data status` says what is there. Week 1 needs no data.

## Check your work

```bash
pytest autograder -k week1                  # every week-1 check, then your points table
pytest autograder -k "week2 and mnist"      # one exercise
pytest autograder -k week2 --device cpu     # options: --device cpu|cuda, --profile quick|full,
                                            #          --results-json out.json, --submission DIR
```

Each check prints what it tried, what it expected and what it got, with a hint. The table
at the end has one line per check:

- `PASS` / `FAIL`: points earned now;
- `WAIT`: answered, graded after you submit (multiple-choice answers: this copy holds no
  answer key). Written answers (`ANSWER_Q1` ...) are graded by hand and have no check here.

The checks here compare your code with values recorded from the course's reference solution.
Your submission is graded again by the course staff with the same checks, fresh inputs and
the answer key, in a sandbox: points shown here are a preview, and code that tries to
influence its own grade only fools this preview.

## Submit

Submit the files in `assignments/<week>/` as your course tells you (the `.py` files and the
notebook with its outputs). Do not rename them.
"""


def build_handout(out: Path) -> Handout:
    """Write the handout into ``out``, a new or empty folder; raise :class:`HandoutError` (writing
    nothing) when ``out`` holds files or the kit cannot make a handout now."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HandoutError(f"{out} is not an empty folder; give a new path (nothing was written)")
    if out.resolve() == KIT_ROOT or KIT_ROOT in out.resolve().parents:
        raise HandoutError(f"{out} is inside the kit ({KIT_ROOT}); build the handout outside it")
    problems = check_sources()
    if problems:
        raise HandoutError("the kit cannot make a handout now (nothing was written):\n  " + "\n  ".join(problems))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".handout-", dir=out.parent))
    try:
        shutil.copytree(ASSIGNMENTS, staging / "assignments", ignore=IGNORED)
        shutil.copytree(STUDENT_PACKAGE, staging / "autograder", ignore=IGNORED)
        (staging / "pyproject.toml").write_text(_pyproject())
        (staging / "README.md").write_text(_readme())
        (staging / ".gitignore").write_text("__pycache__/\n*.egg-info/\n/data_cache/*\n!/data_cache/README.md\n"
                                            ".ipynb_checkpoints/\n")
        (staging / "data_cache").mkdir()
        shutil.copy2(KIT_ROOT / "data_cache" / "README.md", staging / "data_cache" / "README.md")
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return Handout(out, files, sum((out / f).stat().st_size for f in files))
