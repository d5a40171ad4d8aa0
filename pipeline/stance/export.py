"""Fine-tuned encoder (torch) -> the ONNX model directory the pipeline serves (``onnx_model.py``).

    stance-pipeline export --model models/stance-encoder --out models/stance-onnx     (make encoder)

1. The encoder, pooling and head become one ONNX graph (opset 17, dynamic batch and sequence axes)
   that takes ``input_ids``, ``attention_mask`` and ``target_mask`` and returns ``logits``.
2. Dynamic int8 quantization (per-channel weights) makes it about four times smaller and twice as
   fast; it is kept only if its labels agree with fp32's on ``--check`` inputs (``min_agreement``)
   and its macro-F1 there is no more than ``max_f1_loss`` lower. Otherwise the fp32 graph ships.
3. Calibration: one temperature, fitted by log-loss on held-out labelled examples (``--calibration``),
   divides the logits so that the probabilities mean what they say (expected calibration error in
   ``make eval``).

Deterministic for the same model directory: the same graph, the same quantized weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from typing import Sequence

import numpy as np

from pipeline.stance.inputs import LABELS, StanceInput
from pipeline.stance.onnx_model import FORMAT_VERSION, MARKER_FILE, MODEL_FILE, TOKENIZER_FILE, load_onnx_model

_LOG = logging.getLogger(__name__)
# What the served model is a function of: the training code and the files it learned from. onnx.json
# records their sha256; tests/test_onnx_model.py fails when the committed model no longer matches.
TRAINING_CODE = ("pipeline/stance/encoder.py", "pipeline/stance/marking.py", "pipeline/stance/inputs.py")
TRAINING_DATA = ("datasets/stance/train.jsonl", "datasets/stance/unlabelled.jsonl", "datasets/stance/teacher.jsonl")


def fingerprint(root: str = ".") -> dict:
    """sha256 of each training code and data file, by path relative to the repository ``root``."""
    out = {}
    for rel in TRAINING_CODE + TRAINING_DATA:
        with open(os.path.join(root, rel), "rb") as f:
            out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def export_graph(model_dir: str, path: str) -> None:
    """The fp32 ONNX graph of an encoder model directory (``encoder.py``)."""
    from pipeline.stance.encoder import _torch, load_encoder_model

    torch = _torch()
    model = load_encoder_model(model_dir)
    net = model.net.eval()

    class Graph(torch.nn.Module):
        """Only the three inputs the served model gets (transformers 5 passes ``use_cache`` and
        others to a module it exports, which the ONNX graph need not carry)."""

        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask, target_mask):
            return self.net(input_ids=input_ids, attention_mask=attention_mask, target_mask=target_mask)

    batch = model.tokenizer(["a <t> b </t> c", "d e"], padding=True, return_tensors="pt")
    target = torch.zeros_like(batch["attention_mask"])
    target[0, 2:6] = 1
    axes = {0: "batch", 1: "tokens"}
    with torch.inference_mode():
        torch.onnx.export(Graph(), (batch["input_ids"], batch["attention_mask"], target), path,
                          input_names=["input_ids", "attention_mask", "target_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "target_mask": axes,
                                        "logits": {0: "batch"}},
                          opset_version=17, dynamo=False, do_constant_folding=True)


def quantize(fp32: str, int8: str) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)


def fit_temperature(logits: np.ndarray, gold: Sequence[str]) -> float:
    """The temperature that minimises the log-loss of ``softmax(logits / T)`` (grid, then refined)."""
    y = np.array([LABELS.index(g) for g in gold])

    def nll(t):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    grid = np.exp(np.linspace(np.log(0.25), np.log(8), 121))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.95, best * 1.05, 41)
    return round(float(min(fine, key=nll)), 4)


def _macro_f1(gold, pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0))


def export(model_dir: str, out: str, check: Sequence[StanceInput], check_gold: Sequence[str],
           calibration: Sequence[StanceInput], calibration_gold: Sequence[str],
           min_agreement: float = 0.97, max_f1_loss: float = 0.01, extra_meta: dict | None = None) -> dict:
    """Writes the served model directory ``out`` and returns its ``onnx.json``."""
    with open(os.path.join(model_dir, "encoder.json"), encoding="utf-8") as f:
        source = json.load(f)
    from pipeline.stance.encoder import load_encoder_model

    tokenizer = load_encoder_model(model_dir).tokenizer
    tmp = tempfile.mkdtemp(prefix="stance-export-")
    try:
        fp32, int8 = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "int8.onnx")
        export_graph(model_dir, fp32)
        quantize(fp32, int8)
        tokenizer.backend_tokenizer.save(os.path.join(tmp, TOKENIZER_FILE))
        meta = {"format_version": FORMAT_VERSION, "model_version": "", "training_data_hash": source["training_data_hash"],
                "labels": list(LABELS), "max_length": source["max_length"], "pooling": source.get("pooling", "mean"),
                "pad_id": int(tokenizer.pad_token_id or 0), "temperature": 1.0, "source": source["model_version"],
                "base": source.get("base"), "teacher": source.get("teacher")}
        found = {}
        for name, path in (("fp32", fp32), ("int8", int8)):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            shutil.copy(path, os.path.join(d, MODEL_FILE))
            shutil.copy(os.path.join(tmp, TOKENIZER_FILE), d)
            with open(os.path.join(d, MARKER_FILE), "w", encoding="utf-8") as f:
                json.dump({**meta, "model_version": name}, f)
            model = load_onnx_model(d, threads=os.cpu_count())
            found[name] = (d, model.logits(list(check)))
        labels = {k: [LABELS[i] for i in v[1].argmax(axis=1)] for k, v in found.items()}
        agreement = float(np.mean([a == b for a, b in zip(labels["fp32"], labels["int8"])]))
        f1 = {k: _macro_f1(check_gold, v) for k, v in labels.items()}
        chosen = "int8" if agreement >= min_agreement and f1["fp32"] - f1["int8"] <= max_f1_loss else "fp32"
        _LOG.info("export: int8 labels agree with fp32 on %.1f %% of %d check inputs; macro-F1 fp32 %.3f, "
                  "int8 %.3f: shipping %s", 100 * agreement, len(labels["fp32"]), f1["fp32"], f1["int8"], chosen)
        served = load_onnx_model(found[chosen][0], threads=os.cpu_count())
        temperature = fit_temperature(served.logits(list(calibration)), calibration_gold) if calibration else 1.0
        with open(os.path.join(found[chosen][0], MODEL_FILE), "rb") as f:
            graph_hash = hashlib.sha256(f.read()).hexdigest()
        meta.update({
            "model_version": f"{source['model_version']}-onnx-{chosen}-{graph_hash[:6]}",
            "temperature": temperature, "quantization": chosen,
            "int8_check": {"inputs": len(labels["fp32"]), "label_agreement": round(agreement, 4),
                           "macro_f1_fp32": round(f1["fp32"], 4), "macro_f1_int8": round(f1["int8"], 4)},
            "calibration_examples": len(calibration), **(extra_meta or {})})
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.makedirs(out)
        shutil.copy(os.path.join(found[chosen][0], MODEL_FILE), out)
        shutil.copy(os.path.join(tmp, TOKENIZER_FILE), out)
        with open(os.path.join(out, MARKER_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, ensure_ascii=False)
            f.write("\n")
        return meta
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
