"""Finding submissions and copying one safely: layouts, zip safety, caps."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from dlkit.grading.discover import (DUPLICATE, FOLDER, OTHER, ZIP, CopyLimits, DiscoveryError, InvalidSubmission,
                                         find_submissions, fingerprint, locate_week, materialize)

WEEK = "week1"
FILES = ["tensor_ops.py", "spiral.py", "questions.py"]
OTHERS = ["week2"]


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def copy_of(found, tmp_path: Path, limits: CopyLimits = CopyLimits()):
    return materialize(found, WEEK, FILES, OTHERS, tmp_path / "copy", limits)


def test_folders_zips_and_stray_files_are_all_rows(tmp_path):
    write(tmp_path / "class" / "ann" / WEEK / "tensor_ops.py")
    with zipfile.ZipFile(tmp_path / "class" / "bob.zip", "w") as zf:
        zf.writestr(f"{WEEK}/tensor_ops.py", "x = 1\n")
    write(tmp_path / "class" / "cat.rar", "?")
    write(tmp_path / "class" / ".DS_Store", "?")
    write(tmp_path / "class" / "dan" / WEEK / "tensor_ops.py")
    with zipfile.ZipFile(tmp_path / "class" / "dan.zip", "w") as zf:
        zf.writestr("tensor_ops.py", "x = 1\n")
    found = {f.student: f.kind for f in find_submissions(tmp_path / "class", WEEK, FILES)}
    assert found == {"ann": FOLDER, "bob": ZIP, "cat.rar": OTHER, "dan": DUPLICATE}


def test_nbgrader_layout_uses_submitted(tmp_path):
    write(tmp_path / "course" / "submitted" / "ann" / WEEK / "tensor_ops.py")
    write(tmp_path / "course" / "source" / WEEK / "tensor_ops.py")
    found = find_submissions(tmp_path / "course", WEEK, FILES)
    assert [(f.student, f.kind) for f in found] == [("ann", FOLDER)]
    copy = copy_of(found[0], tmp_path)
    assert (copy.week_dir / "tensor_ops.py").is_file()
    assert copy.missing == ["spiral.py", "questions.py"]


@pytest.mark.parametrize("make, expected", [
    (lambda root: None, "does not exist"),
    (lambda root: write(root, "a file"), "is not a folder"),
    (lambda root: root.mkdir(), "holds no submissions"),
    (lambda root: write(root / WEEK / "tensor_ops.py"), "looks like one student's submission"),
])
def test_unusable_class_folders_say_why(tmp_path, make, expected):
    root = tmp_path / "class"
    make(root)
    with pytest.raises(DiscoveryError, match=expected):
        find_submissions(root, WEEK, FILES)


@pytest.mark.parametrize("paths, expected", [
    ([f"{WEEK}/tensor_ops.py", "week2/questions.py"], WEEK),
    (["tensor_ops.py", "notes.md"], ""),
    (["ann/hw/tensor_ops.py", "ann/hw/spiral.py", "ann/old/tensor_ops.py"], "ann/hw"),
    (["week2/questions.py"], None),  # another week's folder is never taken for this week
    (["tensor_ops.py", f"draft/{WEEK}/tensor_ops.py"], f"draft/{WEEK}"),  # a week folder wins
    (["__MACOSX/tensor_ops.py", "x/tensor_ops.py"], "x"),
])
def test_locate_week(paths, expected):
    assert locate_week(paths, WEEK, FILES, OTHERS) == expected


def test_copy_takes_only_the_week_and_skips_links_and_bytecode(tmp_path):
    student = tmp_path / "class" / "ann"
    write(student / WEEK / "tensor_ops.py", "real = True\n")
    write(student / WEEK / "data" / "notes.txt")
    write(student / WEEK / "__pycache__" / "tensor_ops.cpython-311.pyc", "stale")
    write(student / "autograder" / WEEK / "test_tensor_ops.py", "def test_x(): pass\n")
    (student / WEEK / "spiral.py").symlink_to("/etc/hostname")
    copy = copy_of(find_submissions(tmp_path / "class", WEEK, FILES)[0], tmp_path)
    copied = sorted(p.relative_to(copy.root).as_posix() for p in copy.root.rglob("*") if p.is_file())
    assert copied == [f"{WEEK}/data/notes.txt", f"{WEEK}/tensor_ops.py"]
    assert copy.missing == ["spiral.py", "questions.py"]
    assert "left out 1 symbolic link" in map(str, copy.notes)


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_wrapped_in_a_folder_is_unpacked(tmp_path):
    _zip(tmp_path / "class" / "ann.zip", {f"ann/{WEEK}/tensor_ops.py": b"x = 1\n", "ann/__MACOSX/._x": b"junk"},
         links=(f"ann/{WEEK}/spiral.py",))
    copy = copy_of(find_submissions(tmp_path / "class", WEEK, FILES)[0], tmp_path)
    assert sorted(os.listdir(copy.week_dir)) == ["tensor_ops.py"]
    assert f"graded the files in ann/{WEEK}/" in map(str, copy.notes)
    assert "left out 1 symbolic link" in map(str, copy.notes)


@pytest.mark.parametrize("name", ["../evil.py", "/etc/evil.py", "C:/evil.py", f"{WEEK}/../../evil.py",
                                  "..\\evil.py"])
def test_zip_paths_that_leave_the_folder_make_it_invalid(tmp_path, name):
    _zip(tmp_path / "class" / "ann.zip", {f"{WEEK}/tensor_ops.py": b"x = 1\n", name: b"print('escaped')\n"})
    with pytest.raises(InvalidSubmission, match="path"):
        copy_of(find_submissions(tmp_path / "class", WEEK, FILES)[0], tmp_path)
    assert not list(tmp_path.rglob("evil.py"))


def test_zip_bomb_and_too_many_files_are_refused(tmp_path):
    limits = CopyLimits(max_bytes=1024 * 1024, max_files=20)
    _zip(tmp_path / "bomb" / "ann.zip", {f"{WEEK}/tensor_ops.py": b"0" * (10 * 1024 * 1024)})
    with pytest.raises(InvalidSubmission, match="more than 1 MB"):
        copy_of(find_submissions(tmp_path / "bomb", WEEK, FILES)[0], tmp_path / "a", limits)
    _zip(tmp_path / "many" / "bob.zip", {f"{WEEK}/f{i}.py": b"" for i in range(30)})
    with pytest.raises(InvalidSubmission, match="30 entries"):
        copy_of(find_submissions(tmp_path / "many", WEEK, FILES)[0], tmp_path / "b", limits)


def test_not_a_zip_and_duplicates_and_stray_files_are_invalid(tmp_path):
    write(tmp_path / "class" / "ann.zip", "PK\x03\x04 not a zip")
    write(tmp_path / "class" / "bob" / WEEK / "tensor_ops.py")
    _zip(tmp_path / "class" / "bob.zip", {"tensor_ops.py": b""})
    write(tmp_path / "class" / "cat.tar.gz", "?")
    messages = {}
    for found in find_submissions(tmp_path / "class", WEEK, FILES):
        with pytest.raises(InvalidSubmission) as error:
            copy_of(found, tmp_path / found.student)
        messages[found.student] = str(error.value)
    assert "not a readable zip" in messages["ann"]
    assert "both a folder and a .zip" in messages["bob"]
    assert "neither a folder nor a .zip" in messages["cat.tar.gz"]


def test_fingerprint_changes_with_the_week_files_only(tmp_path):
    write(tmp_path / "class" / "ann" / WEEK / "tensor_ops.py", "v = 1\n")
    write(tmp_path / "class" / "ann" / "week2" / "mnist.py", "v = 1\n")
    found = find_submissions(tmp_path / "class", WEEK, FILES)[0]
    before = fingerprint(found, WEEK, FILES, OTHERS)
    write(tmp_path / "class" / "ann" / "week2" / "mnist.py", "v = 2\n")
    assert fingerprint(found, WEEK, FILES, OTHERS) == before
    write(tmp_path / "class" / "ann" / WEEK / "tensor_ops.py", "v = 2\n")
    assert fingerprint(found, WEEK, FILES, OTHERS) != before
