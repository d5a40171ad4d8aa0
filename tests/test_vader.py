"""pipeline.vader must score exactly like vaderSentiment 3.3.2, quirks and bugs included.

Every test compares ``pipeline.vader.analyzer().polarity_scores`` with the reference
``SentimentIntensityAnalyzer().polarity_scores`` on the same strings: neg, neu, pos and compound must
agree within 1e-9 (in practice they are bit-identical) and come in the same key order. The strings:
the whole stance dataset, the sample articles, the windows the stance features score, a grid and a
list of hand-written cases aimed at each rule, and random text from hypothesis. No timing here: `make bench`
reports both scorers' µs per sentence side by side.
"""

import csv
import glob
import gzip
import itertools
import json
import os

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment import vaderSentiment as reference

import pipeline.vader as vader
from tests.conftest import ROOT

REF = reference.SentimentIntensityAnalyzer()
FAST = vader.analyzer()
KEYS = ["neg", "neu", "pos", "compound"]
STANCE = [os.path.join(ROOT, "datasets", "stance", name) for name in ("train.jsonl", "test.jsonl")]


def mismatches(texts, fast=FAST):
    bad = []
    for text in texts:
        want, got = REF.polarity_scores(text), fast.polarity_scores(text)
        if list(got) != KEYS or any(abs(got[k] - want[k]) > 1e-9 for k in KEYS):
            bad.append((text, want, got))
    return bad


def assert_same(texts, fast=FAST):
    texts = list(texts)
    assert texts
    bad = mismatches(texts, fast)
    assert not bad, f"{len(bad)} of {len(texts)} strings score differently, e.g. {bad[:3]}"


# ---- real text ---------------------------------------------------------------------------------------

def stance_sentences() -> list[str]:
    out = []
    for path in STANCE:
        with open(path, encoding="utf-8") as f:
            out += [json.loads(line)["sentence"] for line in f if line.strip()]
    return out


def sample_articles() -> list[str]:
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "datasets", "sample", "*"))):
        if path.endswith(".jsonl"):
            with open(path, encoding="utf-8") as f:
                texts += [json.loads(line)["text"] for line in f if line.strip()]
        elif path.endswith(".jsonl.gz"):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                texts += [json.loads(line)["text"] for line in f if line.strip()]
        elif path.endswith(".csv"):
            with open(path, encoding="utf-8", newline="") as f:
                texts += [row["text"] for row in csv.DictReader(f)]
        elif path.endswith(".parquet"):
            texts += pq.read_table(path, columns=["text"]).column("text").to_pylist()
        elif path.endswith(".txt"):
            with open(path, encoding="utf-8") as f:
                texts.append(f.read())
    return [t for t in texts if t]


def test_stance_sentences():
    sentences = stance_sentences()
    assert len(sentences) > 6000
    assert_same(sentences)


def test_sample_articles_whole_and_by_line():
    articles = sample_articles()
    assert len(articles) >= 30
    lines = [line for text in articles for line in text.splitlines() if line.strip()]
    assert_same(articles + lines)


def test_stance_feature_windows(monkeypatch):
    """The strings CueFeatures scores (left window, right window, whole sentence, lowercased word
    tokens joined by spaces), captured from the real transform."""
    from pipeline.stance import features
    from pipeline.stance.data import read_examples

    scored = []

    class Recorder:
        def polarity_scores(self, text):
            scored.append(text)
            return FAST.polarity_scores(text)

    monkeypatch.setattr(features, "analyzer", lambda: Recorder())
    inputs = [e.input for path in STANCE for e in read_examples(path)]
    features.CueFeatures().transform(inputs)
    assert len(scored) > len(inputs)
    assert_same(scored)


# ---- hand-written cases ------------------------------------------------------------------------------

