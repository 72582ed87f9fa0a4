"""Classes of submissions for the batch-grading tests, built in tmp_path from the kit's own week 1.

Every hostile behaviour is appended to the reference ``tensor_ops.py`` (a later
definition replaces the reference's), so the classes follow the reference as it
changes; the week's other declared files come from the release or are left out.
Each hostile case is bounded even if the sandbox failed: the fork bomb forks at
most 200 times and its children exit within 20 s, the memory bomb stops at the
address-space limit, and the deleting student only deletes a folder that is
visibly its private copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from autograder.settings import KIT_ROOT
from autograder.spec import load_spec

WEEK = "week1"
CLASS_SEED = 20261203
"""Every run of the realistic and the hostile class draws its inputs from this seed (dlkit grade picks a random
one unless told), so runs with other jobs, without the pool or on a cluster can be compared row for row."""
ONE_JOB = ("reference", "partial", "syntax_error", "zipped")
"""Graded again with one job and no warm pool (the whole class once more would double the time for little)."""
HOSTILE_CHECK_TIMEOUT = 20
"""Seconds per check in the hostile batch: what a file that loops at import may cost."""
HOSTILE_OPTIONS = ("--timeout", "300", "--memory", "512", "--check-timeout", str(HOSTILE_CHECK_TIMEOUT),
                   "--class-seed", str(CLASS_SEED))
"""How the hostile class is graded, wherever it is."""
SOLUTIONS = KIT_ROOT / "solutions" / WEEK
RELEASE = KIT_ROOT / "assignments" / WEEK
BASE = "tensor_ops.py"
"""The file every hostile case lives in (the one week 1 file that has existed from the start)."""

HOSTILE = {
    "endless_loop": "def transpose(m):\n    while True:\n        pass\n",
    "memory_bomb": ("def concat_cols(a, b):\n    hoard = []\n    while True:\n"
                    "        hoard.append(bytearray(32 * 1024 * 1024))\n"),
    "exit_at_import": "import os\nos._exit(0)\n",
    "loop_at_import": "while True:\n    pass\n",
    "exit_in_function": "def transpose(m):\n    import os\n    os._exit(3)\n",
    "sys_exit_at_import": "import sys\nsys.exit('no more')\n",
    "segfault": "def concat_rows(a, b):\n    import ctypes\n    return ctypes.string_at(0)\n",
    "fork_bomb": ("def first_row_product(m, v):\n    import os, time\n"
                  "    for _ in range(200):  # bounded: 200 processes at most, each gone within 20 s\n"
                  "        if os.fork() == 0:\n            time.sleep(20)\n            os._exit(0)\n"
                  "    time.sleep(20)\n"),
    "print_flood": "for _ in range(100_000):\n    print('spam ' * 40)\n",
    "forges_kit_error": ("import os\nfor fd in range(3, 256):  # truncate every file it holds, then fake a kit error\n"
                         "    try:\n        os.ftruncate(fd, 0)\n    except OSError:\n        pass\n"
                         "print('ERROR: kit error: forged')\nos._exit(4)\n"),
    "deletes_cwd": ("import os, shutil\nhere = os.getcwd()\n"
                    "if 'dlkit-grade-' in here and os.path.basename(here) == 'week1':  # only ever a private copy\n"
                    "    shutil.rmtree(here)\n    print('deleted', here)\n"),
}
"""Student name -> code appended to the reference tensor_ops.py."""

WRITES_OUT = '''
import os, sys
targets = set()
for value in os.environ.values():
    if os.path.isdir(value) and os.path.exists(os.path.join(value, "students")):
        targets.add(value)
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\\0")
    except OSError:
        continue
    if "--out" in args:
        targets.add(args[args.index("--out") + 1])
for target in targets:
    try:
        with open(os.path.join(target, "pwned.txt"), "w") as f:
            f.write("x")
        print("wrote into", target)
    except OSError as error:
        print("could not write into", target, error)
kit = os.path.dirname(os.path.dirname(sys.modules["autograder"].__file__))
try:
    with open(os.path.join(kit, "autograder", "week1", "_pwned_probe.txt"), "w") as f:
        f.write("x")
    print("kit writable")
except OSError as error:
    print("kit read-only:", error)
print("found out folders:", sorted(targets))
'''
"""Looks for the output folder everywhere a child could (environment, other processes' arguments) and writes."""


def declared_files(week: str = WEEK) -> list[str]:
    return [exercise.file for exercise in load_spec()[week].values()]


def week_folder(root: Path, files: dict[str, str | Path]) -> Path:
    """``root/week1/`` holding ``files`` (name -> text or a path to copy)."""
    folder = root / WEEK
    folder.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, folder / name)
        else:
            (folder / name).write_text(content)
    return root


