"""Steps 2-5: split sentences, find actors, add VADER sentiment, classify stance.

Elements are articles, so per-element overhead is paid per article, not per sentence. Each step is a
small transform around a plain function; heavy resources (the alias regex, VADER) are built once
per worker in ``DoFn.setup``, the stance model through Beam's ``RunInference`` (``StanceModelHandler``).
Stance is predicted for batches of articles at a time.
"""

from __future__ import annotations

import dataclasses
import gc
from typing import TYPE_CHECKING, Optional, Sequence

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, RunInference

from pipeline.actors import Actor, ActorMatcher, Mention
from pipeline.records import Article, DeadLetter
from pipeline.sentences import split_sentences
from pipeline.sentiment import Sentiment, analyzer, score
from pipeline.stance.inputs import LABELS, StanceInput

if TYPE_CHECKING:
    from pipeline.stance.model import StanceModel

DEAD = "dead"


@dataclasses.dataclass(frozen=True)
class Stance:
    label: str
    p_favor: float
    p_against: float
    p_neutral: float


@dataclasses.dataclass(frozen=True)
class AnalysedSentence:
    index: int
    start: int  # offsets into Article.text
    end: int
    cut: bool = False
    mentions: tuple[Mention, ...] = ()  # offsets into Article.text
    sentiment: Optional[Sentiment] = None
    stances: tuple[tuple[str, Stance], ...] = ()  # (actor id, stance), one per mentioned actor

    def actors(self) -> list[str]:
        """Mentioned actor ids in order of first mention."""
        return list(dict.fromkeys(m.actor for m in self.mentions))


@dataclasses.dataclass(frozen=True)
class AnalysedArticle:
    article: Article
    sentences: tuple[AnalysedSentence, ...]
    model_version: str = ""


# ---- plain functions, testable without Beam ----------------------------------------------------

def analyse_sentences(article: Article, max_sentence_chars: int) -> AnalysedArticle:
    spans = split_sentences(article.text, max_sentence_chars)
    return AnalysedArticle(article, tuple(AnalysedSentence(i, s.start, s.end, s.cut) for i, s in enumerate(spans)))


def add_mentions(aa: AnalysedArticle, matcher: ActorMatcher) -> AnalysedArticle:
    # The whole article at once: a context alias ("the army") counts only where the article names
    # its actor explicitly (pipeline/actors.py).
    found = matcher.find_in_article(aa.article.text, [(s.start, s.end) for s in aa.sentences])
    sentences = []
    for s, mentions in zip(aa.sentences, found):
        if mentions:  # most sentences name no actor: keep them as they are (replace() costs ~5 µs)
            s = dataclasses.replace(s, mentions=tuple(mentions))
        sentences.append(s)
    return dataclasses.replace(aa, sentences=tuple(sentences))


def add_sentiment(aa: AnalysedArticle, vader=None) -> AnalysedArticle:
    text = aa.article.text
    # The constructor, not dataclasses.replace (twice the cost, paid here for every sentence);
    # tests/test_transforms.py holds the two equal.
    return dataclasses.replace(aa, sentences=tuple(
        AnalysedSentence(s.index, s.start, s.end, s.cut, s.mentions, score(text[s.start:s.end], vader), s.stances)
        for s in aa.sentences))


def stance_inputs(aa: AnalysedArticle) -> list[tuple[int, str, StanceInput]]:
    """(sentence index, actor, model input) for every sentence x mentioned actor."""
    out = []
    text = aa.article.text
    for s in aa.sentences:
        for actor in s.actors():
            targets = tuple((m.start - s.start, m.end - s.start) for m in s.mentions if m.actor == actor)
            others = tuple((m.start - s.start, m.end - s.start) for m in s.mentions if m.actor != actor)
            out.append((s.index, actor, StanceInput(text[s.start:s.end], targets, others)))
    return out


def add_stances(batch: Sequence[AnalysedArticle], model: StanceModel) -> list[AnalysedArticle]:
    """Classifies every sentence x actor of a batch of articles: one ``predict_proba`` call for the
    batch, or, for a model that offers ``predict_proba_grouped`` (the int8 ONNX model), calls of
    each article's own."""
    keyed = [(i, idx, actor, x) for i, aa in enumerate(batch) for idx, actor, x in stance_inputs(aa)]
    grouped = getattr(model, "predict_proba_grouped", None)
    if grouped is not None and keyed:  # one article's labels must not depend on its batch (onnx_model.py)
        per_article: dict[int, list] = {}
        for i, _, _, x in keyed:
            per_article.setdefault(i, []).append(x)
        proba = np.concatenate(grouped(list(per_article.values())))  # keyed is in article order
    else:
        proba = model.predict_proba([x for *_, x in keyed])
    found: dict[tuple[int, int], list[tuple[str, Stance]]] = {}
    for (i, idx, actor, _), p in zip(keyed, proba):
        found.setdefault((i, idx), []).append(
            (actor, Stance(LABELS[int(p.argmax())], float(p[0]), float(p[1]), float(p[2]))))
    out = []
    for i, aa in enumerate(batch):
        sentences = tuple(dataclasses.replace(s, stances=tuple(found[i, s.index])) if (i, s.index) in found else s
                          for s in aa.sentences)
        out.append(dataclasses.replace(aa, sentences=sentences, model_version=model.model_version))
    return out


