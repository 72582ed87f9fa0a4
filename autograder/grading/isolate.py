"""Grading one submission's copy in its own sandboxed process, from the batch's side.

:func:`grade_copy` starts :mod:`.child` on the copy and watches it:

- wall-clock timeout for the whole submission: the child's process group (and,
  with namespaces, its whole PID namespace) is killed;
- memory: an address-space limit inside the child (``RLIMIT_AS``), and here a
  watch on the memory of all its processes (catches forked children and CUDA,
  where ``RLIMIT_AS`` cannot be used);
- processes: more than ``max_processes`` alive at once (a fork bomb) kills the
  lot; ``RLIMIT_NPROC`` is also set where the kernel enforces it (not as root);
- output: stdout and stderr go through a pipe into a capped buffer (head and
  tail kept), so megabytes of printing cost nothing;
- no network, a read-only machine, and the class and output folders out of
  sight when namespaces are available (``isolation = "namespaces"``, see
  :func:`detect_isolation`); otherwise a process group and the limits only.

Each check's start and result are streamed by the child, so a crash in one
check (a segfault, ``os._exit``) costs that check only: the checks left are run
again in a fresh child; after :data:`CRASHES_PER_EXERCISE` crashes in one exercise, the rest of
that exercise's checks are left out and the other exercises still run. A crash while a student
file is being imported (the child streams each import's start and end) costs that file's checks
at once, with one message saying so, and is not retried.
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.child import COLLECTED
from autograder.grading.outcome import CRASHED, GRADED, OUT_OF_MEMORY, TIMEOUT, not_run
from autograder.results import CheckResult, read_results
from autograder.settings import KIT_ROOT
from autograder.spec import load_spec
from autograder.submission import TOP_LEVEL_HINT

NAMESPACES, PROCESS = "namespaces", "process"
ISOLATIONS = ("auto", NAMESPACES, PROCESS)
UNSHARE_FLAGS = ("--mount", "--propagation", "private", "--net", "--pid", "--fork", "--kill-child", "--mount-proc")
CRASHES_PER_EXERCISE = 2
"""Crashes in one exercise's checks before the rest of its checks are left out (an os._exit at import crashes each)."""
POLL_SECONDS = 0.1
KIT_MEMORY_MB, CUDA_KIT_MEMORY_MB = 1024, 4096
"""Memory the kit itself (Python, PyTorch, pytest; CUDA's context) may use on top of ``--memory``."""


def memory_cap_mb(memory_mb: int, device: str) -> int:
    """Memory one submission's processes may hold in all: theirs plus the kit's (CUDA's when it may be used)."""
    return memory_mb + (KIT_MEMORY_MB if device == "cpu" else CUDA_KIT_MEMORY_MB)
MEMORY_ERROR = re.compile(r"MemoryError|can't allocate memory|not enough memory|out of memory|std::bad_alloc",
                          re.IGNORECASE)
SIGNAL_NAMES = {signal.SIGSEGV: "a segmentation fault (SIGSEGV)", signal.SIGBUS: "a bus error (SIGBUS)",
                signal.SIGFPE: "a floating-point exception (SIGFPE)", signal.SIGILL: "an illegal instruction (SIGILL)",
                signal.SIGABRT: "an abort (SIGABRT)"}


class SandboxError(RuntimeError):
    """The sandbox could not be set up: a problem with the kit or the machine, not the student."""


class KitError(RuntimeError):
    """The kit's checks could not run at all (no checks for the week, a spec error ...)."""


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

    def record(self) -> dict:
        """The settings worth keeping with each student's results."""
        limits = self.limits
        return {"device": self.device, "profile": self.profile, "threads": self.threads, "isolation": self.isolation,
                "timeout_s": limits.timeout_s, "memory_mb": limits.memory_mb, "max_processes": limits.max_processes}


@dataclass
class Graded:
    """What grading one copy produced (the batch adds who it was)."""

    status: str
    message: str
    results: list[CheckResult]
    provenance: dict
    log: str
    plots: dict[Path, str]
    """PNG made by the child -> its caption."""
    seconds: float
    attempts: int


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
        raise SandboxError("--isolation namespaces needs `unshare` with the right to make PID, mount and network "
                           "namespaces (root on Linux); use --isolation process")
    return NAMESPACES if works else PROCESS


