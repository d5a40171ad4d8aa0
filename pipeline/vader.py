"""A faster, output-identical VADER: ``analyzer().polarity_scores(text)``.

Why this exists: vaderSentiment's ``SentimentIntensityAnalyzer.polarity_scores`` took about 120 µs per
sentence and was the known bottleneck of the pipeline (it scores every sentence and, in the stance
features, three windows per sentence). Most of that time is overhead, not work: it rebuilds the
lowercased word list three or four times for every sentiment word, walks the text a character at a
time looking for emoji, and uses ``list.index`` inside a loop for "but". This module does the same
arithmetic, in the same order, on precomputed sets and dicts:

* the emoji pass runs only when the text has a character that is an emoji key (never for ASCII);
* splitting, stripping and lowercasing the words and finding the lexicon words run in C (``map`` over
  dicts, with the per-token strip-and-lowercase memoized), so only the two or three lexicon words of
  a typical sentence, and the words next to them, get any Python-level work;
* "but" takes time linear in the sentiment words instead of quadratic, with VADER's quirk intact.

It must stay output-identical to vaderSentiment 3.3.2: neg, neu, pos and compound equal to the
reference's, bugs included. ``tests/test_vader.py`` checks that against the reference on the whole
stance dataset, the windows the stance features score, the sample articles, hand-written cases for
every rule and random text; run it after any change.

VADER's rules are copied as implemented, not as documented. The quirks that matter:

* Emoji are replaced by their description with a space before it unless the previous character is a
  plain space (or it is the first character) and never a space after: "a😀b" -> "a grinning faceb".
  Two descriptions contain "!" ("ON! arrow", "UP! button"), which then counts as emphasis.
* No word is dropped. A token loses its leading and trailing ASCII punctuation unless that would leave
  two characters or fewer, in which case it is kept whole (so ":)" and "ok!" survive as they are).
* Idioms ("the bomb", "kiss of death", "yeah right", ...) are looked up only for a sentiment word with
  at least three words before it, the third of which is not a lexicon word; "badass" and the
  "sentiment laden idioms" ("cut the mustard", ...) never apply. An idiom's value replaces the word's
  valence (boosters and negation included) and the two-word boosters "kind of" / "sort of" / "just
  enough" are then added on top.
* For a word with three words before it (the third not a lexicon word), a "so" or "this" right
  before it multiplies its valence by 1.25 with or without "never" ("never so good" gets it twice).
* Negations are whole words from VADER's list or any word containing "n't" with an ASCII apostrophe:
  "don’t" (typographic apostrophe, common in news) negates nothing.
* "but": VADER halves sentiments before the first "but" and multiplies those after by 1.5, but it
  finds each one with ``sentiments.index(value)`` while rewriting the list, so a value equal to an
  earlier (possibly already rescaled) value rescales that earlier entry instead, again.
* Negation and booster checks look only at the word 1, 2 or 3 back, and only if that word is not in
  the lexicon itself; "no" negates sentiment words up to two words after it (three across "or"/"nor").

Credit: VADER is by C.J. Hutto and E.E. Gilbert (ICWSM-14), released under the MIT licence
(https://github.com/cjhutto/vaderSentiment). The lexicons and word lists are read from the installed
vaderSentiment package, so there is one source of truth for them.
"""

from __future__ import annotations

import bisect
import functools
import math
import os
import re
import string
from itertools import compress

import vaderSentiment.vaderSentiment as _ref

_PUNCT = string.punctuation
_WORDS_CACHED = 1 << 16
_NO_SENTIMENT = {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}


def _read(path: str) -> str:
    # VADER reads with codecs.open, which does no newline translation; each line is stripped below.
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def _read_lexicon(path: str) -> dict[str, float]:
    lexicon = {}
    for line in _read(path).rstrip("\n").split("\n"):
        if not line:
            continue
        word, measure = line.strip().split("\t")[0:2]
        lexicon[word] = float(measure)
    return lexicon


