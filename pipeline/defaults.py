"""Default paths, in one place: the command line (cli.py), the job (run.py) and the benchmark read
them from here, so none of them imports another for a constant."""

from __future__ import annotations

import os

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ACTORS = os.path.relpath(os.path.join(_ROOT, "configs", "actors.yaml"))
DEFAULT_MODEL = "models/stance.skops"
DEFAULT_ENCODER = "models/stance-encoder"
DEFAULT_TRAIN = "datasets/stance/train.jsonl"
DEFAULT_TEST = "datasets/stance/test.jsonl"
NEWSMTSC_DIR = os.path.join(_ROOT, "..", "shared", "benchmarks", "newsmtsc")
