import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms

from autograder.data import CIFAR10, MNIST, cifar10_tensors
from tests.data.data_builders import write_cifar, write_mnist


def test_mnist_items_look_like_torchvision(tmp_path):
    images, labels = write_mnist(tmp_path, train=False, n=5)
    ds = MNIST(tmp_path, train=False)
    image, label = ds[2]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert np.array_equal(np.asarray(image), images[2]) and label == int(labels[2])
    assert type(label) is int and len(ds) == 5
    assert ds.data.shape == (5, 28, 28) and ds.targets.dtype == torch.int64
    assert ds.classes[7] == "7 - seven" and "Split: Test" in repr(ds)


def test_mnist_with_transforms_and_dataloader(tmp_path):
    write_mnist(tmp_path, n=6)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    loader = DataLoader(MNIST(tmp_path, transform=tf, target_transform=lambda y: y + 100), batch_size=4)
    x, y = next(iter(loader))
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.tolist() == [100, 101, 102, 103]


def test_cifar_items_look_like_torchvision(tmp_path):
    batches = write_cifar(tmp_path, n=3)
    ds = CIFAR10(tmp_path, train=True)
    assert len(ds) == 15 and ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    assert ds.targets == sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    image, label = ds[0]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    red, green = batches["data_batch_1"]["data"][0][[0, 1024]]
    assert image.getpixel((0, 0))[:2] == (red, green)
    assert ds.classes[3] == "cat" and ds.class_to_idx["truck"] == 9


def test_cifar_to_tensor_gives_chw_floats(tmp_path):
    write_cifar(tmp_path, n=2)
    ds = CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    x, _ = ds[1]
    assert x.shape == (3, 32, 32) and float(x.max()) <= 1.0
    assert torch.equal((x * 255).round().to(torch.uint8), cifar10_tensors(False, tmp_path)[0][1])


def test_datasets_own_their_arrays(tmp_path):
    write_mnist(tmp_path)
    write_cifar(tmp_path)
    m, c = MNIST(tmp_path), CIFAR10(tmp_path, train=False)
    m.data.zero_()
    c.data[:] = 0
    from autograder.data import mnist_tensors
    assert int(mnist_tensors(True, tmp_path)[0].sum()) > 0
    assert int(cifar10_tensors(False, tmp_path)[0].sum()) > 0
