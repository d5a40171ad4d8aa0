"""Default paths, in one place: the command line (cli.py), the job (run.py) and the benchmark read
them from here, so none of them imports another for a constant."""

from __future__ import annotations

import os

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ACTORS = os.path.relpath(os.path.join(_ROOT, "configs", "actors.yaml"))
# The model a run uses unless told otherwise: the distilled MiniLM encoder, served with ONNX Runtime
# (committed; `make encoder` rebuilds it). The linear model is the fast alternative (`make train`).
DEFAULT_MODEL = "models/stance-onnx"
LINEAR_MODEL = "models/stance.skops"
DEFAULT_ENCODER = "models/stance-encoder"
TEACHER_MODEL = "models/stance-teacher"
DEFAULT_TRAIN = "datasets/stance/train.jsonl"
DEFAULT_TEST = "datasets/stance/test.jsonl"
DEFAULT_CALIBRATION = "datasets/stance/calibration.jsonl"
DEFAULT_UNLABELLED = "datasets/stance/unlabelled.jsonl"
DEFAULT_TEACHER_PROBS = "datasets/stance/teacher.jsonl"
NEWSMTSC_DIR = os.path.join(_ROOT, "..", "shared", "benchmarks", "newsmtsc")
CONFLICT_NEWS_DIR = os.path.join(_ROOT, "..", "shared", "benchmarks", "conflict-news")