# ---- Beam transforms -----------------------------------------------------------------------------

def failure_to_dead_letter(failure) -> DeadLetter:
    """Beam's ``with_exception_handling`` bad output -> a dead letter with the article and reason."""
    element, (exc_type, exc_repr, _traceback) = failure
    article = element.article if isinstance(element, AnalysedArticle) else element
    name = getattr(exc_type, "__name__", str(exc_type))
    raw = article.text[:2000] if isinstance(article.text, str) else None
    return DeadLetter(article.input_file, article.record, article.id, "analysis_error",
                      f"{name}: {exc_repr[:300]}", raw)


class _FindMentionsFn(beam.DoFn):
    def __init__(self, actors: Sequence[Actor]):
        self._actors = tuple(actors)

    def setup(self):
        self._matcher = ActorMatcher(self._actors)

    def process(self, aa):
        yield add_mentions(aa, self._matcher)


class _SentimentFn(beam.DoFn):
    def setup(self):
        self._vader = analyzer()

    def process(self, aa):
        yield add_sentiment(aa, self._vader)


class StanceModelHandler(ModelHandler):
    """Beam's model serving for our stance models: ``RunInference`` batches the articles, loads the
    model once per worker process and shares it between the worker's threads, and reports inference
    metrics (``stance`` namespace). Elements are whole articles, so nothing is regrouped; inside a
    batch the model sorts its sentence x actor inputs by length (``OnnxStanceModel``)."""

    def __init__(self, model_path: str, batch_size: int, threads: int | None = None):
        # Fixed-size batches: one predict_proba call has a fixed cost before any input, and
        # BatchElements' adaptive sizing settled at 10-30 articles a batch.
        super().__init__(min_batch_size=batch_size, max_batch_size=batch_size)
        self._model_path = model_path
        self._threads = threads

    def load_model(self):
        # Imported here: scikit-learn or ONNX Runtime loads in the stage that needs it, not in the
        # driver (pipeline.run imports this module) or in every earlier stage of a worker.
        from pipeline.stance.model import load_model

        model = load_model(self._model_path, self._threads)
        # The model, Beam and every module loaded so far live as long as the worker: out of the
        # garbage collector's full passes, which otherwise walk them all tens of times a run (in the
        # plain loop of make bench, full passes took 0.62 s of 6.2 before this and 0.17-0.22 after).
        gc.freeze()
        return model

    def run_inference(self, batch, model, inference_args=None):
        out = add_stances(batch, model)
        Metrics.counter("stance", "articles_analysed").inc(len(out))
        Metrics.counter("stance", "sentences").inc(sum(len(aa.sentences) for aa in out))
        return out

    def get_num_bytes(self, batch) -> int:
        return sum(len(aa.article.text) for aa in batch)

    def get_metrics_namespace(self) -> str:
        return "stance"


class SplitSentences(beam.PTransform):
    """Article -> AnalysedArticle with sentence spans (failures as dead letters)."""

    def __init__(self, max_sentence_chars: int):
        super().__init__()
        self._max = max_sentence_chars

    def expand(self, articles):
        return articles | "Split" >> beam.Map(analyse_sentences, self._max).with_exception_handling()


class FindMentions(beam.PTransform):
    def __init__(self, actors: Sequence[Actor]):
        super().__init__()
        self._actors = actors

    def expand(self, analysed):
        return analysed | "Match" >> beam.ParDo(_FindMentionsFn(self._actors)).with_exception_handling()


class AddSentiment(beam.PTransform):
    def expand(self, analysed):
        return analysed | "Vader" >> beam.ParDo(_SentimentFn()).with_exception_handling()


class ClassifyStance(beam.PTransform):
    """Batches of articles -> one predict_proba call per batch, through ``RunInference``. A batch
    that fails dead-letters each of its articles."""

    def __init__(self, model_path: str, batch_size: int, threads: int | None = None):
        super().__init__()
        self._handler = StanceModelHandler(model_path, batch_size, threads)

    def expand(self, analysed):
        good, failed = analysed | "Predict" >> RunInference(self._handler).with_exception_handling()
        bad = failed.failed_inferences | "Unbatch" >> beam.FlatMap(lambda f: [(aa, f[1]) for aa in f[0]])
        return good, bad


class AnalyseArticles(beam.PTransform):
    """Articles -> (AnalysedArticles, DeadLetters): split -> find actors -> sentiment -> stance."""

    def __init__(self, actors, model_path: str, max_sentence_chars: int, batch_size: int,
                 model_threads: int | None = None):
        super().__init__()
        self._model_threads = model_threads
        self._actors = actors
        self._model_path = model_path
        self._max_sentence_chars = max_sentence_chars
        self._batch_size = batch_size

    def expand(self, articles):
        split, bad1 = articles | "SplitSentences" >> SplitSentences(self._max_sentence_chars)
        found, bad2 = split | "FindMentions" >> FindMentions(self._actors)
        scored, bad3 = found | "AddSentiment" >> AddSentiment()
        classified, bad4 = scored | "ClassifyStance" >> ClassifyStance(self._model_path, self._batch_size, self._model_threads)
        dead = ((bad1, bad2, bad3, bad4) | "Failures" >> beam.Flatten()
                | "ToDeadLetters" >> beam.Map(failure_to_dead_letter))
        return classified, dead
