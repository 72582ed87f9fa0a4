import pickle

import numpy as np
import pytest
import torch

from autograder.data import CIFAR10_CLASSES, CorruptDataError, DataNotFoundError, cifar10, load_cifar10
from tests.data.data_builders import cifar_batch, write_cifar, write_pickle


def test_reads_all_batches_in_order_as_nchw(tmp_path):
    batches = write_cifar(tmp_path, n=3)
    images, labels = load_cifar10(tmp_path, train=True)
    assert images.dtype == torch.uint8 and images.shape == (15, 3, 32, 32)
    assert labels.dtype == torch.int64 and labels.shape == (15,)
    expected = np.concatenate([batches[name]["data"] for name in cifar10.TRAIN_BATCHES])
    assert torch.equal(images.reshape(15, -1), torch.from_numpy(expected))
    first = batches["data_batch_1"]["data"][0]
    assert images[0, 1, 0, 0] == first[1024]  # green plane starts at 1024
    assert images[0, 0, 1, 0] == first[32]  # second row of the red plane


def test_test_split(tmp_path):
    batches = write_cifar(tmp_path, n=5)
    images, labels = load_cifar10(tmp_path, train=False)
    assert images.shape == (5, 3, 32, 32)
    assert labels.tolist() == batches["test_batch"]["labels"]


def test_class_names():
    assert CIFAR10_CLASSES[0] == "airplane" and CIFAR10_CLASSES[-1] == "truck"
    assert len(CIFAR10_CLASSES) == 10


def test_missing_batch_is_named(tmp_path):
    write_cifar(tmp_path)
    (cifar10.cifar_folder(tmp_path) / "data_batch_3").unlink()
    with pytest.raises(DataNotFoundError) as e:
        load_cifar10(tmp_path, train=True)
    assert "missing data_batch_3." in str(e.value) and "dlkit data download cifar10" in str(e.value)


def test_missing_key_names_file_and_key(tmp_path):
    write_cifar(tmp_path)
    batch = cifar_batch()
    del batch["labels"]
    path = cifar10.cifar_folder(tmp_path) / "data_batch_2"
    write_pickle(path, batch)
    with pytest.raises(CorruptDataError) as e:
        load_cifar10(tmp_path, train=True)
    assert str(path) in str(e.value) and "missing the key(s) 'labels'" in str(e.value)


@pytest.mark.parametrize("content", [b"not a pickle at all", pickle.dumps(cifar_batch())[:500], b""])
def test_unpicklable_file_is_reported_as_corrupt(tmp_path, content):
    write_cifar(tmp_path)
    path = cifar10.cifar_folder(tmp_path) / "test_batch"
    path.write_bytes(content)
    with pytest.raises(CorruptDataError) as e:
        load_cifar10(tmp_path, train=False)
    assert str(path) in str(e.value) and "cannot be read as a CIFAR-10 batch" in str(e.value)


class _RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickle_that_would_run_code_is_refused(tmp_path, capsys):
    write_cifar(tmp_path)
    write_pickle(cifar10.cifar_folder(tmp_path) / "test_batch", {"data": _RunsCode()})
    with pytest.raises(CorruptDataError, match="build the Python object .*print"):
        load_cifar10(tmp_path, train=False)
    assert "must never run" not in capsys.readouterr().out


def test_label_out_of_range_hints_at_cifar100(tmp_path):
    write_cifar(tmp_path)
    write_pickle(cifar10.cifar_folder(tmp_path) / "test_batch", cifar_batch(4, labels=[0, 1, 57, 2]))
    with pytest.raises(CorruptDataError, match="57 at index 2.*CIFAR-100"):
        load_cifar10(tmp_path, train=False)


def test_wrong_data_shape(tmp_path):
    write_cifar(tmp_path)
    batch = cifar_batch(4)
    batch["data"] = batch["data"].reshape(4, 3, 32, 32)
    write_pickle(cifar10.cifar_folder(tmp_path) / "test_batch", batch)
    with pytest.raises(CorruptDataError, match=r"shape \(4, 3, 32, 32\); expected a uint8 array of shape \(N, 3072\)"):
        load_cifar10(tmp_path, train=False)


def test_lengths_must_agree(tmp_path):
    write_cifar(tmp_path)
    batch = cifar_batch(4)
    batch["labels"] = batch["labels"][:3]
    write_pickle(cifar10.cifar_folder(tmp_path) / "test_batch", batch)
    with pytest.raises(CorruptDataError, match="4 images, 3 labels, 4 file names"):
        load_cifar10(tmp_path, train=False)


def test_meta_with_other_class_names_is_refused(tmp_path):
    write_cifar(tmp_path)
    write_pickle(cifar10.cifar_folder(tmp_path) / "batches.meta", {"label_names": ["a"] * 10})
    with pytest.raises(CorruptDataError, match="some other data set"):
        load_cifar10(tmp_path, train=False)


def test_meta_is_optional(tmp_path):
    write_cifar(tmp_path, meta=False)
    images, _ = load_cifar10(tmp_path, train=False)
    assert images.shape[0] == 4


def test_python2_era_numpy_module_names_are_accepted(tmp_path, recwarn):
    write_cifar(tmp_path)
    raw = pickle.dumps(cifar_batch(4), protocol=2)
    assert b"numpy._core.multiarray\n" in raw
    path = cifar10.cifar_folder(tmp_path) / "test_batch"
    path.write_bytes(raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"))
    images, _ = load_cifar10(tmp_path, train=False)
    assert images.shape == (4, 3, 32, 32)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
