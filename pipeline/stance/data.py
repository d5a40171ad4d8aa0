"""Labelled stance examples: the team's JSON Lines format and NewsMTSC's.

Ours (``datasets/stance/*.jsonl``, see GUIDELINES.md): one line per sentence x target with ``targets``
as character spans. Other targets of the same sentence (same ``doc_id`` and text) become the
``others`` of each example, masked as ``OTH`` by the features.

NewsMTSC (``--format newsmtsc``): one line per sentence with several targets; polarity 2/4/6 maps to
against/neutral/favor, and every other target of the sentence (with its further mentions) is an
``other``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from typing import Iterable

from pipeline.errors import UsageError
from pipeline.stance.features import StanceInput

FORMATS = ("jsonl", "newsmtsc")
_NEWSMTSC_LABELS = {2.0: "against", 4.0: "neutral", 6.0: "favor"}


@dataclasses.dataclass(frozen=True)
class Example:
    id: str
    doc_id: str
    input: StanceInput
    label: str
    actor: str = ""
    actor_kind: str = ""


def read_examples(path: str, fmt: str = "jsonl") -> list[Example]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown data format {fmt!r} (allowed: {', '.join(FORMATS)})")
    try:
        with open(path, encoding="utf-8") as f:
            lines = [(n, line) for n, line in enumerate(f, 1) if line.strip()]
    except OSError as exc:
        raise UsageError(f"cannot read training data {path}: {exc.strerror}") from None
    records = []
    for n, line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {n}: invalid JSON ({exc.msg})") from None
    return _from_newsmtsc(records, path) if fmt == "newsmtsc" else _from_ours(records, path)


def _from_ours(records: list[dict], path: str) -> list[Example]:
    by_sentence: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for r in records:
        by_sentence.setdefault((r["doc_id"], r["sentence"]), []).extend(tuple(s) for s in r["targets"])
    examples = []
    for n, r in enumerate(records, 1):
        try:
            targets = tuple(tuple(s) for s in r["targets"])
            others = tuple(s for s in by_sentence[(r["doc_id"], r["sentence"])] if s not in targets)
            if r["label"] not in ("favor", "against", "neutral"):
                raise ValueError(f"label {r['label']!r}")
            examples.append(Example(r["id"], r["doc_id"], StanceInput(r["sentence"], targets, others),
                                    r["label"], r.get("actor", ""), r.get("actor_kind", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{path}: example {n}: bad or missing field {exc}") from None
    return examples


def read_unlabelled(path: str) -> list[StanceInput]:
    """Inputs without labels (``datasets/stance/unlabelled.jsonl``: our format less ``label``), for a
    student to learn from its teacher. Other targets of the same sentence become ``others``."""
    try:
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    except OSError as exc:
        raise UsageError(f"cannot read unlabelled data {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: invalid JSON ({exc.msg})") from None
    return [e.input for e in _from_ours([{**r, "label": r.get("label", "neutral")} for r in records], path)]


def _from_newsmtsc(records: list[dict], path: str) -> list[Example]:
    examples = []
    for n, r in enumerate(records, 1):
        try:
            text = r["sentence_normalized"]
            spans = []
            for t in r["targets"]:
                mentions = [(t["from"], t["to"])] + [(m["from"], m["to"]) for m in t.get("further_mentions", [])]
                spans.append(tuple(mentions))
            for i, t in enumerate(r["targets"]):
                others = tuple(s for j, group in enumerate(spans) if j != i for s in group)
                examples.append(Example(f"{r.get('primary_gid', n)}#{i}", str(r.get("primary_gid", n)),
                                        StanceInput(text, spans[i], others), _NEWSMTSC_LABELS[t["polarity"]],
                                        t.get("mention", "")))
        except (KeyError, TypeError) as exc:
            raise UsageError(f"{path}: line {n}: not NewsMTSC format (missing {exc})") from None
    return examples


def data_hash(paths: Iterable[str]) -> str:
    """SHA-256 over the training files' bytes, in the order given."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