def declared_checks(week: str) -> list[tuple[str, str, float, str]]:
    """(exercise, check, points, visibility) for each declared check of ``week``, in declaration order."""
    return [(exercise.name, check.name, check.points, check.visibility)
            for exercise in load_spec()[week].values() for check in exercise.checks.values()]


# --- one child process ---------------------------------------------------------------------------

class CappedLog:
    """Keeps the first ``head`` and the last ``tail`` bytes of a stream, and counts the rest."""

    def __init__(self, head: int, tail: int):
        self.head, self.tail = bytearray(), bytearray()
        self.head_max, self.tail_max = head, tail
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.head_max - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            excess = len(self.tail) - self.tail_max
            if excess > 0:
                del self.tail[:excess]
                self.dropped += excess

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes of output left out ...]\n" if self.dropped else ""
        return (bytes(self.head) + middle.encode() + bytes(self.tail)).decode("utf-8", "replace")


def _drain(pipe, log: CappedLog) -> None:
    while chunk := pipe.read(1 << 16):
        log.add(chunk)


class _Members:
    """The processes of one child: its session, and (with namespaces) its whole PID namespace."""

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


def _proportional_bytes(pids: list[int]) -> int:
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


def _kill(proc: subprocess.Popen, members: _Members) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid, _ in members.scan():
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Attempt:
    """What one child process did."""

    returncode: int
    """The grading process's exit status (negative: the signal that ended it)."""
    killed: str | None
    """``timeout``, ``memory``, ``processes``, ``stopped`` or ``None``."""
    collected: bool
    """pytest collected the checks (said on the status pipe before any student code ran)."""
    setup_error: str | None
    """What went wrong setting up the sandbox, from the status pipe."""
    events: list[dict]
    results: list[CheckResult] | None
    """The plugin's ``results.json`` when the child finished the checks."""
    provenance: dict
    log: str
    peak_mb: float
    peak_processes: int


