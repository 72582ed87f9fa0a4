"""``dlkit release gradescope OUT.zip --week W``: the zip that Gradescope's autograder settings take.

Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once (as root) to build the image,
then ``run_autograder`` for each submission. The zip holds:

- ``setup.sh``: Python's pip if the image lacks it, PyTorch (the CPU build, or a CUDA one with
  ``--torch cuda``), the kit with what it needs, the week's data (shipped in the zip, or downloaded,
  from ``--mirror`` first when given), and the instructor's files made root's alone;
- ``run_autograder``: grades ``/autograder/submission`` with :mod:`dlkit.grading.gradescope`, using the
  ``python3`` first on ``PATH``;
- ``kit/``: the instructor's side of the kit as a source tree (``autograder/``, ``dlkit/``,
  ``solutions/``'s modules, ``pyproject.toml``): the live reference, the answer keys and the hidden
  checks grade here as in ``dlkit grade``, which needs the reference beside the checks, so it is
  not a wheel;
- ``dlkit-gradescope.json``: the week, the class seed every submission is graded from (drawn at
  random when the zip is built, and kept from students), the language and the isolation;
- ``data/`` with ``--data include``.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder import __version__
from autograder.data.cifar10 import cifar_folder
from autograder.data.mnist import mnist_folder
from autograder.data.root import data_root
from autograder.i18n import Said, _, current_language
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec, week_data
from dlkit.grading.gradescope import CONFIG_NAME

TORCH_INDEXES = {"cpu": "https://download.pytorch.org/whl/cpu", "cuda": "https://download.pytorch.org/whl/cu128"}
"""Where ``setup.sh`` installs PyTorch from (``--torch``)."""
DATA_MODES = ("download", "include")
DATA_FOLDERS = {"mnist": mnist_folder, "cifar10": cifar_folder}
SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


class GradescopeError(Said, ValueError):
    """The zip cannot be built as asked; ``message`` says why and what to do."""


@dataclass(frozen=True)
class GradescopeOptions:
    """What ``dlkit release gradescope`` was asked for."""

    week: str
    torch: str = "cpu"
    """``cpu`` or ``cuda``: the PyTorch build ``setup.sh`` installs."""
    data: str = "download"
    """``download`` (``setup.sh`` fetches the week's data) or ``include`` (the zip carries it)."""
    mirror: str | None = None
    """Base URL ``setup.sh`` tries first for the data (``dlkit data download --mirror``)."""
    data_root: str | None = None
    """Where the data to include is (default: the kit's data root)."""
    isolation: str = "auto"
    """The sandbox ``run_autograder`` asks for (``auto``: namespaces where the container allows them)."""
    class_seed: int | None = None
    """The class seed (default: a fresh random one)."""


def _kit_files() -> list[tuple[Path, str]]:
    """(file, name in the zip) of the instructor's side of the kit."""
    files = [(KIT_ROOT / name, f"kit/{name}") for name in ("pyproject.toml", "README.md")]
    for folder, keep in (("autograder", None), ("dlkit", None), ("solutions", ".py")):
        for path in sorted((KIT_ROOT / folder).rglob("*")):
            if path.is_file() and not SKIPPED & set(path.parts) and (keep is None or path.suffix == keep) \
                    and path.suffix != ".pyc":
                files.append((path, f"kit/{path.relative_to(KIT_ROOT)}"))
    return files


def _data_files(week: str, root: Path) -> list[tuple[Path, str]]:
    files = []
    for dataset in week_data(week):
        folder = DATA_FOLDERS[dataset](root)
        if not folder.is_dir():
            raise GradescopeError(_("--data include: no {dataset} under {root}; get it with `dlkit data download "
                                    "{dataset}` (or point --data-root at it), or build with --data download",
                                    dataset=dataset, root=str(root)))
        files += [(path, f"data/{path.relative_to(root)}") for path in sorted(folder.rglob("*")) if path.is_file()]
    return files


def setup_script(options: GradescopeOptions) -> str:
    """``setup.sh`` for ``options``."""
    datasets = week_data(options.week)
    mirror = f" --mirror {shlex.quote(options.mirror)}" if options.mirror else ""
    secret = ['"$SOURCE/kit/solutions"', '"$SOURCE/kit/dlkit"', f'"$SOURCE/{CONFIG_NAME}"',
              *(f'"$SOURCE/kit/autograder/{week}"' for week in load_spec())]
    lines = [
        "#!/usr/bin/env bash",
        f"# Gradescope runs this once, as root, to build the autograder's image (dlkit {__version__},",
        f"# {options.week}; written by `dlkit release gradescope`). DLKIT_AUTOGRADER_ROOT replaces /autograder.",
        "set -euo pipefail",
        'ROOT="${DLKIT_AUTOGRADER_ROOT:-/autograder}"',
        'SOURCE="$ROOT/source"',
        "export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1",
        "",
        "# Python 3.10 or newer, with pip",
        "if ! python3 -m pip --version >/dev/null 2>&1; then",
        "    apt-get update",
        "    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip python3-venv",
        "fi",
        "if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then",
        '    echo "setup.sh: dlkit needs Python 3.10 or newer; this image has $(python3 --version 2>&1)" >&2',
        "    exit 1",
        "fi",
        "",
        f"# PyTorch, {options.torch} build (`dlkit release gradescope --torch cpu|cuda`)",
        f"python3 -m pip install torch torchvision --index-url {TORCH_INDEXES[options.torch]}",
        "# the kit and the rest of what it needs",
        'python3 -m pip install -e "$SOURCE/kit"',
    ]
    if datasets and options.data == "download":
        lines += ["", f"# the week's data: {', '.join(datasets)}", 'mkdir -p "$SOURCE/data"']
        lines += [f'python3 -m dlkit.cli data download {name} --data-root "$SOURCE/data" --quiet{mirror}'
                  for name in datasets]
    if datasets:
        lines += ['python3 -m dlkit.cli data status --data-root "$SOURCE/data"  # decoded once, here, into its cache']
    lines += [
        "",
        "# Students' code runs as nobody (dlkit/grading/sandbox.py): the reference, the answer keys, the checks,",
        "# the class seed and the data's labels are root's alone; the kit's runtime stays readable.",
        f"chmod -R go-rwx {' '.join(secret)}" + (' "$SOURCE/data"' if datasets else ""),
        'chmod 711 "$SOURCE"',
        'echo "setup.sh: dlkit ready for ' + options.week + '"',
    ]
    return "\n".join(lines) + "\n"


def run_script() -> str:
    """``run_autograder``: the ``python3`` first on ``PATH`` grades with the zip's own kit."""
    return "\n".join([
        "#!/usr/bin/env bash",
        "# Gradescope runs this, as root, for each submission: it grades $ROOT/submission and writes",
        "# $ROOT/results/results.json (written by `dlkit release gradescope`; DLKIT_AUTOGRADER_ROOT replaces /autograder).",
        'ROOT="${DLKIT_AUTOGRADER_ROOT:-/autograder}"',
        "exec python3 -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from dlkit.grading.gradescope import main; "
        "sys.exit(main(sys.argv[2]))' \"$ROOT/source/kit\" \"$ROOT\"",
    ]) + "\n"


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    archive.writestr(info, data)


def build_gradescope_zip(out: Path, options: GradescopeOptions) -> list[str]:
    """Write the autograder zip to ``out`` (replacing it atomically); returns the names in it."""
    if options.week not in load_spec():
        raise GradescopeError(_("unknown week {week}; exercises.toml declares: {weeks}", week=repr(options.week),
                                weeks=", ".join(load_spec())))
    if options.data not in DATA_MODES or options.torch not in TORCH_INDEXES:
        raise GradescopeError(_("--data takes download or include, --torch cpu or cuda"))
    files = _kit_files()
    if options.data == "include":
        files += _data_files(options.week, data_root(options.data_root))
    config = {"week": options.week, "kit_version": __version__, "lang": current_language(),
              "isolation": options.isolation, "torch": options.torch, "data": options.data,
              "class_seed": options.class_seed if options.class_seed is not None else secrets.randbelow(2**31)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            _add(archive, "setup.sh", setup_script(options).encode(), executable=True)
            _add(archive, "run_autograder", run_script().encode(), executable=True)
            _add(archive, CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode())
            for path, name in files:
                _add(archive, name, path.read_bytes())
            names = archive.namelist()
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return names
