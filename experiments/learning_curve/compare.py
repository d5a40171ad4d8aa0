"""Macro-F1 of several stance models on several test files, side by side: how a change of training
data moves each model on the same examples. Scores only; chooses nothing.

    .venv-encoder/bin/python experiments/learning_curve/compare.py \
        --model old=OLD.skops --model new=models/stance.skops \
        --test ours=datasets/stance/test.jsonl --test newsmtsc=../shared/benchmarks/newsmtsc/devtest_mt.jsonl

A test named newsmtsc* is read in NewsMTSC's format. A model directory is the encoder model, which
needs .venv-encoder.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from pipeline.stance.data import read_examples  # noqa: E402
from pipeline.stance.evaluate import score_model  # noqa: E402
from pipeline.stance.model import load_model  # noqa: E402


def pair(text):
    name, _, path = text.partition("=")
    if not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", type=pair, action="append", required=True)
    p.add_argument("--test", type=pair, action="append", required=True)
    args = p.parse_args()
    tests = {name: read_examples(path, "newsmtsc" if name.startswith("newsmtsc") else "jsonl")
             for name, path in args.test}
    for name, path in args.model:
        model = load_model(path)
        row = {"model": name, "version": model.model_version}
        for test_name, examples in tests.items():
            row[test_name] = round(score_model(model, examples)["macro_f1"], 3)
            row[f"n_{test_name}"] = len(examples)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
