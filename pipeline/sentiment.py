"""VADER sentence sentiment: how grim or upbeat a sentence reads, whoever it is about.

Scores come from ``pipeline.vader``, a faster re-implementation whose output is identical to
vaderSentiment 3.3.2's (``tests/test_vader.py`` holds it to that).
"""

from __future__ import annotations

import dataclasses

from pipeline.vader import FastVader, analyzer

__all__ = ["Sentiment", "analyzer", "score"]


@dataclasses.dataclass(frozen=True)
class Sentiment:
    compound: float
    pos: float
    neu: float
    neg: float


def score(text: str, vader: FastVader | None = None) -> Sentiment:
    s = (vader or analyzer()).polarity_scores(text)
    return Sentiment(s["compound"], s["pos"], s["neu"], s["neg"])
