"""How far the reference's recorded values move between runs that differ in how the arithmetic is
done, set beside the tolerances the checks compare them with.

Records every week twice into temporary folders (``dlkit.release.record --into``), once as the
release does (one PyTorch thread) and once with ``--threads`` (other reduction orders in matrix
products and convolutions), and reports, per exercise, the largest absolute and relative difference over all
floating-point values. Inputs the checks draw are the same in both (they are drawn, not computed).

    python scripts/recorded_spread.py [--threads 2] [--weeks week1 week2] [--markdown F]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

KIT_ROOT = Path(__file__).resolve().parent.parent


def _leaves(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{prefix}/{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _difference(a, b) -> tuple[float, float]:
    """(largest absolute, largest relative) difference between two recorded leaves."""
    if isinstance(a, torch.Tensor) and a.is_floating_point():
        diff = (a.double() - b.double()).abs()
        scale = torch.maximum(a.double().abs(), b.double().abs()).clamp_min(1e-12)
        return (diff.max().item(), (diff / scale).max().item()) if diff.numel() else (0.0, 0.0)
    if isinstance(a, float):
        return abs(a - b), abs(a - b) / max(abs(a), abs(b), 1e-12)
    return (0.0, 0.0) if (a == b if not isinstance(a, torch.Tensor) else torch.equal(a, b)) else (float("inf"),) * 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weeks", nargs="+", default=["week1", "week2"])
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    rows = ["| week | exercise | values | largest absolute difference | largest relative difference |",
            "| --- | --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory(prefix="dlkit-spread-") as scratch:
        for threads in (1, args.threads):
            for week in args.weeks:
                env = {**os.environ, "DLKIT_CHECK_TIMEOUT": "900"}
                subprocess.run([sys.executable, "-m", "dlkit.release.record", week, "--into",
                                f"{scratch}/{threads}", "--threads", str(threads)], cwd=KIT_ROOT, env=env,
                               check=True, stdout=subprocess.DEVNULL)
        for week in args.weeks:
            for path in sorted(Path(scratch, "1", week).glob("*.pt")):
                one = torch.load(path, weights_only=True)
                other = torch.load(Path(scratch, str(args.threads), week, path.name), weights_only=True)
                pairs = [(a, b) for (_, a), (_, b) in zip(_leaves(one), _leaves(other))]
                worst = [max(d) for d in zip(*(_difference(a, b) for a, b in pairs))] if pairs else [0.0, 0.0]
                rows.append(f"| {week} | {path.stem} | {len(pairs)} | {worst[0]:.3g} | {worst[1]:.3g} |")
    text = (f"Recorded twice, with 1 and {args.threads} PyTorch threads, on {torch.__version__} (CPU):\n\n"
            + "\n".join(rows) + "\n")
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
