"""The grading child: runs inside the sandbox that :mod:`.isolate` starts, never in the batch's process.

Started as ``python -I -B -u -c "...main(config, alive, status, events)"``
(``-I``: the student's folder, ``PYTHONPATH`` and user site-packages are not on
the path, so a student's own ``autograder/`` or ``pytest.py`` cannot shadow the
kit). The four numbers are file descriptors the batch passes: a JSON config,
read and closed before any student code runs (so the class and output folders
never appear in this process's arguments or environment); a pipe whose end
tells that the batch died; the *status* pipe; and the *events* file.

With ``isolation = "namespaces"`` this process is PID 1 of fresh PID, mount and
network namespaces made by ``unshare``. It remounts every mount read-only,
binds the private folder back read-write, gives the system temp folder and
``/dev/shm`` small private tmpfs, covers the class and output folders with
empty read-only tmpfs, then forks the grading process (PID 2) and stays behind
as the namespace's init: it reaps orphans, ends the namespace if the batch
dies, and writes PID 2's wait status to the status pipe. PID 2 drops every
capability, so it can neither undo the mounts nor reach PID 1 (which keeps
them: no ptrace, no ``/proc/1/fd``, and an init ignores signals from inside).

The grading process then imports PyTorch, pytest and the kit (trusted code,
before the limits), sets resource limits (address space: the memory budget on
top of what the imports mapped, not on CUDA; file size; CPU seconds; no core
files; a process count where the kernel enforces one, not for root) and runs
the week's checks with pytest. Once pytest has collected them, and before the
first check imports a student file, it writes ``collected`` to the status pipe
and closes it: whatever the student's code does later, the batch can tell a
broken kit or sandbox (no ``collected``) from a submission that crashed. Each
check's start and result, and the start and end of each import of a student
file, go to the events file (opened by the batch, so the student cannot delete
it), so a crash costs one check, or one file's checks when it happens at import. It ends with
``os._exit``, so a student's stray non-daemon thread cannot keep it alive.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path

# mount(2) flags and prctl(2) options (linux/fs.h, linux/prctl.h)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
O_PATH = getattr(os, "O_PATH", 0o10000000)

SANDBOX_ERROR_EXIT = 70
"""Exit status when the sandbox itself could not be set up (the kit's or machine's problem, not the student's)."""
COLLECTED = "collected"
"""Status line: pytest collected the checks; nothing of the student's has run yet."""


def _write_event(stream: int, event: dict) -> None:
    """Append one JSON line with a single ``write`` so that an abrupt exit leaves whole lines."""
    os.write(stream, (json.dumps(event) + "\n").encode())


def _status(status_fd: int, line: str) -> None:
    """One line on the status pipe, the channel the student's code never holds."""
    os.write(status_fd, (line.replace("\n", " ") + "\n").encode())


def _watch_parent(alive_fd: int) -> None:
    """End this sandbox when the batch process dies (its end of the pipe closes)."""
    def watch() -> None:
        try:
            os.read(alive_fd, 1)
        finally:
            if os.getpid() != 1:
                os.killpg(0, signal.SIGKILL)
            os._exit(1)  # as PID 1 of its namespace, this ends every process in it

    threading.Thread(target=watch, name="dlkit-parent-watch", daemon=True).start()


def _init(grader: int, alive_fd: int, status_fd: int) -> None:
    """PID 1 of the namespace: reap every orphan until the grader ends, then report its wait status."""
    _watch_parent(alive_fd)
    while True:
        pid, wait_status = os.waitpid(-1, 0)
        if pid == grader:
            _status(status_fd, f"exit {wait_status}")
            os._exit(0)  # the kernel ends whatever the grader left running


# --- namespaces mode -----------------------------------------------------------------------------

_libc = None


def _libc_call(name: str, *args) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{tuple(str(a) for a in args)}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    _libc_call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


PSEUDO_FILESYSTEMS = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs",
                      "pstore", "bpf", "fusectl", "configfs", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs"}
"""Kernel interfaces rather than storage: writing there needs capabilities the grader has dropped."""


def _mount_points() -> list[tuple[str, int, str]]:
    """(mount point, ``nodev``/``noexec`` flags it has, filesystem type) for each mount this namespace sees."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, rest = line.partition(" - ")
            fields = fields.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            options = fields[5].split(",")
            keep = (MS_NOEXEC if "noexec" in options else 0) | (MS_NODEV if "nodev" in options else 0)
            points.append((point, keep, rest.split()[0] if rest else ""))
    return points


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _sandbox_filesystem(config: dict) -> None:
    """Make the machine read-only except the private folder and a small scratch tmpfs."""
    private, host_tmp = config["private"], config["host_tmp"]
    keep = [p for p in config["visible"] if os.path.exists(p)]
    held = {p: os.open(p, O_PATH) for p in [private, *keep] if _inside(p, host_tmp)}
    for point, extra, _ in _mount_points():
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | extra)
        except OSError:
            pass  # some kernel interfaces refuse; every real file system is checked next
    for point, _, fstype in _mount_points():  # fail closed: never grade on a writable machine
        if fstype not in PSEUDO_FILESYSTEMS and os.path.isdir(point) and not os.statvfs(point).f_flag & os.ST_RDONLY:
            raise OSError(f"{point} ({fstype}) is still writable after remounting read-only (a file open for "
                          "writing there?)")
    _mount("dlkit-tmp", host_tmp, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for path, fd in held.items():
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
    if private not in held:
        _mount(private, private, None, MS_BIND | MS_REC)
    _mount(None, private, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)  # read-write again
    for path in held:
        if path != private:
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if os.path.isdir("/dev/shm"):
        _mount("dlkit-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['shm_mb']}m,mode=1777")
    for path in sorted(config["hidden"], key=len, reverse=True):
        if os.path.isdir(path) and not any(_inside(p, path) for p in [private, *keep]):
            _mount("dlkit-hidden", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
    for path in [*keep, *(p for p in config["hidden"] if os.path.isdir(p))]:
        if not os.statvfs(path).f_flag & os.ST_RDONLY:
            raise OSError(f"{path} is still writable after remounting read-only")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """Give up every capability, now and across exec, so the mounts above cannot be undone."""
    for cap in range(64):
        try:
            _libc_call("prctl", PR_CAPBSET_DROP, cap, 0, 0, 0)
        except OSError:
            break  # past the last capability this kernel knows
    _libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _libc_call("capset", ctypes.byref(header), ctypes.byref(data))


# --- limits --------------------------------------------------------------------------------------

def _address_space_now() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _user_tasks() -> int:
    """Threads and processes this user runs now (what RLIMIT_NPROC counts)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):  # Linux only, as is every limit below (elsewhere they are best effort)
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return count