def _read_emoji(path: str) -> dict[str, str]:
    emoji = {}
    for line in _read(path).rstrip("\n").split("\n"):
        char, description = line.strip().split("\t")[0:2]
        emoji[char] = description
    return emoji


class _Words(dict):
    """Token as written -> the lowercased word VADER makes of it, memoized.

    VADER strips the ASCII punctuation around each token unless that leaves two characters or fewer
    (":)" and "ok!" stay whole), then lowercases it. That is a pure function of the token, and a few
    thousand tokens make up most text, so a dict lookup per token (in C, through ``map``) replaces a
    Python-level strip and lower. Cleared when full, to bound memory on large corpora.
    """

    def __missing__(self, token: str) -> str:
        if len(self) >= _WORDS_CACHED:
            self.clear()
        stripped = token.strip(_PUNCT)
        word = (token if len(stripped) <= 2 else stripped).lower()
        self[token] = word
        return word


def _tuple_keys(d: dict) -> dict[tuple[str, ...], float]:
    # VADER builds "w1 w2" strings to look phrases up; tokens never contain whitespace, so word tuples
    # match exactly the same phrases without the string formatting.
    return {tuple(k.split()): v for k, v in d.items()}


_NEGATE = frozenset(_ref.NEGATE)
_BOOSTER_PHRASES = {k: v for k, v in _tuple_keys(_ref.BOOSTER_DICT).items() if len(k) > 1}
_SPECIAL_CASES = _tuple_keys(_ref.SPECIAL_CASES)
_OR_NOR = ("or", "nor")
_N_SCALAR = _ref.N_SCALAR
_C_INCR = _ref.C_INCR


