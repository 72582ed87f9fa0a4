"""The worker's sandbox in ``dlkit grade``, entered by a freshly forked worker before it serves.

The grading process's zygote (:mod:`autograder.probe.zygote`) forks a child for each worker and
calls :func:`enter` in it, with the sandbox's config. With ``isolation = "namespaces"`` (root on
Linux) the child makes fresh mount, network and PID namespaces and, in the mount namespace, remounts
every mount read-only and builds a root of its own on a small tmpfs: read-only binds of what a
worker needs (the system folders, Python's prefixes and site-packages, the folders of the modules
and shared libraries it has loaded, the kit's package), its private folder read-write, small empty
tmpfs for the temp folders and ``/dev/shm``; inside what is kept, the folders it must not see (the
kit's checks, the class, the output, the data root) are covered with empty read-only tmpfs. It
``pivot_root``s into that and detaches the old root: an allow-list, so a file nobody thought to hide
(another checkout of the solutions) is out of sight too. It then forks PID 1 of the new PID
namespace, which mounts its own ``/proc``, forks the worker (PID 2) and stays behind as the
namespace's init: it reaps orphans and writes PID 2's wait status to the status pipe; it dies with
its parent, and the whole namespace with it. PID 2 drops every capability and, when started as root,
becomes ``nobody``, so it can neither undo the mounts, nor reach PID 1, nor read what only root may;
it sets resource limits (address space: the memory budget on top of what is mapped already, not on
CUDA; file size; CPU seconds; no core files; a process count where the kernel enforces one) and
returns to become the worker.

Without namespaces (``isolation = "process"``) the limits apply, and a worker started as root
still drops every capability and becomes ``nobody``: it sees the whole machine, but only what
everyone may read (a container that keeps the instructor's files to root, as the Gradescope
autograder's ``setup.sh`` does, keeps them from it).
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import sys
import threading

from autograder.i18n import _

# mount(2) flags and prctl(2) options (linux/fs.h, linux/prctl.h)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
O_PATH = getattr(os, "O_PATH", 0o10000000)


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


def _init(worker: int, alive_fd: int | None, status_fd: int) -> None:
    """PID 1 of the namespace: reap every orphan until the worker ends, then report its wait status."""
    if alive_fd is not None:
        _watch_parent(alive_fd)
    while True:
        pid, wait_status = os.waitpid(-1, 0)
        if pid == worker:
            _status(status_fd, f"exit {wait_status}")
            os._exit(0)  # the kernel ends whatever the worker left running


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


SHARED_TEMP = ("/tmp", "/var/tmp")
"""Temp folders every user shares: the worker gets empty private ones (as it gets the batch's temp folder)."""
PSEUDO_FILESYSTEMS = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs",
                      "pstore", "bpf", "fusectl", "configfs", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs"}
"""Kernel interfaces rather than storage: writing there needs capabilities the grader has dropped."""


def _mount_points() -> list[tuple[str, int, str]]:
    """(mount point, ``nodev``/``noexec`` flags it has, filesystem type) for each mount this namespace sees."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _sep, rest = line.partition(" - ")
            fields = fields.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            options = fields[5].split(",")
            keep = (MS_NOEXEC if "noexec" in options else 0) | (MS_NODEV if "nodev" in options else 0)
            points.append((point, keep, rest.split()[0] if rest else ""))
    return points


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/dev", "/sys")
"""The operating system's programs, libraries and settings, and the device and kernel interfaces (CUDA
reads ``/dev/nvidia*`` and ``/sys``; PyTorch reads the CPU's topology from ``/sys``)."""


def _python_folders() -> list[str]:
    """Where this Python and every module it has loaded live: the prefixes (the standard library and the
    site-packages of a virtual environment or a system install), the user's site-packages, the folders
    of the shared libraries mapped now and on ``LD_LIBRARY_PATH``, and the package folder of each loaded
    module found elsewhere (the kit itself, installed editable)."""
    import site
    import sysconfig

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *sysconfig.get_paths().values(), *site.getsitepackages(), site.getusersitepackages(),
             *os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)}
    try:
        with open("/proc/self/maps") as f:
            mapped = [fields[5].strip() for fields in (line.split(None, 5) for line in f) if len(fields) == 6]
        found.update(os.path.dirname(path) for path in mapped if path.startswith("/"))
    except OSError:
        pass
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if "." not in name and isinstance(file, str):
            found.add(os.path.dirname(file) if os.path.basename(file).startswith("__init__.") else file)
    return [path for path in found if path]


def _outermost(paths: list[str]) -> list[str]:
    """The existing paths among ``paths``, resolved, without those inside another one; never ``/``."""
    real = sorted({os.path.realpath(p) for p in paths if os.path.isabs(p) and os.path.exists(p)} - {"/"})
    return [p for p in real if not any(_inside(p, other) and p != other for other in real)]


SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
MNT_DETACH = 2


