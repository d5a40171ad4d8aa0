"""Task 1a (linear side). Run with the PROJECT venv, cwd /work/main:
  cd /work/main && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
     .venv/bin/python /work/exp-transformer/linear_probs.py
- reproduces the 85/15 doc split of train.py (split_by_doc, frac 0.15, seed 13) without importing torch
- writes the 85% records to /work/exp-transformer/data/train85.jsonl and fits the linear model on it
  with pipeline.stance.train.fit (DEFAULT_PARAMS, same as `make train`)
- sanity: refits on all of train and checks it reproduces models/stance.skops
- saves probabilities (columns favor/against/neutral = LABELS) under /work/exp-transformer/probs/
NewsMTSC is only scored (probabilities saved), never used for fitting.
"""
import hashlib, json, os, random, sys, time
import numpy as np

sys.path.insert(0, "/work/main")
from pipeline.stance.data import read_examples
from pipeline.stance.model import LABELS, load_model
from pipeline.stance.train import DEFAULT_DATA, DEFAULT_PARAMS, fit

EXP = "/work/exp-transformer"
P = f"{EXP}/probs"
TRAIN, TEST = "datasets/stance/train.jsonl", "datasets/stance/test.jsonl"
MT = "/work/shared/benchmarks/newsmtsc/devtest_mt.jsonl"


def split_docs(doc_ids, frac=0.15, seed=13):  # identical to stance_tf.split_by_doc
    docs = sorted(set(doc_ids))
    rng = random.Random(seed)
    rng.shuffle(docs)
    return set(docs[: max(1, int(round(frac * len(docs))))])


def save(name, ids, proba):
    np.save(f"{P}/{name}.npy", np.asarray(proba, dtype=np.float64))
    with open(f"{P}/{name}.ids.json", "w") as f:
        json.dump(ids, f)


def main():
    info = {"pipeline_files_sha256": {}}
    for fn in sorted(os.listdir("pipeline/stance")):
        if fn.endswith(".py"):
            info["pipeline_files_sha256"][fn] = hashlib.sha256(open(f"pipeline/stance/{fn}", "rb").read()).hexdigest()
    recs = [json.loads(l) for l in open(TRAIN, encoding="utf-8") if l.strip()]
    held = split_docs([r["doc_id"] for r in recs])
    tr85 = [r for r in recs if r["doc_id"] not in held]
    with open(f"{EXP}/data/train85.jsonl", "w", encoding="utf-8") as f:
        for r in tr85:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    train_all = read_examples(TRAIN)
    dev = [e for e in train_all if e.doc_id in held]
    test = read_examples(TEST)
    mt = read_examples(MT, "newsmtsc")
    info.update(n_train85=len(tr85), n_dev15=len(dev), n_dev_docs=len(held), n_test=len(test), n_mt=len(mt))
    print(info, flush=True)
    with open(f"{P}/gold.json", "w") as f:
        json.dump({"dev15": [e.label for e in dev], "test": [e.label for e in test], "mt": [e.label for e in mt],
                   "ids_dev15": [e.id for e in dev], "ids_test": [e.id for e in test], "ids_mt": [e.id for e in mt]}, f)

    t = time.perf_counter()
    lin85 = fit([f"{EXP}/data/train85.jsonl"], "jsonl", **DEFAULT_PARAMS)
    info["lin85_fit_s"] = time.perf_counter() - t
    info["lin85_version"] = lin85.model_version
    for name, ex in (("dev15", dev), ("test", test), ("mt", mt)):
        save(f"lin85_{name}", [e.id for e in ex], lin85.predict_proba([e.input for e in ex]))

    shipped = load_model("models/stance.skops")
    info["shipped_version"] = shipped.model_version
    for name, ex in (("test", test), ("mt", mt)):
        save(f"linfull_{name}", [e.id for e in ex], shipped.predict_proba([e.input for e in ex]))

    # sanity: project training code on all of train reproduces the shipped model?
    t = time.perf_counter()
    refit = fit(list(DEFAULT_DATA), "jsonl", **DEFAULT_PARAMS)
    info["refit_full_s"] = time.perf_counter() - t
    info["refit_version"] = refit.model_version
    info["refit_equals_shipped_version"] = refit.model_version == shipped.model_version
    info["refit_vs_shipped_max_abs_proba_diff_test"] = float(np.abs(
        refit.predict_proba([e.input for e in test]) - np.load(f"{P}/linfull_test.npy")).max())
    print(info, flush=True)
    with open(f"{P}/linear_info.json", "w") as f:
        json.dump(info, f, indent=2)


if __name__ == "__main__":
    main()