class FastVader:
    """Drop-in replacement for ``SentimentIntensityAnalyzer``: same ``polarity_scores`` output."""

    def __init__(self, lexicon_file: str = "vader_lexicon.txt", emoji_lexicon: str = "emoji_utf8_lexicon.txt"):
        here = os.path.dirname(os.path.abspath(_ref.__file__))
        self.lexicon = _read_lexicon(os.path.join(here, lexicon_file))
        self.emojis = _read_emoji(os.path.join(here, emoji_lexicon))

        self._words = _Words()
        # VADER scores a booster word as 0 before it looks at the lexicon, so those never count as hits.
        self._scored = {k: v for k, v in self.lexicon.items() if k not in _ref.BOOSTER_DICT}
        # A booster only acts when it is not itself a lexicon word (VADER skips lexicon words there).
        self._boosters = {k: v for k, v in _ref.BOOSTER_DICT.items() if k not in self.lexicon}
        self._least_negates = "least" not in self.lexicon
        # Every idiom or booster phrase VADER can match around a word contains the word itself or the
        # one two back, so when neither is a phrase word the whole lookup can be skipped.
        self._phrase_words = frozenset(w for k in (*_SPECIAL_CASES, *_BOOSTER_PHRASES) if len(k) > 1 for w in k)

        # VADER tests text one character at a time against the emoji dict, so only single-character
        # keys can ever match (flags, skin tones and ZWJ sequences are matched per code point). A regex
        # class of all 1,212 of them is slow in `re` (it tests them one range at a time), so the regex
        # only picks out the few characters in their code point range and a set checks those.
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)
        lo, hi = min(self._emoji_chars), max(self._emoji_chars)
        self._emoji_candidates = re.compile(f"[{re.escape(lo)}-{re.escape(hi)}]")
        self._emoji_ascii = lo.isascii()

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not isinstance(text, str):
            # Whatever VADER does with non-text (mostly raise), do exactly that.
            return _reference().polarity_scores(text)
        if ((self._emoji_ascii or not text.isascii())
                and not self._emoji_chars.isdisjoint(self._emoji_candidates.findall(text))):
            text = self._describe_emoji(text)

        tokens = text.split()
        if not tokens:
            return dict(_NO_SENTIMENT)
        lower = list(map(self._words.__getitem__, tokens))
        n = len(tokens)
        hits = list(compress(range(n), map(self._scored.__contains__, lower)))
        if not hits:
            # Every sentiment is 0: VADER's arithmetic then gives exactly these values.
            return {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}

        # Some but not all words in capitals. Stripping punctuation never changes str.isupper(), so
        # the unstripped tokens serve for every capitals test.
        cap_diff = 0 < sum(map(str.isupper, tokens)) < n

        # Same element types as VADER (int 0 for unscored words) so that sum() adds the same values.
        sentiments = [0] * n
        for i in hits:
            if lower[i] == "kind" and i < n - 1 and lower[i + 1] == "of":
                continue  # "kind of" is a dampener, not the lexicon word "kind"
            sentiments[i] = self._valence(i, tokens, lower, cap_diff)

        if "but" in lower:
            _but_rescale(sentiments, hits, lower.index("but"))
        return self._score(sentiments, hits, text)

    def _describe_emoji(self, text: str) -> str:
        emojis = self.emojis

        def describe(m: re.Match) -> str:
            char = m.group()
            if char not in emojis:
                return char
            at = m.start()
            return emojis[char] if at == 0 or text[at - 1] == " " else " " + emojis[char]

        # VADER also strips the result, which changes neither the words nor the !/? counts.
        return self._emoji_candidates.sub(describe, text)

    def _valence(self, i: int, tokens: list[str], lower: list[str], cap_diff: bool) -> float:
        """VADER's sentiment_valence for the lexicon word at ``i``."""
        lexicon = self.lexicon
        word = lower[i]
        valence = lexicon[word]

        # "no" before another lexicon word is a negator rather than a negative word, and a "no" up to
        # two words back (three, with "or"/"nor" right before this word) flips the word's own valence.
        if word == "no" and i != len(lower) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if ((i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no")
                or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in _OR_NOR)):
            valence = lexicon[word] * _N_SCALAR

        if cap_diff and tokens[i].isupper():
            if valence > 0:
                valence += _C_INCR
            else:
                valence -= _C_INCR

        # The words 1, 2 and 3 back, each only if it is not a lexicon word itself. VADER adds a
        # booster's scalar (0.0 for other words, a no-op skipped here), then checks negation.
        if i < 1:
            return valence
        w1 = lower[i - 1]
        if w1 not in lexicon:
            if w1 in self._boosters:
                valence = valence + self._scalar(w1, tokens[i - 1], valence, cap_diff)
            if w1 in _NEGATE or "n't" in w1:
                valence = valence * _N_SCALAR

        if i > 1:
            w2 = lower[i - 2]
            if w2 not in lexicon:
                if w2 in self._boosters:
                    valence = valence + self._scalar(w2, tokens[i - 2], valence, cap_diff) * 0.95
                if w2 == "never" and (w1 == "so" or w1 == "this"):
                    valence = valence * 1.25
                elif w2 == "without" and w1 == "doubt":
                    pass
                elif w2 in _NEGATE or "n't" in w2:
                    valence = valence * _N_SCALAR

            if i > 2:
                w3 = lower[i - 3]
                if w3 not in lexicon:
                    if w3 in self._boosters:
                        valence = valence + self._scalar(w3, tokens[i - 3], valence, cap_diff) * 0.9
                    # VADER's precedence: ("never" then "so"/"this") or "so"/"this" right before.
                    if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
                        valence = valence * 1.25
                    elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
                        pass
                    elif w3 in _NEGATE or "n't" in w3:
                        valence = valence * _N_SCALAR
                    if word in self._phrase_words or w2 in self._phrase_words:
                        valence = _special_idioms(valence, lower, i)

        # "least good" is negative, "at least good" and "very least good" are not.
        if w1 == "least" and self._least_negates:
            if i == 1 or (lower[i - 2] != "at" and lower[i - 2] != "very"):
                valence = valence * _N_SCALAR
        return valence

    def _scalar(self, booster: str, token: str, valence: float, cap_diff: bool) -> float:
        """VADER's scalar_inc_dec for a booster word (``token`` is the word as written)."""
        scalar = self._boosters[booster]
        if valence < 0:
            scalar *= -1
        if cap_diff and token.isupper():
            if valence > 0:
                scalar += _C_INCR
            else:
                scalar -= _C_INCR
        return scalar

    @staticmethod
    def _score(sentiments: list, hits: list[int], text: str) -> dict[str, float]:
        """VADER's score_valence; ``hits`` holds every position whose sentiment may be non-zero."""
        sum_s = float(sum(sentiments))

        ep_count = text.count("!")
        if ep_count > 4:
            ep_count = 4
        qm_count = text.count("?")
        if qm_count > 1:
            qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
        else:
            qm_amplifier = 0
        amplifier = ep_count * 0.292 + qm_amplifier

        if sum_s > 0:
            sum_s += amplifier
        elif sum_s < 0:
            sum_s -= amplifier
        compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
        if compound < -1.0:
            compound = -1.0
        elif compound > 1.0:
            compound = 1.0

        # Each non-zero sentiment counts one more than its value, so neutral words (1 each) compare.
        pos_sum = 0.0
        neg_sum = 0.0
        neu_count = len(sentiments)
        for k in hits:
            s = sentiments[k]
            if s > 0:
                pos_sum += float(s) + 1
                neu_count -= 1
            elif s < 0:
                neg_sum += float(s) - 1
                neu_count -= 1

        if pos_sum > math.fabs(neg_sum):
            pos_sum += amplifier
        elif pos_sum < math.fabs(neg_sum):
            neg_sum -= amplifier
        total = pos_sum + math.fabs(neg_sum) + neu_count
        return {"neg": round(math.fabs(neg_sum / total), 3),
                "neu": round(math.fabs(neu_count / total), 3),
                "pos": round(math.fabs(pos_sum / total), 3),
                "compound": round(compound, 4)}


