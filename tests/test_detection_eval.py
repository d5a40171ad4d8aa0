"""evaluation/detection.py's scoring on invented rows: containment both ways, a pipeline sentence that
holds two gold sentences, actors the gold does not list."""

from evaluation.detection import prf, score

GOLD = [
    {"doc": "d1", "i": 0, "text": "Ankara sent troops.", "gold": {"turkey": "neutral", "russia": "absent"}},
    {"doc": "d1", "i": 1, "text": "Moscow objected.", "gold": {"turkey": "absent", "russia": "against"}},
    {"doc": "d1", "i": 2, "text": "Talks  began later.", "gold": {"turkey": "absent", "russia": "absent"}},
]


def row(sentence, actor, spans):
    return {"article_id": "d1", "sentence": sentence, "actor": actor,
            "mention_starts": [s for s, _ in spans], "mention_ends": [e for _, e in spans]}


def test_score_counts_each_gold_sentence_and_actor_once():
    joined = "Ankara sent troops.Moscow objected."  # the splitter missed a boundary: two gold sentences
    rows = [row(joined, "turkey", [(0, 6)]), row(joined, "russia", [(19, 25)]),
            row("Talks began later.", "russia", [(0, 5)]),  # whitespace differs: still matched; a false hit
            row("Talks began later.", "united_states", [(0, 5)]),  # not a gold actor of the excerpt
            row("Nothing like the gold.", "turkey", [(0, 7)])]
    result = score(GOLD, rows)
    found = {(x["i"], x["actor"]) for x in result["items"] if x["found"]}
    assert found == {(0, "turkey"), (1, "russia"), (2, "russia")}
    assert (result["unscored_rows"], result["unmatched_rows"]) == (1, 1)
    assert prf(result["items"]) == {"tp": 2, "fp": 1, "fn": 0, "precision": 2 / 3, "recall": 1.0}