def _set_limits(config: dict, device: str) -> None:
    mb = 1024 * 1024
    limits = [(resource.RLIMIT_FSIZE, config["file_mb"] * mb), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_CPU, config["cpu_seconds"])]  # soft = hard: SIGKILL at the limit, even for PID 1
    if device != "cuda":  # CUDA maps far more address space than it uses; the batch watches memory instead
        limits.append((resource.RLIMIT_AS, config["memory_mb"] * mb + _address_space_now()))
    if os.geteuid() != 0 and config.get("max_tasks") and sys.platform.startswith("linux"):
        limits.append((resource.RLIMIT_NPROC, _user_tasks() + config["max_tasks"]))  # root is exempt anyway
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):
                raise
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails with EFBIG instead of killing


# --- grading -------------------------------------------------------------------------------------

class Recorder:
    """pytest plugin: says when the checks are collected, then streams each check's start and result."""

    def __init__(self, stream: int, status_fd: int):
        self.stream = stream
        self.status_fd = status_fd
        self.config = None
        self.sent = 0
        self.provenance_sent = False

    def pytest_configure(self, config) -> None:
        self.config = config
        from autograder.submission import import_listeners

        import_listeners.append(self.importing)

    def importing(self, file: str, stage: str) -> None:
        """Around each import of a student file, so a crash there is known to be at import."""
        _write_event(self.stream, {"event": "import", "file": file, "stage": stage})

    def pytest_collection_finish(self, session) -> None:
        if session.items and not session.testsfailed:  # a check module that failed to import counts as failed
            _status(self.status_fd, COLLECTED)
        os.close(self.status_fd)  # before the first check: the student's code never holds it

    def _results(self) -> list:
        from autograder.plugin import recorded_results

        return recorded_results(self.config)

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        if not self.provenance_sent:
            from autograder import settings as settings_module
            from autograder.results import current_provenance

            s = settings_module.resolve(self.config, Path(str(self.config.invocation_params.dir)))
            _write_event(self.stream, {"event": "ready",
                                       "provenance": asdict(current_provenance(s.device, s.profile, s.threads))})
            self.provenance_sent = True
        _write_event(self.stream, {"event": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report) -> None:
        results = self._results()
        for result in results[self.sent:]:
            _write_event(self.stream, {"event": "result", "nodeid": report.nodeid, "result": asdict(result)})
        self.sent = len(results)


def _pytest_args(config: dict) -> list[str]:
    kit = Path(config["kit_root"])
    args = [*(config.get("checks") or [str(kit / "autograder" / config["week"])]),
            "--rootdir", str(kit), "--confcutdir", str(kit / "autograder"),
            "-p", "autograder.plugin", "-p", "no:cacheprovider", "-s", "-q", "--color=no",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",  # the kit is imported before pytest: expected
            "--submission", config["submission"], "--results-json", config["results_json"],
            "--device", config["device"], "--profile", config["profile"], "--threads", str(config["threads"])]
    if (kit / "pyproject.toml").is_file():  # the kit's own settings, never an ini file in the student's folder
        args += ["-c", str(kit / "pyproject.toml")]
    if config.get("data_root"):
        args += ["--data-root", config["data_root"]]
    if config.get("check_timeout"):
        args += ["--check-timeout", str(config["check_timeout"])]
    return args


def _fail_setup(status_fd: int, error: BaseException) -> None:
    _status(status_fd, f"error {type(error).__name__}: {error}")
    print(f"dlkit: could not set up the grading sandbox: {type(error).__name__}: {error}", file=sys.stderr)
    os._exit(SANDBOX_ERROR_EXIT)


def main(config_fd: int, alive_fd: int, status_fd: int, events_fd: int) -> None:
    """Run one submission's checks as configured by the batch; never returns."""
    with os.fdopen(config_fd, "rb") as f:
        config = json.loads(f.read())
    namespaced = config["isolation"] == "namespaces"
    try:
        if namespaced:
            _sandbox_filesystem(config)  # before any file is opened for writing: a writer blocks a read-only remount
    except Exception as error:  # noqa: BLE001 - reported to the batch, which stops: nothing here is student code
        _fail_setup(status_fd, error)
    if namespaced:
        grader = os.fork()
        if grader:
            os.close(events_fd)
            _init(grader, alive_fd, status_fd)
        os.close(alive_fd)  # PID 1 watches the batch
    else:
        _watch_parent(alive_fd)
    try:
        if namespaced:
            _drop_capabilities()
        import pytest
        import torch

        device = config["device"]
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        _set_limits(config, device)
        os.chdir(config["cwd"])
    except Exception as error:  # noqa: BLE001 - as above
        _fail_setup(status_fd, error)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the kit's plugin only: no third-party plugin reorders,
    code = pytest.main(_pytest_args(config), plugins=[Recorder(events_fd, status_fd)])  # retries or slows checks
    if config.get("plots"):
        from autograder.grading.plots import make_plots

        for event in make_plots(config["week"], Path(config["submission"]), Path(config["plots_dir"]),
                                config["profile"], config["plot_seconds"]):
            _write_event(events_fd, {"event": "plot", **event})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