TRICKY = [
    # empty, blank, punctuation only
    "", " ", "   \t\n  ", "\u00a0\u3000", ".", "!", "!!!!", "!!!!!!!", "???", "?", "??", "?!?!?!", "...", "-- --",
    # VADER's own examples
    "VADER is smart, handsome, and funny.", "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.", "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!", "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.", "The book was good.", "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!", "Today only kinda sux! But I'll get by, lol", "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁", "Not bad at all",
    "Sentiment analysis has never been good.", "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.", "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.", "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!", "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.", "Without a doubt, an excellent idea.",
    # capitals: some, all, none; boosters in capitals
    "GOOD", "GOOD BAD", "good GOOD", "This is GOOD", "THIS IS GOOD", "this is VERY good", "THIS IS VERY GOOD",
    "it is EXTREMELY bad", "U.S. forces did GREAT", "NATO said the talks were good", "GOOD!!! great",
    # boosters and dampeners, near and far
    "very good", "we were very good", "we were very very good", "very nice good", "it was barely good",
    "it was slightly bad", "it was kinda bad", "it was sort of good", "it was kind of good",
    "the kind of man", "kind of", "kind", "a kind man", "they are kind of kind", "just enough good food",
    "it is just enough good", "it was hardly ever bad", "so good", "it was so good", "we think it was so bad",
    "totally utterly good", "almost not bad",
    # negation, incl. VADER's 3-word window, "never so", "without doubt", "n't"
    "not good", "not very good", "not a very good", "not a very good idea", "it is not bad",
    "it isn't good", "it isnt good", "it is n't good", "this ain't bad", "I don't like it", "I don’t like it",
    "I DON'T like it", "it was never good", "it was never so good", "it was never this good",
    "we were never so very happy", "never so good", "it was never not good", "without doubt good",
    "it was without doubt good", "without a doubt good", "we say without any doubt good",
    "we say without doubt it is good", "nobody is good", "nothing good", "none good", "neither good nor bad",
    "rarely good", "seldom bad", "despite good reviews", "uh-uh good", "uhuh good", "nope good",
    "doubt", "no doubt", "without doubt", "I doubt it is good",
    # "no"
    "no", "no good", "no no good", "no, good", "no problem", "no way good", "no joy or love",
    "no joy nor love", "no fun and love", "no cake or love", "there is no good", "No!", "NO good",
    # least
    "least good", "the least good", "at least good", "very least good", "the very least good",
    "it is least bad", "the least", "least", "least good at", "least bad very", "least good very well",
    # but
    "good but bad", "bad but good", "good but", "but good", "but", "good but good good",
    "It was bad but not terrible, BUT it was good", "good, but bad, but good", "good BUT bad",
    # idioms as VADER implements them
    "the bomb", "this is the bomb", "you are the bomb", "he is the bomb", "it is the shit", "that is the shit",
    "quite bad ass", "a real bad ass", "you are a bad ass man", "he is badass", "kiss of death",
    "it was the kiss of death", "it was a kiss of death", "a real kiss of death", "yeah right",
    "oh sure yeah right", "we said yeah right", "this is to die for", "it was to die for",
    "my beating heart", "his beating heart is", "at the bus stop", "we met at the bus stop",
    "cut the mustard", "it does not cut the mustard", "hand to mouth", "in the red", "under the weather",
    "on the ball", "break a leg", "they were kind of the bomb", "it was sort of the shit",
    "we had just enough bad ass fun", "the bomb bad ass", "yeah right bad ass", "the shit beating heart",
    "oh the bomb yeah right", "the kiss of death", "kind of the bomb", "we bus stop the shit",
    # emoticons and emoji, incl. the spacing VADER produces and multi-code-point emoji
    ":)", ":-(", ":(", ":D", ":-D", "<3", ":P", ";)", ":/", "(:", "):", "xD", "XD", "=)", ":')",
    "😀", "💔", "😀😀", "😀 😀", "good😀", "😀good", "bad 💔 day", "sad💔", "💔sad", "a😀b", " 😀 ", "\t😀",
    "a\n😀", "❤️", "I ❤️ you", "👍🏽", "👨‍👩‍👧", "🇺🇸 flag", "🔛", "🆙 and 🔛!", "✈ plane", "☹ sad", "©",
    "😀!!!", "💩 day", "🤬 angry", "🥰", "hello 👋 world", "💘💋😁",
    # other unicode
    "İSTANBUL güzel", "İyi", "İİ", "İİ.", "ΟΔΟΣ good", "ΑΣ. bad", "naïve café good", "Ünïcödé GOOD",
    "مرحبا good", "好 good 坏", "e\u0301t\u0301e\u0301 good", "zero\u200bwidth good", "good\u00a0bad",
    "good\x1cbad", "good\u2028bad", "ｇｏｏｄ", "ＧＯＯＤ bad", "Kelvin \u212a good", "ﬁne good", "ǅ good",
    "\ud83d good",
    # stripping: "two characters or fewer" keeps the token whole
    "ok!", "ok", "ok.", "(good)", "\"good\"", "'good'", "good...", "...good", "go!", "!go", "no!", "(no)",
    "a.b.c good", "--good--", "good-bad", "good,bad", "good!bad", ":good:", "@good", "#good", "lol", "LOL!",
    "wtf?!", "smh...", "luv", "FTW",
]


def test_tricky_strings():
    assert_same(TRICKY)


