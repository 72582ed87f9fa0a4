import gzip

import numpy as np
import pytest
import torch

from autograder.data import CorruptDataError, DataNotFoundError, load_mnist, mnist

from tests.data.data_builders import idx_bytes, write_mnist


@pytest.mark.parametrize("gz", [False, True])
def test_reads_images_and_labels(tmp_path, gz):
    images, labels = write_mnist(tmp_path, train=False, n=7, gz=gz)
    got_images, got_labels = load_mnist(tmp_path, train=False)
    assert got_images.dtype == torch.uint8 and got_images.shape == (7, 28, 28)
    assert got_labels.dtype == torch.int64 and got_labels.shape == (7,)
    assert torch.equal(got_images, torch.from_numpy(images))
    assert got_labels.tolist() == labels.tolist()


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    write_mnist(tmp_path, train=True)
    (mnist.mnist_folder(tmp_path) / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataNotFoundError) as e:
        load_mnist(tmp_path, train=True)
    message = str(e.value)
    assert "train-labels-idx1-ubyte" in message and "train-images" not in message
    assert str(mnist.mnist_folder(tmp_path)) in message
    assert "dlkit data download mnist" in message and "DLKIT_DATA" in message


def test_truncated_file_states_expected_and_actual_bytes(tmp_path):
    write_mnist(tmp_path, n=3)
    path = mnist.mnist_folder(tmp_path) / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptDataError) as e:
        load_mnist(tmp_path, train=True)
    expected = 16 + 3 * 28 * 28
    assert f"{expected} bytes" in str(e.value) and f"{expected - 100} bytes" in str(e.value)
    assert "cut short" in str(e.value) and str(path) in str(e.value)


def test_truncated_gzip_is_reported(tmp_path):
    write_mnist(tmp_path, gz=True)
    path = mnist.mnist_folder(tmp_path) / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptDataError, match="cut short"):
        load_mnist(tmp_path, train=True)


def test_wrong_magic_number(tmp_path):
    write_mnist(tmp_path)
    path = mnist.mnist_folder(tmp_path) / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(2052, np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(CorruptDataError, match="magic number is 2052, expected 2051"):
        load_mnist(tmp_path, train=True)


def test_swapped_files_are_recognised(tmp_path):
    write_mnist(tmp_path)
    folder = mnist.mnist_folder(tmp_path)
    images, labels = folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte"
    a, b = images.read_bytes(), labels.read_bytes()
    images.write_bytes(b)
    labels.write_bytes(a)
    with pytest.raises(CorruptDataError, match="swapped"):
        load_mnist(tmp_path, train=True)


def test_gzip_without_gz_suffix_is_explained(tmp_path):
    write_mnist(tmp_path)
    path = mnist.mnist_folder(tmp_path) / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(CorruptDataError, match="gzip-compressed"):
        load_mnist(tmp_path, train=True)


def test_label_out_of_range(tmp_path):
    write_mnist(tmp_path, n=4, labels=[1, 2, 12, 3])
    with pytest.raises(CorruptDataError) as e:
        load_mnist(tmp_path, train=True)
    assert "outside 0..9" in str(e.value) and "12 at index 2" in str(e.value)


def test_image_and_label_counts_must_agree(tmp_path):
    write_mnist(tmp_path, n=5)
    (mnist.mnist_folder(tmp_path) / "train-labels-idx1-ubyte").write_bytes(
        idx_bytes(mnist.LABELS_MAGIC, np.zeros(4, np.uint8)))
    with pytest.raises(CorruptDataError, match="5 images but .* 4 labels"):
        load_mnist(tmp_path, train=True)


def test_wrong_image_size(tmp_path):
    write_mnist(tmp_path)
    (mnist.mnist_folder(tmp_path) / "train-images-idx3-ubyte").write_bytes(
        idx_bytes(mnist.IMAGES_MAGIC, np.zeros((6, 32, 32), np.uint8)))
    with pytest.raises(CorruptDataError, match=r"\(6, 32, 32\); MNIST images are \(N, 28, 28\)"):
        load_mnist(tmp_path, train=True)


def test_uncompressed_file_preferred_over_gz(tmp_path):
    write_mnist(tmp_path, n=3, gz=True)
    images, _ = write_mnist(tmp_path, n=5, gz=False)
    got, _ = load_mnist(tmp_path, train=True)
    assert got.shape[0] == 5
