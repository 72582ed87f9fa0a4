"""``dlkit release handout OUT``: the folder an instructor publishes to students.

A handout is built by copying what belongs to students, never by filtering a mixed folder:

- ``assignments/`` (every week's stubs and notebooks, as ``dlkit release`` generated them);
- the ``autograder`` package whole: the public checks, the plugin and the runtime they need (data
  tools, expectations, points table) and ``autograder/recorded/``, the reference's values the checks
  compare with (:mod:`autograder.oracle`), but for its message catalog: the handout's is compiled
  from the kit's with only the messages ``autograder/`` itself uses (the instructors' side's, such as
  the release's marker errors or a hidden check's wording, stay behind, and so does the ``.po``);
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
from autograder.i18n import DOMAIN, LOCALE_DIR, Text, render
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec
from dlkit.release.record import stale

STUDENT_PACKAGE = KIT_ROOT / "autograder"
ASSIGNMENTS = KIT_ROOT / "assignments"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.pt.tmp")
PACKAGE_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pt.tmp", "*.po", "*.mo")


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
autograder = ["*.toml", "**/*.toml", "**/*.json", "**/*.md", "recorded/*/*", "locale/*/LC_MESSAGES/*.mo"]

[tool.pytest.ini_options]
pythonpath = ["."]
addopts = "-p no:cacheprovider --import-mode=importlib"
'''


def _weeks_table(lang: str = "en") -> str:
    """The exercises of every week, their files and public points; titles in ``lang`` (English
    where the catalog has no translation yet)."""
    header = {"en": "| week | file | exercise | points |", "zh": "| 周 | 文件 | 练习 | 分数 |"}[lang]
    rows = []
    for week, exercises in load_spec().items():
        for exercise in exercises.values():
            points = sum(check.points for check in exercise.public_checks.values())
            title = render(Text(exercise.title), lang)  # exercises.toml's titles are catalog ids
            rows.append(f"| {week} | `assignments/{week}/{exercise.file}` | {title} | {points:g} |")
    return "\n".join([header, "| --- | --- | --- | --- |", *rows])


def _readme_zh() -> str:
    # Chinese paragraphs are not wrapped: Markdown turns a line break inside a paragraph into a space.
    return f"""## 中文

你的代码写在 `assignments/` 里：补全每一个会抛出 `NotImplementedError` 的函数或类（以及每一个 `ANSWER_... = None`），不要改动名称和函数签名。notebook `assignments/week1/week1.ipynb` 和 `assignments/week2/week2.ipynb` 带你把实验走一遍，并调用你写的函数；notebook 里的每段说明都是先中文、后英文。

{_weeks_table("zh")}

### 选择语言

检查结果、最后的得分表和 `dlkit` 命令的输出都有中文和英文两种，按下面的顺序决定用哪一种：

1. 命令行参数 `--lang zh` 或 `--lang en`，`pytest` 和 `dlkit` 命令都可以加，例如 `pytest autograder -k week1 --lang zh`、`dlkit data status --lang zh`；
2. 否则看环境变量 `DLKIT_LANG`（`zh` 或 `en`），例如 `export DLKIT_LANG=zh`（Windows PowerShell：`$env:DLKIT_LANG = "zh"`）；
3. 否则看系统的 locale：`LC_ALL`、`LC_MESSAGES`、`LANG` 中第一个有值的变量以 `zh` 开头（如 `zh_CN.UTF-8`）时用中文，否则用英文；
4. 以上都没有设置时用英文。

notebook 里检查单元格的输出语言，由启动 Jupyter 时的 `DLKIT_LANG` 或 locale 决定，例如 `DLKIT_LANG=zh jupyter notebook`。

### 安装

```bash
pip install -e .          # Python 3.10+；会安装 PyTorch、torchvision、pytest、Jupyter
```

### 数据

第 2 周需要按 torchvision 目录结构存放的 MNIST 和 CIFAR-10。`dlkit data download all` 会把它们下载到 `data_cache/`（约 200 MB）；如果课程发了一份数据给你，直接指向它即可：`export DLKIT_DATA=/path/to/data` 或 `dlkit data link /path/to/data`。`dlkit data status` 会显示现在有哪些数据。第 1 周不需要数据。

### 检查你的代码

