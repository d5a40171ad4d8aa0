"""Fine-tuned encoder stance models, in torch: training, and loading for export and evaluation.

    make teacher          (all-mpnet-base-v2, the teacher: stance-pipeline train --encoder --base mpnet)
    make encoder          (all-MiniLM-L6-v2, the student, distilled from the teacher's probabilities,
                           then exported to the ONNX model a run serves: export.py, onnx_model.py)

The target's mentions are wrapped in ``<t> … </t>`` and other actors' in ``<o> … </o>`` (ordinary word
pieces: no new vocabulary; ``marking.py``), the encoder's output is pooled twice (the mean over the
whole sentence and the mean over the target's marked tokens, side by side), then a linear head over
favor / against / neutral, fine-tuned end to end. Runs never need this module: the default install
has no torch, and the served model is the ONNX export.

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
from pipeline.stance.marking import mark, mark_with_spans, window_around  # noqa: F401  (mark: interface)

FORMAT_VERSION = 1
# "both": the mean over all tokens beside the mean over the target's marked tokens, so the head sees
# which of a sentence's actors it judges (79 % of our examples share their sentence with another
# target). Chosen on the held-out 15 % of train (experiments/finetune_minilm/README.md); models
# without the key in encoder.json are "mean", the first shipped configuration.
POOLINGS = ("mean", "both")
MODEL_FAMILY = "minilm-ft"
# Chosen on a held-out 15 % of train, by document (experiments/finetune_minilm/README.md): more epochs
# did not help, class weights hurt.
DEFAULT_PARAMS = {"epochs": 3, "lr": 5e-5, "batch": 32, "max_length": 96, "warmup": 0.1,
                  "weight_decay": 0.01, "seed": 42, "pooling": "both", "base": "minilm", "bucket": True,
                  # layers (from the bottom, with the embeddings) that keep their pretrained weights
                  "freeze": 0,
                  # distillation (only with a teacher): weight of the gold label against the teacher's
                  # probabilities, and the temperature both are softened by
                  "alpha": 0.5, "temperature": 2.0}
_LOG = logging.getLogger(__name__)


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
            # MPNet takes no token_type_ids; BERT-style encoders (MiniLM) get them when the tokenizer gives them.
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            pooled = mean(h, attention_mask)
            if pooling == "both":
                # A target cut off by truncation has no tokens left: its half is the sentence's mean.
                empty = target_mask.sum(1, keepdim=True) == 0
                pooled = torch.cat([pooled, mean(h, torch.where(empty, attention_mask, target_mask))], -1)
            return self.head(self.dropout(pooled))

    return EncoderClassifier()


def around_target(tokenizer, text: str, spans: list[tuple[int, int]], max_length: int) -> tuple[str, list]:
    """``window_around`` with a transformers tokenizer's offsets."""
    budget = max_length - 2  # [CLS] and [SEP]
    if len(text) <= budget or not spans:  # a token covers at least one character
        return text, spans
    # verbose=False: the whole sentence may exceed the encoder's 512 positions, which is why it is cut.
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    return window_around(text, spans, offsets, max_length)


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


def base_model_dir(base: str = "minilm") -> str:
    from pipeline.stance.bases import base_dir

    return base_dir(base)


