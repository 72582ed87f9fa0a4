"""Calibrate week 2's MNIST and CIFAR-10 learning thresholds: train the reference (and broken
variants of it) under a profile's budget over several seeds, with the checks' own code.

The checks' functions are reused as they are (``train_and_test`` in
``autograder/week2/test_mnist.py`` and ``test_cifar10.py``), with the budget from
``exercises.toml`` and only its ``seed`` replaced, so a calibrated number is what a check would
measure for a student whose correct code happens to draw that seed (a different layer order
or init is, in effect, a different seed).

    DLKIT_DATA=/work/shared/data python scripts/calibrate_week2.py --seeds 0-19
    python scripts/calibrate_week2.py --exercise cifar10 --variants reference,untrained --seeds 0-4

Prints one line per run and a min / median / max summary per measured quantity, as Markdown,
and with ``--json PATH`` writes every number. The seed the checks use is budget seed 0.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import types
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.spec import exercise_spec  # noqa: E402
from dlkit.reference import load_reference  # noqa: E402
from autograder.week2 import test_cifar10, test_mnist  # noqa: E402


# ---------------------------------------------------------------- broken variants of the reference


def _mnist_variant(reference, name: str):
    """The reference module with ``train_epoch`` replaced by a classic mistake."""
    variant = types.SimpleNamespace(**{k: getattr(reference, k) for k in dir(reference) if not k.startswith("__")})

    def loop(model, loader, optimizer, device, perm=None, zero_grad=True, fresh_perm=False, learn=True):
        model.train()
        losses = []
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            if perm is not None:
                p = torch.randperm(perm.numel()) if fresh_perm else perm
                images = reference.permute_pixels(images, p.to(device))
            if zero_grad:
                optimizer.zero_grad()
            loss = F.nll_loss(model(images), labels)
            if learn:
                loss.backward()
                optimizer.step()
            losses.append(loss.item())
        return sum(losses) / len(losses)

    options = {
        "no-zero-grad": dict(zero_grad=False),
        "fresh-perm": dict(fresh_perm=True),
        "untrained": dict(learn=False),
    }[name]
    variant.train_epoch = lambda model, loader, optimizer, device, perm=None: loop(
        model, loader, optimizer, device, perm, **options)
    return variant


def _cifar10_variant(reference, name: str):
    """The reference module with ``train`` replaced by a classic mistake."""
    variant = types.SimpleNamespace(**{k: getattr(reference, k) for k in dir(reference) if not k.startswith("__")})

    def loop(model, loader, epochs, device, lr=1e-3, loss_fn=F.cross_entropy, zero_grad=True, learn=True):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        out = []
        for _ in range(epochs):
            losses = []
            for images, labels in loader:
                images, labels = images.to(device), labels.to(device)
                if zero_grad:
                    optimizer.zero_grad()
                loss = loss_fn(model(images), labels)
                if learn:
                    loss.backward()
                    optimizer.step()
                losses.append(loss.item())
            out.append(sum(losses) / len(losses))
        return out

    options = {
        "no-zero-grad": dict(zero_grad=False),
        "nll-on-logits": dict(loss_fn=F.nll_loss),
        "untrained": dict(learn=False),
    }[name]
    variant.train = lambda model, loader, epochs, device, lr=1e-3: loop(model, loader, epochs, device, lr, **options)
    return variant


MNIST_VARIANTS = ("reference", "no-zero-grad", "fresh-perm", "untrained")
CIFAR10_VARIANTS = ("reference", "no-zero-grad", "nll-on-logits", "untrained")


# ---------------------------------------------------------------- runs


MNIST_RUNS = ("fc", "fc_perm", "cnn", "cnn_perm")


def run_mnist(module, budget: dict, device, runs=MNIST_RUNS) -> dict[str, float]:
    acc = {}
    for run in runs:
        kind, permuted = run.split("_")[0], run.endswith("_perm")
        acc[run] = test_mnist.train_and_test(None, module, None, kind, permuted, budget, device)
    if set(acc) == set(MNIST_RUNS):
        acc["cnn_minus_fc"] = acc["cnn"] - acc["fc"]
        acc["fc_drop"] = acc["fc"] - acc["fc_perm"]
        acc["cnn_drop_minus_fc_drop"] = (acc["cnn"] - acc["cnn_perm"]) - acc["fc_drop"]
    elif {"fc", "cnn"} <= set(acc):
        acc["cnn_minus_fc"] = acc["cnn"] - acc["fc"]
    return acc


def run_cifar10(module, budget: dict, device, runs=None) -> dict[str, float]:
    return {"net": test_cifar10.train_and_test(None, module, module, budget, device)}


def parse_seeds(text: str) -> list[int]:
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercise", choices=("mnist", "cifar10", "both"), default="both")
    parser.add_argument("--profile", choices=("quick", "full"), default="quick")
    parser.add_argument("--seeds", default="0-4", help="e.g. 0-19 or 0,3,5-7 (budget seeds; the checks use 0)")
    parser.add_argument("--variants", default="reference",
                        help=f"comma-separated: mnist {', '.join(MNIST_VARIANTS)}; cifar10 {', '.join(CIFAR10_VARIANTS)}")
    parser.add_argument("--mnist-runs", default=",".join(MNIST_RUNS),
                        help="which MNIST trainings (fc, fc_perm, cnn, cnn_perm); derived gaps need all four")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadiest on a shared CPU)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="change a budget entry, e.g. require_train_images=0 (marked in the output)")
    parser.add_argument("--json", type=Path, help="write every number here")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    reference = {stem: load_reference("week2", stem) for stem in ("mnist", "cifar10")}
    exercises = ("mnist", "cifar10") if args.exercise == "both" else (args.exercise,)
    seeds = parse_seeds(args.seeds)
    device = torch.device(args.device)
    overrides = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.override)}
    record = {"torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
              "threads": args.threads, "profile": args.profile, "overrides": overrides, "runs": []}
    print(f"torch {torch.__version__}, {args.threads} thread(s), profile {args.profile}, seeds {args.seeds}"
          + (f", overrides {overrides}" if overrides else ""))
    for exercise in exercises:
        budget = {**exercise_spec("week2", exercise).budget(args.profile), **overrides}
        known = MNIST_VARIANTS if exercise == "mnist" else CIFAR10_VARIANTS
        for variant in [v for v in args.variants.split(",") if v in known]:
            module = reference[exercise]
            if variant != "reference":
                module = (_mnist_variant if exercise == "mnist" else _cifar10_variant)(module, variant)
            rows = []
            for seed in seeds:
                started = time.perf_counter()
                run = run_mnist if exercise == "mnist" else run_cifar10
                values = run(module, {**budget, "seed": seed}, device, args.mnist_runs.split(","))
                seconds = time.perf_counter() - started
                rows.append(values)
                record["runs"].append({"exercise": exercise, "variant": variant, "seed": seed,
                                       "seconds": round(seconds, 1), **values})
                print(f"{exercise} {variant} seed {seed} ({seconds:.1f} s): "
                      + ", ".join(f"{k} {v:.3f}" for k, v in values.items()), flush=True)
            print(f"\n{exercise}, {variant}, {len(seeds)} seeds:\n\n| quantity | min | median | max |\n| --- | --- | --- | --- |")
            for key in rows[0]:
                values = [r[key] for r in rows]
                print(f"| {key} | {min(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} |")
            print(flush=True)
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
