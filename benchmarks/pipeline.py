"""The course's CIFAR-10 input pipeline against the kit's, same model, same steps, one run.

(a) course: torchvision's ``CIFAR10`` data set (PIL image per sample),
    ``ToTensor()`` + ``Normalize`` (lab 2.2) or ``RandomCrop(32, padding=4)`` +
    ``RandomHorizontalFlip()`` + ``ToTensor()`` + ``Normalize`` (lab 2.3), a
    ``DataLoader`` with ``num_workers=2``, batch 64, shuffled;
(b) kit: :class:`autograder.batches.TensorBatches` over uint8 tensors decoded
    once, normalised (and augmented) per batch as tensor ops, no workers.

Each configuration is timed ``--repeats`` times, the two pipelines alternating
so that load on the machine hits both alike; medians and the ratio are
printed, and a Markdown table is written with ``--markdown FILE``.

    python benchmarks/pipeline.py --data-root ../shared/data --steps 100 --repeats 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision import transforms

from autograder.batches import CIFAR10_MEAN, CIFAR10_STD, TensorBatches
from autograder.data import cifar10_tensors, data_root

BATCH = 64


class CourseCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10, minus its MD5 checks (the offline copy's batches are reshuffled)."""

    meta = {**torchvision.datasets.CIFAR10.meta, "md5": None}

    def _check_integrity(self) -> bool:
        return True


class Net(nn.Module):
    """The course's LeNet-style CIFAR-10 network (62,006 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, 32, 32) -> (B, 10)
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def course_loader(root: Path, augment: bool, workers: int):
    steps = [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()] if augment else []
    transform = transforms.Compose([*steps, transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    dataset = CourseCIFAR10(root=str(root), train=True, download=False, transform=transform)
    return torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers,
                                       generator=torch.Generator().manual_seed(0))


def kit_loader(root: Path, augment: bool):
    images, labels = cifar10_tensors(train=True, root=root)
    return TensorBatches(images, labels, BATCH, CIFAR10_MEAN, CIFAR10_STD, shuffle=True, seed=0, augment=augment)


def timed_steps(loader, steps: int, train: bool) -> float:
    """Seconds for ``steps`` batches (with a Net training step each when ``train``), from a fresh iterator."""
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        if train:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="torchvision-style data root (default: DLKIT_DATA or data_cache/)")
    parser.add_argument("--steps", type=int, default=100, help="batches per timing (default 100)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per configuration (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers on the course side (default 2, as the lab)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the results table here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = data_root(args.data_root)

    start = time.perf_counter()
    cifar10_tensors(train=True, root=root)  # decode (or read the cache) outside the timed region
    load_s = time.perf_counter() - start

    rows = []
    for augment in (False, True):
        for train in (False, True):
            course, kit = [], []
            for _ in range(args.repeats):
                course.append(timed_steps(course_loader(root, augment, args.workers), args.steps, train))
                kit.append(timed_steps(kit_loader(root, augment), args.steps, train))
            c, k = statistics.median(course), statistics.median(kit)
            rows.append(("lab 2.3 (crop+flip)" if augment else "lab 2.2 (normalise)",
                         "input + Net step" if train else "input only", c, k))

    header = (f"CIFAR-10 train pipeline, batch {BATCH}, {args.steps} steps, median of {args.repeats} alternating runs; "
              f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
              f"torchvision {torchvision.__version__}; course DataLoader num_workers={args.workers}; "
              f"kit tensors loaded in {load_s:.2f} s before timing")
    lines = [header, "", "| transforms | what is timed | course (s) | kit (s) | course img/s | kit img/s | speed-up |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    images = BATCH * args.steps
    for transforms_name, what, c, k in rows:
        lines.append(f"| {transforms_name} | {what} | {c:.3f} | {k:.3f} | {images / c:,.0f} | {images / k:,.0f} | {c / k:.1f}x |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
