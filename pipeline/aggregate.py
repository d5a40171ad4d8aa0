"""Step 6, aggregate: analysed articles -> rows of the mentions, articles, daily and actors tables.

Per-article rows need no grouping (elements are articles). Daily and per-actor rows add up the
per-article rows with one ``CombineFn``, so the sums are exact whatever the runner's bundling.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Iterable, Optional, Sequence

import apache_beam as beam

from pipeline.actors import Actor
from pipeline.analyze import AnalysedArticle
from pipeline.records import Article, DeadLetter


def mention_rows(aa: AnalysedArticle) -> list[dict]:
    """One row per sentence x mentioned actor (schemas.MENTIONS)."""
    a = aa.article
    rows = []
    for s in aa.sentences:
        if not s.stances:
            continue
        sentence = a.text[s.start:s.end]
        for actor, st in s.stances:
            mine = [m for m in s.mentions if m.actor == actor]
            rows.append({
                "article_id": a.id, "source": a.source, "published": a.published,
                "sentence_index": s.index, "sentence_start": s.start, "sentence_end": s.end,
                "sentence": sentence, "sentence_cut": s.cut, "actor": actor,
                "aliases": [m.alias for m in mine],
                "mention_starts": [m.start - s.start for m in mine],
                "mention_ends": [m.end - s.start for m in mine],
                "alias_kind": "context" if all(m.context for m in mine) else "explicit",
                "stance": st.label, "p_favor": st.p_favor, "p_against": st.p_against, "p_neutral": st.p_neutral,
                "confidence": max(st.p_favor, st.p_against, st.p_neutral),
                "vader_compound": s.sentiment.compound, "vader_pos": s.sentiment.pos,
                "vader_neu": s.sentiment.neu, "vader_neg": s.sentiment.neg,
                "model_version": aa.model_version,
            })
    return rows


@dataclasses.dataclass
class Totals:
    """Sums that every aggregate table is computed from."""

    articles: int = 0
    mentions: int = 0
    favor: int = 0
    against: int = 0
    neutral: int = 0
    p_favor: float = 0.0
    p_against: float = 0.0
    p_neutral: float = 0.0
    vader: float = 0.0

    def add(self, other: "Totals") -> "Totals":
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def columns(self) -> dict:
        n = self.mentions
        mean = (lambda v: v / n) if n else (lambda v: None)
        return {"mentions": n, "favor": self.favor, "against": self.against, "neutral": self.neutral,
                "stance_score": mean(self.favor - self.against), "mean_p_favor": mean(self.p_favor),
                "mean_p_against": mean(self.p_against), "mean_p_neutral": mean(self.p_neutral),
                "mean_vader_compound": mean(self.vader)}


def article_totals(aa: AnalysedArticle) -> dict[str, Totals]:
    """Actor id -> Totals over this article's sentences that mention the actor."""
    out: dict[str, Totals] = {}
    for s in aa.sentences:
        for actor, st in s.stances:
            t = out.setdefault(actor, Totals(articles=1))
            t.mentions += 1
            setattr(t, st.label, getattr(t, st.label) + 1)
            t.p_favor += st.p_favor
            t.p_against += st.p_against
            t.p_neutral += st.p_neutral
            t.vader += s.sentiment.compound
    return out


def article_rows(aa: AnalysedArticle) -> list[dict]:
    """One row per article x mentioned actor (schemas.ARTICLES)."""
    a = aa.article
    n = len(aa.sentences)
    article_vader = sum(s.sentiment.compound for s in aa.sentences) / n if n else 0.0
    rows = []
    for actor, totals in article_totals(aa).items():
        rows.append({"article_id": a.id, "source": a.source, "published": a.published, "title": a.title,
                     "url": a.url, "actor": actor, "sentences": n, **totals.columns(),
                     "article_vader_compound": article_vader, "model_version": aa.model_version})
    return rows


class SumTotals(beam.CombineFn):
    def create_accumulator(self):
        return Totals()

    def add_input(self, acc, totals):
        return acc.add(totals)

    def merge_accumulators(self, accs):
        out = Totals()
        for a in accs:
            out.add(a)
        return out

    def extract_output(self, acc):
        return acc


def _day(article: Article) -> Optional[str]:
    # ISO strings, not date objects, as grouping keys: their encoding is deterministic.
    return article.published.isoformat() if article.published else None


class DailyAggregates(beam.PTransform):
    """Analysed articles -> rows of source x day x actor, with the source's volume that day."""

    def expand(self, analysed):
        per_actor = (
            analysed
            | "KeyBySourceDayActor" >> beam.FlatMap(
                lambda aa: [((aa.article.source, _day(aa.article), actor), t)
                            for actor, t in article_totals(aa).items()])
            | "SumPerSourceDayActor" >> beam.CombinePerKey(SumTotals())
            | "KeyBySourceDay" >> beam.Map(lambda kv: ((kv[0][0], kv[0][1]), (kv[0][2], kv[1]))))
        volume = (
            analysed
            | "SourceDay" >> beam.Map(lambda aa: ((aa.article.source, _day(aa.article)), 1))
            | "CountPerSourceDay" >> beam.CombinePerKey(sum))
        return ({"actors": per_actor, "volume": volume}
                | "JoinVolume" >> beam.CoGroupByKey()
                | "DailyRows" >> beam.FlatMap(_daily_rows))


