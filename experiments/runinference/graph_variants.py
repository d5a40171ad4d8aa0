"""Graph-level speed levers on the served model, one ONNX Runtime thread, our test split: the
committed int8 graph against ONNX Runtime's transformer optimizer (fused LayerNorm and GELU), and
against an export in eager attention, int8 with and without the optimizer (which then fuses
attention too). Needs torch: run in .venv-encoder with the torch student in models/stance-encoder.

    .venv-encoder/bin/python experiments/runinference/graph_variants.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers import optimizer
from sklearn.metrics import f1_score

sys.path.insert(0, ".")
import pipeline.stance.encoder as encoder  # noqa: E402
from pipeline.stance.data import read_examples  # noqa: E402
from pipeline.stance.export import export_graph  # noqa: E402
from pipeline.stance.inputs import LABELS  # noqa: E402
from pipeline.stance.onnx_model import load_onnx_model  # noqa: E402

SERVED, STUDENT = "models/stance-onnx", "models/stance-encoder"


def int8(src: str, dst: str) -> None:
    quantize_dynamic(src, dst, per_channel=True, weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def fused(src: str, dst: str) -> None:
    optimizer.optimize_model(src, model_type="bert", num_heads=12, hidden_size=384).save_model_to_file(dst)


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="graph-variants-")
    graphs = {"committed int8": os.path.join(SERVED, "model.onnx")}
    fp32 = os.path.join(tmp, "fp32.onnx")
    export_graph(encoder.load_encoder_model(STUDENT), fp32)
    fused(fp32, os.path.join(tmp, "opt.onnx"))
    int8(os.path.join(tmp, "opt.onnx"), os.path.join(tmp, "opt_int8.onnx"))
    graphs["optimizer, int8"] = os.path.join(tmp, "opt_int8.onnx")

    load = encoder._load_encoder  # the same weights with eager attention, which the optimizer can fuse
    encoder._load_encoder = lambda d: (load(d)[0], __import__("transformers").AutoModel.from_pretrained(
        d, local_files_only=True, use_safetensors=True, attn_implementation="eager"))
    eager = os.path.join(tmp, "eager.onnx")
    export_graph(encoder.load_encoder_model(STUDENT), eager)
    encoder._load_encoder = load
    int8(eager, os.path.join(tmp, "eager_int8.onnx"))
    fused(eager, os.path.join(tmp, "eager_opt.onnx"))
    int8(os.path.join(tmp, "eager_opt.onnx"), os.path.join(tmp, "eager_opt_int8.onnx"))
    graphs["eager attention, int8"] = os.path.join(tmp, "eager_int8.onnx")
    graphs["eager attention, optimizer (fused attention), int8"] = os.path.join(tmp, "eager_opt_int8.onnx")

    models = {}
    for n, (name, graph) in enumerate(graphs.items()):
        d = os.path.join(tmp, f"m{n}")
        os.makedirs(d)
        shutil.copy(graph, os.path.join(d, "model.onnx"))
        for f in ("tokenizer.json", "onnx.json"):
            shutil.copy(os.path.join(SERVED, f), d)
        models[name] = load_onnx_model(d, threads=1)
    examples = read_examples("datasets/stance/test.jsonl")
    inputs, gold = [e.input for e in examples], [e.label for e in examples]
    labels = {}
    for r in range(2):
        for name, model in models.items():
            t = time.perf_counter()
            p = model.predict_proba(inputs)
            speed = len(inputs) / (time.perf_counter() - t)
            labels[name] = [LABELS[i] for i in p.argmax(axis=1)]
            print(f"round {r + 1} {name}: {speed:.0f}/s, macro-F1 "
                  f"{f1_score(gold, labels[name], labels=list(LABELS), average='macro'):.3f}")
    for name in models:
        agree = sum(a == b for a, b in zip(labels[name], labels["committed int8"])) / len(inputs)
        print(f"{name}: labels agree with the committed graph on {100 * agree:.1f} %")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
