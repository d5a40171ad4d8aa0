"""Each Beam transform on tiny in-memory inputs, with TestPipeline + assert_that."""

import datetime

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.aggregate import ActorAggregates, DailyAggregates, DropDuplicateIds, article_rows, mention_rows
from pipeline.analyze import AnalyseArticles, FindMentions, SplitSentences, add_sentiment, analyse_sentences
from pipeline.read import ReadArticles
from pipeline.config import RunConfig
from pipeline.records import Article


def pipeline():
    # The in-process runner: the DirectRunner would first try to download Prism.
    return TestPipeline(runner="FnApiRunner")


def art(id_, text, source="Wire", day=datetime.date(2024, 3, 5), file="f.jsonl", record=1):
    return Article(id_, text, None, source, day, None, file, record)


def test_split_sentences():
    with pipeline() as p:
        good, bad = p | beam.Create([art("a", "Ankara spoke. Moscow listened.")]) | SplitSentences(2000)
        assert_that(good | beam.Map(lambda aa: [(s.start, s.end) for s in aa.sentences]),
                    equal_to([[(0, 13), (14, 30)]]), label="spans")
        assert_that(bad, equal_to([]), label="no failures")


def test_find_mentions(actors):
    with pipeline() as p:
        found, _ = (p | beam.Create([analyse_sentences(art("a", "Ankara spoke. Putin and Assad met."), 2000)])
                    | FindMentions(actors))
        assert_that(found | beam.FlatMap(lambda aa: [(s.index, m.actor, m.alias, m.start, m.end)
                                                      for s in aa.sentences for m in s.mentions]),
                    equal_to([(0, "turkey", "Ankara", 0, 6), (1, "russia", "Putin", 14, 19),
                              (1, "assad_regime", "Assad", 24, 29)]))


def test_analyse_articles_labels_every_sentence_actor_pair(actors, model_path):
    texts = {"a": "Turkish troops were killed by regime forces. Nothing else happened.",
             "b": "No actor here. Just weather."}
    with pipeline() as p:
        analysed, dead = (p | beam.Create([art(k, v) for k, v in texts.items()])
                          | AnalyseArticles(actors, model_path, 2000, batch_size=8))
        pairs = analysed | beam.FlatMap(lambda aa: [(aa.article.id, s.index, actor, st.label in ("favor", "against", "neutral"))
                                                    for s in aa.sentences for actor, st in s.stances])
        assert_that(pairs, equal_to([("a", 0, "turkey", True), ("a", 0, "assad_regime", True)]), label="pairs")
        assert_that(dead, equal_to([]), label="dead")


def test_analysis_failure_becomes_a_dead_letter(actors, model_path):
    # An article whose text is not a string gets past nothing in real runs (the reader checks
    # types); here it stands for any article that makes a stage raise.
    broken = Article("bad", None, None, None, None, None, "f.jsonl", 3)
    with pipeline() as p:
        analysed, dead = (p | beam.Create([broken, art("ok", "Ankara spoke.")])
                          | AnalyseArticles(actors, model_path, 2000, batch_size=8))
        assert_that(dead | beam.Map(lambda d: (d.article_id, d.record, d.kind, d.message.split(":")[0])),
                    equal_to([("bad", 3, "analysis_error", "TypeError")]), label="dead")
        assert_that(analysed | beam.Map(lambda aa: aa.article.id), equal_to(["ok"]), label="analysed")


def _analysed(model, matcher, article):
    from pipeline.analyze import add_mentions, add_stances

    aa = add_sentiment(add_mentions(analyse_sentences(article, 2000), matcher))
    return add_stances([aa], model)[0]


def test_aggregates(model, matcher, actors):
    a1 = _analysed(model, matcher, art("a1", "Ankara spoke. Moscow and Ankara met.", source="W"))
    a2 = _analysed(model, matcher, art("a2", "Putin spoke.", source="W"))
    a3 = _analysed(model, matcher, art("a3", "Rain fell.", source="W"))
    day = datetime.date(2024, 3, 5)
    with pipeline() as p:
        analysed = p | beam.Create([a1, a2, a3])
        daily = analysed | DailyAggregates() | beam.Map(lambda r: (r["source"], r["published"], r["actor"],
                                                                    r["articles"], r["mentions"], r["source_articles"]))
        assert_that(daily, equal_to([("W", day, "turkey", 1, 2, 3), ("W", day, "russia", 2, 2, 3)]), label="daily")
        per_actor = analysed | ActorAggregates(actors) | beam.Map(
            lambda r: (r["actor"], r["articles"], r["mentions"], round(r["share_of_articles"], 3)))
        assert_that(per_actor, equal_to([("turkey", 1, 2, 0.333), ("russia", 2, 2, 0.667),
                                         ("assad_regime", 0, 0, 0.0)]), label="actors")