def _switch_root(new_root: str) -> None:
    """Make ``new_root`` the root and drop every path to the old one (pivot_root, then detach it)."""
    import platform

    os.chdir(new_root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(str(_("no pivot_root(2) number known for {machine}", machine=platform.machine())))
    _libc_call("syscall", number, b".", b".")
    _libc_call("umount2", b".", MNT_DETACH)  # the old root, stacked under the new one
    os.chdir("/")


def _sandbox_filesystem(config: dict) -> None:
    """Give the worker a root of its own that holds only what it needs, read-only: the system folders,
    Python and the packages it has loaded; plus its private folder (read-write) and empty scratch
    tmpfs. Nothing else on the machine is in it, wherever it lies (another copy of the kit, a TA's home,
    a class graded last week); inside what is kept, ``hidden`` folders are covered."""
    private, host_tmp = config["private"], config["host_tmp"]
    os.umask(0o022)  # the folders made below must be enterable by the unprivileged worker
    for point, extra, _fstype in _mount_points():  # binds copy these flags: everything kept is read-only
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | extra)
        except OSError:
            pass  # some kernel interfaces refuse; every real file system is checked next
    for point, _flags, fstype in _mount_points():  # fail closed: never grade on a writable machine
        if fstype not in PSEUDO_FILESYSTEMS and os.path.isdir(point) and not os.statvfs(point).f_flag & os.ST_RDONLY:
            raise OSError(str(_("{point} ({fstype}) is still writable after remounting read-only (a file open for "
                                "writing there?)", point=point, fstype=fstype)))
    links = {top: os.readlink(top) for top in SYSTEM_FOLDERS if os.path.islink(top)}
    kept = _outermost([*(top for top in SYSTEM_FOLDERS if top not in links), *_python_folders(), *config["visible"]])
    kept = [p for p in kept if not _inside(p, private) and not _inside(private, p)
            and not any(_inside(p, hidden) for hidden in config["hidden"])]  # hidden wins over loaded
    held = {path: os.open(path, O_PATH) for path in [*kept, private]}  # the staging tmpfs may cover them
    stage = next(d for d in ("/tmp", "/mnt", "/var/tmp", "/opt", "/srv") if os.path.isdir(d))
    _mount("dlkit-root", stage, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for top, target in links.items():
        os.symlink(target, stage + top)
    scratch = [host_tmp, *SHARED_TEMP]
    for folder in sorted({s for s in scratch if not any(_inside(s, o) and s != o for o in scratch)}):
        os.makedirs(stage + folder, exist_ok=True)  # empty temp folders: nothing another user left is in sight
        _mount("dlkit-tmp", stage + folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for path, fd in sorted(held.items(), key=lambda item: len(item[0])):
        inside = stage + path
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(inside, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            open(inside, "w").close()
        _mount(f"/proc/self/fd/{fd}", inside, None, MS_BIND | MS_REC)
        os.close(fd)
        read_only = 0 if path == private else MS_RDONLY  # a bind of a read-only mount starts read-only
        _mount(None, inside, None, MS_REMOUNT | MS_BIND | read_only | MS_NOSUID | MS_NODEV)
    if os.path.isdir(stage + "/dev/shm"):
        _mount("dlkit-shm", stage + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['shm_mb']}m,mode=1777")
    for path in sorted(config["hidden"], key=len, reverse=True):
        if os.path.isdir(stage + path) and not _inside(private, path):
            _mount("dlkit-hidden", stage + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
    os.makedirs(stage + "/proc", exist_ok=True)
    _mount(None, stage, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _switch_root(stage)
    for path in kept:
        if not os.statvfs(path).f_flag & os.ST_RDONLY:
            raise OSError(str(_("{path} is still writable after remounting read-only", path=path)))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(unprivileged: bool) -> None:
    """Give up every capability, now and across exec, so the mounts above cannot be undone; with
    ``unprivileged`` (started as root), become ``nobody`` on the way (the last use of a capability)."""
    for cap in range(64):
        try:
            _libc_call("prctl", PR_CAPBSET_DROP, cap, 0, 0, 0)
        except OSError:
            break  # past the last capability this kernel knows
    if unprivileged:
        _become_nobody()
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


# --- the worker ----------------------------------------------------------------------------------

NOBODY = 65534
"""The unprivileged user and group the worker becomes when the grading process runs as root."""


def _become_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x40000000, 0x20000000
MS_PRIVATE, PR_SET_PDEATHSIG = 1 << 18, 1


def _die_with_parent() -> None:
    _libc_call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def enter(config: dict, status_fd: int, keep: tuple[int, ...]) -> None:
    """Sandbox this freshly forked process (see the module docstring); returns in the worker.

    Raises on any failure before the worker exists (nothing of the student's has run yet). ``keep``
    are the worker's own channels, which the processes that stay behind close.
    """
    _die_with_parent()
    namespaced = config["isolation"] == "namespaces"
    if namespaced:
        _libc_call("unshare", CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID)
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _sandbox_filesystem(config)
        first = os.fork()  # PID 1 of the new PID namespace
        if first:
            for fd in keep:
                os.close(fd)
            _pid, wait_status = os.waitpid(first, 0)
            os._exit(os.waitstatus_to_exitcode(wait_status) & 0xFF)
        _die_with_parent()
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        worker = os.fork()
        if worker:
            for fd in keep:
                if fd != status_fd:
                    os.close(fd)
            _init(worker, None, status_fd)
        _drop_capabilities(unprivileged=os.geteuid() == 0 and config.get("unprivileged", True))
    elif os.geteuid() == 0 and config.get("unprivileged", True):  # no namespaces, but not root either
        _drop_capabilities(unprivileged=True)
    device = config["device"]
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    _set_limits(config, device)
    from autograder.probe.zygote import _existing

    os.chdir(_existing(config["cwd"]))
