"""Builds datasets/stance/{train,calibration,test}.jsonl from the writers' files in
datasets/stance/parts/, and unlabelled.jsonl from datasets/stance/unlabelled/.

    python datasets/stance/build.py

Mentions (strings) become character spans; sentences are NFC-normalized; the split is by document
(a stable hash of doc_id, about 20 % test), and documents that share a near-duplicate sentence are
kept in the same split, so no near-duplicate crosses splits. Labels then pass the second annotator's
adjudication (agreement/) and the conventions audit (audit/). Deterministic.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_SHARE = 0.2
# Held out of train for the served model's calibration (one temperature, pipeline/stance/export.py):
# no model trains on it.
CALIBRATION_SHARE = 0.07
NEAR_DUPLICATE = 0.8  # Jaccard over word trigrams and words


def spans_of(sentence: str, mentions: list[str]) -> list[list[int]]:
    spans = set()
    for m in mentions:
        for hit in re.finditer(r"(?<!\w)" + re.escape(m) + r"(?!\w)", sentence):
            spans.add(hit.span())
    # Drop spans inside longer spans of the same target ("Assad" inside "Bashar al-Assad").
    keep = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    return [list(s) for s in sorted(keep)]


def pronoun_spans(sentence: str, pronouns: list) -> list[list[int]]:
    """[["his", 2]] names the second whole-word "his" (any case) as a mention of the target.

    Pronouns are listed by occurrence, not as mention strings, because a sentence's "he" may refer to
    different people in different places.
    """
    spans = []
    for word, nth in pronouns:
        hits = list(re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)", sentence, re.IGNORECASE))
        if not 1 <= nth <= len(hits):
            raise ValueError(f"pronoun {word!r} #{nth}: the sentence has {len(hits)}")
        spans.append(list(hits[nth - 1].span()))
    return spans


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shingles(text: str) -> set:
    w = words(text)
    return set(zip(w, w[1:], w[2:])) | set(w)


def raw_lines(folder: str):
    """(file prefix, line number, record, NFC sentence, spans of its mention strings) for every line
    of the writers' files in ``folder``."""
    for path in sorted(glob.glob(os.path.join(HERE, folder, "*.jsonl"))):
        prefix = os.path.splitext(os.path.basename(path))[0]
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            sentence = unicodedata.normalize("NFC", r["sentence"].strip())
            yield prefix, n, r, sentence, spans_of(sentence, [unicodedata.normalize("NFC", m) for m in r["mentions"]])


def load_parts() -> list[dict]:
    rows = []
    for prefix, n, r, sentence, targets in raw_lines("parts"):
        if targets and r.get("pronouns"):
            targets = sorted(targets + pronoun_spans(sentence, r["pronouns"]))
        if not targets:
            print(f"skip {prefix}:{n}: no mention found", file=sys.stderr)
            continue
        doc = r["doc_id"] if r["doc_id"].startswith(prefix) else f"{prefix}-{r['doc_id']}"
        out = {"id": f"{prefix}-{n:05d}", "doc_id": doc, "sentence": sentence, "actor": r["actor"],
               "actor_kind": r["actor_kind"], "targets": targets, "label": r["label"],
               "register": r.get("register", "wire")}
        if r.get("rationale"):
            out["rationale"] = r["rationale"]
        rows.append(out)
    return rows


