"""A teacher's probabilities, written as data for its student (``make teacher``).

    stance-pipeline teach --model models/stance-teacher --data datasets/stance/train.jsonl \\
        datasets/stance/unlabelled.jsonl --out datasets/stance/teacher.jsonl

The teacher (all-mpnet-base-v2 fine-tuned on our training split, about an hour on 2 cores) is too slow
and too large to serve; the student (MiniLM, served with ONNX Runtime) learns from its probabilities.
Committing them means ``make encoder`` retrains the student in minutes without the teacher.

The teacher answers through an fp32 ONNX export of itself (``export.py``), faster than torch and
with the same probabilities. Not int8: the int8 export of the teacher gave another label than fp32
on 9.9 % of 303 inputs (2026-12-08), too much noise in what the student learns.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile

import numpy as np

from pipeline.stance.data import read_examples, read_unlabelled
from pipeline.stance.encoder import example_key, load_encoder_model
from pipeline.stance.export import export_graph, write_model_dir
from pipeline.stance.onnx_model import load_onnx_model

_LOG = logging.getLogger(__name__)


def _inputs(path: str) -> list:
    with open(path, encoding="utf-8") as f:
        first = next((json.loads(line) for line in f if line.strip()), {})
    return [e.input for e in read_examples(path)] if "label" in first else read_unlabelled(path)


def teach(model_dir: str, data_paths: list[str], out: str, batch_size: int = 64) -> int:
    """Writes ``{"key": example_key, "p": [favor, against, neutral]}`` per distinct input, sorted by
    key, and ``out.meta.json`` naming the teacher. Returns the number of lines."""
    model = load_encoder_model(model_dir)
    inputs = {}
    for path in data_paths:
        for x in _inputs(path):
            inputs.setdefault(example_key(x), x)
    keys = sorted(inputs)
    tmp = tempfile.mkdtemp(prefix="stance-teacher-")
    try:
        graph = os.path.join(tmp, "fp32.onnx")
        export_graph(model, graph)
        served = load_onnx_model(write_model_dir(os.path.join(tmp, "model"), graph, model, {
            "model_version": model.model_version, "training_data_hash": model.training_data_hash}), threads=os.cpu_count())
        sample = [inputs[k] for k in keys[::max(1, len(keys) // 300)]]
        gap = float(np.abs(served.predict_proba(sample) - model.predict_proba(sample)).max())
        _LOG.info("teach: ONNX and torch probabilities differ by at most %.2g on %d inputs", gap, len(sample))
        proba = served.predict_proba([inputs[k] for k in keys], batch_size=batch_size)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for k, p in zip(keys, proba):
            f.write(json.dumps({"key": k, "p": [round(float(v), 5) for v in p]}) + "\n")
    with open(out + ".meta.json", "w", encoding="utf-8") as f:
        json.dump({"teacher": model.model_version, "teacher_training_data_hash": model.training_data_hash,
                   "runtime": "onnx fp32", "max_gap_to_torch": gap,
                   "inputs": len(keys), "data": [os.path.basename(p) for p in data_paths]}, f, indent=2)
        f.write("\n")
    return len(keys)

