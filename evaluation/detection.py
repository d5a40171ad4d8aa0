"""Actor detection measured on real news: the whole pipeline over conflict-news dev, scored per area.

    .venv/bin/python -m evaluation.detection            # make eval-detection; writes reports/detection.md

Each article of ``dev/articles.jsonl`` goes through ``stance-pipeline run --actors <its preset>``
(one run per preset, on that preset's articles only), and the ``mentions/`` table is compared with
``dev/sentences.jsonl``, where every sentence has a gold label or ``absent`` for each actor of its
excerpt. A pipeline sentence matches a gold sentence of the same article when one contains the other
(whitespace runs compared as one space). Where one pipeline sentence holds several gold sentences, a
mention counts for the gold sentence that holds the mention itself.

Scored unit: gold sentence x actor of the excerpt. True positive: gold mentions the actor and the
pipeline found it there; false positive: gold ``absent`` and the pipeline found it; false negative:
gold mentions it and the pipeline did not. Actors of a preset that the excerpt's annotators did not
list (the US in a Syria excerpt about Aleppo) are not scored; the report counts them apart.

The report holds numbers only: the benchmark's sentences are evaluation data and are never written
into the project. ``--show-errors`` prints the misses and false hits to the terminal, for development.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARK = os.path.normpath(os.path.join(ROOT, "..", "shared", "benchmarks", "conflict-news", "dev"))
AREAS = {"syr": "Syria (Aleppo, Idlib)", "sne": "Syria (north-east)", "ukr": "Russia-Ukraine",
         "mea": "Israel, Hamas, Hezbollah, Iran", "afr": "Sudan and Ethiopia",
         "cas": "Armenia-Azerbaijan and India-Pakistan", "yml": "Yemen and Libya", "dmy": "DR Congo and Myanmar"}
PRECISION_TARGET, RECALL_TARGET, AREA_FLOOR = 0.97, 0.95, 0.90
_SPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def load_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_presets(articles: list[dict], model: str, workdir: str) -> list[dict]:
    """Runs the pipeline once per preset over that preset's articles; returns all mention rows."""
    import pyarrow.parquet as pq

    from pipeline.cli import main

    rows = []
    by_preset = collections.defaultdict(list)
    for a in articles:
        by_preset[a["preset"]].append(a)
    for preset, group in sorted(by_preset.items()):
        indir = os.path.join(workdir, "in", preset)
        os.makedirs(indir)
        with open(os.path.join(indir, "articles.jsonl"), "w", encoding="utf-8") as f:
            for a in group:
                record = {k: a.get(k) for k in ("id", "text", "title", "source", "published", "url")}
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        out = os.path.join(workdir, "out", preset)
        code = main(["-q", "run", "--input", indir, "--output", out, "--actors", preset, "--model", model])
        if code != 0:
            raise SystemExit(f"Error: the pipeline failed on preset {preset} (exit code {code})")
        rows += pq.read_table(os.path.join(out, "mentions")).to_pylist()
    return rows


def score(sentences: list[dict], rows: list[dict]) -> dict:
    """Counts per (doc, sentence, actor): see the module docstring for the rule."""
    gold_by_doc = collections.defaultdict(list)
    for s in sentences:
        gold_by_doc[s["doc"]].append(s)
    found = set()  # (doc, gold sentence i, actor)
    unmatched_rows = unscored_rows = 0
    for r in rows:
        golds = gold_by_doc.get(r["article_id"], [])
        sentence = _squash(r["sentence"])
        hits = [g for g in golds if _squash(g["text"]) in sentence or sentence in _squash(g["text"])]
        if not hits:
            unmatched_rows += 1
            continue
        if not any(r["actor"] in g["gold"] for g in hits):
            unscored_rows += 1
            continue
        if len(hits) == 1:
            found.add((r["article_id"], hits[0]["i"], r["actor"]))
            continue
        for start, end in zip(r["mention_starts"], r["mention_ends"]):
            # Several gold sentences inside this one: the mention counts where it lies.
            before = _squash(r["sentence"][:start]) + (" " if r["sentence"][:start][-1:].isspace() else "")
            pos = len(before)
            at = 0
            for g in hits:
                g_text = _squash(g["text"])
                at = sentence.find(g_text, at)
                if at <= pos < at + len(g_text):
                    found.add((r["article_id"], g["i"], r["actor"]))
                    break
                at += len(g_text)
    items = []
    for s in sentences:
        for actor, label in s["gold"].items():
            gold = label != "absent"
            got = (s["doc"], s["i"], actor) in found
            items.append({"doc": s["doc"], "i": s["i"], "actor": actor, "gold": gold, "found": got})
    return {"items": items, "unmatched_rows": unmatched_rows, "unscored_rows": unscored_rows}


def prf(items: list[dict]) -> dict:
    tp = sum(1 for x in items if x["gold"] and x["found"])
    fp = sum(1 for x in items if not x["gold"] and x["found"])
    fn = sum(1 for x in items if x["gold"] and not x["found"])
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0}


