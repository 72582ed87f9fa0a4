"""Grade every entry of the kit's corpus (tests/corpus) with every check of its week, and record
which checks each entry passed in tests/corpus/verdicts.json.

    python scripts/record_corpus_verdicts.py            # needs MNIST and CIFAR-10 in the data root
    python scripts/record_corpus_verdicts.py --out now.json   # today's verdicts, to compare with the record

Run it when the corpus grows; the grading tests compare today's verdicts with the record, and a
check whose verdict on an entry changes on purpose is listed in docs/trust-boundary.md with why.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus import VERDICTS, build_corpus, verdicts  # noqa: E402
from tests.support import ONE_THREAD, grade_all  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=VERDICTS, help="where to write the verdicts (default: the record)")
    out = parser.parse_args().out
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = build_corpus(root / "corpus")
        runs = {name.replace("/", "__"): (folder, week) for name, (week, folder) in corpus.items()}
        (root / "results").mkdir()
        results = grade_all(runs, root / "results", env=ONE_THREAD)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    record = {"about": f"verdicts per check of every corpus entry, graded by the kit at {commit} "
                       "(scripts/record_corpus_verdicts.py)",
              "verdicts": {name: verdicts(results[name.replace("/", "__")]) for name in sorted(corpus)}}
    out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"{len(corpus)} entries written to {out}")


if __name__ == "__main__":
    main()
