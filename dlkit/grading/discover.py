"""Finding each student's submission, and copying one into a private folder.

A class folder holds one entry per student:

- a folder ``<student>/`` (with ``<week>/`` inside, or the week's files directly,
  possibly under wrapper folders),
- a zip file ``<student>.zip`` laid out the same way, or
- nbgrader's course folder, whose ``submitted/<student>/<week>/`` is used.

Every other visible file also becomes a row (``invalid_submission``), so that
nobody who handed in, say, a ``.rar`` is silently left out.

:func:`materialize` copies (or safely unpacks) the week's folder of one
submission to ``<dest>/<week>/``: only the week's folder is taken (a student's
own ``autograder/`` is never copied), ``__pycache__`` is skipped (a stale ``.pyc``
could run code other than the source), symbolic links are not followed, and
size and file-count caps apply. A zip member with an absolute path or ``..``
makes the submission invalid.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.i18n import Said, _, n_, render

FOLDER, ZIP, OTHER, DUPLICATE = "folder", "zip", "other", "duplicate"
IGNORED_NAMES = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", "Thumbs.db", "desktop.ini"}
SKIPPED_DIRS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
CHUNK = 1 << 16


class DiscoveryError(Said, ValueError):
    """The class folder cannot be used: ``message`` (an :mod:`autograder.i18n` message) says why and
    what was expected."""


class InvalidSubmission(Said, Exception):
    """One submission cannot be graded (bad zip, over the caps ...); ``message`` (an
    :mod:`autograder.i18n` message, kept as data in the student's results) is for its row."""


@dataclass(frozen=True)
class CopyLimits:
    """Caps on what one submission may bring in."""

    max_bytes: int = 100 * 1024 * 1024
    """Total bytes of the week's files (after unzipping)."""
    max_files: int = 2000
    """Number of files in the week's folder (or members of the zip)."""


@dataclass(frozen=True)
class Found:
    """One student's entry in the class folder."""

    student: str
    """Student id: the entry's name without ``.zip``."""
    path: Path
    """The folder or zip file."""
    kind: str
    """``folder``, ``zip``, ``other`` (not gradable) or ``duplicate`` (a folder and a zip of one name)."""


@dataclass
class Copy:
    """A submission's week, copied to ``root/<week>/``."""

    root: Path
    """Folder to grade as ``--submission``."""
    week_dir: Path
    """``root/<week>``: the student's files."""
    missing: list[str]
    """Declared files of the week not found."""
    notes: list = field(default_factory=list)
    """What the copy did that the student may want to know (skipped links, where the files were):
    :mod:`autograder.i18n` messages."""


def find_submissions(root: Path, week: str, files: list[str]) -> list[Found]:
    """Every student entry under ``root`` (nbgrader's ``root/submitted`` when present), sorted by id."""
    root = Path(root)
    if not root.exists():
        raise DiscoveryError(_("{root} does not exist: give the folder that holds one sub-folder or one .zip "
                               "per student", root=str(root)))
    if not root.is_dir():
        raise DiscoveryError(_("{root} is not a folder: give the folder that holds one sub-folder or one .zip "
                               "per student", root=str(root)))
    base = root / "submitted" if (root / "submitted").is_dir() else root
    if (base / week).is_dir() or any((base / name).is_file() for name in files):
        raise DiscoveryError(_(
            "{base} looks like one student's submission (it holds {week}/ or {week}'s files); batch grading "
            "wants a folder of submissions, e.g. class/<student>/{week}/ or class/<student>.zip",
            base=str(base), week=week))
    entries: dict[str, list[Found]] = {}
    for entry in sorted(base.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_NAMES:
            continue
        if entry.is_dir():
            found = Found(entry.name, entry, FOLDER)
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            found = Found(entry.name[: -len(entry.suffix)], entry, ZIP)
        else:
            found = Found(entry.name, entry, OTHER)
        entries.setdefault(found.student, []).append(found)
    if not entries:
        raise DiscoveryError(_("{base} holds no submissions: expected one sub-folder or one .zip per student",
                               base=str(base)))
    return [group[0] if len(group) == 1 else Found(student, group[0].path, DUPLICATE)
            for student, group in sorted(entries.items())]


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(part in SKIPPED_DIRS or part == ".DS_Store" for part in parts)


def locate_week(paths: list[str], week: str, files: list[str], other_weeks: list[str]) -> str | None:
    """The folder (``""`` for the top, else ``"a/b"``) among ``paths`` (files, POSIX, relative) holding the week.

    A folder named ``week`` wins (the shallowest); else the shallowest folder with
    one of the week's files, outside folders named after other weeks; else ``None``.
    """
    week_dirs, with_files = set(), Counter()
    for path in paths:
        parts = PurePosixPath(path).parts
        if _skipped(parts):
            continue
        for depth, part in enumerate(parts[:-1]):
            if part == week:
                week_dirs.add("/".join(parts[: depth + 1]))
        if parts[-1] in files and not any(part in other_weeks for part in parts[:-1]):
            with_files["/".join(parts[:-1])] += 1
    if week_dirs:
        return min(week_dirs, key=lambda d: (d.count("/"), d))
    if with_files:
        return min(with_files, key=lambda d: (d.count("/") if d else -1, -with_files[d], d))
    return None


def _member_name(name: str) -> str:
    """A zip member's path, normalised; raises :class:`InvalidSubmission` if it would leave the folder."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean):
        raise InvalidSubmission(_("the zip holds {name}, an absolute path; zip the folder itself", name=repr(name)))
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidSubmission(_("the zip holds {name}, a path that points outside its folder", name=repr(name)))
    return "/".join(parts)


def _zip_members(zf: zipfile.ZipFile, limits: CopyLimits) -> tuple[dict[str, zipfile.ZipInfo], int]:
    """Regular-file members by normalised name, and how many symbolic links were left out."""
    infos = zf.infolist()
    if len(infos) > limits.max_files:
        raise InvalidSubmission(_("the zip holds {n} entries, more than the {limit} allowed", n=len(infos),
                                  limit=limits.max_files))
    members, links = {}, 0
    for info in infos:
        name = _member_name(info.filename)
        mode = info.external_attr >> 16
        if info.is_dir() or not name:
            continue
        if stat.S_ISLNK(mode):
            links += 1
            continue
        if info.flag_bits & 0x1:
            raise InvalidSubmission(_("{file} in the zip is encrypted; submit an unencrypted zip",
                                      file=info.filename))
        members[name] = info
    return members, links


def _cap_error(limits: CopyLimits) -> InvalidSubmission:
    return InvalidSubmission(_("the week's files take more than {mb} MB; leave data sets and checkpoints out of "
                               "the submission", mb=limits.max_bytes // (1024 * 1024)))


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list[int], limits: CopyLimits) -> None:
    """Stream one member to ``target``, counting the bytes actually written (headers can lie)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _cap_error(limits)
            dst.write(chunk)


def _walk_files(folder: Path, limits: CopyLimits) -> tuple[list[str], int]:
    """Regular files under ``folder`` (relative, POSIX) without following links, and the links seen."""
    files, links = [], 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                links += 1
            elif stat.S_ISREG(st.st_mode):
                files.append(os.path.relpath(full, folder).replace(os.sep, "/"))
                if len(files) > limits.max_files:
                    raise InvalidSubmission(_("the submission holds more than {limit} files",
                                              limit=limits.max_files))
    return files, links


def _week_files(paths: list[str], prefix: str) -> list[str]:
    """``paths`` inside folder ``prefix``, relative to it, leaving out skipped folders."""
    if prefix:
        paths = [p[len(prefix) + 1:] for p in paths if p.startswith(prefix + "/")]
    return [p for p in paths if not _skipped(PurePosixPath(p).parts)]


def _link_note(links: int) -> list:
    return [n_("left out {n} symbolic link", "left out {n} symbolic links", links)] if links else []


def materialize(found: Found, week: str, files: list[str], other_weeks: list[str], dest: Path,
                limits: CopyLimits = CopyLimits()) -> Copy:
    """Copy ``found``'s week into ``dest/<week>/``; raise :class:`InvalidSubmission` when it cannot be."""
    if found.kind == DUPLICATE:
        raise InvalidSubmission(_("found both a folder and a .zip named {student}; keep one",
                                  student=found.student))
    if found.kind == OTHER:
        raise InvalidSubmission(_("{name} is neither a folder nor a .zip file", name=found.path.name))
    target = Path(dest) / week
    target.mkdir(parents=True)
    budget = [limits.max_bytes]
    if found.kind == ZIP:
        try:
            with zipfile.ZipFile(found.path) as zf:
                members, links = _zip_members(zf, limits)
                prefix = locate_week(list(members), week, files, other_weeks)
                if prefix is not None:
                    for rel in _week_files(list(members), prefix):
                        _extract(zf, members[f"{prefix}/{rel}" if prefix else rel], target / rel, budget, limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, zlib.error) as error:
            raise InvalidSubmission(_("{name} is not a readable zip file ({error})", name=found.path.name,
                                      error=str(error))) from None
    else:
        paths, links = _walk_files(found.path, limits)
        prefix = locate_week(paths, week, files, other_weeks)
        if prefix is not None:
            for rel in _week_files(paths, prefix):
                source = found.path / prefix / rel
                budget[0] -= source.stat().st_size
                if budget[0] < 0:
                    raise _cap_error(limits)
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / rel, follow_symlinks=False)
    notes = _link_note(links)
    if prefix not in (None, "", week):
        notes.append(_("graded the files in {folder}/", folder=prefix))
    missing = [name for name in files if not (target / name).is_file()]
    return Copy(Path(dest), target, missing, notes)


def fingerprint(found: Found, week: str, files: list[str], other_weeks: list[str],
                limits: CopyLimits = CopyLimits()) -> str:
    """A hash of what would be graded, so that a changed resubmission is graded again on resume."""
    digest = hashlib.sha256(f"{found.kind}\0{week}\0".encode())
    if found.kind == ZIP:
        with open(found.path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    elif found.kind == FOLDER:
        try:
            paths, _links = _walk_files(found.path, limits)
        except InvalidSubmission as error:  # graded as invalid anyway; the message is what matters
            digest.update(render(error.message, "en").encode())
            paths = []
        prefix = locate_week(paths, week, files, other_weeks)
        for rel in _week_files(paths, prefix) if prefix is not None else []:
            path = found.path / prefix / rel
            digest.update(f"{rel}\0{path.stat().st_size}\0".encode())
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()
