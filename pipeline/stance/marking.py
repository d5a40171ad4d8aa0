"""How an encoder reads a sentence and its target: markers, and a window around a long sentence's target.

Shared by training (``encoder.py``, torch) and serving (``onnx_model.py``, ONNX Runtime without torch),
so both see exactly the same text.
"""

from __future__ import annotations

from typing import Sequence

from pipeline.stance.inputs import StanceInput

T_OPEN, T_CLOSE, O_OPEN, O_CLOSE = "<t>", "</t>", "<o>", "</o>"


def mark(x: StanceInput) -> str:
    """The sentence with the target's mentions as ``<t> … </t>`` and other actors' as ``<o> … </o>``.
    Overlapping spans of one kind merge; an other-actor span overlapping the target is dropped."""
    return mark_with_spans(x)[0]


def mark_with_spans(x: StanceInput) -> tuple[str, list[tuple[int, int]]]:
    """``mark``'s text and the character span of each ``<t> … </t>`` in it."""
    def merge(spans):
        out: list[tuple[int, int]] = []
        for a, b in sorted((a, b) for a, b in spans if b > a):
            if out and a < out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        return out

    targets = merge(x.targets)
    others = [s for s in merge(x.others) if all(s[1] <= a or s[0] >= b for a, b in targets)]
    parts, pos, at, spans = [], 0, 0, []
    for a, b, op, cl in sorted([(a, b, T_OPEN, T_CLOSE) for a, b in targets] + [(a, b, O_OPEN, O_CLOSE) for a, b in others]):
        piece = (x.text[pos:a], f"{op} ", x.text[a:b], f" {cl}")
        if op == T_OPEN:
            start = at + len(piece[0])
            spans.append((start, start + len(piece[1]) + len(piece[2]) + len(piece[3])))
        parts += piece
        at += sum(map(len, piece))
        pos = b
    parts.append(x.text[pos:])
    return "".join(parts), spans


def window_around(text: str, spans: list[tuple[int, int]], offsets: Sequence[tuple[int, int]],
                  max_length: int) -> tuple[str, list]:
    """``mark_with_spans``' text and spans cut to at most ``max_length`` tokens around the target,
    given the tokenizer's character offsets of ``text``'s tokens (no special tokens).

    Truncation keeps a long sentence's start, which can leave out the target it is asked about (8 of
    NewsMTSC's 1,476 test targets). Instead keep a window of whole words centred on the target's
    mentions, starting at the first mention when they span more than the window."""
    budget = max_length - 2  # [CLS] and [SEP]
    if len(offsets) <= budget or not spans:
        return text, spans
    inside = [j for j, (a, z) in enumerate(offsets) if any(a < e and z > s for s, e in spans)]
    if not inside:
        return text, spans
    first, last = inside[0], inside[-1]
    start = max(0, first - max(0, budget - (last - first + 1)) // 2)
    end = min(len(offsets), start + budget)
    start = max(0, min(start, end - budget))

    def word_start(j):  # a token that does not follow its predecessor directly starts a word
        return j == 0 or j == len(offsets) or offsets[j][0] > offsets[j - 1][1]

    while start < first and not word_start(start):
        start += 1
    while end > max(start + 1, last + 1) and not word_start(end):
        end -= 1
    lo, hi = offsets[start][0], offsets[end - 1][1]
    kept = [(max(s, lo) - lo, min(e, hi) - lo) for s, e in spans if s < hi and e > lo]
    return text[lo:hi], kept
