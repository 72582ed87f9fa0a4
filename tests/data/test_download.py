"""Download logic against a local HTTP server and file:// URLs; nothing here reaches the internet."""

import gzip
import hashlib
import importlib
import http.server
import io
import socket
import tarfile
import threading
from functools import partial
from pathlib import Path

import pytest

from autograder.data import DataError, MNIST, download, load_cifar10, load_mnist
from autograder.data.download import extract_cifar10, fetch
from tests.data.data_builders import write_cifar, write_mnist

download_module = importlib.import_module("autograder.data.download")  # the package's `download` is the function


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def dead_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def offline_defaults(monkeypatch):
    """Replace the real hosts so that no test can reach the internet."""
    monkeypatch.setattr(download_module, "MNIST_MIRRORS", (dead_url(),))
    monkeypatch.setattr(download_module, "CIFAR10_URL", dead_url() + "cifar-10-python.tar.gz")


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requests.append(self.path)
        if self.path.endswith("/cut-short.bin"):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A static file server on 127.0.0.1 serving tmp_path/served; yields (base URL, folder, requests)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", folder, handler.requests
    httpd.shutdown()
    httpd.server_close()


def test_fetch_writes_the_file_and_shows_progress(server, tmp_path, capsys):
    base, folder, _ = server
    (folder / "a.bin").write_bytes(b"hello" * 1000)
    dest = tmp_path / "out" / "a.bin"
    assert fetch([base + "a.bin"], dest, md5(folder / "a.bin"), progress=True) == base + "a.bin"
    assert dest.read_bytes() == b"hello" * 1000
    err = capsys.readouterr().err
    assert "a.bin" in err and "100%" in err


def test_fetch_falls_back_to_the_next_url(server, tmp_path):
    base, folder, requests = server
    (folder / "a.bin").write_bytes(b"data")
    dest = tmp_path / "a.bin"
    used = fetch([base + "missing/a.bin", base + "a.bin"], dest, md5(folder / "a.bin"), progress=False)
    assert used == base + "a.bin" and requests == ["/missing/a.bin", "/a.bin"]


def test_every_url_failing_names_each_url_and_the_way_out(server, tmp_path):
    base, folder, _ = server
    (folder / "a.bin").write_bytes(b"data")
    dead = dead_url() + "a.bin"
    with pytest.raises(DataError) as e:
        fetch([base + "nope.bin", dead, base + "a.bin"], tmp_path / "a.bin", "0" * 32, progress=False)
    message = str(e.value)
    assert f"{base}nope.bin: HTTP 404" in message and dead in message
    assert "MD5 is" in message and "dlkit data download mnist --mirror URL" in message
    assert f"copy a.bin by hand into {tmp_path}" in message
    assert list(tmp_path.iterdir()) == [folder.parent / "served"]


def test_interrupted_transfer_leaves_no_file(server, tmp_path):
    base, _, _ = server
    out = tmp_path / "out"
    with pytest.raises(DataError, match="cut-short.bin"):
        fetch([base + "cut-short.bin"], out / "cut-short.bin", "0" * 32, progress=False)
    assert list(out.iterdir()) == []


def test_download_mnist_from_a_mirror_then_skips(server, tmp_path, monkeypatch):
    base, folder, requests = server
    source = tmp_path / "source"
    images, _ = write_mnist(source, train=True, n=4, gz=True)
    write_mnist(source, train=False, n=2, gz=True)
    checksums = {}
    for gz in (source / "MNIST" / "raw").iterdir():
        (folder / "mnist" / gz.name).parent.mkdir(exist_ok=True)
        (folder / "mnist" / gz.name).write_bytes(gz.read_bytes())
        checksums[gz.name] = md5(gz)
    monkeypatch.setattr(download_module, "MNIST_MD5", checksums)
    monkeypatch.setattr(download_module, "MNIST_MIRRORS", (base + "mnist/",))
    root = tmp_path / "root"
    download("mnist", root, mirror=base + "elsewhere", progress=False)
    assert load_mnist(root, train=True)[0].shape == (4, 28, 28)
    assert load_mnist(root, train=False)[0].shape == (2, 28, 28)
    raw = root / "MNIST" / "raw"
    assert (raw / "t10k-images-idx3-ubyte").read_bytes() == gzip.decompress((raw / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert requests[0] == "/elsewhere/train-images-idx3-ubyte.gz" and len(requests) == 8
    download("mnist", root, progress=False)
    assert len(requests) == 8


def test_dataset_download_true_fetches_a_missing_set(server, tmp_path, monkeypatch):
    base, folder, _ = server
    write_mnist(folder / "src", train=True, n=3, gz=True)
    write_mnist(folder / "src", train=False, n=3, gz=True)
    raw = folder / "src" / "MNIST" / "raw"
    monkeypatch.setattr(download_module, "MNIST_MD5", {p.name: md5(p) for p in raw.iterdir()})
    monkeypatch.setattr(download_module, "MNIST_MIRRORS", (base + "src/MNIST/raw/",))
    assert len(MNIST(tmp_path / "root", train=False, download=True)) == 3


def _cifar_archive(tmp_path: Path, extra: dict[str, bytes] | None = None) -> Path:
    src = tmp_path / "cifar_src"
    write_cifar(src, n=2)
    archive = tmp_path / "mirror" / "cifar-10-python.tar.gz"
    archive.parent.mkdir(exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def test_download_cifar10_from_a_file_url_mirror(tmp_path, monkeypatch):
    archive = _cifar_archive(tmp_path)
    monkeypatch.setattr(download_module, "CIFAR10_MD5", md5(archive))
    root = tmp_path / "root"
    download("cifar10", root, mirror=archive.parent.as_uri(), progress=False)
    assert load_cifar10(root, train=True)[0].shape == (10, 3, 32, 32)
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]


def test_cifar_archive_with_wrong_md5_is_not_extracted(tmp_path):
    archive = _cifar_archive(tmp_path)
    root = tmp_path / "root"
    with pytest.raises(DataError, match="MD5 is .*expected c58f30108f718f92721af3b95e74349a"):
        download("cifar10", root, mirror=archive.parent.as_uri(), progress=False)
    assert not (root / "cifar-10-batches-py").exists()


def test_archive_that_climbs_out_is_refused(tmp_path):
    archive = _cifar_archive(tmp_path, {"cifar-10-batches-py/../../evil": b"boom"})
    root = tmp_path / "root"
    with pytest.raises(DataError, match="unsafe path"):
        extract_cifar10(archive, root)
    assert not list(tmp_path.rglob("evil"))


def test_unknown_dataset_lists_the_choices(tmp_path):
    with pytest.raises(DataError, match="Unknown data set 'svhn'; choose one of mnist, cifar10 or 'all'"):
        download("svhn", tmp_path)


def test_cifar_failure_says_how_to_get_it_by_hand(tmp_path):
    root = tmp_path / "root"
    with pytest.raises(DataError) as e:
        download("cifar10", root, progress=False)
    message = str(e.value)
    assert "dlkit data download cifar10 --mirror URL" in message
    assert f"unpack it into {root} (it holds cifar-10-batches-py/)" in message
    assert [p.name for p in root.iterdir()] == []
