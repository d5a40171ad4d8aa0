"""Scores stance models and baselines; writes ``reports/eval.md`` and ``reports/eval.json``.

    stance-pipeline eval --model models/stance-onnx --model models/stance.skops        (make eval)

Every model on three yardsticks, each with per-class precision, recall and F1, the confusion matrix
and calibration (expected calibration error of the top label, Brier score):
- our held-out test split (team-written, ``datasets/stance/test.jsonl``);
- conflict-news dev (``../shared/benchmarks/conflict-news/dev/mentions.jsonl``): real news in eight
  conflict areas under our guideline, overall and per area;
- NewsMTSC ``devtest_mt.jsonl`` (real news, sentiment toward a person: other conventions).
Baselines: majority class, VADER on the sentence and over the target's window, thresholds tuned on
the corresponding training data (ours for conflict-news). The first model is the one the targets
(``TARGETS``) are checked on. The reports quote real news, so they are generated, not committed.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from typing import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from pipeline.sentiment import analyzer
from pipeline.stance.data import Example, read_examples
from pipeline.stance.features import TARGET_TOKEN, OTHER_TOKEN, mask, words
from pipeline.stance.inputs import StanceInput
from pipeline.stance.model import LABELS, load_model

# Issue 14's floors, for the model `make run` uses.
TARGETS = {"conflict_news_macro_f1": 0.70, "conflict_news_favor_f1": 0.60, "newsmtsc_macro_f1": 0.65,
           "ours_test_macro_f1": 0.75, "ours_test_ece": 0.05}


def scores(gold: Sequence[str], pred: Sequence[str]) -> dict:
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    return {"macro_f1": float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)),
            "accuracy": float(np.mean([g == q for g, q in zip(gold, pred)])),
            "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                          for i, lab in enumerate(LABELS)},
            "confusion": confusion_matrix(gold, pred, labels=list(LABELS)).tolist(), "n": len(gold)}


def calibration(gold: Sequence[str], proba: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error of the top label, and the multi-class Brier score."""
    y = np.array([LABELS.index(g) for g in gold])
    conf, pred = proba.max(axis=1), proba.argmax(axis=1)
    ece = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        sel = (conf > lo) & (conf <= lo + 1 / bins)
        if sel.any():
            ece += sel.mean() * abs((pred[sel] == y[sel]).mean() - conf[sel].mean())
    onehot = np.eye(len(LABELS))[y]
    return {"ece": float(ece), "brier": float(((proba - onehot) ** 2).sum(axis=1).mean())}


# ---- baselines -----------------------------------------------------------------------------------

def vader_sentence(e: Example) -> float:
    return analyzer().polarity_scores(e.input.text)["compound"]


def vader_window(e: Example, width: int = 6) -> float:
    toks = words(mask(e.input))
    pos = [i for i, t in enumerate(toks) if t == TARGET_TOKEN] or [0]
    window = toks[max(0, pos[0] - width):pos[-1] + width + 1]
    text = " ".join(t for t in window if t not in (TARGET_TOKEN, OTHER_TOKEN))
    return analyzer().polarity_scores(text)["compound"] if text else 0.0


def threshold_labels(values: Sequence[float], lo: float, hi: float) -> list[str]:
    return ["favor" if v >= hi else "against" if v <= -lo else "neutral" for v in values]


def tune_thresholds(values: Sequence[float], gold: Sequence[str]) -> tuple[float, float]:
    grid = np.round(np.arange(0.0, 0.95, 0.05), 2)
    best = max(itertools.product(grid, grid),
               key=lambda t: f1_score(gold, threshold_labels(values, *t), labels=list(LABELS), average="macro"))
    return float(best[0]), float(best[1])


def baselines(tune: Sequence[Example], test: Sequence[Example]) -> dict:
    gold = [e.label for e in test]
    majority = max(LABELS, key=[e.label for e in tune].count)
    out = {"majority": {**scores(gold, [majority] * len(test)), "label": majority}}
    for name, fn in (("vader_sentence", vader_sentence), ("vader_window", vader_window)):
        lo, hi = tune_thresholds([fn(e) for e in tune], [e.label for e in tune])
        out[name] = {**scores(gold, threshold_labels([fn(e) for e in test], lo, hi)),
                     "thresholds": {"against_at_or_below": -lo, "favor_at_or_above": hi}}
    return out


# ---- evaluation ------------------------------------------------------------------------------------

def score_model(model, test: Sequence[Example]) -> dict:
    started = time.perf_counter()
    proba = model.predict_proba([e.input for e in test])
    seconds = time.perf_counter() - started
    pred = [LABELS[i] for i in proba.argmax(axis=1)]
    return {**scores([e.label for e in test], pred), **calibration([e.label for e in test], proba), "pred": pred,
            "mentions_per_second": len(test) / max(seconds, 1e-9)}