def test_rule_grid():
    """Every modifier 1, 2 and 3 words before a sentiment word (so the 3-word window's edges and the
    "not in the lexicon" gates are hit), with and without words in front, capitals and a tail."""
    fronts = ["", "we", "we said", "we all said"]
    modifiers = ["", "very", "VERY", "barely", "so", "this", "not", "NOT", "never", "without", "no", "doubt",
                 "least", "at least", "very least", "kind of", "sort of", "just enough", "never so", "never this",
                 "without doubt", "without a doubt", "no or", "no nor", "not very", "never so very", "the",
                 "kiss of", "to", "yeah", "bad", "beating", "bus", "isn't", "good", "so so", "not so", "it was so"]
    targets = ["good", "bad", "GOOD", "BAD", "hate", "bomb", "shit", "ass", "right", "death", "heart", "die",
               "stop", "kind", "no", "doubt", "love"]
    tails = ["", "ass", "of death", "for", "stop", "!", "??", "but good", "but BAD!"]
    assert_same(" ".join(filter(None, parts)) for parts in itertools.product(fronts, modifiers, targets, tails))


def test_but_rescales_the_first_equal_value():
    """VADER's _but_check finds each sentiment with list.index while rescaling the list, so a value
    equal to an earlier, already rescaled one rescales that earlier entry again."""
    by_value = {}
    for word, value in sorted(REF.lexicon.items()):
        if word.isalpha() and word.islower():
            by_value.setdefault(value, word)
    halves = [(by_value[v], by_value[v * 0.5]) for v in by_value if v * 0.5 in by_value]
    times_1_5 = [(by_value[v], by_value[v * 1.5]) for v in by_value if v * 1.5 in by_value]
    assert halves and times_1_5
    texts = [f"{a} but {b}" for a, b in halves] + [f"we but {a} {b}" for a, b in times_1_5]
    texts += [f"{a} {a} but {b} {b} {a}" for a, b in halves[:5]]
    texts += [f"{a} BUT {b}, but {a} {b} {a}" for a, b in halves[:5] + times_1_5]
    assert_same(texts)


def test_very_long_text():
    sentences = stance_sentences()[:80]
    long_text = " ".join(sentences)
    assert_same([long_text, long_text.upper(), "but " + long_text, long_text + " but good!!! :) 😀",
                 ("good bad " * 400).strip(), "!" * 5000, "😀" * 300, " " * 10000])


def test_word_memo_eviction(monkeypatch):
    """A full memo is cleared, not grown; scores stay the same through the clearing."""
    monkeypatch.setattr(vader, "_WORDS_CACHED", 8)
    fast = vader.FastVader()
    assert_same(stance_sentences()[:300], fast)
    assert len(fast._words) <= 8


def test_lexicons_parsed_like_vader():
    assert FAST.lexicon == REF.lexicon
    assert FAST.emojis == REF.emojis


def test_non_text_input_behaves_like_vader():
    for value in [None, 12, 1.5, b"", b"good", ["good", "bad"], ("great",)]:
        try:
            want = REF.polarity_scores(value)
        except Exception as exc:  # noqa: BLE001 - VADER's own error is the expected outcome
            with pytest.raises(type(exc)):
                FAST.polarity_scores(value)
        else:
            assert FAST.polarity_scores(value) == want


def test_analyzer_is_built_once():
    assert vader.analyzer() is vader.analyzer()


# ---- random text -------------------------------------------------------------------------------------

_SPECIAL_WORDS = ["no", "not", "never", "so", "this", "without", "doubt", "least", "at", "very", "kind", "of",
                  "sort", "just", "enough", "but", "BUT", "or", "nor", "the", "bomb", "shit", "bad", "ass", "badass",
                  "yeah", "right", "kiss", "death", "to", "die", "for", "beating", "heart", "bus", "stop", "cut",
                  "mustard", "isn't", "don’t", "n't", "uh-uh"]
_EMOJI = sorted(REF.emojis)
_PUNCTUATION = ["", "", "", ",", ".", "!", "?", "!!", "???", "...", "'", '"', ":", "(", ")", "-", ":)", "😀"]
_SEPARATORS = [" ", " ", " ", " ", "  ", "\t", "\n", "", "\u00a0", " , ", "\u3000"]

_piece = st.one_of(
    st.sampled_from(sorted(REF.lexicon)),
    st.sampled_from(sorted(reference.BOOSTER_DICT)),
    st.sampled_from(reference.NEGATE),
    st.sampled_from(_SPECIAL_WORDS),
    st.sampled_from(_EMOJI),
    st.text(max_size=4),
    st.text(alphabet="abcİΣσς😀💔\u00a0\u0301'!?.:;()-", max_size=4),
)
_word = st.builds(
    lambda before, piece, case, after: before + case(piece) + after,
    st.sampled_from(_PUNCTUATION), _piece, st.sampled_from([str, str, str.upper, str.title, str.lower]),
    st.sampled_from(_PUNCTUATION))
_text = st.lists(st.tuples(_word, st.sampled_from(_SEPARATORS)), max_size=25).map(
    lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text)
def test_random_text(text):
    assert not mismatches([text])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_random_unicode(text):
    assert not mismatches([text])
