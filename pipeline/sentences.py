"""Sentence splitting with character offsets.

sentencex was chosen by measurement (see ``../shared/MEASURED.md`` and ``tests/test_sentences.py``):
it keeps multi-sentence quotations whole and knows news abbreviations, at several hundred thousand
sentences a second. Paragraphs are split on newlines first, as every splitter does better on one
paragraph at a time. A few merge rules fix the news cases it still gets wrong, and a length limit cuts
run-on "sentences" at safe points so one pathological text cannot blow up later stages.
"""

from __future__ import annotations

import dataclasses
import re

import sentencex

DEFAULT_MAX_SENTENCE_CHARS = 2000

# A split right after these, followed by a lowercase word or a number, was an abbreviation, not an end.
_CONTINUES_RE = re.compile(r"^[a-z0-9(]")
# Time abbreviations followed by a weekday or a month ("at 9 a.m. Monday").
_TIME_ABBREV_RE = re.compile(r"\b[ap]\.m\.$", re.IGNORECASE)
_WEEKDAY_RE = re.compile(
    r"^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.|"
    r"January|February|March|April|May|June|July|August|September|October|November|December)\b")
_PARAGRAPH_RE = re.compile(r"[^\r\n]+")
# Where a run-on sentence may be cut, best first.
_CUT_POINTS = (re.compile(r"[;:]\s"), re.compile(r",\s"), re.compile(r"\s"))


@dataclasses.dataclass(frozen=True)
class SentenceSpan:
    start: int
    end: int
    cut: bool = False  # True when the splitter's sentence was longer than the limit and was cut here


def split_sentences(text: str, max_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> list[SentenceSpan]:
    """Sentence spans of ``text``: ordered, non-overlapping, stripped of surrounding white space.

    Together they cover every non-space character of the text.
    """
    spans: list[SentenceSpan] = []
    for para in _PARAGRAPH_RE.finditer(text):
        offset = para.start()
        raw = _segment(para.group())
        for start, end in _merge_abbreviations(para.group(), raw):
            start, end = _strip(text, offset + start, offset + end)
            if start < end:
                spans.extend(_cut_long(text, start, end, max_chars))
    return spans


def _segment(paragraph: str) -> list[tuple[int, int]]:
    bounds = [(b["start_index"], b["end_index"]) for b in sentencex.get_sentence_boundaries("en", paragraph)]
    if not bounds:
        return [(0, len(paragraph))]
    # sentencex covers the paragraph; if it ever leaves a gap, the gap becomes its own piece.
    pieces, pos = [], 0
    for start, end in bounds:
        if start > pos:
            pieces.append((pos, start))
        pieces.append((max(start, pos), end))
        pos = max(pos, end)
    if pos < len(paragraph):
        pieces.append((pos, len(paragraph)))
    return pieces


def _merge_abbreviations(paragraph: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in pieces:
        if merged:
            prev_text = paragraph[merged[-1][0]:merged[-1][1]].rstrip()
            this_text = paragraph[start:end].lstrip()
            joins = (
                (prev_text.endswith(".") and prev_text[-2:-1].isalpha() and _is_abbreviation(prev_text)
                 and _CONTINUES_RE.match(this_text) is not None)
                or (_TIME_ABBREV_RE.search(prev_text) is not None and _WEEKDAY_RE.match(this_text) is not None)
            )
            if joins and this_text:
                merged[-1] = (merged[-1][0], end)
                continue
        merged.append((start, end))
    return merged


def _is_abbreviation(sentence: str) -> bool:
    last = sentence.split()[-1] if sentence.split() else ""
    # "U.S.", "a.m.", "Jan.", "Gen." - short tokens with inner dots or a short capitalised stem.
    return bool(re.fullmatch(r"(?:[A-Za-z]\.){2,}|[A-Z][a-z]{0,3}\.|[a-z]{1,3}\.", last))


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[SentenceSpan]:
    if end - start <= max_chars:
        return [SentenceSpan(start, end)]
    out = []
    while end - start > max_chars:
        window = text[start:start + max_chars]
        cut = None
        for rx in _CUT_POINTS:
            # Prefer the last safe point in the second half of the window.
            hits = [m.end() for m in rx.finditer(window, max_chars // 2)]
            if hits:
                cut = hits[-1]
                break
        if cut is None:
            cut = max_chars  # no white space at all: cut inside the token
        piece_start, piece_end = _strip(text, start, start + cut)
        if piece_start < piece_end:
            out.append(SentenceSpan(piece_start, piece_end, cut=True))
        start, _ = _strip(text, start + cut, end)
    if start < end:
        out.append(SentenceSpan(start, end, cut=True))
    return out