def example_key(x: StanceInput) -> str:
    """A stable key for one input (sentence, target spans, other spans): how the teacher's
    probabilities (``datasets/stance/teacher.jsonl``) find their example."""
    raw = json.dumps([x.text, [list(s) for s in x.targets], [list(s) for s in x.others]], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def _batches(lengths: Sequence[int], batch: int, generator, torch, bucket: bool) -> list[list[int]]:
    """One epoch's batches. With ``bucket``, examples of similar length share a batch (sorted within
    shuffled windows of 50 batches, then the batches shuffled): less padding, about a third less
    time per epoch on our sentences, and still a different mix every epoch."""
    perm = torch.randperm(len(lengths), generator=generator).tolist()
    if not bucket:
        return [perm[i:i + batch] for i in range(0, len(perm), batch)]
    window = batch * 50
    out = []
    for w in range(0, len(perm), window):
        chunk = sorted(perm[w:w + window], key=lambda j: lengths[j])
        out += [chunk[i:i + batch] for i in range(0, len(chunk), batch)]
    order = torch.randperm(len(out), generator=generator).tolist()
    return [out[k] for k in order]


def read_teacher(path: str) -> dict[str, list[float]]:
    """The teacher's probabilities, ``{example_key: [p_favor, p_against, p_neutral]}``."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    d = json.loads(line)
                    out[d["key"]] = d["p"]
    except OSError as exc:
        raise UsageError(f"cannot read the teacher's probabilities {path}: {exc.strerror}") from None
    except (ValueError, KeyError) as exc:
        raise UsageError(f"{path}: line {n}: not a teacher probability line ({exc})") from None
    return out


def train_encoder(data_paths: Sequence[str], out: str, fmt: str = "jsonl", threads: int | None = None,
                  unlabelled: Sequence[StanceInput] = (), teacher: dict | None = None,
                  teacher_version: str | None = None, **params) -> EncoderStanceModel:
    """Fine-tunes a base encoder (``params["base"]``: minilm or mpnet, ``bases.py``) on labelled
    examples and saves the model directory to ``out``. AdamW, linear warm-up then decay, gradient
    clipping at 1.0, a fixed seed for the shuffles and the head's initial weights.

    With ``teacher`` (``read_teacher``), distillation: every example whose key the teacher scored
    also learns the teacher's probabilities (KL divergence at temperature ``params["temperature"]``),
    weighted ``1 - alpha`` against ``alpha`` for the gold label; ``unlabelled`` inputs learn from
    the teacher alone. About 6 min per 6,000 examples and epoch on 2 cores for MiniLM, 20 for MPNet."""
    torch = _torch()
    from safetensors.torch import save_file

    from pipeline.stance.bases import BASES
    from pipeline.stance.data import data_hash, read_examples

    p = {**DEFAULT_PARAMS, **{k: v for k, v in params.items() if v is not None}}
    if threads:
        torch.set_num_threads(threads)
    random.seed(p["seed"])
    np.random.seed(p["seed"])
    torch.manual_seed(p["seed"])
    if p["pooling"] not in POOLINGS:
        raise UsageError(f"pooling must be one of {', '.join(POOLINGS)}")
    base = BASES.get(p["base"])
    if base is None:
        raise UsageError(f"unknown base encoder {p['base']!r} (known: {', '.join(BASES)})")
    examples = [e for path in data_paths for e in read_examples(path, fmt)]
    inputs = [e.input for e in examples] + list(unlabelled)
    marked = [mark_with_spans(x) for x in inputs]
    gold = torch.tensor([LABELS.index(e.label) for e in examples] + [-1] * len(unlabelled))
    teacher = teacher or {}
    soft_rows = [teacher.get(example_key(x)) for x in inputs]
    missing = sum(r is None for r in soft_rows[len(examples):])
    if missing:
        raise UsageError(f"the teacher has no probabilities for {missing} of {len(unlabelled)} unlabelled "
                         "inputs: run 'make teacher' again")
    has_soft = torch.tensor([r is not None for r in soft_rows])
    soft = torch.tensor([r if r is not None else [1 / len(LABELS)] * len(LABELS) for r in soft_rows], dtype=torch.float32)
    tokenizer, encoder = _load_encoder(base_model_dir(p["base"]))
    net = _network(torch, encoder, p["pooling"])
    if p["freeze"]:
        # The embeddings and the lowest layers keep their pretrained weights: no gradient flows below
        # the first trained layer, which saves about a third of a step for half the layers frozen.
        frozen = [encoder.embeddings, *encoder.encoder.layer[:p["freeze"]]]
        for module in frozen:
            for w in module.parameters():
                w.requires_grad_(False)

    lengths = [len(t) for t, _ in marked]
    per_epoch = math.ceil(len(marked) / p["batch"])
    steps = math.ceil(p["epochs"] * per_epoch)
    warm = int(p["warmup"] * steps)
    no_decay = ("bias", "LayerNorm.weight")
    trained = [(n, w) for n, w in net.named_parameters() if w.requires_grad]
    groups = [{"params": [w for n, w in trained if not any(k in n for k in no_decay)], "weight_decay": p["weight_decay"]},
              {"params": [w for n, w in trained if any(k in n for k in no_decay)], "weight_decay": 0.0}]
    optimiser = torch.optim.AdamW(groups, lr=p["lr"])
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    alpha, temp = (p["alpha"], p["temperature"]) if teacher else (1.0, 1.0)

    def loss_of(logits, idx):
        g, hs = gold[idx], has_soft[idx]
        loss = logits.new_zeros(())
        if (g >= 0).any():
            ce = torch.nn.functional.cross_entropy(logits[g >= 0], g[g >= 0], reduction="sum")
            loss = loss + (alpha if hs.any() or not teacher else 1.0) * ce
        if hs.any():
            target = torch.softmax(torch.log(soft[idx][hs].clamp(min=1e-6)) / temp, -1)
            kl = torch.nn.functional.kl_div(torch.log_softmax(logits[hs] / temp, -1), target, reduction="sum")
            loss = loss + (1 - alpha) * temp * temp * kl
        return loss / len(idx)

    shuffle = torch.Generator().manual_seed(p["seed"])
    started, step = time.perf_counter(), 0
    net.train()
    while step < steps:
        for idx in _batches(lengths, p["batch"], shuffle, torch, p["bucket"]):
            if step >= steps:
                break
            batch = _batch(torch, tokenizer, [marked[j] for j in idx], p["max_length"], p["pooling"])
            loss = loss_of(net(**batch), torch.tensor(idx))
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
    if teacher:
        h_t = hashlib.sha256(digest.encode())
        for x, r in zip(inputs, soft_rows):
            h_t.update(f"{example_key(x)}:{r}".encode())
        digest = h_t.hexdigest()
    h = hashlib.sha256(repr(sorted({**p, "format": fmt}.items())).encode() + base.sha256.encode())
    with open(__file__, "rb") as f:
        h.update(f.read())
    family = MODEL_FAMILY if p["base"] == "minilm" else f"{p['base']}-ft"
    meta = {"format_version": FORMAT_VERSION,
            "model_version": f"{family}-v{FORMAT_VERSION}-{digest[:8]}-{h.hexdigest()[:6]}",
            "training_data_hash": digest, "labels": list(LABELS), "max_length": p["max_length"],
            "pooling": p["pooling"], "base": f"{base.name} (PyPI {base.package})", "base_sha256": base.sha256,
            "params": p, "data_format": fmt, "examples": len(examples), "unlabelled": len(unlabelled),
            "teacher": teacher_version, "train_seconds": round(time.perf_counter() - started, 1),
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
