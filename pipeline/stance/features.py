"""Target-aware features for stance.

Every input is a ``StanceInput``: the sentence, the character spans of the target's mentions and the
spans of other actors' mentions. The transformers here are stateless scikit-learn transformers (``fit``
learns nothing), so the learned state lives only in the stock vectorizers and the classifier that
follow them in the ``Pipeline``.

Why these features: a bag of words of the whole sentence cannot tell "Ankara blamed Moscow" from
"Moscow blamed Ankara". Masking the target (``TGT``) and the other actors (``OTH``) makes the model
learn cues instead of names; tokens tagged with their side and distance from the target, words tagged
with the target's role in its clause (agent, patient, speaker), cue lexicons and VADER over the
target's window tell it who does what to whom.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.sentiment import analyzer
from pipeline.stance.inputs import StanceInput

TARGET_TOKEN = "TGT"
OTHER_TOKEN = "OTH"


_TOKEN_RE = re.compile(r"TGT|OTH|\w+(?:['’]\w+)?|[\"“”?!,;:()]")

# Cue lexicons, as lowercase word prefixes. Small on purpose: they generalise the TF-IDF features to
# cue words the training data has few examples of.
CUES: dict[str, tuple[str, ...]] = {
    "aggression": ("attack", "shell", "bomb", "strike", "struck", "kill", "invad", "invasion", "offensive",
                   "raid", "assault", "massacr", "tortur", "detain", "arrest", "seiz", "occup", "besieg",
                   "violat", "crackdown", "destroy", "shot", "shoot", "fire on", "pound", "target",
                   "execut", "abduct", "loot", "burn", "expel", "deport", "repress", "persecut"),
    "blame": ("blame", "accus", "condemn", "critici", "denounc", "slam", "fault", "responsib", "lie", "lied",
              "corrupt", "fail", "scandal", "illegal", "abus", "threat", "aggressi", "reckless", "brutal",
              "war crime", "atrocit", "propaganda", "disinformation", "rebuk", "lambast", "decr", "attack",
              "undermin", "obstruct", "sabotag", "mislead", "misled", "fraud", "incompeten", "hypocri",
              "blast", "assail", "outrage", "shame", "disgrac", "terror", "regime", "dictator", "junta",
              "thug", "bully", "cynical", "betray", "sanction", "indict", "charged", "guilty", "probe"),
    "victim": ("killed", "wounded", "injur", "victim", "suffer", "lost", "loss", "mourn", "grie",
               "condolen", "harass", "threatened", "targeted", "displac", "flee", "fled", "besieged",
               "hostage", "casualt", "fallen", "martyr", "survivor"),
    "cooperation": ("agree", "cooperat", "ceasefire", "cease-fire", "truce", "peace", "deal", "talks",
                    "mediat", "broker", "aid", "help", "support", "protect", "rescu", "partner", "sign",
                    "negotiat", "de-escalat", "dialogue", "reconcil", "humanitarian", "assist", "ally",
                    "allies", "solidarity", "relief", "evacuat", "release", "welcome", "pledg", "donat"),
    "praise": ("prais", "thank", "hail", "commend", "credit", "applaud", "success", "achiev", "win", "won",
               "reliable", "constructive", "leadership", "effective", "respect", "admir", "honou", "honor",
               "celebrat", "landmark", "historic", "triumph", "skill", "competen", "popular", "victor",
               "champion", "hero", "brave", "courage", "strong", "stable", "wise", "pragmatic", "trust"),
    "denial": ("deni", "deny", "reject", "dismiss", "refut", "no evidence", "not", "never", "n't", "without"),
    "speech": ("said", "says", "say", "told", "stated", "added", "announc", "according", "insist", "argu",
               "claim", "warn", "urg", "call", "wrote", "tweet", "statement", "spokes"),
}
_CATEGORIES = tuple(CUES)


def mask(x: StanceInput) -> str:
    """The sentence with the target's mentions as ``TGT`` and other actors' as ``OTH``."""
    spans = sorted([(s, e, TARGET_TOKEN) for s, e in x.targets] + [(s, e, OTHER_TOKEN) for s, e in x.others])
    out, pos = [], 0
    for s, e, token in spans:
        if s < pos:  # overlapping spans: the first one wins
            continue
        out.append(x.text[pos:s])
        out.append(f" {token} ")
        pos = e
    out.append(x.text[pos:])
    return "".join(out)


def tokens(masked: str) -> list[str]:
    return [t if t in (TARGET_TOKEN, OTHER_TOKEN) else t.lower() for t in _TOKEN_RE.findall(masked)]


_CLAUSE_PUNCT = {",", ";", ":", "(", ")"}


def words(masked: str) -> list[str]:
    """Tokens without the clause punctuation that only ``TargetRoles`` uses."""
    return [t for t in tokens(masked) if t not in _CLAUSE_PUNCT]


class Tokenized(NamedTuple):
    """A ``StanceInput`` masked and tokenized once, for every feature block to share."""

    input: StanceInput
    tokens: list[str]  # tokens(mask(input))
    words: list[str]  # the tokens without clause punctuation


def tokenize(x: StanceInput | Tokenized) -> Tokenized:
    if isinstance(x, Tokenized):
        return x
    toks = tokens(mask(x))
    return Tokenized(x, toks, [t for t in toks if t not in _CLAUSE_PUNCT])


class Tokenize(TransformerMixin, BaseEstimator):
    """StanceInput -> Tokenized. The first step of the model, so that the four feature blocks do not
    each mask and tokenize the sentence again; each block also accepts plain ``StanceInput``s, so it
    can be used and tested on its own."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [tokenize(x) for x in X]


