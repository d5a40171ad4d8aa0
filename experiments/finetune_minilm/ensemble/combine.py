"""Probability averaging p = w*p_encoder + (1-w)*p_linear, label = argmax (LABELS order favor/against/neutral).
  cd /work/exp-transformer && ./venv/bin/python combine.py            -> probs/combine_results.json, stdout tables
w* is chosen ONLY on dev15 (held-out 15% of train, docs split seed 13) with the 85%-trained pair
(enc85 = cands/nocw, lin85 = linear model fitted on the other 85%). Rule fixed before looking: highest dev
macro-F1; ties (to 1e-9) -> larger w. Grids on test and NewsMTSC are reported only, never used for choosing.
"""
import json, os
import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

LABELS = ("favor", "against", "neutral")
P = "probs"
GRID = [round(0.1 * i, 1) for i in range(11)]
gold = json.load(open(f"{P}/gold.json"))
Y = {k: np.array([LABELS.index(l) for l in gold[k]]) for k in ("dev15", "test", "mt")}
GROUPS = {"test": np.arange(len(Y["test"])), "mt": np.array([i.split("#")[0] for i in gold["ids_mt"]])}


def load(name, split):
    ids = json.load(open(f"{P}/{name}_{split}.ids.json"))
    assert ids == gold[f"ids_{split}"], (name, split)
    return np.load(f"{P}/{name}_{split}.npy")


def have(name, split):
    return os.path.exists(f"{P}/{name}_{split}.npy")


def sc(split, p):
    pred = p.argmax(1)
    f = precision_recall_fscore_support(Y[split], pred, labels=[0, 1, 2], zero_division=0)[2]
    return {"macro_f1": float(f1_score(Y[split], pred, labels=[0, 1, 2], average="macro", zero_division=0)),
            "acc": float((pred == Y[split]).mean()), "f1": {l: float(f[i]) for i, l in enumerate(LABELS)}}


def mix(w, pe, pl):
    return w * pe + (1 - w) * pl


def boot_diff(split, pa, pb, n=2000, seed=0):
    """Paired bootstrap of macro-F1(a) - macro-F1(b); resampling examples (test) or sentences (NewsMTSC)."""
    rng = np.random.default_rng(seed)
    g = GROUPS[split]
    uniq, inv = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inv == k) for k in range(len(uniq))]
    a, b, y = pa.argmax(1), pb.argmax(1), Y[split]
    d = []
    for _ in range(n):
        idx = np.concatenate([members[k] for k in rng.integers(0, len(uniq), len(uniq))])
        d.append(f1_score(y[idx], a[idx], labels=[0, 1, 2], average="macro", zero_division=0)
                 - f1_score(y[idx], b[idx], labels=[0, 1, 2], average="macro", zero_division=0))
    d = np.array(d)
    return {"diff": float(sc(split, pa)["macro_f1"] - sc(split, pb)["macro_f1"]),
            "ci95": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))], "p_le_0": float((d <= 0).mean())}


out = {"grid": GRID}
# ---- task 1b: dev grid (85% pair), choose w*
e85, l85 = {s: load("enc85", s) for s in ("dev15", "test", "mt")}, {s: load("lin85", s) for s in ("dev15", "test", "mt")}
dev_grid = {w: sc("dev15", mix(w, e85["dev15"], l85["dev15"])) for w in GRID}
best = max(dev_grid[w]["macro_f1"] for w in GRID)
wstar = max(w for w in GRID if dev_grid[w]["macro_f1"] >= best - 1e-9)
out["dev_grid"] = {str(w): v for w, v in dev_grid.items()}
out["w_star"] = wstar
print("dev15 grid (85% pair):", " ".join(f"{w}:{dev_grid[w]['macro_f1']:.4f}" for w in GRID), "-> w* =", wstar)

