from autograder.data import format_status, mnist, status
from autograder.data.status import CORRUPT, MISSING, PARTIAL, PRESENT
from tests.data.data_builders import write_mnist


def test_rows_for_present_corrupt_and_missing(tmp_path):
    write_mnist(tmp_path, train=True, n=6)
    write_mnist(tmp_path, train=False, n=3)
    labels = mnist.mnist_folder(tmp_path) / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1])
    rows = status(tmp_path)
    summary = [(r.dataset, r.split, r.state, r.count) for r in rows]
    assert summary == [
        ("MNIST", "train", PARTIAL, 6),
        ("MNIST", "test", CORRUPT, None),
        ("CIFAR-10", "train", MISSING, None),
        ("CIFAR-10", "test", MISSING, None),
    ]
    assert rows[0].path == mnist.mnist_folder(tmp_path)
    assert "cut short" in rows[1].detail and "data_batch_1" in rows[2].detail


def test_table_lists_every_row_then_the_problems(tmp_path):
    write_mnist(tmp_path, train=True, n=6)
    text = format_status(status(tmp_path))
    lines = text.splitlines()
    assert lines[0].split() == ["data", "set", "split", "state", "images", "path"]
    assert lines[1].split()[:4] == ["MNIST", "train", "partial", "6"]
    assert lines[2].split()[:4] == ["MNIST", "test", "missing", "-"]
    assert len({line.index(str(tmp_path)) for line in lines[1:5]}) == 1
    assert "MNIST test is missing: MNIST not found under" in text
    assert "CIFAR-10 train is missing" in text
    assert "MNIST train is partial: 6 of the official 60,000 images" in text