def dedupe(rows: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        key = (r["sentence"], tuple(map(tuple, r["targets"])))
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


def components(rows: list[dict]) -> dict[str, str]:
    """doc_id -> representative doc_id, joining documents that share near-duplicate sentences."""
    parent = {r["doc_id"]: r["doc_id"] for r in rows}

    def find(d):
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    sentences = {}
    for r in rows:
        sentences.setdefault(r["sentence"], r["doc_id"])
    items = [(s, d, shingles(s)) for s, d in sentences.items()]
    index: dict = {}
    for i, (_, _, sh) in enumerate(items):
        for g in sh:
            if isinstance(g, tuple):
                index.setdefault(g, []).append(i)
    for i, (s, d, sh) in enumerate(items):
        candidates = {j for g in sh if isinstance(g, tuple) for j in index.get(g, ()) if j > i}
        for j in candidates:
            other = items[j][2]
            if len(sh & other) / max(1, len(sh | other)) >= NEAR_DUPLICATE:
                a, b = find(d), find(items[j][1])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {d: find(d) for d in parent}


def split_of(group: str) -> str:
    h = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < TEST_SHARE else "calibration" if h < TEST_SHARE + CALIBRATION_SHARE else "train"


def adjudicate(rows: list[dict]) -> list[dict]:
    """Applies the adjudicated labels of the double-annotated sample (agreement/adjudication.jsonl)."""
    path = os.path.join(HERE, "agreement", "adjudication.jsonl")
    final = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            final[d["id"]] = d
    for r in rows:
        if r["id"] in final:
            assert r["label"] == final[r["id"]]["label_a"], f"{r['id']}: parts changed since adjudication"
            r["label"] = final[r["id"]]["final"]
            r["rationale"] = final[r["id"]]["reason"]
    return rows


def agreement() -> None:
    """Cohen's kappa between the first annotator (parts/) and the second (agreement/)."""
    from sklearn.metrics import cohen_kappa_score

    path = os.path.join(HERE, "agreement", "second_annotator.jsonl")
    if not os.path.exists(path):
        return
    first = {r["id"]: r["label"] for r in load_parts()}
    second = [json.loads(line) for line in open(path, encoding="utf-8")]
    a, b = [first[d["id"]] for d in second], [d["label"] for d in second]
    agree = sum(x == y for x, y in zip(a, b))
    print(f"double-annotated: {len(b)} examples, raw agreement {agree / len(b):.3f}, "
          f"Cohen's kappa {cohen_kappa_score(a, b):.3f}, {len(b) - agree} disagreements adjudicated")


def audit(rows: list[dict]) -> list[dict]:
    """Applies the conventions audit (audit/*.jsonl: id, from, to, rule): labels that contradicted
    GUIDELINES.md's "Conventions for what real news hits most", corrected after adjudication."""
    changes = {}
    for path in sorted(glob.glob(os.path.join(HERE, "audit", "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                d = json.loads(line)
                changes[d["id"]] = d
    for r in rows:
        d = changes.get(r["id"])
        if d is not None:
            assert r["label"] == d["from"], f"{r['id']}: label is {r['label']}, the audit changed it from {d['from']}"
            r["label"] = d["to"]
            r["rationale"] = f"conventions audit: {d['rule']}"
    return rows


def audit_agreement() -> None:
    """Cohen's kappa between the conventions audit and a blind second annotator on a sample of 160
    (100 changed labels, 60 unchanged candidates), before adjudication (agreement/audit_sample.jsonl)."""
    from sklearn.metrics import cohen_kappa_score

    path = os.path.join(HERE, "agreement", "audit_sample.jsonl")
    if not os.path.exists(path):
        return
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    a, b = [r["label_audit"] for r in rows], [r["label_second"] for r in rows]
    changed = [r for r in rows if r["label_audit"] != r["label_before"]]
    print(f"conventions audit sample: {len(rows)} examples, audit vs blind second annotator: raw agreement "
          f"{sum(x == y for x, y in zip(a, b)) / len(rows):.3f}, Cohen's kappa {cohen_kappa_score(a, b):.3f}; "
          f"of {len(changed)} changed labels the second annotator chose the new one "
          f"{sum(r['label_second'] == r['label_audit'] for r in changed)} times, the old one "
          f"{sum(r['label_second'] == r['label_before'] for r in changed)}")


def build() -> dict[str, list[dict]]:
    """The train and test examples, as main() writes them."""
    rows = audit(adjudicate(dedupe(load_parts())))
    groups = components(rows)
    splits: dict[str, list[dict]] = {"train": [], "calibration": [], "test": []}
    for r in rows:
        splits[split_of(groups[r["doc_id"]])].append(r)
    return splits


def build_unlabelled(held_out: list[dict]) -> list[dict]:
    """The unlabelled sentences (unlabelled/*.jsonl: our raw format less the label) as inputs with
    spans, for the student to learn from its teacher. A sentence near-duplicating one of the held-out
    splits is dropped, so the teacher's view of it cannot leak into the student."""
    rows = []
    for prefix, n, r, sentence, targets in raw_lines("unlabelled"):
        if targets:
            rows.append({"id": f"{prefix}-{n:05d}", "doc_id": f"{prefix}-{r['doc_id']}", "sentence": sentence,
                         "actor": r["actor"], "actor_kind": r.get("actor_kind", ""), "targets": targets})
    rows = dedupe(rows)
    index: dict = {}
    for r in held_out:
        for g in shingles(r["sentence"]):
            if isinstance(g, tuple):
                index.setdefault(g, set()).add(r["sentence"])
    held = {r["sentence"]: shingles(r["sentence"]) for r in held_out}
    out = []
    for r in rows:
        sh = shingles(r["sentence"])
        near = {s for g in sh if isinstance(g, tuple) for s in index.get(g, ())}
        if not any(len(sh & held[s]) / max(1, len(sh | held[s])) >= NEAR_DUPLICATE for s in near):
            out.append(r)
    return out


def main() -> None:
    splits = build()
    splits["unlabelled"] = build_unlabelled(splits["test"] + splits["calibration"])
    for name, items in splits.items():
        with open(os.path.join(HERE, f"{name}.jsonl"), "w", encoding="utf-8") as f:
            for r in items:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        labels = {k: sum(r.get("label") == k for r in items) for k in ("favor", "against", "neutral")}
        print(f"{name}: {len(items)} examples, {len({r['doc_id'] for r in items})} documents, {labels}")
    agreement()
    audit_agreement()


if __name__ == "__main__":
    main()