def _environment(private: Path, options: GradeOptions) -> dict[str, str]:
    """A clean environment: nothing of the batch's (its output folder, tokens) leaks to the student."""
    threads = str(options.threads)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(private / "home"),
           "TMPDIR": str(private / "tmp"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(private / "home" / ".matplotlib"), "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "TORCHINDUCTOR_CACHE_DIR": str(private / "tmp" / "inductor"), "COLUMNS": "100"}
    for name in ("CUDA_VISIBLE_DEVICES", "DLKIT_DATA"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def _visible_paths(options: GradeOptions) -> list[str]:
    """Folders the child needs to read, kept visible (read-only) even inside the system temp folder."""
    paths = {str(KIT_ROOT), sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent)}
    data = options.data_root or os.environ.get("DLKIT_DATA")
    if data:
        paths.add(str(Path(data).expanduser().resolve()))
    return sorted(paths)


def run_attempt(private: Path, options: GradeOptions, checks: list[str] | None, deadline: float,
                stop: threading.Event) -> Attempt:
    """Run the child once on ``private/sub/<week>``; kill it at ``deadline`` or when ``stop`` is set.

    ``checks`` are pytest node ids (``<kit>/autograder/week1/test_x.py::test_y``) to run, or ``None`` for the week.
    """
    result_dir = private / "result"
    if result_dir.exists():
        shutil.rmtree(result_dir)
    for sub in ("result", "result/plots", "home", "tmp"):
        (private / sub).mkdir(parents=True, exist_ok=True)
    limits = options.limits
    config = {
        "kit_root": str(KIT_ROOT), "week": options.week, "submission": str(private / "sub"),
        "cwd": str(private / "sub" / options.week), "results_json": str(result_dir / "results.json"),
        "plots_dir": str(result_dir / "plots"),
        "device": options.device, "profile": options.profile, "threads": options.threads,
        "data_root": options.data_root, "checks": checks, "isolation": options.isolation,
        "private": str(private), "host_tmp": str(private.parent), "visible": _visible_paths(options),
        "hidden": list(options.hidden), "shm_mb": min(limits.memory_mb, 1024), "memory_mb": limits.memory_mb,
        "file_mb": limits.file_mb, "cpu_seconds": int(limits.timeout_s * max(1, options.threads) * 2 + 60),
        "max_tasks": limits.max_processes * 8, "plots": options.plots,
        "plot_seconds": limits.plot_seconds, "check_timeout": options.check_timeout_s,
    }
    config_r, config_w = os.pipe()
    alive_r, alive_w = os.pipe()
    status_r, status_w = os.pipe()
    events = tempfile.TemporaryFile()  # nameless: the student's code cannot delete it
    fcntl.fcntl(events.fileno(), fcntl.F_SETFL, fcntl.fcntl(events.fileno(), fcntl.F_GETFL) | os.O_APPEND)
    fds = (config_r, alive_r, status_w, events.fileno())
    boot = (f"import sys; sys.path.insert(0, {str(KIT_ROOT)!r}); "
            f"from autograder.grading.child import main; main{fds}")
    command = [sys.executable, "-I", "-B", "-u", "-c", boot]
    if options.isolation == NAMESPACES:
        command = [shutil.which("unshare") or "unshare", *UNSHARE_FLAGS, *command]
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                pass_fds=fds, cwd=private, env=_environment(private, options),
                                start_new_session=True)
    finally:
        for fd in (config_r, alive_r, status_w):
            os.close(fd)
    try:
        with os.fdopen(config_w, "wb") as f:
            f.write(json.dumps(config).encode())
    except BrokenPipeError:
        pass  # the child died before reading it: reported below as a failure to start
    log = CappedLog(limits.log_head_bytes, limits.log_tail_bytes)
    reader = threading.Thread(target=_drain, args=(proc.stdout, log), daemon=True)
    reader.start()
    members = _Members(proc.pid, options.isolation == NAMESPACES)
    memory_cap = memory_cap_mb(limits.memory_mb, options.device) * 1024 * 1024
    killed, peak_bytes, peak_processes = None, 0, 0
    try:
        while proc.poll() is None:
            alive = members.scan()
            peak_processes = max(peak_processes, len(alive))
            resident = sum(size for _, size in alive)
            if resident > memory_cap:  # resident memory double-counts pages shared after fork: confirm with PSS
                resident = _proportional_bytes([pid for pid, _ in alive])
            peak_bytes = max(peak_bytes, resident)
            if stop.is_set():
                killed = "stopped"
            elif time.monotonic() > deadline:
                killed = "timeout"
            elif len(alive) > limits.max_processes:
                killed = "processes"
            elif resident > memory_cap:
                killed = "memory"
            if killed:
                _kill(proc, members)
                break
            time.sleep(POLL_SECONDS)
        proc.wait()
        _kill(proc, members)  # whatever the child left behind in its session
    finally:
        os.close(alive_w)
        if proc.poll() is None:
            _kill(proc, members)
            proc.wait()
    reader.join(timeout=5)
    if not reader.is_alive():
        proc.stdout.close()
    status = _read_status(status_r)
    with events:
        events.seek(0)
        streamed = _parse_events(events.read())
    results, provenance = None, {}
    if (result_dir / "results.json").is_file():
        try:
            results, provenance = read_results(result_dir / "results.json")
        except (OSError, ValueError, KeyError, TypeError):
            results = None
    if not provenance:
        provenance = next((e.get("provenance", {}) for e in streamed if e.get("event") == "ready"), {})
    returncode = proc.returncode
    if "exit" in status:  # namespaces: PID 1 relays the grading process's own wait status
        returncode = os.waitstatus_to_exitcode(int(status["exit"]))
    return Attempt(returncode, killed, COLLECTED in status, status.get("error"), streamed, results, provenance,
                   log.text(), peak_bytes / 2**20, peak_processes)


def _read_status(fd: int) -> dict[str, str]:
    """The status pipe's lines (``collected``, ``error <why>``, ``exit <wait status>``) by their first word."""
    data = b""
    with os.fdopen(fd, "rb") as f:
        os.set_blocking(fd, False)  # every writer is gone, unless an orphan inherited it: never wait for one
        try:
            data = f.read() or b""
        except BlockingIOError:
            pass
    status = {}
    for line in data.decode("utf-8", "replace").splitlines():
        word, _, rest = line.partition(" ")
        status[word] = rest
    return status


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


# --- one submission ------------------------------------------------------------------------------

def _node_id(week: str, exercise: str, check: str) -> str:
    """The pytest node id that runs one check (every parameter of it, if it has any)."""
    return f"{KIT_ROOT / 'autograder' / week / f'test_{exercise}.py'}::test_{check}"