def report(result: dict, articles: list[dict]) -> tuple[str, dict]:
    items = result["items"]
    preset_of = {a["id"]: a["preset"] for a in articles}
    overall = prf(items)
    areas = {p: prf([x for x in items if x["doc"].split("-")[0] == p]) for p in AREAS}
    presets = {p: prf([x for x in items if preset_of[x["doc"]] == p]) for p in sorted(set(preset_of.values()))}
    actors = {a: prf([x for x in items if x["actor"] == a]) for a in sorted({x["actor"] for x in items})}
    worst = min(min(v["precision"], v["recall"]) for v in areas.values())
    met = overall["precision"] >= PRECISION_TARGET and overall["recall"] >= RECALL_TARGET and worst >= AREA_FLOOR

    def table(title, rows):
        out = [f"| {title} | sentence x actor pairs mentioned | found | precision | recall | TP | FP | FN |",
               "|---|---|---|---|---|---|---|---|"]
        for name, v in rows:
            out.append(f"| {name} | {v['tp'] + v['fn']} | {v['tp'] + v['fp']} | {v['precision']:.3f} | "
                       f"{v['recall']:.3f} | {v['tp']} | {v['fp']} | {v['fn']} |")
        return out

    lines = [
        "# Actor detection on conflict-news dev",
        "",
        "Generated by `make eval-detection` (`evaluation/detection.py`): the whole pipeline runs on each "
        "excerpt of `conflict-news/dev/articles.jsonl` with `--actors <its preset>`, and every gold "
        "sentence x actor of the excerpt is scored against `dev/sentences.jsonl` (see the module "
        "docstring for the matching rule). Numbers only: the benchmark's sentences are not quoted.",
        "",
        f"Overall: precision **{overall['precision']:.3f}**, recall **{overall['recall']:.3f}** "
        f"({len(articles)} excerpts, {len(items)} sentence x actor pairs, {overall['tp'] + overall['fn']} of "
        f"them mentions). Targets: precision >= {PRECISION_TARGET}, recall >= {RECALL_TARGET}, no area below "
        f"{AREA_FLOOR}: **{'met' if met else 'not met'}**.",
        "",
        "How far to trust it: these excerpts were used to find gaps. The presets were written from "
        "general knowledge of each conflict; the first measurement, before any change guided by the dev "
        "errors, was precision 0.991 and recall 0.962 (Sudan and Ethiopia 0.97/0.88, every other area "
        ">= 0.96 recall). The fixes since then were categories (modifier words such as \"Eritrean "
        "soldiers\", coordinated forms, other spellings of leaders' names, institutions), not the "
        "excerpts' sentences or alias lists, but the figures below are a development score, not a held-out one.",
        "",
        *table("area", [(f"{p} ({AREAS[p]})", v) for p, v in areas.items()] + [("**all**", overall)]),
        "",
        *table("preset", list(presets.items())),
        "",
        *table("actor", list(actors.items())),
        "",
        f"Mention rows not scored: {result['unscored_rows']} for preset actors the excerpt's annotators did "
        f"not list, {result['unmatched_rows']} in pipeline sentences that match no gold sentence.",
        "",
    ]
    summary = {"overall": overall, "areas": areas, "presets": presets, "actors": actors, "targets_met": met,
               "unscored_rows": result["unscored_rows"], "unmatched_rows": result["unmatched_rows"]}
    return "\n".join(lines), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default=BENCHMARK, help="conflict-news dev directory (default: %(default)s)")
    parser.add_argument("--model", default="models/stance.skops", help="stance model (default: %(default)s)")
    parser.add_argument("--report", default=os.path.join("reports", "detection.md"), help="default: %(default)s")
    parser.add_argument("--show-errors", action="store_true",
                        help="print each miss and false hit to the terminal (quotes the benchmark: not for reports)")
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    articles = load_jsonl(os.path.join(args.benchmark, "articles.jsonl"))
    sentences = load_jsonl(os.path.join(args.benchmark, "sentences.jsonl"))
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_presets(articles, args.model, tmp)
    result = score(sentences, rows)
    text, summary = report(result, articles)
    os.makedirs(os.path.dirname(args.report) or ".", exist_ok=True)
    with open(args.report, "w", encoding="utf-8") as f:
        f.write(text)
    o = summary["overall"]
    print(f"detection: precision {o['precision']:.3f}, recall {o['recall']:.3f}; "
          + ", ".join(f"{p} {v['precision']:.2f}/{v['recall']:.2f}" for p, v in summary["areas"].items())
          + f" -> {args.report}")
    if args.show_errors:
        text_of = {(s["doc"], s["i"]): s["text"] for s in sentences}
        found_rows = collections.defaultdict(list)
        for r in rows:
            found_rows[r["article_id"], r["actor"]].append(r)
        for x in result["items"]:
            if x["gold"] != x["found"]:
                kind = "MISS" if x["gold"] else "FALSE"
                aliases = sorted({al for r in found_rows[x["doc"], x["actor"]] for al in r["aliases"]})
                print(f"{kind} {x['doc']}#{x['i']} {x['actor']} (article aliases {aliases}): {text_of[x['doc'], x['i']]}",
                      file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