def _daily_rows(joined) -> Iterable[dict]:
    (source, day), groups = joined
    volume = sum(groups["volume"])
    for actor, totals in groups["actors"]:
        yield {"source": source, "published": datetime.date.fromisoformat(day) if day else None,
               "actor": actor, "articles": totals.articles, **totals.columns(), "source_articles": volume}


class ActorAggregates(beam.PTransform):
    """Analysed articles -> one row per configured actor, mentioned or not."""

    def __init__(self, actors: Sequence[Actor]):
        super().__init__()
        self._actors = tuple(actors)

    def expand(self, analysed):
        pipeline = analysed.pipeline
        total = analysed | "CountArticles" >> beam.combiners.Count.Globally()
        seeds = pipeline | "ConfiguredActors" >> beam.Create([(a.id, Totals()) for a in self._actors])
        names = {a.id: a.name for a in self._actors}
        # Summed before the seeds join them: a combine straight after the Flatten would not run in
        # the workers, and every article's Totals would be pickled to the runner (1-2 % of a worker).
        mentioned = (analysed
                     | "KeyByActor" >> beam.FlatMap(lambda aa: list(article_totals(aa).items()))
                     | "SumPerActor" >> beam.CombinePerKey(SumTotals()))
        return (
            (seeds, mentioned)
            | "WithSeeds" >> beam.Flatten()
            | "AddSeeds" >> beam.CombinePerKey(SumTotals())
            | "ActorRows" >> beam.Map(
                lambda kv, n: {"actor": kv[0], "name": names.get(kv[0], kv[0]), "articles": kv[1].articles,
                               **kv[1].columns(), "share_of_articles": kv[1].articles / n if n else 0.0},
                beam.pvalue.AsSingleton(total)))


def dead_letter_row(d: DeadLetter) -> dict:
    return {"input_file": d.input_file, "record": d.record, "article_id": d.article_id,
            "error_kind": d.kind, "message": d.message, "raw": d.raw}


class DropDuplicateIds(beam.PTransform):
    """Keeps the first record of each id (by input file, then record number); the rest become
    ``duplicate_id`` dead letters naming the record that was kept.

    Which record comes first is decided from ``locations``, ``(id, (input_file, record))`` pairs, and
    only repeated ids reach the filter, as a side input. Pass the locations from a separate read of the
    same files and the articles themselves are never grouped or held back: they stream from the read
    into the analysis, so memory does not grow with the corpus (a ``GroupByKey`` of whole articles
    held every article's text at once). Without ``locations`` they are taken from ``articles``.
    """

    def __init__(self, locations: Optional[beam.PCollection] = None, max_raw_chars: int = 2000):
        super().__init__()
        self._locations = locations
        self._max_raw_chars = max_raw_chars

    def expand(self, articles):
        locations = self._locations
        if locations is None:
            locations = articles | "Locate" >> beam.Map(article_location)
        repeated = (locations
                    | "FirstPerId" >> beam.CombinePerKey(FirstLocation())
                    | "Repeated" >> beam.Filter(lambda kv: kv[1][0] > 1)
                    | "KeptLocation" >> beam.MapTuple(lambda id_, acc: (id_, acc[1])))
        results = articles | "KeepFirst" >> beam.ParDo(
            _KeepFirstFn(self._max_raw_chars), beam.pvalue.AsDict(repeated)).with_outputs("dead", main="kept")
        return results.kept, results.dead


def article_location(a: Article) -> tuple[str, tuple[str, int]]:
    return a.id, (a.input_file, a.record)


class FirstLocation(beam.CombineFn):
    """(count, earliest location) of one id's records."""

    def create_accumulator(self):
        return 0, None

    def add_input(self, acc, location):
        count, first = acc
        location = tuple(location)
        return count + 1, location if first is None or location < first else first

    def merge_accumulators(self, accs):
        count, first = 0, None
        for n, loc in accs:
            count += n
            if loc is not None and (first is None or tuple(loc) < first):
                first = tuple(loc)
        return count, first

    def extract_output(self, acc):
        return acc


class _KeepFirstFn(beam.DoFn):
    def __init__(self, max_raw_chars: int):
        self._max_raw_chars = max_raw_chars

    def process(self, a: Article, repeated: dict):
        kept = repeated.get(a.id)
        if kept is None or tuple(kept) == (a.input_file, a.record):
            yield a
            return
        yield beam.pvalue.TaggedOutput("dead", DeadLetter(
            a.input_file, a.record, a.id, "duplicate_id",
            f"id already used by {kept[0]} record {kept[1]}; that one was analysed", a.text[:self._max_raw_chars]))


def run_counts(read_articles, read_dead, analysed, dead) -> beam.PCollection:
    """(name, count) pairs that the manifest reports, counted from the data itself."""
    return (
        (read_articles | "ReadOk" >> beam.Map(lambda _: ("records_read", 1)),
         read_dead | "ReadBad" >> beam.Map(lambda _: ("records_read", 1)),
         analysed | "PerArticle" >> beam.FlatMap(lambda aa: [
             ("articles_analysed", 1), ("sentences", len(aa.sentences)),
             ("sentences_cut", sum(s.cut for s in aa.sentences)),
             ("mentions", sum(len(s.stances) for s in aa.sentences))]),
         dead | "PerDeadLetter" >> beam.Map(lambda _: ("dead_letters", 1)))
        | "AllCounts" >> beam.Flatten()
        | "SumCounts" >> beam.CombinePerKey(sum))
