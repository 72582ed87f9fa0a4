"""Which CPU settings make the checks' training steps faster: threads, channels-last, bf16 autocast.

For each of the course's models (MNIST ``CNN``, CIFAR-10 ``Net``, ``VGG``) a
fixed number of training steps on random data of the course's batch size is
timed under each setting, the settings alternating within every repeat so that
load on the machine hits them alike. Medians and the ratio to the default are
printed (and written as Markdown with ``--markdown FILE``).

    python benchmarks/cpu_settings.py --repeats 5
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import time
from pathlib import Path

import torch
from torch import nn

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions" / "week2"


def _load(stem: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{stem}", SOLUTIONS / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def models() -> dict[str, tuple[callable, tuple[int, ...], int, int]]:
    """name -> (constructor, input shape, batch size, steps)."""
    mnist, cifar10, vgg = _load("mnist"), _load("cifar10"), _load("vgg")
    return {
        "MNIST CNN": (lambda: mnist.CNN(784, 6, 10), (1, 28, 28), 64, 40),
        "CIFAR-10 Net": (cifar10.Net, (3, 32, 32), 64, 40),
        "VGG": (vgg.VGG, (3, 32, 32), 32, 3),
    }


SETTINGS = {
    "1 thread": dict(threads=1, channels_last=False, autocast=False),
    "2 threads (default)": dict(threads=2, channels_last=False, autocast=False),
    "2 threads, channels-last": dict(threads=2, channels_last=True, autocast=False),
    "2 threads, bf16 autocast": dict(threads=2, channels_last=False, autocast=True),
}


def time_steps(make_model, shape, batch, steps, threads, channels_last, autocast) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = make_model()
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = loss_fn(model(x).float(), y)
        loss.backward()
        optimizer.step()

    step()  # warm-up, outside the timed region
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    lines = [f"Training steps on random data, median of {args.repeats} alternating repeats; {platform.machine()}, "
             f"{torch.get_num_threads()} cores seen by torch, torch {torch.__version__}", "",
             "| model | batch x steps | setting | median (s) | images/s | vs default |", "| --- | --- | --- | --- | --- | --- |"]
    for name, (make_model, shape, batch, steps) in models().items():
        timings = {setting: [] for setting in SETTINGS}
        for _ in range(args.repeats):
            for setting, options in SETTINGS.items():
                timings[setting].append(time_steps(make_model, shape, batch, steps, **options))
        default = statistics.median(timings["2 threads (default)"])
        for setting, values in timings.items():
            median = statistics.median(values)
            lines.append(f"| {name} | {batch} x {steps} | {setting} | {median:.3f} | {batch * steps / median:,.0f} | "
                         f"{default / median:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
