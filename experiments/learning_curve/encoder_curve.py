"""The learning curve of the optional encoder model: would more team-written data like ours carry it
to issue 3's 0.80 on our test split? Fine-tunes the shipped configuration (pipeline.stance.encoder,
DEFAULT_PARAMS) on one random draw of whole training documents per fraction and scores it on
datasets/stance/test.jsonl. The full-data point is `make eval-encoder`. Needs .venv-encoder; about
4 and 8 minutes for the two default fractions on 2 cores. Writes nothing under the repository.

    .venv-encoder/bin/python experiments/learning_curve/encoder_curve.py [--fractions 0.25 0.5]
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from pipeline.stance.data import read_examples  # noqa: E402
from pipeline.stance.encoder import load_encoder_model, train_encoder  # noqa: E402
from pipeline.stance.evaluate import score_model  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TRAIN = os.path.join(ROOT, "datasets", "stance", "train.jsonl")
TEST = os.path.join(ROOT, "datasets", "stance", "test.jsonl")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5])
    p.add_argument("--draw", type=int, default=0, help="seed of the document draw")
    p.add_argument("--train", default=TRAIN)
    p.add_argument("--test", default=TEST)
    args = p.parse_args()
    rows = [json.loads(line) for line in open(args.train, encoding="utf-8")]
    docs = sorted({r["doc_id"] for r in rows})
    test = read_examples(args.test)
    for frac in args.fractions:
        chosen = set(random.Random(args.draw).sample(docs, round(len(docs) * frac)))
        with tempfile.TemporaryDirectory() as tmp:
            subset = os.path.join(tmp, "train.jsonl")
            with open(subset, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows if r["doc_id"] in chosen)
            started = time.perf_counter()
            train_encoder([subset], os.path.join(tmp, "model"))
            model = load_encoder_model(os.path.join(tmp, "model"))
            seconds = time.perf_counter() - started
            f1 = score_model(model, test)["macro_f1"]
        print(json.dumps({"fraction": frac, "documents": len(chosen),
                          "examples": sum(r["doc_id"] in chosen for r in rows),
                          "test_macro_f1": round(f1, 3), "train_seconds": round(seconds)}), flush=True)


if __name__ == "__main__":
    main()
