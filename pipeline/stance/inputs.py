"""What the stance model reads and what it answers, without scikit-learn.

Kept apart from the model so that the job's driver and a worker's early stages can name these types
without importing scikit-learn, which costs 2-3 s per process (mostly scipy.stats).
"""

from __future__ import annotations

from typing import NamedTuple

LABELS = ("favor", "against", "neutral")


class StanceInput(NamedTuple):
    """One sentence and one target: the character spans of the target's mentions (end exclusive),
    and of other actors' mentions, which the model masks differently."""

    text: str
    targets: tuple[tuple[int, int], ...]
    others: tuple[tuple[int, int], ...] = ()