def _check_of(nodeid: str) -> tuple[str, str]:
    """(exercise, check) of a pytest node id such as ``autograder/week1/test_spiral.py::test_shapes[0]``."""
    path, _, name = nodeid.partition("::")
    return Path(path).stem.removeprefix("test_"), name.split("[")[0].removeprefix("test_")


def _crash_reason(attempt: Attempt, limits: Limits) -> tuple[str, str]:
    """(status, what happened) for a child that ended before every check reported, e.g. "crashed with SIGSEGV"."""
    if attempt.killed == "memory":
        return OUT_OF_MEMORY, f"used more than {limits.memory_mb} MB of memory and was stopped"
    if attempt.killed == "processes":
        return CRASHED, f"started more than {limits.max_processes} processes at once (a fork bomb?) and was stopped"
    code = attempt.returncode
    if code == -signal.SIGKILL:
        return OUT_OF_MEMORY, "was killed by the system (SIGKILL), most likely for running out of memory"
    if MEMORY_ERROR.search(attempt.log[-4000:]):
        return OUT_OF_MEMORY, f"ran out of memory (limit {limits.memory_mb} MB)"
    if code < 0:
        try:
            name = SIGNAL_NAMES.get(-code) or signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return CRASHED, f"crashed with {name}"
    return CRASHED, f"ended with exit status {code} (os._exit() or an interpreter exit in the code?)"


def _startup_failure(attempt: Attempt, week: str) -> Exception | None:
    """The kit's or the machine's failure, known from the status pipe (no student code had run), if any."""
    if attempt.setup_error is not None:
        return SandboxError(f"the grading sandbox could not be set up: {attempt.setup_error}")
    if not attempt.collected and attempt.killed is None:
        return KitError(f"pytest could not collect the {week} checks (exit status {attempt.returncode}):\n"
                        f"{attempt.log[-3000:].strip()}")
    return None


def _collect(events: list[dict], done: dict, plots: dict, plot_dir: Path) -> tuple[str | None, str | None]:
    """Record the streamed results and plots; return the node id of a check that started and never
    reported, and the student file it was importing when the process ended (else ``None``)."""
    current, importing = None, None
    for event in events:
        if event.get("event") == "start":
            current, importing = event.get("nodeid"), None
        elif event.get("event") == "import":
            importing = str(event.get("file")) if event.get("stage") == "start" else None
        elif event.get("event") == "result" and isinstance(event.get("result"), dict):
            try:
                result = CheckResult(**event["result"])
            except TypeError:
                continue
            done[(result.exercise, result.check)] = result
            if event.get("nodeid") == current:
                current = None
        elif event.get("event") == "plot" and event.get("file"):
            plots[plot_dir / Path(str(event["file"])).name] = str(event.get("title", ""))
    return current, importing if current else None


def _fail(done: dict, exercise: str, check: str, message: str, cause: str = "") -> None:
    """Record a check that reported no result of its own (completed from the spec by :func:`_complete`)."""
    done[(exercise, check)] = CheckResult("", exercise, check, 0.0, 0.0, "failed", message, 0, cause=cause)


def _exercise_of_file(week: str, file: str) -> str | None:
    """The exercise whose student file is ``file`` (e.g. ``tensor_ops.py``), if any."""
    return next((name for name, exercise in load_spec()[week].items() if exercise.file == file), None)


STARTUP_RETRIES = 2
"""Fresh tries after a child that failed before any student code ran (``unshare`` has been seen to fail
now and then with "sigprocmask unblock failed"); a failure that persists stops the batch."""


