"""Grading one submission's copy, from the batch's side.

:func:`grade_copy` starts the submission's grading process (:mod:`.grader`, trusted: it runs the
checks and decides) and waits for it. That process starts the student's code in a worker of its
own, sandboxed (:mod:`.sandbox`), and keeps the limits on it:

- a time limit per check, and the submission's own: what is left of the submission's time bounds
  every check, and checks left when it runs out are not run;
- memory: an address-space limit inside the worker (``RLIMIT_AS``), and a watch on the memory of
  all its processes (catches forked children and CUDA, where ``RLIMIT_AS`` cannot be used);
- processes: more than ``max_processes`` alive at once (a fork bomb) kills the lot;
  ``RLIMIT_NPROC`` is also set where the kernel enforces it (not as root);
- output: the worker's stdout and stderr go through a pipe into a capped buffer (head and tail
  kept), so megabytes of printing cost nothing;
- no network, a read-only machine, an unprivileged user, and out of sight the class and output
  folders, the reference solutions and the kit's checks, where namespaces are available
  (``isolation = "namespaces"``, see :func:`detect_isolation`); otherwise a process group and the
  limits only.

A worker that crashes (a segfault, ``os._exit``) costs the check it was running; the next check
gets a fresh worker. After :data:`autograder.plugin.CRASHES_PER_EXERCISE` crashes in one exercise,
the rest of that exercise's checks are left out. A crash while a student file is being imported
costs that file's checks at once, with one message saying so; the file is not imported again.
Here the batch only keeps a wall-clock backstop (the submission's time, the plots' and a margin)
and reads what the grading process wrote: its ``results.json``, its ``status.json``, and the
events it streamed (each check's start and result) if it had to be stopped.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dlkit.grading.grader import UNSHARE_FLAGS, SandboxError
from dlkit.grading.outcome import CRASHED, GRADED, OUT_OF_MEMORY, TIMEOUT, not_run
from autograder.i18n import Said, _, current_language, from_data, in_turn, map_plain, render
from autograder.probe.launch import KIT_PARENT, CappedOutput, drain
from autograder.probe.status import StatusPipe
from autograder.results import CheckResult, read_results
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec

NAMESPACES, PROCESS = "namespaces", "process"
ISOLATIONS = ("auto", NAMESPACES, PROCESS)
KIT_MEMORY_MB, CUDA_KIT_MEMORY_MB = 1024, 4096
"""Memory the kit itself (Python, PyTorch, pytest; CUDA's context) may use on top of ``--memory``."""


GRACE_SECONDS = 60.0
"""Beyond the submission's time and the plots', what the grading process may take before the batch stops it."""


def memory_cap_mb(memory_mb: int, device: str) -> int:
    """Memory one submission's worker may hold in all: the student's plus the kit's (CUDA's when it may be used)."""
    return memory_mb + kit_memory_mb(device)


def kit_memory_mb(device: str) -> int:
    """What the worker's own Python, PyTorch (and CUDA context) may take on top of the student's ``--memory``."""
    return KIT_MEMORY_MB if device == "cpu" else CUDA_KIT_MEMORY_MB


MEMORY_ERROR = re.compile(r"MemoryError|can't allocate memory|not enough memory|out of memory|std::bad_alloc",
                          re.IGNORECASE)


class KitError(Said, RuntimeError):
    """The kit's checks could not run at all (no checks for the week, a spec error ...); ``message`` is an
    :mod:`autograder.i18n` message."""


class Stopped(Exception):
    """The batch was asked to stop while this submission was being graded."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    timeout_s: float = 600.0
    """Wall-clock seconds for the whole submission (every attempt together)."""
    memory_mb: int = 4096
    """Memory for the student's code, on top of what the kit itself needs (:data:`KIT_MEMORY_MB`)."""
    max_processes: int = 64
    """Processes alive at once (the grading process included)."""
    file_mb: int = 64
    """Largest file the child may write."""
    log_head_bytes: int = 200_000
    """Output kept from the start of the child's stdout and stderr."""
    log_tail_bytes: int = 50_000
    """Output kept from the end."""
    plot_seconds: float = 60.0
    """Time for the feedback plots, once the checks are done."""


@dataclass(frozen=True)
class GradeOptions:
    """How every submission of a batch is graded."""

    week: str
    """Week folder, e.g. ``"week1"``."""
    device: str = "cpu"
    """``cpu``, ``cuda`` or ``auto`` (resolved in the child)."""
    profile: str = "auto"
    """Budget profile passed to the checks."""
    threads: int = 1
    """PyTorch threads per child."""
    data_root: str | None = None
    """Explicit data root (else the child sees ``DLKIT_DATA`` or the kit's default)."""
    limits: Limits = Limits()
    """Resource limits."""
    isolation: str = NAMESPACES
    """``namespaces`` or ``process`` (see :func:`detect_isolation`)."""
    plots: bool = True
    """Make the feedback plots the kit has for this week."""
    hidden: tuple[str, ...] = ()
    """Folders the child must not see (the class folder, the output folder)."""
    check_timeout_s: float | None = None
    """Seconds one check may run, its file's import included (``None``: each exercise's own limit)."""
    class_seed: int | None = None
    """The class's seed, from which every check's inputs are drawn (``None``: the checks' own seeds)."""
    lang: str | None = None
    """Language of what the grading process writes (its log, the rendered messages): ``en`` or ``zh``
    (``None``: the batch's own, :func:`autograder.i18n.current_language`). Messages are kept as data too."""

    def record(self) -> dict:
        """The settings worth keeping with each student's results."""
        limits = self.limits
        return {"device": self.device, "profile": self.profile, "threads": self.threads, "isolation": self.isolation,
                "timeout_s": limits.timeout_s, "memory_mb": limits.memory_mb, "max_processes": limits.max_processes,
                "class_seed": self.class_seed}


@dataclass
class Graded:
    """What grading one copy produced (the batch adds who it was)."""

    status: str
    message: object
    """What went wrong, one thing after another (:func:`in_turn`): an :mod:`autograder.i18n` message (``""``
    when nothing did)."""
    results: list[CheckResult]
    provenance: dict
    log: str
    plots: dict[str, tuple[bytes, object]]
    """PNG made by the child: file name -> (its bytes, its caption, an :mod:`autograder.i18n` message); only
    files that look like PNGs and are not huge (see :func:`read_plots`)."""
    seconds: float
    attempts: int
    settings: dict
    """What the submission was graded under (:meth:`GradeOptions.record`)."""


def detect_isolation(requested: str = "auto") -> str:
    """``namespaces`` where ``unshare`` can make PID, mount and network namespaces here (root on Linux), else ``process``."""
    if requested == PROCESS:
        return PROCESS
    unshare = shutil.which("unshare")
    works = False
    if unshare and sys.platform.startswith("linux"):
        try:
            works = subprocess.run([unshare, *UNSHARE_FLAGS, "true"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            works = False
    if requested == NAMESPACES and not works:
        raise SandboxError(_("--isolation namespaces needs `unshare` with the right to make PID, mount and network "
                             "namespaces (root on Linux); use --isolation process"))
    return NAMESPACES if works else PROCESS


def declared_checks(week: str) -> list[tuple[str, str, float, str]]:
    """(exercise, check, points, visibility) for each declared check of ``week``, in declaration order."""
    return [(exercise.name, check.name, check.points, check.visibility)
            for exercise in load_spec()[week].values() for check in exercise.checks.values()]


# --- the worker's processes, as the grading process watches them ---------------------------------

class Members:
    """The processes of one worker: its session, and (with namespaces) its whole PID namespace."""

    def __init__(self, leader: int, namespaced: bool):
        self.leader = leader
        self.namespaced = namespaced
        self.own_ns = os.readlink("/proc/self/ns/pid") if namespaced else None
        self.ns: str | None = None

    def scan(self) -> list[tuple[int, int]]:
        """(pid, resident bytes) of every member alive now; empty where ``/proc`` is missing."""
        found = []
        try:
            entries = os.listdir("/proc")
        except OSError:
            return found
        page = os.sysconf("SC_PAGE_SIZE")
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                member = int(fields[3]) == self.leader
                if self.namespaced:
                    ns = os.readlink(f"/proc/{entry}/ns/pid")
                    if member and self.ns is None and ns != self.own_ns:
                        self.ns = ns
                    member = member or (self.ns is not None and ns == self.ns)
                if member and fields[0] != b"Z":
                    found.append((int(entry), int(fields[21]) * page))
            except (OSError, IndexError, ValueError):
                continue
        return found


def proportional_bytes(pids: list[int]) -> int:
    """Memory of ``pids`` with pages shared after a fork counted once (PSS), where the kernel reports it."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


# --- the grading process -------------------------------------------------------------------------

def _worker_environment(work: Path, options: GradeOptions) -> dict[str, str]:
    """A clean environment for the worker: nothing of the batch's (its folders, tokens) reaches the student."""
    threads = str(options.threads)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"),
           "TMPDIR": str(work / "tmp"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(work / "home" / ".matplotlib"), "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "TORCHINDUCTOR_CACHE_DIR": str(work / "tmp" / "inductor"), "COLUMNS": "100",
           "DLKIT_LANG": options.lang or current_language()}
    if os.environ.get("CUDA_VISIBLE_DEVICES"):
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


def _visible_paths() -> list[str]:
    """Folders the worker needs to read beyond what its own process has loaded (the sandbox adds those):
    the kit's package (not the rest of its folder) and Python's own."""
    return sorted({str(KIT_ROOT / "autograder"), sys.prefix, sys.base_prefix,
                   str(Path(sys.executable).resolve().parent)})


def anyone_can_reach(folder: str) -> bool:
    """Whether any user may enter ``folder`` and read what is in it (each folder above it may be passed
    through): without namespaces, a worker that becomes ``nobody`` must still reach Python and the kit."""
    path = Path(folder).resolve()
    try:
        if path.stat().st_mode & 0o005 != 0o005:
            return False
        return all(parent.stat().st_mode & 0o001 for parent in path.parents)
    except OSError:
        return False


def unprivileged_without_namespaces() -> bool:
    """Whether a worker without namespaces becomes ``nobody`` here (root, and Python and the kit within
    everyone's reach); otherwise it runs as the grading process's user."""
    return os.geteuid() == 0 and all(map(anyone_can_reach, _visible_paths()))


def secret_paths(extra: tuple[str, ...] = ()) -> list[str]:
    """Folders the worker must not see: the reference solutions, the instructors' package (the live
    reference's oracles, the answer keys, grading), the kit's checks, its tests, docs, scripts and
    sample class; plus ``extra`` (the class and output folders)."""
    hidden = [str(KIT_ROOT / name) for name in ("solutions", "dlkit", "tests", "examples", "docs", "scripts",
                                                 "benchmarks", ".git")]
    hidden += [str(path) for path in sorted((KIT_ROOT / "autograder").iterdir())
               if path.is_dir() and path.name in load_spec()]
    return [*hidden, *extra]


def _data_paths(options: GradeOptions) -> tuple[str, ...]:
    """The data root and the kit's data cache: the worker gets its training data over the channel, and
    must not read the test labels."""
    from autograder.data import data_root

    paths = {str(KIT_ROOT / "data_cache")}
    try:
        paths.add(str(data_root(options.data_root).resolve()))
    except Exception:  # noqa: BLE001 - no usable data root: nothing to hide
        pass
    return tuple(sorted(paths))


def _give_to_worker(work: Path) -> None:
    """Make the worker's folder (the submission's copy, its home and temp) its own when it runs as nobody;
    the private folder above it can be passed through (where no namespace binds ``work`` for it), and what
    the grading process writes beside it stays root's."""
    if os.geteuid() != 0:
        return
    from dlkit.grading.sandbox import NOBODY

    os.chmod(work.parent, 0o711)
    os.chmod(work.parent / "result", 0o700)
    for folder, dirs, files in os.walk(work):
        os.chown(folder, NOBODY, NOBODY)
        for name in files:
            os.chown(os.path.join(folder, name), NOBODY, NOBODY, follow_symlinks=False)


def grader_config(private: Path, options: GradeOptions) -> dict:
    """What the grading process of ``private`` needs (see :mod:`.grader`)."""
    limits = options.limits
    work, result = private / "work", private / "result"
    return {
        "kit_root": str(KIT_ROOT), "week": options.week, "submission": str(work / "sub"),
        "results_json": str(result / "results.json"), "status_json": str(result / "status.json"),
        "plots_dir": str(result / "plots"), "device": options.device, "profile": options.profile,
        "threads": options.threads, "data_root": options.data_root, "check_timeout": options.check_timeout_s,
        "class_seed": options.class_seed, "plots": options.plots, "timeout_s": limits.timeout_s,
        "lang": options.lang or current_language(),
        "limits": {"memory_mb": limits.memory_mb, "kit_memory_mb": kit_memory_mb(options.device),
                   "max_processes": limits.max_processes, "log_head_bytes": limits.log_head_bytes,
                   "log_tail_bytes": limits.log_tail_bytes, "plot_seconds": limits.plot_seconds},
        "worker_env": _worker_environment(work, options),
        "sandbox": {"isolation": options.isolation, "private": str(work), "host_tmp": str(private.parent),
                    "visible": _visible_paths(), "hidden": secret_paths((*options.hidden, *_data_paths(options))),
                    "unprivileged": os.geteuid() == 0 and (options.isolation == NAMESPACES or
                                                           unprivileged_without_namespaces()),
                    "shm_mb": min(limits.memory_mb, 1024),
                    "memory_mb": limits.memory_mb, "file_mb": limits.file_mb,
                    "cpu_seconds": int(limits.timeout_s * max(1, options.threads) * 2 + 60),
                    "max_tasks": limits.max_processes * 8},
    }


def _parse_events(data: bytes) -> list[dict]:
    events = []
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _check_of(nodeid: str) -> tuple[str, str]:
    """(exercise, check) of a pytest node id such as ``autograder/week1/test_spiral.py::test_shapes[0]``."""
    path, _sep, name = nodeid.partition("::")
    return Path(path).stem.removeprefix("test_"), name.split("[")[0].removeprefix("test_")


def _streamed(events: list[dict]) -> tuple[dict, str | None, dict]:
    """The results the grading process streamed, the node id of a check that started and never
    finished (if any), and its provenance."""
    done, current, provenance = {}, None, {}
    for event in events:
        if event.get("event") == "ready":
            provenance = event.get("provenance", {}) or {}
        elif event.get("event") == "start":
            current = event.get("nodeid")
        elif event.get("event") == "result" and isinstance(event.get("result"), dict):
            try:
                result = CheckResult(**{**event["result"], "message": from_data(event["result"].get("message"))})
            except TypeError:
                continue
            done[(result.exercise, result.check)] = result
            if event.get("nodeid") == current:
                current = None
    return done, current, provenance


def grade_copy(private: Path, options: GradeOptions, stop: threading.Event | None = None, pool=None) -> Graded:
    """Grade ``private/work/sub/<week>`` under ``options``; every declared check of the week gets a result.

    With ``pool`` (a :class:`~.pool.GraderPool`) the grading process is forked warm from it, else started afresh."""
    stop = stop or threading.Event()
    limits = options.limits
    start = time.monotonic()
    declared = declared_checks(options.week)
    work, result = private / "work", private / "result"
    for folder in (work / "home", work / "tmp", result / "plots"):
        folder.mkdir(parents=True, exist_ok=True)
    _give_to_worker(work)
    config = grader_config(private, options)
    events = tempfile.TemporaryFile()  # nameless, and in this process: no worker can reach it
    fcntl.fcntl(events.fileno(), fcntl.F_SETFL, fcntl.fcntl(events.fileno(), fcntl.F_GETFL) | os.O_APPEND)
    log = CappedOutput(limits.log_head_bytes, limits.log_tail_bytes)
    output_r, output_w = os.pipe()  # the grading process's stdout and stderr
    if pool is not None:
        try:
            pid, status_r = pool.grade(config, output_w, events.fileno())
        finally:
            os.close(output_w)
        status = StatusPipe(status_r)
        running = lambda: not status.done.is_set()  # noqa: E731
        exit_code = lambda: _exit_code(status.line_starting("exit ", timeout=5))  # noqa: E731
    else:
        config_r, config_w = os.pipe()
        fds = (config_r, events.fileno())
        boot = (f"import sys; sys.path.insert(0, {str(KIT_PARENT)!r}); "
                f"from dlkit.grading.grader import main; main{fds}")
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            proc = subprocess.Popen([sys.executable, "-I", "-B", "-u", "-c", boot], stdin=subprocess.DEVNULL,
                                    stdout=output_w, stderr=output_w, pass_fds=fds, cwd=result,
                                    env=env, start_new_session=True)
        finally:
            os.close(config_r)
            os.close(output_w)
        with os.fdopen(config_w, "wb") as f:
            f.write(json.dumps(config).encode())
        pid = proc.pid
        running = lambda: proc.poll() is None  # noqa: E731
        exit_code = lambda: proc.wait()  # noqa: E731
    reader = threading.Thread(target=drain, args=(output_r, log), daemon=True)
    reader.start()
    deadline = start + limits.timeout_s + (limits.plot_seconds if options.plots else 0) + GRACE_SECONDS
    stopped = None
    while running():
        if stop.is_set():
            stopped = "stopped"
        elif time.monotonic() > deadline:
            stopped = "timeout"
        if stopped:
            _kill_group(pid)
            break
        time.sleep(0.05)
    returncode = exit_code()
    _kill_group(pid)
    reader.join(timeout=5)
    if stopped == "stopped":
        raise Stopped()
    with events:
        events.seek(0)
        done, current, provenance = _streamed(_parse_events(events.read()))
    record = _read_json(result / "status.json")
    if record.get("sandbox_error"):
        raise SandboxError(from_data(record["sandbox_error"]))
    results = None
    if (result / "results.json").is_file():
        try:
            results, provenance = read_results(result / "results.json")
        except (OSError, ValueError, KeyError, TypeError):
            results = None
    if results is None and not done and stopped is None:
        raise KitError(_("the {week} checks could not run (grading process exit status {code}):\n{log}",
                         week=options.week, code=str(returncode), log=log.text()[-3000:].strip()))
    status, problems = record.get("status", GRADED), [from_data(p) for p in record.get("problems", [])]
    if results is None:  # the grading process was stopped: keep what it finished
        status = TIMEOUT if stopped == "timeout" else CRASHED
        if stopped != "timeout":
            problems.append(_("the grading process ended early (exit status {code})", code=str(returncode)))
        elif current:
            problems.append(_("timed out after {limit:g} s during {check}", limit=limits.timeout_s,
                              check="/".join(_check_of(current))))
        else:
            problems.append(_("timed out after {limit:g} s", limit=limits.timeout_s))
        results = _complete(options.week, declared, done, problems)
    else:
        results = _complete(options.week, declared, {(r.exercise, r.check): r for r in results}, problems)
    if status == GRADED:
        memory_checks = [r.id for r in results if r.output and MEMORY_ERROR.search(_english(r))]
        if memory_checks:
            status = OUT_OF_MEMORY
            problems.append(_("ran out of memory (limit {limit} MB) in {checks}", limit=limits.memory_mb,
                              checks=", ".join(memory_checks)))
    plots = {result / "plots" / Path(str(p.get("file"))).name: from_data(p.get("title", ""))
             for p in record.get("plots", []) if p.get("file")}
    return Graded(status, in_turn(problems), _tidy(results, work / "sub"), provenance, log.text(), read_plots(plots),
                  time.monotonic() - start, int(record.get("attempts", 0)), options.record())


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PLOT_BYTES = 5 * 1024 * 1024


def read_plots(plots: dict[Path, object]) -> dict[str, tuple[bytes, object]]:
    """The grading process's PNGs that look like PNGs and are not huge: name -> (bytes, caption)."""
    kept = {}
    for path, caption in plots.items():
        if not re.fullmatch(r"[\w.-]+\.png", path.name):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if data.startswith(PNG_MAGIC) and len(data) <= MAX_PLOT_BYTES:
            kept[path.name] = (data, caption)
    return kept


def _exit_code(line: str | None) -> int | None:
    return os.waitstatus_to_exitcode(int(line)) if line is not None else None


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _english(result: CheckResult) -> str:
    """A result's message in English (what the memory check looks for), whatever language it was written in."""
    return result.output if result.message is None else render(result.message, "en")


def _complete(week: str, declared: list, done: dict, problems: list) -> list[CheckResult]:
    """One result per declared check, in declaration order; checks that never ran say why (seed 0: none used)."""
    reason = _("not run: {reason}", reason=problems[-1] if problems else _("the grading process ended early"))
    results = []
    for exercise, check, points, visibility in declared:
        got = done.get((exercise, check))
        if got is not None and got.week:
            results.append(got)
            continue
        message = (got.message if got.message is not None else got.output) if got is not None else reason
        # never ran, or recorded here for a crash or timeout: the spec knows the rest
        results.append(not_run(week, exercise, check, points, visibility, message, got.cause if got is not None else ""))
    return results


def _tidy(results: list[CheckResult], copy_root: Path) -> list[CheckResult]:
    """Messages name files as ``week1/x.py``, not by the private folder they were graded in."""
    prefix = f"{copy_root}/"
    for result in results:
        result.output = result.output.replace(prefix, "")
        if result.message is not None:
            result.message = map_plain(result.message, lambda text: text.replace(prefix, ""))
    return results


PRIVATE_PREFIX = "dlkit-grade-"
PRIVATE_NAME = re.compile(rf"{PRIVATE_PREFIX}(\d+)-(\d+)-\w+")
"""``dlkit-grade-<owner pid>-<owner start time>-<random>``: who made the folder, so it can be cleaned once they are gone."""


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, /proc/<pid>/stat field 22), or ``None`` if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def private_folder(parent: str | None = None) -> Path:
    """A fresh private folder for one submission (the copy, the child's temp and results), named after its owner."""
    owner = f"{os.getpid()}-{_start_time(os.getpid()) or 0}-"
    return Path(tempfile.mkdtemp(prefix=PRIVATE_PREFIX + owner, dir=parent))


def remove_private(path: Path) -> None:
    """Remove a private folder, even one whose permissions the student changed."""
    def unlock(function, name, _excinfo):
        try:
            os.chmod(os.path.dirname(name), 0o700)
            os.chmod(name, 0o700)
            function(name)
        except OSError:
            pass

    shutil.rmtree(path, onerror=unlock)


def stale_private_folders(parent: str | None = None) -> list[Path]:
    """Private folders in ``parent`` (default: the system temp folder) whose owner has ended: a ``dlkit grade``
    killed with SIGKILL leaves them. A name that does not parse or a live owner's folder is never listed;
    nothing is listed where ``/proc`` is missing."""
    if not os.path.isdir("/proc/self"):
        return []
    folder = Path(parent or tempfile.gettempdir())
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    stale = []
    for entry in entries:
        match = PRIVATE_NAME.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            pid, started = int(match.group(1)), int(match.group(2))
            if _start_time(pid) != started:  # gone, or the pid now belongs to another process
                stale.append(entry)
    return stale