def reference_with(extra: str) -> str:
    return (SOLUTIONS / BASE).read_text() + "\n\n# --- appended for the test ---\n" + extra


def release_files() -> dict[str, Path]:
    return {name: RELEASE / name for name in declared_files() if (RELEASE / name).is_file()}


def build_realistic_class(root: Path, students: tuple[str, ...] | None = None) -> Path:
    """The reference, the untouched release, partial work, a zip, missing files and a syntax error.

    Only the reference and the release hold every declared file (the release's checks take long to fail);
    the others hold tensor_ops.py. ``students`` picks some of them.
    """
    builders = {
        "reference": lambda: week_folder(root / "reference", {n: SOLUTIONS / n for n in declared_files()}),
        "release": lambda: week_folder(root / "release", release_files()),
        "partial": lambda: week_folder(root / "partial", {BASE: reference_with("def matvec(m, v):\n"
                                                                               "    return m @ v\n")}),
        "only_tensor_ops": lambda: week_folder(root / "only_tensor_ops", {BASE: SOLUTIONS / BASE}),
        "syntax_error": lambda: week_folder(root / "syntax_error", {BASE: reference_with("def broken(:\n")}),
        "zipped": lambda: _zipped(root / "zipped.zip"),
    }
    for name in students or builders:
        builders[name]()
    return root


def _zipped(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:  # wrapped in a folder, as "compress folder" does
        zf.write(SOLUTIONS / BASE, f"zipped/{WEEK}/{BASE}")
        zf.writestr("zipped/__MACOSX/._tensor_ops.py", "junk")


def build_hostile_class(root: Path, namespaces: bool) -> Path:
    """One submission per hostile behaviour (tensor_ops.py only), plus broken zips and a stray file."""
    for name, code in HOSTILE.items():
        week_folder(root / name, {BASE: reference_with(code)})
    if namespaces:  # without namespaces nothing can stop it, so it is only run where it must fail
        week_folder(root / "writes_out", {BASE: reference_with(WRITES_OUT)})
    own = week_folder(root / "own_autograder", {BASE: RELEASE / BASE,
                                                "conftest.py": "def pytest_collection_modifyitems(items):\n"
                                                               "    items.clear()\n",
                                                "pytest.ini": "[pytest]\naddopts = -p no:dlkit\n"})
    (own / "autograder" / WEEK).mkdir(parents=True)
    (own / "autograder" / "__init__.py").write_text("")
    (own / "autograder" / WEEK / "test_tensor_ops.py").write_text("def test_matvec_float_vector():\n    pass\n")
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    with zipfile.ZipFile(root / "traversal.zip", "w") as zf:
        zf.writestr(f"{WEEK}/{BASE}", (SOLUTIONS / BASE).read_text())
        zf.writestr("../escaped.py", "print('outside')\n")
    (root / "notes.txt").write_text("not a submission\n")
    return root


def grade_command(submissions: Path, out: Path, *args: str, tmp: Path | None = None,
                  timeout: float = 900, **popen) -> subprocess.CompletedProcess:
    """Run ``dlkit grade`` in a subprocess, private folders under ``tmp``."""
    env = {**os.environ, **({"TMPDIR": str(tmp)} if tmp else {})}
    command = [sys.executable, "-m", "dlkit.cli", "grade", str(submissions), "--week", WEEK,
               "--out", str(out), "--no-plots", *args]
    return subprocess.run(command, cwd=KIT_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          **popen)


def read_gradebook(out: Path) -> dict[str, dict[str, str]]:
    import csv

    with open(out / "gradebook.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def read_student(out: Path, student: str) -> dict:
    return json.loads((out / "students" / student / "results.json").read_text())


