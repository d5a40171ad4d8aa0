"""Fine-tuned encoder (torch) -> the ONNX model directory the pipeline serves (``onnx_model.py``).

    stance-pipeline export --model models/stance-encoder --out models/stance-onnx     (make encoder)

1. The encoder, pooling and head become one ONNX graph (opset 17, dynamic batch and sequence axes)
   that takes ``input_ids``, ``attention_mask`` and ``target_mask`` and returns ``logits``.
2. Dynamic int8 quantization (per-channel weights) makes it about four times smaller and twice as
   fast, but costs some graphs labels (the teacher's int8 export changed 9.9 % of them). The first
   of ``VARIANTS`` that keeps fp32's labels and accuracy on the calibration split ships: all int8,
   int8 but for the layers that lose most, or fp32 arithmetic from fp16 storage (half the file).
3. Calibration: one temperature, fitted by log-loss on the same held-out labelled examples
   (``--calibration``), divides the logits so that the probabilities mean what they say (expected
   calibration error in ``make eval``).

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


def export_graph(model, path: str) -> None:
    """The fp32 ONNX graph of a loaded encoder model (``encoder.load_encoder_model``)."""
    from pipeline.stance.encoder import _torch

    torch = _torch()
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


def write_model_dir(directory: str, graph: str, model, meta: dict) -> str:
    """A servable model directory (``onnx_model.py``): ``graph`` moved in as ``model.onnx``, the
    encoder's tokenizer and ``meta`` as ``onnx.json``."""
    os.makedirs(directory, exist_ok=True)
    shutil.move(graph, os.path.join(directory, MODEL_FILE))
    model.tokenizer.backend_tokenizer.save(os.path.join(directory, TOKENIZER_FILE))
    with open(os.path.join(directory, MARKER_FILE), "w", encoding="utf-8") as f:
        json.dump({"format_version": FORMAT_VERSION, "labels": list(LABELS), "max_length": model.meta["max_length"],
                   "pooling": model.pooling, "pad_id": int(model.tokenizer.pad_token_id or 0),
                   "temperature": 1.0, **meta}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return directory


def quantize(fp32: str, int8: str, exclude: Sequence[str] = ()) -> None:
    """Dynamic int8 quantization, per-channel weights; MatMuls whose name ends with one of ``exclude``
    stay fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = [n.name for n in onnx.load(fp32).graph.node if any(n.name.endswith(e) for e in exclude)]
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8, nodes_to_exclude=names)


def half_storage(fp32: str, out: str) -> None:
    """fp32 compute from fp16 storage: every large weight is stored as fp16 behind a Cast to fp32,
    which ONNX Runtime folds into an fp32 weight when it loads the graph. Half the file, fp32's
    arithmetic (the fallback when int8 costs labels)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(fp32)
    graph = model.graph
    keep, casts = [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype == np.float32 and array.size >= 1024:
            half = numpy_helper.from_array(array.astype(np.float16), init.name + "_fp16")
            keep.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT,
                                          name=init.name + "_cast"))
        else:
            keep.append(init)
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, out)


# Candidates from the fastest: the first whose labels keep fp32's accuracy ships (``export``).
VARIANTS = (
    ("int8", lambda fp32, out: quantize(fp32, out)),
    # The feed-forward output layers read GELU's long-tailed activations, where one int8 scale per
    # call loses most; and the head.
    ("int8, feed-forward outputs and head fp32", lambda fp32, out: quantize(fp32, out, ("output/dense/MatMul", "head/Gemm"))),
    ("fp32 from fp16 storage", half_storage),
)


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


def export(model_dir: str, out: str, held_out: Sequence[StanceInput], held_out_gold: Sequence[str],
           min_agreement: float = 0.95, max_f1_loss: float = 0.01, extra_meta: dict | None = None) -> dict:
    """Writes the served model directory ``out`` and returns its ``onnx.json``.

    The first of ``VARIANTS`` whose labels on the held-out examples agree with fp32's on at least
    ``min_agreement`` of them and whose macro-F1 there is at most ``max_f1_loss`` below fp32's ships,
    its temperature fitted on the same examples; every candidate's figures are recorded."""
    from pipeline.stance.encoder import load_encoder_model

    model = load_encoder_model(model_dir)
    source = model.meta
    tmp = tempfile.mkdtemp(prefix="stance-export-")
    try:
        identity = {"model_version": "", "training_data_hash": source["training_data_hash"],
                    "source": source["model_version"], "base": source.get("base"), "teacher": source.get("teacher")}

        def logits_of(d):
            return load_onnx_model(d, threads=os.cpu_count()).logits(list(held_out))

        def labels_of(logits):
            return [LABELS[i] for i in logits.argmax(axis=1)]

        fp32 = os.path.join(tmp, "fp32.onnx")
        export_graph(model, fp32)
        reference = write_model_dir(os.path.join(tmp, "fp32"), fp32, model, identity)
        ref_labels = labels_of(logits_of(reference))
        ref_f1 = _macro_f1(held_out_gold, ref_labels)
        candidates, chosen = [], None
        for n, (name, make) in enumerate(VARIANTS):
            graph = os.path.join(tmp, "candidate.onnx")
            make(os.path.join(reference, MODEL_FILE), graph)
            d = write_model_dir(os.path.join(tmp, f"candidate-{n}"), graph, model, identity)
            logits = logits_of(d)
            got = labels_of(logits)
            c = {"variant": name, "bytes": os.path.getsize(os.path.join(d, MODEL_FILE)),
                 "label_agreement": round(float(np.mean([a == b for a, b in zip(ref_labels, got)])), 4),
                 "macro_f1": round(_macro_f1(held_out_gold, got), 4)}
            candidates.append(c)
            _LOG.info("export: %s: %d bytes, labels agree with fp32 on %.1f %% of %d, macro-F1 %.3f (fp32 %.3f)",
                      name, c["bytes"], 100 * c["label_agreement"], len(got), c["macro_f1"], ref_f1)
            chosen = (name, d, logits)
            if c["label_agreement"] >= min_agreement and ref_f1 - c["macro_f1"] <= max_f1_loss:
                break
        # If nothing kept the labels, the last candidate (fp32 arithmetic) ships.
        name, d, logits = chosen
        temperature = fit_temperature(logits, held_out_gold) if len(held_out) else 1.0
        with open(os.path.join(d, MODEL_FILE), "rb") as f:
            graph_hash = hashlib.sha256(f.read()).hexdigest()
        tag = "int8" if name.startswith("int8") else "fp32"
        meta = {**identity, "model_version": f"{source['model_version']}-onnx-{tag}-{graph_hash[:6]}",
                "temperature": temperature, "quantization": name,
                "variant_check": {"inputs": len(ref_labels), "macro_f1_fp32": round(ref_f1, 4), "candidates": candidates,
                                  "rule": f"first with label agreement >= {min_agreement} and macro-F1 loss <= {max_f1_loss}"},
                "calibration_examples": len(held_out), **(extra_meta or {})}
        if os.path.isdir(out):
            shutil.rmtree(out)
        write_model_dir(out, os.path.join(d, MODEL_FILE), model, meta)
        return meta
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