def _special_idioms(valence, lower: list[str], i: int):
    """VADER's _special_idioms_check (only reached for i > 2)."""
    w3, w2, w1, w0 = lower[i - 3], lower[i - 2], lower[i - 1], lower[i]
    for phrase in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
        if phrase in _SPECIAL_CASES:
            valence = _SPECIAL_CASES[phrase]
            break
    n = len(lower)
    if n - 1 > i and (w0, lower[i + 1]) in _SPECIAL_CASES:
        valence = _SPECIAL_CASES[(w0, lower[i + 1])]
    if n - 1 > i + 1 and (w0, lower[i + 1], lower[i + 2]) in _SPECIAL_CASES:
        valence = _SPECIAL_CASES[(w0, lower[i + 1], lower[i + 2])]
    for phrase in ((w3, w2, w1), (w3, w2), (w2, w1)):
        if phrase in _BOOSTER_PHRASES:
            valence = valence + _BOOSTER_PHRASES[phrase]
    return valence


def _but_rescale(sentiments: list, hits: list[int], but_at: int) -> None:
    """VADER's _but_check, in place, bug for bug.

    VADER walks the list and rescales ``sentiments[sentiments.index(value)]``: the *first* entry now
    equal to the value, which is an earlier one if that one already had (or was rescaled to) the same
    value. Zeros stay zeros whichever zero gets "rescaled", so only non-zero entries are tracked, and
    ``holding`` maps each value to the positions now holding it, so that first entry is ``[0]``.
    """
    holding: dict = {}
    nonzero = [k for k in hits if sentiments[k]]
    for k in nonzero:
        holding.setdefault(sentiments[k], []).append(k)
    for k in nonzero:
        # Earlier steps only rewrite positions before k, so this is still the original value.
        value = sentiments[k]
        first = holding[value][0]
        if first == but_at:
            continue
        new = value * 0.5 if first < but_at else value * 1.5
        del holding[value][0]
        sentiments[first] = new
        bisect.insort(holding.setdefault(new, []), first)


@functools.lru_cache(maxsize=1)
def _reference() -> _ref.SentimentIntensityAnalyzer:
    return _ref.SentimentIntensityAnalyzer()


@functools.lru_cache(maxsize=1)
def analyzer() -> FastVader:
    """One scorer per process: building it parses the lexicon files (a few milliseconds)."""
    return FastVader()