# ---- task 1c: final pair and 85% pair at w* and full grid (report only)
ef, lf = {s: load("encfull_s42", s) for s in ("test", "mt")}, {s: load("linfull", s) for s in ("test", "mt")}
pairs = {"full": (ef, lf), "85": (e85, l85)}
out["report_grid"] = {}
for pname, (pe, pl) in pairs.items():
    for s in ("test", "mt"):
        g = {str(w): sc(s, mix(w, pe[s], pl[s])) for w in GRID}
        out["report_grid"][f"{pname}_{s}"] = g
        print(f"[not used for choosing] {pname} pair {s}:", " ".join(f"{w}:{g[str(w)]['macro_f1']:.4f}" for w in GRID))

models = {}
models["linear shipped (full train)"] = lf
models["encoder model/ (full, seed 42)"] = ef
models[f"avg full pair w*={wstar}"] = {s: mix(wstar, ef[s], lf[s]) for s in ("test", "mt")}
models["linear 85%"] = {s: l85[s] for s in ("test", "mt")}
models["encoder cands/nocw (85%)"] = {s: e85[s] for s in ("test", "mt")}
models[f"avg 85% pair w*={wstar}"] = {s: mix(wstar, e85[s], l85[s]) for s in ("test", "mt")}

# ---- task 2: seeds
seed_names = [n for n in ("encfull_s42", "encfull_s1", "encfull_s2") if have(n, "test") and have(n, "mt")]
out["seeds_available"] = seed_names
if len(seed_names) > 1:
    per = {n: {s: sc(s, load(n, s)) for s in ("test", "mt")} for n in seed_names}
    out["seed_scores"] = per
    for s in ("test", "mt"):
        v = np.array([per[n][s]["macro_f1"] for n in seed_names])
        out[f"seed_{s}_mean"], out[f"seed_{s}_std_ddof1"] = float(v.mean()), float(v.std(ddof=1))
        print(f"seeds {s}: " + " ".join(f"{n} {x:.4f}" for n, x in zip(seed_names, v))
              + f" | mean {v.mean():.4f} sd(ddof=1) {v.std(ddof=1):.4f}")
    for n in seed_names[1:]:
        models[f"encoder full, {n.split('_')[1]}"] = {s: load(n, s) for s in ("test", "mt")}
    avg = {s: np.mean([load(n, s) for n in seed_names], axis=0) for s in ("test", "mt")}
    models[f"encoder {len(seed_names)}-seed prob avg"] = avg
    models[f"{len(seed_names)}-seed avg + linear, w*={wstar}"] = {s: mix(wstar, avg[s], lf[s]) for s in ("test", "mt")}
    for s in ("test", "mt"):
        g = {str(w): sc(s, mix(w, avg[s], lf[s])) for w in GRID}
        out["report_grid"][f"seedavg_{s}"] = g
        print(f"[not used for choosing] seed-avg + linear {s}:", " ".join(f"{w}:{g[str(w)]['macro_f1']:.4f}" for w in GRID))

out["models"] = {}
print("\n| model | test macro-F1 | favor | against | neutral | NewsMTSC macro-F1 | favor | against | neutral |")
print("|---|---|---|---|---|---|---|---|---|")
for name, p in models.items():
    r = {s: sc(s, p[s]) for s in ("test", "mt")}
    out["models"][name] = r
    print(f"| {name} | {r['test']['macro_f1']:.4f} | " + " | ".join(f"{r['test']['f1'][l]:.3f}" for l in LABELS)
          + f" | {r['mt']['macro_f1']:.4f} | " + " | ".join(f"{r['mt']['f1'][l]:.3f}" for l in LABELS) + " |")

# paired bootstrap: each ensemble vs the full-train encoder model/ (seed 42)
out["bootstrap_vs_encoder_s42"] = {}
for name in [n for n in models if n.startswith("avg full") or "prob avg" in n or "avg + linear" in n]:
    out["bootstrap_vs_encoder_s42"][name] = {s: boot_diff(s, models[name][s], ef[s]) for s in ("test", "mt")}
    b = out["bootstrap_vs_encoder_s42"][name]
    print(f"bootstrap {name} - encoder s42: " + "; ".join(
        f"{s} {b[s]['diff']:+.4f} [{b[s]['ci95'][0]:+.4f}, {b[s]['ci95'][1]:+.4f}]" for s in ("test", "mt")))
json.dump(out, open(f"{P}/combine_results.json", "w"), indent=2)