```bash
pytest autograder -k week1                  # 第 1 周的全部检查，最后是你的得分表
pytest autograder -k "week2 and mnist"      # 只检查一个练习
pytest autograder -k week2 --device cpu     # 选项：--device cpu|cuda, --profile quick|full,
                                            #       --results-json out.json, --submission DIR, --lang zh|en
```

每项检查都会说明它试了什么、期望得到什么、实际得到了什么，并给出提示。最后的表格每项检查占一行：

- `PASS` / `FAIL`：现在得到的分数；
- `WAIT`：已作答，提交后才评分（选择题：这份作业包里没有标准答案）。书面回答（`ANSWER_Q1` ...）由老师人工评分，这里没有对应的检查。

这里的检查拿你的代码与课程参考答案事先记录下来的结果作比较。你提交之后，课程组会在沙箱里用同样的检查、新的输入和标准答案重新评分：这里显示的分数只是预览，试图影响自己分数的代码只能骗过这个预览。

### 提交

按课程的要求提交 `assignments/<week>/` 里的文件（`.py` 文件和带输出的 notebook），不要改文件名。
"""


def _readme_en() -> str:
    return f"""## English

Your work goes in `assignments/`: fill in every function or class that raises
`NotImplementedError` (and every `ANSWER_... = None`), keeping names and signatures. The
notebooks `assignments/week1/week1.ipynb` and `assignments/week2/week2.ipynb` walk through
the labs and call your functions; each of their instructions is in Chinese, then in English.

{_weeks_table("en")}

### Language

The checks' messages, the points table and `dlkit`'s commands speak Chinese and English. The
language is chosen in this order:

1. `--lang zh` or `--lang en` on the command line, on `pytest` and on `dlkit` commands alike:
   `pytest autograder -k week1 --lang en`, `dlkit data status --lang en`;
2. else the `DLKIT_LANG` environment variable (`zh` or `en`): `export DLKIT_LANG=en`
   (Windows PowerShell: `$env:DLKIT_LANG = "en"`);
3. else the locale: Chinese when the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set
   begins with `zh` (`zh_CN.UTF-8`), English otherwise;
4. English when none of these is set.

In a notebook, the check cells write in the language of `DLKIT_LANG` or the locale that Jupyter
was started with: `DLKIT_LANG=en jupyter notebook`.

### Install

```bash
pip install -e .          # Python 3.10+; pulls PyTorch, torchvision, pytest, Jupyter
```

### Data

Week 2 needs MNIST and CIFAR-10 in torchvision's layout. `dlkit data download all`
fetches them into `data_cache/` (about 200 MB); if your course gives you a copy, point to
it instead: `export DLKIT_DATA=/path/to/data` or `dlkit data link /path/to/data`.
`dlkit data status` says what is there. Week 1 needs no data.

### Check your work

```bash
pytest autograder -k week1                  # every week-1 check, then your points table
pytest autograder -k "week2 and mnist"      # one exercise
pytest autograder -k week2 --device cpu     # options: --device cpu|cuda, --profile quick|full,
                                            #          --results-json out.json, --submission DIR, --lang zh|en
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

### Submit

Submit the files in `assignments/<week>/` as your course tells you (the `.py` files and the
notebook with its outputs). Do not rename them.
"""


def _readme() -> str:
    """The student README: Chinese first, then English, each whole (the course is taught in Chinese)."""
    return f"""# 深度学习作业：第 1、2 周 · Deep-learning assignments, weeks 1 and 2

先是中文说明，后面是英文（[English](#english)）。Chinese first; the English version is below ([English](#english)).

{_readme_zh()}
---

{_readme_en()}"""


def write_student_catalogs(locale: Path) -> None:
    """Compile each language's catalog into ``locale`` with only the messages used in ``autograder/`` (the
    ``.po`` lists where each message is used)."""
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        with po.open("rb") as f:
            kit = read_po(f, locale=lang, domain=DOMAIN)
        students = Catalog(locale=lang, domain=DOMAIN, project=kit.project, fuzzy=False)
        for message in kit:
            if message.id and any(filename.startswith("autograder/") for filename, _line in message.locations):
                students[message.id] = message
        target = locale / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_mo(buffer, students, use_fuzzy=False)
        target.write_bytes(buffer.getvalue())


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
        shutil.copytree(STUDENT_PACKAGE, staging / "autograder", ignore=PACKAGE_IGNORED)
        write_student_catalogs(staging / "autograder" / "locale")
        (staging / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
        (staging / "README.md").write_text(_readme(), encoding="utf-8")
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
