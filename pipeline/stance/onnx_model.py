"""The default stance model: the fine-tuned MiniLM encoder, exported to ONNX, served without torch.

    stance-pipeline run --input ... --output ...          (models/stance-onnx, committed)

A model is a directory: ``onnx.json`` (versions, hashes, settings, the calibration temperature),
``model.onnx`` (encoder, pooling and head in one graph; int8 weights where they keep the labels, see
``export.py``) and ``tokenizer.json``. It needs only ONNX Runtime and the ``tokenizers`` library,
about 60 MB installed, against 1.5 GB for torch and transformers.

Inputs are marked and cut around their target exactly as in training (``marking.py``); a batch is
sorted by length before it is cut into model batches, so little of each batch is padding.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Sequence

import numpy as np

from pipeline.errors import UsageError
from pipeline.stance.inputs import LABELS, StanceInput
from pipeline.stance.marking import mark_with_spans, window_around

FORMAT_VERSION = 1
MARKER_FILE = "onnx.json"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


def is_onnx_model(path: str) -> bool:
    """Whether ``path`` is an ONNX model directory (local or any Beam filesystem)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        return FileSystems.exists(path.rstrip("/") + "/" + MARKER_FILE)
    except Exception:
        return False


def read_meta(path: str) -> dict:
    """``onnx.json`` of a model directory, checked, without loading the model."""
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path.rstrip("/") + "/" + MARKER_FILE) as f:
            meta = json.loads(f.read().decode("utf-8"))
    except Exception as exc:
        raise UsageError(f"ONNX model {path} has no readable {MARKER_FILE} ({type(exc).__name__})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"ONNX model {path} has format version {meta.get('format_version')!r}, this version "
                         f"reads {FORMAT_VERSION}: re-export it with 'make encoder'")
    missing = [k for k in ("model_version", "training_data_hash", "max_length", "temperature") if k not in meta]
    if missing:
        raise UsageError(f"ONNX model {path}: {MARKER_FILE} lacks {', '.join(missing)}")
    return meta


class OnnxStanceModel:
    """Same interface as ``StanceModel``: ``predict_proba`` in the order of ``LABELS`` (calibrated by
    the temperature fitted at export), plus the model version and training data hash every table
    records."""

    def __init__(self, session, tokenizer, meta: dict):
        self.session, self.tokenizer, self.meta = session, tokenizer, meta
        self.model_version = meta["model_version"]
        self.training_data_hash = meta["training_data_hash"]
        self.temperature = float(meta["temperature"])
        self._max_length = int(meta["max_length"])
        self._inputs = {i.name for i in session.get_inputs()}
        self._pad = int(meta.get("pad_id", 0))

    def encode(self, inputs: Sequence[StanceInput]) -> list[tuple[list[int], list[int]]]:
        """Token ids and target mask of each input, marked and cut as in training."""
        marked = [mark_with_spans(x) for x in inputs]
        budget = self._max_length - 2
        cut = []
        for text, spans in marked:
            if len(text) > budget and spans:  # a token covers at least one character
                offsets = self.tokenizer.encode(text, add_special_tokens=False).offsets
                text, spans = window_around(text, spans, offsets, self._max_length)
            cut.append((text, spans))
        out = []
        for (text, spans), enc in zip(cut, self.tokenizer.encode_batch([t for t, _ in cut])):
            ids, offsets = enc.ids[:self._max_length], enc.offsets[:self._max_length]
            mask = [1 if z > a and any(a < e and z > s for s, e in spans) else 0 for a, z in offsets]
            out.append((ids, mask))
        return out

    def logits(self, inputs: Sequence[StanceInput], batch_size: int = 32) -> np.ndarray:
        encoded = self.encode(inputs)
        out = np.zeros((len(encoded), len(LABELS)), dtype=np.float32)
        order = np.argsort([len(ids) for ids, _ in encoded], kind="stable")
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            width = max(len(encoded[j][0]) for j in idx)
            ids = np.full((len(idx), width), self._pad, dtype=np.int64)
            attention = np.zeros((len(idx), width), dtype=np.int64)
            target = np.zeros((len(idx), width), dtype=np.int64)
            for row, j in enumerate(idx):
                tok, tmask = encoded[j]
                ids[row, :len(tok)] = tok
                attention[row, :len(tok)] = 1
                target[row, :len(tok)] = tmask
            feed = {"input_ids": ids, "attention_mask": attention, "target_mask": target}
            out[idx] = self.session.run(["logits"], {k: v for k, v in feed.items() if k in self._inputs})[0]
        return out

    def predict_proba(self, inputs: Sequence[StanceInput], batch_size: int = 32) -> np.ndarray:
        if not inputs:
            return np.zeros((0, len(LABELS)))
        return self._calibrated(self.logits(inputs, batch_size))

    def predict_proba_grouped(self, groups: Sequence[Sequence[StanceInput]], batch_size: int = 32) -> list[np.ndarray]:
        """``predict_proba`` for each group on its own (the pipeline's groups are articles).

        The int8 graph quantizes activations with one scale per call, taken over the whole batch, so
        an input's probabilities move slightly (up to about 0.05 in a logit) with the inputs it shares
        a call with. Keeping an article's mentions to calls of their own makes its labels depend on
        the article alone, never on how a runner happened to batch articles."""
        return [self.predict_proba(g, batch_size) for g in groups]

    def _calibrated(self, logits: np.ndarray) -> np.ndarray:
        z = logits.astype(np.float64) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, inputs: Sequence[StanceInput]) -> list[str]:
        return [LABELS[i] for i in self.predict_proba(inputs).argmax(axis=1)]


def load_onnx_model(path: str, threads: int | None = None) -> OnnxStanceModel:
    """Loads a model directory from a local path or any Beam filesystem. ``threads``: ONNX Runtime's
    intra-op threads (default: one; several workers on one machine each take one core)."""
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError:
        raise UsageError("the ONNX stance model needs onnxruntime and tokenizers: "
                         "pip install -c constraints.txt -e .") from None
    meta = read_meta(path)
    local = path if os.path.isdir(path) else _copy_local(path)
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(os.path.join(local, MODEL_FILE), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(os.path.join(local, TOKENIZER_FILE))
    except Exception as exc:
        raise UsageError(f"ONNX model {path} is incomplete or corrupted ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    finally:
        if local != path:
            shutil.rmtree(local, ignore_errors=True)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return OnnxStanceModel(session, tokenizer, meta)


def _copy_local(path: str) -> str:
    from apache_beam.io.filesystems import FileSystems

    local = tempfile.mkdtemp(prefix="stance-onnx-")
    for name in (MARKER_FILE, MODEL_FILE, TOKENIZER_FILE):
        with FileSystems.open(path.rstrip("/") + "/" + name) as src, open(os.path.join(local, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
    return local
