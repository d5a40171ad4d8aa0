"""Score a fine-tuned model (train.py --out) on our test split and NewsMTSC devtest_mt, and time CPU inference.

  python eval.py --model model/ --out results.json
NewsMTSC is an outside yardstick only: it is read here for scoring, never for training or tuning.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

import stance_tf as S

# The repository root: this file is experiments/finetune_minilm/<name>.py.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def speed(model, tok, examples, threads: int, batch: int = 64, max_length: int = 96, n: int = 640) -> float:
    torch.set_num_threads(threads)
    ex = (examples * (n // len(examples) + 1))[:n]
    S.predict_proba(model, tok, ex[:batch], max_length, batch)  # warm-up
    t = time.perf_counter()
    S.predict_proba(model, tok, ex, max_length, batch)
    return n / (time.perf_counter() - t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="model")
    ap.add_argument("--test", default=os.path.join(_ROOT, "datasets", "stance", "test.jsonl"))
    ap.add_argument("--newsmtsc", default=os.path.join(_ROOT, "..", "shared", "benchmarks", "newsmtsc", "devtest_mt.jsonl"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="score only the first N examples of each set (smoke test)")
    ap.add_argument("--speed", action="store_true", help="also measure sentences/s at batch 64 with 1 and 2 threads")
    ap.add_argument("--out", default="")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    tok, model, meta = S.load(a.model)
    ml = meta["max_length"]
    res = {"model": a.model, "meta": meta}
    sets = {"ours_test": S.read_ours(a.test), "newsmtsc_devtest_mt": S.read_newsmtsc(a.newsmtsc)}
    for name, ex in sets.items():
        if not meta.get("mark_others", True):
            ex = [S.Example(e.id, e.doc_id, e.sentence, e.targets, (), e.label) for e in ex]
        if a.limit:
            ex = ex[: a.limit]
        t = time.perf_counter()
        pred = [S.LABELS[i] for i in S.predict_proba(model, tok, ex, ml, 64).argmax(1)]
        sc = S.scores([e.label for e in ex], pred)
        sc["seconds"] = time.perf_counter() - t
        res[name] = sc
        print(f"{name} (n={sc['n']}): macro-F1 {sc['macro_f1']:.4f} acc {sc['accuracy']:.4f} | "
              + " ".join(f"{l} F1 {sc['per_class'][l]['f1']:.3f}" for l in S.LABELS), flush=True)
        print("  confusion (rows gold, cols pred; favor/against/neutral):", sc["confusion_rows_gold_cols_pred"], flush=True)
    if a.speed:
        ex = sets["ours_test"]
        res["speed_sentences_per_s_batch64"] = {str(th): speed(model, tok, ex, th, 64, ml) for th in (1, 2)}
        print("inference sentences/s (batch 64):", res["speed_sentences_per_s_batch64"], flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
