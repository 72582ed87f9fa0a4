"""What a sandboxed worker can see of the machine: only the system, Python and the kit's package, never
a file merely because no list of secrets named it (another copy of the solutions, say, left by the TA
in a folder the kit knows nothing about)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import traceback

import pytest
import torch

from dlkit.grading import sandbox
from dlkit.grading.isolate import _visible_paths, secret_paths
from autograder.settings import KIT_ROOT


def _look_around(config: dict, paths: dict[str, str]) -> dict:
    """Fork, sandbox the child as a worker, and report what it finds at ``paths`` (name -> path)."""
    read_end, write_end = os.pipe()
    status_read, status_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            sandbox.enter(config, status_write, keep=(write_end, status_write))
            seen = {}
            for name, path in paths.items():
                try:
                    seen[name] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()
                except OSError as error:
                    seen[name] = f"error: {error.strerror}"
            try:
                open(os.path.join(config["private"], "written"), "w").write("x")
                seen["private_writable"] = True
            except OSError:
                seen["private_writable"] = False
            seen["root_writable"] = os.access("/", os.W_OK)
            os.write(write_end, json.dumps(seen).encode())
        except BaseException:
            os.write(write_end, json.dumps({"error": traceback.format_exc()}).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.close(status_write)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.close(status_read)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b"{}")


@pytest.fixture
def decoy():
    """A finished copy of a solution file in the kit's folder, under a name no list of secrets holds."""
    folder = KIT_ROOT / f".pytest-decoy-{os.getpid()}"
    (folder / "week1").mkdir(parents=True)
    (folder / "week1" / "tensor_ops.py").write_text("def finished(): return 'the answer'\n")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_worker_sees_only_what_it_needs(tmp_path, decoy, namespaces):
    if not namespaces:
        pytest.skip("the worker's own root needs namespaces (root on Linux)")
    private = tmp_path / "private" / "work"
    private.mkdir(parents=True)
    os.chmod(private, 0o777)
    config = {"isolation": "namespaces", "private": str(private), "host_tmp": str(tmp_path),
              "visible": _visible_paths(), "hidden": secret_paths(), "unprivileged": os.geteuid() == 0,
              "shm_mb": 64, "memory_mb": 8192, "file_mb": 64, "cpu_seconds": 60, "max_tasks": 512,
              "device": "cpu", "cwd": str(private)}
    seen = _look_around(config, {
        "decoy": str(decoy / "week1" / "tensor_ops.py"), "kit": str(KIT_ROOT),
        "solutions": str(KIT_ROOT / "solutions"), "checks": str(KIT_ROOT / "autograder" / "week1"),
        "probe": str(KIT_ROOT / "autograder" / "probe" / "worker.py"),
        "torch": torch.__file__, "python": os.path.dirname(os.__file__), "tmp_path": str(tmp_path),
        "executable": os.path.dirname(os.path.realpath(sys.executable)),
    })
    assert "error" not in seen, seen.get("error")
    assert seen["decoy"].startswith("error:")  # the attack: read the copy, paste its functions
    assert seen["kit"] == ["autograder"] and seen["solutions"].startswith("error:") and seen["checks"] == []
    assert "def " in seen["probe"] and "import" in seen["torch"] and "os.py" in seen["python"]
    assert seen["executable"] and not seen["executable"][0].startswith("error")
    assert seen["tmp_path"] == ["private"]  # the batch's temp folder: empty but for the worker's own
    assert seen["private_writable"] and not seen["root_writable"]


def test_without_namespaces_a_worker_started_as_root_is_nobody(tmp_path):
    """The Gradescope container's case: no namespaces, everything run as root. The worker still gives up
    root, so what only root may read (setup.sh keeps the instructor's files so) is out of its reach."""
    if os.geteuid() != 0:
        pytest.skip("only root can become nobody")
    import tempfile

    open_folder = tempfile.mkdtemp(prefix="dlkit-nobody-")  # under /tmp, not inside root's own 0700 folders
    try:
        os.chmod(open_folder, 0o755)
        private = os.path.join(open_folder, "work")
        os.mkdir(private)
        os.chown(private, sandbox.NOBODY, sandbox.NOBODY)
        for name, mode in (("roots_only.txt", 0o600), ("everyones.txt", 0o644)):
            with open(os.path.join(open_folder, name), "w") as f:
                f.write(name)
            os.chmod(os.path.join(open_folder, name), mode)
        config = {"isolation": "process", "private": private, "unprivileged": True, "memory_mb": 8192,
                  "file_mb": 64, "cpu_seconds": 60, "max_tasks": 512, "device": "cpu", "cwd": private}
        seen = _look_around(config, {name: os.path.join(open_folder, name)
                                     for name in ("roots_only.txt", "everyones.txt")})
        assert "error" not in seen, seen.get("error")
        assert seen["roots_only.txt"] == "error: Permission denied"
        assert seen["everyones.txt"] == "everyones.txt" and seen["private_writable"] is True
    finally:
        shutil.rmtree(open_folder, ignore_errors=True)