def grade_copy(private: Path, options: GradeOptions, stop: threading.Event | None = None) -> Graded:
    """Grade ``private/sub/<week>`` under ``options``; every declared check of the week gets a result."""
    stop = stop or threading.Event()
    limits = options.limits
    start = time.monotonic()
    deadline = start + limits.timeout_s
    declared = declared_checks(options.week)
    max_attempts = 1 + (CRASHES_PER_EXERCISE + 1) * len({exercise for exercise, *_ in declared})  # +1: at import
    done: dict[tuple[str, str], CheckResult] = {}
    remaining: list[str] | None = None  # None: the whole week
    crashes: Counter = Counter()
    status, problems, provenance, logs, plots = GRADED, [], {}, [], {}
    attempts = startup_failures = 0
    while True:
        attempts += 1
        attempt = run_attempt(private, options, remaining, deadline, stop)
        if attempt.killed == "stopped":
            raise Stopped()
        failure = _startup_failure(attempt, options.week)
        if failure:
            if startup_failures < STARTUP_RETRIES and time.monotonic() < deadline:
                startup_failures += 1
                attempts -= 1  # no student code ran: this try does not count
                continue
            raise failure
        header = f"----- attempt {attempts}: the checks left after a crash -----\n" if attempts > 1 else ""
        logs.append(header + attempt.log)
        provenance = provenance or attempt.provenance
        current, importing = _collect(attempt.events, done, plots, private / "result" / "plots")
        if attempt.results is not None:  # the checks ran to the end: the plugin's results are the record
            done.update({(r.exercise, r.check): r for r in attempt.results})
        if attempt.results is not None or all((e, c) in done for e, c, *_ in declared):
            break  # every check reported, even if the process then failed (a deleted cwd, a slow plot)
        if attempt.killed == "timeout":
            status = TIMEOUT if status == GRADED else status
            where = f" during {'/'.join(_check_of(current))}" if current else ""
            problems.append(f"timed out after {limits.timeout_s:g} s{where}")
            if current:
                _fail(done, *_check_of(current), f"stopped: the time limit ({limits.timeout_s:g} s) ran out here")
            break
        kind, why = _crash_reason(attempt, limits)
        status = kind if status == GRADED else status  # the first thing that went wrong names the row
        if current is None:
            problems.append(f"the grading process {why} outside any check")
            break
        exercise, check = _check_of(current)
        module = _exercise_of_file(options.week, importing) if importing else None
        if module is not None:  # the file itself kills the process: none of its checks can run, so none is retried
            message = f"importing {importing} {why}\n{TOP_LEVEL_HINT}"
            for other, name, *_ in declared:
                if other == module and (other, name) not in done:
                    _fail(done, other, name, message, cause=f"module {importing}")
        else:
            problems.append(f"{exercise}/{check}: the grading process {why}")
            _fail(done, exercise, check, f"the grading process {why} during this check")
            crashes[exercise] += 1
        if crashes[exercise] >= CRASHES_PER_EXERCISE:  # e.g. a helper every check calls kills the process
            for other, name, *_ in declared:
                if other == exercise and (other, name) not in done:
                    _fail(done, other, name, f"not run: the grading process crashed in {crashes[exercise]} of "
                                             f"{exercise}'s checks, so the rest were left out")
        remaining = [_node_id(options.week, e, c) for e, c, *_ in declared if (e, c) not in done]
        if not remaining or attempts >= max_attempts:
            break
    results = _complete(options.week, declared, done, problems)
    if status == GRADED:
        memory_checks = [r.id for r in results if r.output and MEMORY_ERROR.search(r.output)]
        if memory_checks:
            status = OUT_OF_MEMORY
            problems.append(f"ran out of memory (limit {limits.memory_mb} MB) in {', '.join(memory_checks)}")
    return Graded(status, "; ".join(problems), _tidy(results, private / "sub"), provenance, "\n".join(logs),
                  {p: t for p, t in plots.items() if p.is_file()}, time.monotonic() - start, attempts)


def _complete(week: str, declared: list, done: dict, problems: list[str]) -> list[CheckResult]:
    """One result per declared check, in declaration order; checks that never ran say why (seed 0: none used)."""
    reason = "not run: " + (problems[-1] if problems else "the grading process ended early")
    results = []
    for exercise, check, points, visibility in declared:
        got = done.get((exercise, check))
        if got is not None and got.week:
            results.append(got)
        else:  # never ran, or recorded here for a crash or timeout: the spec knows the rest
            results.append(not_run(week, exercise, check, points, visibility, got.output if got is not None else reason,
                                   got.cause if got is not None else ""))
    return results


def _tidy(results: list[CheckResult], copy_root: Path) -> list[CheckResult]:
    """Messages name files as ``week1/x.py``, not by the private folder they were graded in."""
    prefix = f"{copy_root}/"
    for result in results:
        result.output = result.output.replace(prefix, "")
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
