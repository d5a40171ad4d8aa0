"""Would more team-written data of the kind we have close the gap? The default model trained on random
subsets of datasets/stance/train.jsonl (whole documents, three draws per size below all of it), scored
on datasets/stance/test.jsonl and, for the record when given, on NewsMTSC devtest_mt (which chooses
nothing). Prints a summary per size; writes nothing.

    .venv/bin/python experiments/learning_curve/curve.py [--newsmtsc ../shared/benchmarks/newsmtsc]
"""

import argparse
import json
import os
import random
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor

from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from pipeline.stance.data import read_examples  # noqa: E402
from pipeline.stance.inputs import LABELS  # noqa: E402
from pipeline.stance.model import build_pipeline  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FRACTIONS = (0.125, 0.25, 0.5, 0.75, 1.0)
DRAWS = 3
_DATA = {}


def _load(newsmtsc):
    # Once per pool process, so each job pickles only its fraction and draw.
    _DATA["train"] = read_examples(os.path.join(ROOT, "datasets/stance/train.jsonl"))
    _DATA["test"] = read_examples(os.path.join(ROOT, "datasets/stance/test.jsonl"))
    _DATA["dev"] = read_examples(os.path.join(newsmtsc, "devtest_mt.jsonl"), "newsmtsc") if newsmtsc else None


def macro_f1(pipe, examples):
    pred = pipe.predict([e.input for e in examples])
    return f1_score([e.label for e in examples], pred, labels=list(LABELS), average="macro")


def run_one(job):
    frac, draw = job
    train = _DATA["train"]
    docs = sorted({e.doc_id for e in train})
    chosen = set(random.Random(draw).sample(docs, round(len(docs) * frac))) if frac < 1 else set(docs)
    sub = [e for e in train if e.doc_id in chosen]
    pipe = build_pipeline(C=2.0, seed=0)
    with threadpool_limits(limits=1):
        pipe.fit([e.input for e in sub], [e.label for e in sub])
    out = {"fraction": frac, "draw": draw, "n": len(sub), "test": macro_f1(pipe, _DATA["test"])}
    if _DATA["dev"]:
        out["newsmtsc"] = macro_f1(pipe, _DATA["dev"])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--newsmtsc", default=None)
    args = p.parse_args()
    jobs = [(f, d) for f in FRACTIONS for d in range(DRAWS if f < 1 else 1)]
    with ProcessPoolExecutor(2, initializer=_load, initargs=(args.newsmtsc,)) as pool:
        rows = list(pool.map(run_one, jobs))
    for f in FRACTIONS:
        rs = [r for r in rows if r["fraction"] == f]
        line = {"fraction": f, "examples": round(statistics.mean(r["n"] for r in rs)),
                "test": round(statistics.mean(r["test"] for r in rs), 3),
                "test_draws": [round(r["test"], 3) for r in rs]}
        if "newsmtsc" in rs[0]:
            line["newsmtsc"] = round(statistics.mean(r["newsmtsc"] for r in rs), 3)
        print(json.dumps(line))


if __name__ == "__main__":
    main()
