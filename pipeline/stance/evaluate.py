"""Scores the stance model and baselines; writes ``reports/eval.md`` and ``reports/eval.json``.

    stance-pipeline eval        (make eval)

On our held-out split, and when NewsMTSC is present (``../shared/benchmarks/newsmtsc``) on its
multi-target ``devtest_mt.jsonl``: (a) the shipped model, trained only on our data; (b) the same
training code fitted on NewsMTSC's ``train.jsonl``. Baselines: majority class, VADER on the sentence
and VADER over the target's window, their thresholds tuned on the corresponding training data.
The reports quote NewsMTSC sentences, so they are generated, not committed.
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
from pipeline.stance.model import LABELS, StanceModel, load_model
from pipeline.stance.train import DEFAULT_PARAMS, fit

TARGETS = {"newsmtsc_ours": 0.58, "newsmtsc_margin_over_vader": 0.08, "newsmtsc_trained": 0.62, "ours_test": 0.80}


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

def score_model(model: StanceModel, test: Sequence[Example]) -> dict:
    proba = model.predict_proba([e.input for e in test])
    pred = [LABELS[i] for i in proba.argmax(axis=1)]
    return {**scores([e.label for e in test], pred), **calibration([e.label for e in test], proba), "pred": pred}


def evaluate(model_path: str, train_path: str, test_path: str, newsmtsc_dir: str | None, reports: str) -> dict:
    model = load_model(model_path)
    train, test = read_examples(train_path), read_examples(test_path)
    result: dict = {"model_version": model.model_version, "training_data_hash": model.training_data_hash,
                    "targets": TARGETS, "ours": {"n_train": len(train), "n_test": len(test)}}
    ours = score_model(model, test)
    ours.pop("pred")
    result["ours"].update({"model": ours, "baselines": baselines(train, test)})

    mt_dev = os.path.join(newsmtsc_dir or "", "devtest_mt.jsonl")
    mt_train = os.path.join(newsmtsc_dir or "", "train.jsonl")
    errors = []
    if newsmtsc_dir and os.path.exists(mt_dev) and os.path.exists(mt_train):
        dev, mtrain = read_examples(mt_dev, "newsmtsc"), read_examples(mt_train, "newsmtsc")
        a = score_model(model, dev)
        errors = [(e, p) for e, p in zip(dev, a.pop("pred")) if p != e.label]
        base = baselines(mtrain, dev)
        b = None
        # (b) is about the default model's training code; fine-tuning the optional encoder on NewsMTSC
        # would take about half an hour and is not part of any target.
        if isinstance(model, StanceModel):
            started = time.perf_counter()
            b_model = fit([mt_train], "newsmtsc", **DEFAULT_PARAMS)
            b = score_model(b_model, dev)
            b.pop("pred")
            b["train_seconds"] = time.perf_counter() - started
        result["newsmtsc"] = {"n_dev": len(dev), "n_train": len(mtrain), "model_ours": a,
                              "model_newsmtsc_trained": b, "baselines": base}
    else:
        result["newsmtsc"] = None

    result["checks"] = _checks(result)
    result["summary"] = _summary(result)
    os.makedirs(reports, exist_ok=True)
    with open(os.path.join(reports, "eval.json"), "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in result.items() if k != "summary"}, f, indent=2)
    with open(os.path.join(reports, "eval.md"), "w", encoding="utf-8") as f:
        f.write(_markdown(result, errors))
    return result


def _checks(r: dict) -> dict:
    checks = {"ours_test": r["ours"]["model"]["macro_f1"] >= TARGETS["ours_test"]}
    if r["newsmtsc"]:
        n = r["newsmtsc"]
        best_vader = max(n["baselines"]["vader_sentence"]["macro_f1"], n["baselines"]["vader_window"]["macro_f1"])
        checks["newsmtsc_ours"] = n["model_ours"]["macro_f1"] >= TARGETS["newsmtsc_ours"]
        checks["newsmtsc_margin_over_vader"] = n["model_ours"]["macro_f1"] - best_vader >= TARGETS["newsmtsc_margin_over_vader"]
        if n["model_newsmtsc_trained"]:
            checks["newsmtsc_trained"] = n["model_newsmtsc_trained"]["macro_f1"] >= TARGETS["newsmtsc_trained"]
    return checks


def _summary(r: dict) -> str:
    lines = [f"model {r['model_version']}",
             f"ours test (n={r['ours']['n_test']}): macro-F1 {r['ours']['model']['macro_f1']:.3f} "
             f"(target {TARGETS['ours_test']}); VADER sentence {r['ours']['baselines']['vader_sentence']['macro_f1']:.3f}"]
    if r["newsmtsc"]:
        n = r["newsmtsc"]
        trained = (f"trained on NewsMTSC {n['model_newsmtsc_trained']['macro_f1']:.3f} (target {TARGETS['newsmtsc_trained']})"
                   if n["model_newsmtsc_trained"] else "trained on NewsMTSC: not run for this model")
        lines.append(f"NewsMTSC devtest_mt (n={n['n_dev']}): ours {n['model_ours']['macro_f1']:.3f} "
                     f"(target {TARGETS['newsmtsc_ours']}), {trained}, VADER sentence {n['baselines']['vader_sentence']['macro_f1']:.3f}, "
                     f"VADER window {n['baselines']['vader_window']['macro_f1']:.3f}")
    else:
        lines.append("NewsMTSC not found: skipped")
    lines.append("checks: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in r["checks"].items()))
    return "\n".join(lines)


def _table(name: str, s: dict) -> list[str]:
    out = [f"**{name}**: macro-F1 {s['macro_f1']:.3f}, accuracy {s['accuracy']:.3f}, n={s['n']}"
           + (f", ECE {s['ece']:.3f}, Brier {s['brier']:.3f}" if "ece" in s else ""), "",
           "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for lab in LABELS:
        c = s["per_class"][lab]
        out.append(f"| {lab} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
    out += ["", "Confusion (rows gold, columns predicted: " + ", ".join(LABELS) + "):", "", "```"]
    out += [f"{lab:>8} " + " ".join(f"{v:>5}" for v in row) for lab, row in zip(LABELS, s["confusion"])]
    out += ["```", ""]
    return out


def _markdown(r: dict, errors: list) -> str:
    md = ["# Stance model evaluation", "", "Generated by `make eval` (`stance-pipeline eval`); do not edit.", "",
          f"Model `{r['model_version']}`, training data sha256 `{r['training_data_hash'][:16]}…`", "",
          "## Targets", "", "```", r["summary"], "```", "",
          f"## Our held-out test split (n={r['ours']['n_test']}, trained on n={r['ours']['n_train']})", ""]
    md += _table("model", r["ours"]["model"])
    for name, s in r["ours"]["baselines"].items():
        md += _table(f"baseline {name}" + (f" {s.get('thresholds')}" if "thresholds" in s else ""), s)
    if r["newsmtsc"]:
        n = r["newsmtsc"]
        md += [f"## NewsMTSC devtest_mt (n={n['n_dev']} targets)", ""]
        md += _table("(a) this model, trained only on our data", n["model_ours"])
        if n["model_newsmtsc_trained"]:
            md += _table(f"(b) same code trained on NewsMTSC train.jsonl (n={n['n_train']}, "
                         f"{n['model_newsmtsc_trained']['train_seconds']:.0f} s)", n["model_newsmtsc_trained"])
        else:
            md += ["(b) not run: target (b) is about the default model's training code, and fine-tuning "
                   "this encoder on NewsMTSC's train.jsonl would take about half an hour.", ""]
        for name, s in n["baselines"].items():
            md += _table(f"baseline {name}" + (f" {s.get('thresholds')}" if "thresholds" in s else ""), s)
        md += ["## Misclassified NewsMTSC sentences (first 30)", "",
               "What cue the model missed in each and what would fix it: `docs/error_analysis.md`.", "",
               "| gold | predicted | target | sentence |", "|---|---|---|---|"]
        for e, p in errors[:30]:
            s, t = e.input.text, e.input.targets[0]
            shown = (s[:t[0]] + "**" + s[t[0]:t[1]] + "**" + s[t[1]:]).replace("|", "\\|")
            md.append(f"| {e.label} | {p} | {e.actor} | {shown} |")
        md.append("")
    else:
        md += ["## NewsMTSC", "", "Not found (`../shared/benchmarks/newsmtsc`): skipped.", ""]
    return "\n".join(md)
