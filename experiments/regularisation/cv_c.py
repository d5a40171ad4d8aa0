"""Does the default model's C (2.0, never tuned) suit our data? Grouped 5-fold cross-validation on
datasets/stance/train.jsonl, folds by document; the test split and NewsMTSC are scored for the record,
after the choice, and never choose anything.

    .venv/bin/python experiments/regularisation/cv_c.py [--newsmtsc ../shared/benchmarks/newsmtsc]
"""

import argparse
import json
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor

from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from pipeline.stance.data import read_examples  # noqa: E402
from pipeline.stance.inputs import LABELS  # noqa: E402
from pipeline.stance.model import build_pipeline  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def macro_f1(pipe, examples):
    pred = pipe.predict([e.input for e in examples])
    return f1_score([e.label for e in examples], pred, labels=list(LABELS), average="macro")


def fit(C, examples):
    pipe = build_pipeline(C=C, seed=0)
    with threadpool_limits(limits=1):
        pipe.fit([e.input for e in examples], [e.label for e in examples])
    return pipe


def fold_score(args):
    C, train, held = args
    return C, macro_f1(fit(C, train), held)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--newsmtsc", default=None)
    args = p.parse_args()
    train = read_examples(os.path.join(ROOT, "datasets/stance/train.jsonl"))
    test = read_examples(os.path.join(ROOT, "datasets/stance/test.jsonl"))
    folds = list(GroupKFold(n_splits=5).split(train, groups=[e.doc_id for e in train]))
    jobs = [(C, [train[i] for i in tr], [train[i] for i in te]) for C in CS for tr, te in folds]
    with ProcessPoolExecutor(2) as pool:
        scores = {}
        for C, s in pool.map(fold_score, jobs):
            scores.setdefault(C, []).append(s)
    result = {"cv": {str(C): {"mean": statistics.mean(v), "sd": statistics.stdev(v), "folds": v} for C, v in scores.items()}}
    best = max(CS, key=lambda C: statistics.mean(scores[C]))
    result["chosen_by_cv"] = best
    dev = read_examples(os.path.join(args.newsmtsc, "devtest_mt.jsonl"), "newsmtsc") if args.newsmtsc else None
    result["after_choice"] = {}
    for C in CS:
        pipe = fit(C, train)
        result["after_choice"][str(C)] = {"ours_test": macro_f1(pipe, test),
                                          **({"newsmtsc_devtest_mt": macro_f1(pipe, dev)} if dev else {})}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
