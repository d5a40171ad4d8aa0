"""The served model alone, one ONNX Runtime thread: mentions/s on our test split in length-sorted
batches of 32 across documents against per-document calls (what the pipeline makes per article).

    .venv/bin/python experiments/runinference/model_speed.py [--model models/stance-onnx] [--rounds 2]
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

import numpy as np

sys.path.insert(0, ".")
from pipeline.stance.data import read_examples  # noqa: E402
from pipeline.stance.onnx_model import load_onnx_model  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/stance-onnx")
    ap.add_argument("--data", default="datasets/stance/test.jsonl")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    examples = read_examples(args.data)
    inputs = [e.input for e in examples]
    groups = collections.defaultdict(list)
    for e in examples:
        groups[e.doc_id].append(e.input)
    model = load_onnx_model(args.model, threads=1)
    print(f"{len(inputs)} inputs, {np.mean([len(ids) for ids, _ in model.encode(inputs)]):.1f} tokens each on average, "
          f"{np.mean([len(g) for g in groups.values()]):.1f} per document")
    for r in range(args.rounds):
        t = time.perf_counter()
        model.predict_proba(inputs, batch_size=32)
        across = len(inputs) / (time.perf_counter() - t)
        t = time.perf_counter()
        model.predict_proba_grouped(list(groups.values()))
        grouped = len(inputs) / (time.perf_counter() - t)
        print(f"round {r + 1}: sorted batches of 32 across documents {across:.0f}/s, per-document calls {grouped:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