def _target_positions(toks: Sequence[str]) -> list[int]:
    return [i for i, t in enumerate(toks) if t == TARGET_TOKEN]


# Cached per word: role tagging asks about every word between the target and each word near it, and
# a news vocabulary repeats its words far more often than it adds new ones.
@functools.lru_cache(maxsize=1 << 16)
def _cue_category(token: str) -> tuple[str, ...]:
    return tuple(c for c in _CATEGORIES if token.startswith(CUES[c]))


@functools.lru_cache(maxsize=1 << 16)
def _cue_slots(token: str) -> tuple[int, ...]:
    """Where ``token``'s cue categories start in ``CueFeatures``' count columns."""
    return tuple(3 * _CATEGORIES.index(c) for c in _cue_category(token))


class MaskedSentence(TransformerMixin, BaseEstimator):
    """StanceInput -> the masked sentence as tokens (clause punctuation kept: "TGT ," and ", TGT"
    bigrams mark appositions), for a TF-IDF vectorizer of uni- and bigrams."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [" ".join(tokenize(x).tokens) for x in X]


class TargetContext(TransformerMixin, BaseEstimator):
    """StanceInput -> words near the target, tagged with side and distance band, as a string.

    ``L1_shelled`` means "shelled" stands right before the target (the target is acted on);
    ``R1_shelled`` right after it (the target acts). Bands: 1 (adjacent), 2 (2-3 tokens), 3 (4-width).
    """

    def __init__(self, *, width=6):
        self.width = width

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [" ".join(self._context(x)) for x in X]

    def _context(self, x: StanceInput | Tokenized) -> list[str]:
        toks = tokenize(x).words
        feats = []
        for p in _target_positions(toks):
            for d in range(1, self.width + 1):
                band = 1 if d == 1 else 2 if d <= 3 else 3
                if p - d >= 0 and toks[p - d] != TARGET_TOKEN:
                    feats.append(f"L{band}_{toks[p - d]}")
                if p + d < len(toks) and toks[p + d] != TARGET_TOKEN:
                    feats.append(f"R{band}_{toks[p + d]}")
            if p == 0 or (p == 1 and toks[0] in ("the", "a")):
                feats.append("TGT_FIRST")
            if p >= 1 and toks[p - 1] == "by":
                feats.append("BY_TGT")
            if p >= 2 and toks[p - 2] == "according" and toks[p - 1] == "to":
                feats.append("ACCORDING_TO_TGT")
        return feats or ["NO_TGT"]


class CueFeatures(TransformerMixin, BaseEstimator):
    """StanceInput -> dense cue counts around the target plus VADER over the target's window.

    Per cue category: how many cue words stand before and after the target within ``width`` tokens,
    and in the whole sentence. Then VADER compound, pos and neg of the window left of the target, the
    window right of it, and the whole sentence; whether the target is quoted, the sentence is a
    question, and how many other actors it names.
    """

    def __init__(self, *, width=8):
        self.width = width

    def fit(self, X, y=None):
        return self

    def get_feature_names_out(self, input_features=None):
        names = [f"{c}_{side}" for c in _CATEGORIES for side in ("left", "right", "all")]
        names += ["vader_left", "vader_right", "vader_sentence", "pos_window", "neg_window",
                  "speaker_target", "quote", "question", "others", "targets"]
        return np.asarray(names, dtype=object)

    def transform(self, X):
        vader = analyzer()
        rows = []
        for x in X:
            t = tokenize(x)
            toks, x = t.words, t.input
            positions = _target_positions(toks) or [0]
            first, last = positions[0], positions[-1]
            counts = [0.0] * (3 * len(_CATEGORIES))  # per category: left, right, all
            for i, t in enumerate(toks):
                cats = _cue_slots(t)
                if not cats:
                    continue
                for k in cats:
                    counts[k + 2] += 1
                    if first - self.width <= i < first:
                        counts[k] += 1
                    elif last < i <= last + self.width:
                        counts[k + 1] += 1
            plain = [t for t in toks if t not in (TARGET_TOKEN, OTHER_TOKEN)]
            left = " ".join(t for t in toks[max(0, first - self.width):first] if t not in (TARGET_TOKEN, OTHER_TOKEN))
            right = " ".join(t for t in toks[last + 1:last + 1 + self.width] if t not in (TARGET_TOKEN, OTHER_TOKEN))
            vl = vader.polarity_scores(left) if left else {"compound": 0.0, "pos": 0.0, "neg": 0.0}
            vr = vader.polarity_scores(right) if right else {"compound": 0.0, "pos": 0.0, "neg": 0.0}
            vs = vader.polarity_scores(" ".join(plain))["compound"] if plain else 0.0
            speaker = 1.0 if any(toks[p + 1:p + 3] and _cue_category(toks[p + 1]) == ("speech",) for p in positions
                                 if p + 1 < len(toks)) else 0.0
            quote = 1.0 if re.search(r"[\"“”]", x.text) else 0.0
            rows.append(counts + [
                vl["compound"], vr["compound"], vs, vl["pos"] + vr["pos"], vl["neg"] + vr["neg"],
                speaker, quote, 1.0 if "?" in toks else 0.0, float(len(x.others)), float(len(x.targets))])
        return np.asarray(rows, dtype=np.float64)


# Clause boundaries for role tagging: punctuation and subordinating words.
_CLAUSE_BREAKS = {",", ";", ":", "(", ")", '"', "“", "”", "-", "while", "but", "whereas", "although", "though",
                  "after", "because", "since", "which", "who", "when", "as", "before", "despite", "amid"}
_PASSIVE_AUX = {"was", "were", "been", "is", "are", "being", "be", "got", "get", "gets"}
_ADVERBS = {"not", "never", "reportedly", "allegedly", "also"}
# What follows a participle used as a reduced passive: "soldiers killed in an air strike".
_REDUCED_NEXT = {"", "in", "by", "near", "at", "during", "on", "after", "when", "as", "while", "outside", "inside",
                 "since", "over", "last", "this", "overnight", "early", "late", ",", "."}
_STOPWORDS = set("the a an of to in on for and or at with from that this is was were be been it its their his her".split())


def clause_bounds(toks: Sequence[str], p: int) -> tuple[int, int]:
    """First and last token index of the clause holding position ``p``."""
    lo = p
    while lo > 0 and toks[lo - 1] not in _CLAUSE_BREAKS:
        lo -= 1
    hi = p
    while hi + 1 < len(toks) and toks[hi + 1] not in _CLAUSE_BREAKS:
        hi += 1
    return lo, hi


def role(toks: Sequence[str], p: int, i: int, lo: int, hi: int) -> str:
    """The target's role (at ``p``) toward the word at ``i``: ``ag`` the target acts ("TGT shelled"),
    ``pt`` it is acted on ("shelled TGT", "TGT was shelled", "TGT killed in"), ``sp`` the word is inside
    what the target says ("TGT said ... blame"), ``ag`` also for "... by TGT"; ``fa`` outside the clause."""
    if not lo <= i <= hi:
        return "fa"
    between = toks[min(p, i) + 1:max(p, i)]
    if any(_cue_category(t) == ("speech",) for t in between):
        return "sp"
    if i < p:
        return "ag" if p >= 1 and toks[p - 1] == "by" else "pt"
    if between and (between[-1] in _PASSIVE_AUX or (len(between) >= 2 and between[-2] in _PASSIVE_AUX
                                                     and between[-1] in _ADVERBS)):
        return "pt"
    following = toks[i + 1] if i + 1 < len(toks) else ""
    if toks[i].endswith(("ed", "en")) and following in _REDUCED_NEXT and all(t in _ADVERBS | {"were"} for t in between):
        return "pt"
    return "ag"


class TargetRoles(TransformerMixin, BaseEstimator):
    """StanceInput -> content words within ``width`` tokens of the target, tagged with the target's
    role toward them: ``ag_shelled`` (the target shelled), ``pt_shelled`` (it was shelled),
    ``sp_blame`` (it said someone is to blame)."""

    def __init__(self, *, width=12):
        self.width = width

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [" ".join(self._roles(x)) or "NO_ROLES" for x in X]

    def _roles(self, x: StanceInput | Tokenized) -> list[str]:
        toks = tokenize(x).tokens
        feats = []
        for p in _target_positions(toks):
            lo, hi = clause_bounds(toks, p)
            for i, t in enumerate(toks):
                if t in (TARGET_TOKEN, OTHER_TOKEN) or t in _STOPWORDS or abs(i - p) > self.width:
                    continue
                feats.append(f"{role(toks, p, i, lo, hi)}_{t}")
        return feats
