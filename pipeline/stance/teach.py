"""A teacher's probabilities, written as data for its student (``make teacher``).

    stance-pipeline teach --model models/stance-teacher --data datasets/stance/train.jsonl \\
        datasets/stance/unlabelled.jsonl --out datasets/stance/teacher.jsonl

The teacher (all-mpnet-base-v2 fine-tuned on our training split, about an hour on 2 cores) is too slow
and too large to serve; the student (MiniLM, served with ONNX Runtime) learns from its probabilities.
Committing them means ``make encoder`` retrains the student in minutes without the teacher.
"""

from __future__ import annotations

import json
import os

from pipeline.stance.data import read_examples, read_unlabelled
from pipeline.stance.encoder import example_key, load_encoder_model


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
    proba = model.predict_proba([inputs[k] for k in keys], batch_size=batch_size)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for k, p in zip(keys, proba):
            f.write(json.dumps({"key": k, "p": [round(float(v), 5) for v in p]}) + "\n")
    with open(out + ".meta.json", "w", encoding="utf-8") as f:
        json.dump({"teacher": model.model_version, "teacher_training_data_hash": model.training_data_hash,
                   "inputs": len(keys), "data": [os.path.basename(p) for p in data_paths]}, f, indent=2)
        f.write("\n")
    return len(keys)
