"""Writers' self-check: python datasets/stance/parts/check_part.py FILE"""
import collections, json, re, sys

KINDS = {"state", "leader", "government", "armed_group", "party", "international_body",
         "politician", "organisation", "person"}
PRONOUNS = {"he", "she", "it", "they", "him", "her", "them", "his", "hers", "its", "their", "himself", "herself", "themselves"}
path = sys.argv[1]
labels = collections.Counter(); bad = 0; sents = collections.Counter(); docs = set()
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    if not line.strip():
        continue
    try:
        d = json.loads(line)
        for k in ("doc_id", "register", "sentence", "actor", "actor_kind", "mentions", "label"):
            assert k in d, f"missing {k}"
        assert d["label"] in ("favor", "against", "neutral"), "bad label"
        assert d["actor_kind"] in KINDS, f"bad actor_kind {d['actor_kind']}"
        assert d["register"] in ("wire", "analysis", "opinion", "headline", "quote"), "bad register"
        assert d["mentions"], "no mentions"
        for m in d["mentions"]:
            assert m.lower() not in PRONOUNS, f"pronoun mention {m!r}"
            assert re.search(r"(?<!\w)" + re.escape(m) + r"(?!\w)", d["sentence"]), f"mention {m!r} not in sentence as a whole word"
        for word, nth in d.get("pronouns", []):
            assert word.lower() in PRONOUNS, f"not a pronoun {word!r}"
            hits = re.findall(r"(?<!\w)" + re.escape(word) + r"(?!\w)", d["sentence"], re.IGNORECASE)
            assert 1 <= nth <= len(hits), f"pronoun {word!r} #{nth}: the sentence has {len(hits)}"
        labels[d["label"]] += 1; sents[d["sentence"]] += 1; docs.add(d["doc_id"])
    except Exception as e:
        bad += 1; print(f"line {n}: {e}")
total = sum(labels.values())
multi = sum(c for s, c in sents.items() if c > 1)
print(f"{total} lines, {len(sents)} sentences, {len(docs)} documents, bad={bad}")
print("labels:", {k: f"{v} ({v/total:.0%})" for k, v in labels.items()} if total else {})
print(f"lines from multi-target sentences: {multi} ({multi/max(total,1):.0%})")
