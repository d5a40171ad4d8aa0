"""The benchmark's corpus generator: deterministic, team-written text, realistic article length."""

import json

from pipeline import bench
from pipeline.sentences import split_sentences


def test_corpus_is_deterministic_and_a_prefix_of_larger_ones(tmp_path):
    pool, titles, sources, provenance = bench.sentence_pool()
    assert provenance["pool_sentences"] > 2000 and len(sources) >= 3
    small = list(bench.generate_articles(5, pool, titles, sources))
    again = list(bench.generate_articles(5, pool, titles, sources))
    larger = list(bench.generate_articles(20, pool, titles, sources))
    assert small == again == larger[:5]
    assert len({a["id"] for a in larger}) == 20
    info = bench.write_corpus(str(tmp_path / "c"), 20, pool, titles, sources, files=4)
    lines = [json.loads(line) for p in sorted((tmp_path / "c").glob("*.jsonl")) for line in p.open()]
    assert info["files"] == 4 and lines == larger
    per_article = [len(split_sentences(a["text"])) for a in larger]
    assert 35 <= sum(per_article) / len(per_article) <= 45