def test_rows_are_consistent(model, matcher):
    aa = _analysed(model, matcher, art("a", "Ankara spoke. Moscow and Ankara met. Rain fell."))
    mentions, articles = mention_rows(aa), article_rows(aa)
    assert [(r["sentence_index"], r["actor"], r["aliases"]) for r in mentions] == [
        (0, "turkey", ["Ankara"]), (1, "russia", ["Moscow"]), (1, "turkey", ["Ankara"])]
    turkey = next(r for r in articles if r["actor"] == "turkey")
    assert turkey["sentences"] == 3 and turkey["mentions"] == 2
    labels = [r["stance"] for r in mentions if r["actor"] == "turkey"]
    assert (turkey["favor"], turkey["against"], turkey["neutral"]) == tuple(labels.count(k) for k in ("favor", "against", "neutral"))
    assert turkey["stance_score"] == (turkey["favor"] - turkey["against"]) / 2


def test_duplicate_ids_keep_the_first():
    with pipeline() as p:
        kept, dead = (p | beam.Create([art("x", "One.", file="b.jsonl", record=1), art("x", "Two.", file="a.jsonl", record=9),
                                       art("y", "Three.")])
                      | DropDuplicateIds())
        assert_that(kept | beam.Map(lambda a: (a.id, a.input_file)), equal_to([("x", "a.jsonl"), ("y", "f.jsonl")]), label="kept")
        assert_that(dead | beam.Map(lambda d: (d.article_id, d.input_file, d.kind)),
                    equal_to([("x", "b.jsonl", "duplicate_id")]), label="dead")


def test_read_articles_formats_and_dead_letters(tmp_path):
    import gzip
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a.jsonl").write_bytes(b'{"id": "j1", "text": "One."}\n{broken\n\n{"id": "j2"}\n')
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as f:
        f.write(json.dumps({"id": "g1", "text": "Gz."}) + "\n")
    (tmp_path / "c.csv").write_text('id,text,source\nc1,"Line one.\nLine two.",W\n', encoding="utf-8")
    pq.write_table(pa.table({"id": ["p1"], "text": ["Pq."]}), tmp_path / "d.parquet")
    (tmp_path / "e.txt").write_text("Plain text article.", encoding="utf-8")
    files = sorted(str(p) for p in tmp_path.iterdir())
    with pipeline() as p:
        articles, dead = p | ReadArticles(files, RunConfig())
        assert_that(articles | beam.Map(lambda a: (a.id, a.text, a.record)),
                    equal_to([("j1", "One.", 1), ("g1", "Gz.", 1), ("c1", "Line one.\nLine two.", 1),
                              ("p1", "Pq.", 1), ("e.txt", "Plain text article.", 1)]), label="articles")
        assert_that(dead | beam.Map(lambda d: (d.input_file.rsplit("/", 1)[-1], d.record, d.kind)),
                    equal_to([("a.jsonl", 2, "malformed_json"), ("a.jsonl", 4, "missing_text")]), label="dead")


def test_add_sentiment_keeps_every_other_field(model, matcher):
    import dataclasses

    from pipeline.analyze import add_mentions, add_stances
    from pipeline.sentiment import score

    # Stances before sentiment, so that every field of a sentence holds something to lose.
    aa = add_stances([add_mentions(analyse_sentences(art("a", "Ankara spoke. Moscow and Ankara met. Rain fell."), 2000),
                                   matcher)], model)[0]
    expected = [dataclasses.replace(s, sentiment=score(aa.article.text[s.start:s.end])) for s in aa.sentences]
    assert list(add_sentiment(aa).sentences) == expected
    assert any(s.stances and s.mentions for s in expected)
