"""The course's data sets: where they live, how they are read, checked and cached.

Most code needs only `mnist_tensors` / `cifar10_tensors` (uint8 tensors,
decoded once and cached) or, in notebooks, the `MNIST` / `CIFAR10` Dataset
classes.
"""

from .cache import cifar10_tensors, clear_memo, load_tensors, mnist_tensors
from .cifar10 import CIFAR10_CLASSES, load_cifar10
from .datasets import CIFAR10, MNIST, MNIST_CLASSES
from .download import download
from .errors import CorruptDataError, DataError, DataNotFoundError
from .link import link
from .mnist import load_mnist
from .root import ENV_VAR, data_root, default_root
from .status import StatusRow, format_status, status

__all__ = [
    "CIFAR10",
    "CIFAR10_CLASSES",
    "ENV_VAR",
    "MNIST",
    "MNIST_CLASSES",
    "CorruptDataError",
    "DataError",
    "DataNotFoundError",
    "StatusRow",
    "cifar10_tensors",
    "clear_memo",
    "data_root",
    "default_root",
    "download",
    "format_status",
    "link",
    "load_cifar10",
    "load_mnist",
    "load_tensors",
    "mnist_tensors",
    "status",
]
