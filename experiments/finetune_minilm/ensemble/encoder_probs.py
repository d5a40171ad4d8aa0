"""Encoder probabilities (columns favor/against/neutral) saved under probs/<name>_<set>.npy (+ .ids.json).
  cd /work/exp-transformer && ./venv/bin/python encoder_probs.py --model cands/nocw --name enc85 --sets dev15 test mt
  ./venv/bin/python encoder_probs.py --model model --name encfull_s42 --sets test mt
dev15 = held-out 15% of train from split_by_doc(frac 0.15, seed 13), the split train.py used for cands/.
NewsMTSC (mt) is scored only.
"""
import argparse, json, time
import numpy as np
import torch
import stance_tf as S

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--name", required=True)
ap.add_argument("--sets", nargs="+", default=["test", "mt"])
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)
tok, model, meta = S.load(a.model)
sets = {}
if "dev15" in a.sets:
    sets["dev15"] = S.split_by_doc(S.read_ours("/work/main/datasets/stance/train.jsonl"), 0.15, 13)[1]
if "test" in a.sets:
    sets["test"] = S.read_ours("/work/main/datasets/stance/test.jsonl")
if "mt" in a.sets:
    sets["mt"] = S.read_newsmtsc("/work/shared/benchmarks/newsmtsc/devtest_mt.jsonl")
gold = json.load(open("probs/gold.json"))
for name, ex in sets.items():
    assert [e.id for e in ex] == gold[f"ids_{name}"], f"id order mismatch on {name}"
    assert [e.label for e in ex] == gold[name], f"label mismatch on {name}"
    t = time.perf_counter()
    p = S.predict_proba(model, tok, ex, meta["max_length"], 64)
    np.save(f"probs/{a.name}_{name}.npy", p.astype(np.float64))
    json.dump([e.id for e in ex], open(f"probs/{a.name}_{name}.ids.json", "w"))
    sc = S.scores(gold[name], [S.LABELS[i] for i in p.argmax(1)])
    print(f"{a.name} {name} n={len(ex)} macro-F1 {sc['macro_f1']:.4f} ({time.perf_counter() - t:.0f} s)", flush=True)
