"""VADER sentence sentiment: how grim or upbeat a sentence reads, whoever it is about."""

from __future__ import annotations

import dataclasses
import functools

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@dataclasses.dataclass(frozen=True)
class Sentiment:
    compound: float
    pos: float
    neu: float
    neg: float


@functools.lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: building it parses the lexicon files (a few milliseconds)."""
    return SentimentIntensityAnalyzer()


def score(text: str, vader: SentimentIntensityAnalyzer | None = None) -> Sentiment:
    s = (vader or analyzer()).polarity_scores(text)
    return Sentiment(s["compound"], s["pos"], s["neu"], s["neg"])