def read_conflict_news(directory: str) -> tuple[list[Example], list[str]]:
    """conflict-news dev mentions as examples, and each one's area (the excerpt id's prefix, named by
    the conflicts' presets, e.g. ``afr (ethiopia, sudan)``)."""
    presets: dict[str, set] = {}
    with open(os.path.join(directory, "articles.jsonl"), encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            presets.setdefault(a["id"].split("-")[0], set()).add(a["preset"])
    examples, areas = [], []
    with open(os.path.join(directory, "mentions.jsonl"), encoding="utf-8") as f:
        for line in f:
            m = json.loads(line)
            x = StanceInput(m["text"], tuple(map(tuple, m["targets"])), tuple(map(tuple, m["others"])))
            examples.append(Example(m["id"], m["doc"], x, m["label"], m["actor"], m["actor_kind"]))
            prefix = m["doc"].split("-")[0]
            areas.append(f"{prefix} ({', '.join(sorted(presets.get(prefix, ())))})")
    return examples, areas


def _without_pred(s: dict) -> dict:
    return {k: v for k, v in s.items() if k != "pred"}


def evaluate(model_paths: Sequence[str], train_path: str, test_path: str, newsmtsc_dir: str | None,
             conflict_news_dir: str | None, reports: str) -> dict:
    train, test = read_examples(train_path), read_examples(test_path)
    cn_dev = os.path.join(conflict_news_dir or "", "dev")
    cn = read_conflict_news(cn_dev) if conflict_news_dir and os.path.exists(os.path.join(cn_dev, "mentions.jsonl")) else None
    mt_dev, mt_train = (os.path.join(newsmtsc_dir or "", n) for n in ("devtest_mt.jsonl", "train.jsonl"))
    mt = ((read_examples(mt_dev, "newsmtsc"), read_examples(mt_train, "newsmtsc"))
          if newsmtsc_dir and os.path.exists(mt_dev) and os.path.exists(mt_train) else None)
    result: dict = {"targets": TARGETS, "n": {"train": len(train), "test": len(test),
                                              "conflict_news": len(cn[0]) if cn else None,
                                              "newsmtsc": len(mt[0]) if mt else None},
                    "baselines": {"ours": baselines(train, test),
                                  "conflict_news": baselines(train, cn[0]) if cn else None,
                                  "newsmtsc": baselines(mt[1], mt[0]) if mt else None},
                    "models": []}
    errors = []
    for path in model_paths:
        model = load_model(path, threads=os.cpu_count())
        r = {"path": path, "model_version": model.model_version, "training_data_hash": model.training_data_hash,
             "ours": _without_pred(score_model(model, test))}
        if cn:
            examples, areas = cn
            s = score_model(model, examples)
            if not errors:
                errors = [(e, p) for e, p in zip(examples, s["pred"]) if p != e.label]
            by_area = {}
            for area in sorted(set(areas)):
                idx = [i for i, a in enumerate(areas) if a == area]
                by_area[area] = _without_pred({**scores([examples[i].label for i in idx], [s["pred"][i] for i in idx])})
            r["conflict_news"] = {**_without_pred(s), "areas": by_area}
        if mt:
            r["newsmtsc"] = _without_pred(score_model(model, mt[0]))
        result["models"].append(r)

    result["checks"] = _checks(result["models"][0])
    result["summary"] = _summary(result)
    os.makedirs(reports, exist_ok=True)
    with open(os.path.join(reports, "eval.json"), "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in result.items() if k != "summary"}, f, indent=2)
    with open(os.path.join(reports, "eval.md"), "w", encoding="utf-8") as f:
        f.write(_markdown(result, errors))
    return result


def _checks(m: dict) -> dict:
    checks = {"ours_test_macro_f1": m["ours"]["macro_f1"] >= TARGETS["ours_test_macro_f1"],
              "ours_test_ece": m["ours"]["ece"] <= TARGETS["ours_test_ece"]}
    if "conflict_news" in m:
        checks["conflict_news_macro_f1"] = m["conflict_news"]["macro_f1"] >= TARGETS["conflict_news_macro_f1"]
        checks["conflict_news_favor_f1"] = (m["conflict_news"]["per_class"]["favor"]["f1"]
                                            >= TARGETS["conflict_news_favor_f1"])
    if "newsmtsc" in m:
        checks["newsmtsc_macro_f1"] = m["newsmtsc"]["macro_f1"] >= TARGETS["newsmtsc_macro_f1"]
    return checks


def _summary(r: dict) -> str:
    lines = []
    for m in r["models"]:
        parts = [f"ours test {m['ours']['macro_f1']:.3f} (ECE {m['ours']['ece']:.3f})"]
        if "conflict_news" in m:
            c = m["conflict_news"]
            parts.append(f"conflict-news dev {c['macro_f1']:.3f} (favor F1 {c['per_class']['favor']['f1']:.3f})")
        if "newsmtsc" in m:
            parts.append(f"NewsMTSC devtest_mt {m['newsmtsc']['macro_f1']:.3f}")
        lines.append(f"{m['model_version']}: " + ", ".join(parts))
    b = r["baselines"]
    vader = [f"ours {b['ours']['vader_sentence']['macro_f1']:.3f}"]
    if b["conflict_news"]:
        vader.append(f"conflict-news {b['conflict_news']['vader_sentence']['macro_f1']:.3f}")
    if b["newsmtsc"]:
        vader.append(f"NewsMTSC {b['newsmtsc']['vader_sentence']['macro_f1']:.3f}")
    lines.append("VADER on the sentence: " + ", ".join(vader))
    if not b["conflict_news"]:
        lines.append("conflict-news not found (../shared/benchmarks/conflict-news): skipped")
    if not b["newsmtsc"]:
        lines.append("NewsMTSC not found (../shared/benchmarks/newsmtsc): skipped")
    lines.append(f"checks ({r['models'][0]['model_version']}): "
                 + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in r["checks"].items()))
    return "\n".join(lines)


def _table(name: str, s: dict) -> list[str]:
    out = [f"**{name}**: macro-F1 {s['macro_f1']:.3f}, accuracy {s['accuracy']:.3f}, n={s['n']}"
           + (f", ECE {s['ece']:.3f}, Brier {s['brier']:.3f}" if "ece" in s else "")
           + (f", {s['mentions_per_second']:.0f} mentions/s" if "mentions_per_second" in s else ""), "",
           "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for lab in LABELS:
        c = s["per_class"][lab]
        out.append(f"| {lab} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
    out += ["", "Confusion (rows gold, columns predicted: " + ", ".join(LABELS) + "):", "", "```"]
    out += [f"{lab:>8} " + " ".join(f"{v:>5}" for v in row) for lab, row in zip(LABELS, s["confusion"])]
    out += ["```", ""]
    return out


def _baseline_tables(b: dict) -> list[str]:
    md = []
    for name, s in b.items():
        md += _table(f"baseline {name}" + (f" {s.get('thresholds')}" if "thresholds" in s else ""), s)
    return md


def _markdown(r: dict, errors: list) -> str:
    n = r["n"]
    md = ["# Stance model evaluation", "", "Generated by `make eval` (`stance-pipeline eval`); do not edit. "
          "It quotes real news: keep it out of the repository.", "",
          "## Summary", "", "```", r["summary"], "```", "",
          "Targets for the first model: " + ", ".join(f"{k} {v}" for k, v in TARGETS.items()), ""]
    for m in r["models"]:
        md += [f"## Model `{m['model_version']}` ({m['path']})", "",
               f"Training data sha256 `{m['training_data_hash'][:16]}…`", "",
               f"### Our held-out test split (n={n['test']}, trained on n={n['train']})", ""]
        md += _table("model", m["ours"])
        if "conflict_news" in m:
            c = m["conflict_news"]
            md += [f"### conflict-news dev (n={n['conflict_news']}, real news, eight areas)", ""]
            md += _table("all areas", c)
            md += ["| area | n | macro-F1 | favor F1 | against F1 | neutral F1 |", "|---|---|---|---|---|---|"]
            for area, s in c["areas"].items():
                md.append(f"| {area} | {s['n']} | {s['macro_f1']:.3f} | "
                          + " | ".join(f"{s['per_class'][lab]['f1']:.3f}" for lab in LABELS) + " |")
            md.append("")
        if "newsmtsc" in m:
            md += [f"### NewsMTSC devtest_mt (n={n['newsmtsc']} targets)", ""]
            md += _table("model", m["newsmtsc"])
    md += ["## Baselines", "", f"### Our test split", ""] + _baseline_tables(r["baselines"]["ours"])
    if r["baselines"]["conflict_news"]:
        md += ["### conflict-news dev (thresholds tuned on our training split)", ""]
        md += _baseline_tables(r["baselines"]["conflict_news"])
    if r["baselines"]["newsmtsc"]:
        md += ["### NewsMTSC devtest_mt (thresholds tuned on its train.jsonl)", ""]
        md += _baseline_tables(r["baselines"]["newsmtsc"])
    if errors:
        md += [f"## conflict-news dev mistakes of the first model ({len(errors)}; first 40)", "",
               "The cue each missed, paraphrased: `docs/error_analysis.md`.", "",
               "| id | gold | predicted | target | sentence |", "|---|---|---|---|---|"]
        for e, p in errors[:40]:
            s, t = e.input.text, e.input.targets[0]
            shown = (s[:t[0]] + "**" + s[t[0]:t[1]] + "**" + s[t[1]:]).replace("|", "\\|")
            md.append(f"| {e.id} | {e.label} | {p} | {e.actor} | {shown} |")
        md.append("")
    return "\n".join(md)
