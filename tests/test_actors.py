"""The actor matcher: aliases, exclusions, possessives, hyphens, diacritics; and the YAML checks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.actors import ActorMatcher, _fold_char, fold, parse_actors
from pipeline.errors import UsageError


def found(matcher, text):
    return [(m.actor, text[m.start:m.end]) for m in matcher.find(text)]


@pytest.mark.parametrize("text, expected", [
    ("Turkey and Russia agreed on a truce.", [("turkey", "Turkey"), ("russia", "Russia")]),
    ("Türkiye's foreign minister flew to Moscow.", [("turkey", "Türkiye"), ("russia", "Moscow")]),
    ("Erdogan met Putin.", [("turkey", "Erdogan"), ("russia", "Putin")]),  # no diacritic in the text
    ("ERDOĞAN AND PUTIN MEET", [("turkey", "ERDOĞAN"), ("russia", "PUTIN")]),
    ("Assad’s forces advanced.", [("assad_regime", "Assad")]),  # curly possessive
    ("Turkey's army moved.", [("turkey", "Turkey")]),
    ("The Russia-backed offensive stalled.", [("russia", "Russia")]),
    ("Russian-Turkish relations are tense.", [("russia", "Russian"), ("turkey", "Turkish")]),
    ("Turkish forces shelled positions held by regime forces.",
     [("turkey", "Turkish forces"), ("assad_regime", "regime forces")]),
    ("The Kremlin said Bashar al-Assad would attend.", [("russia", "The Kremlin"), ("assad_regime", "Bashar al-Assad")]),
    ("Damascus rejected the plan.", [("assad_regime", "Damascus")]),
])
def test_mentions(matcher, text, expected):
    assert found(matcher, text) == expected


@pytest.mark.parametrize("text", [
    "We ate roast turkey on Thursday.",  # the bird, lowercase
    "TURKEY farmers fear bird flu.",  # the bird, in capitals, by exclusion
    "Syrian refugees crossed into northern Syria.",  # country and people, not the regime
    "He flew to Damascus on Monday.",  # the city
    "Prussian archives and Turkishness are not aliases.",  # word boundaries
    "The sanctions regime was extended.",
])
def test_not_mentions(matcher, text):
    assert found(matcher, text) == []


def test_mention_records_alias_and_span(matcher):
    text = "Officials in Ankara blamed the Syrian regime."
    m = matcher.find(text)
    assert [(x.actor, x.alias, x.start, x.end) for x in m] == [
        ("turkey", "Ankara", 13, 19), ("assad_regime", "the Syrian regime", 27, 44)]


def test_yaml_errors_name_line_and_key():
    bad = "actors:\n  - id: turkey\n    name: Turkey\n    aliases: [Turkey]\n  - id: Russia\n    aliases: [Russia]\n"
    with pytest.raises(UsageError, match=r"x.yaml: line 5: key 'id' must be lowercase"):
        parse_actors(bad, "x.yaml")
    with pytest.raises(UsageError, match=r"line 2: actor 'turkey' key 'aliases' must be a non-empty list"):
        parse_actors("actors:\n  - id: turkey\n    aliases: []\n", "x.yaml")
    with pytest.raises(UsageError, match=r"unknown key 'alias'"):
        parse_actors("actors:\n  - id: turkey\n    alias: [Turkey]\n", "x.yaml")
    with pytest.raises(UsageError, match=r"x.yaml: line 3: invalid YAML"):
        parse_actors("actors:\n  - id: [unclosed\n", "x.yaml")
    with pytest.raises(UsageError, match="top-level key 'actors'"):
        parse_actors("- just a list\n", "x.yaml")


def test_yaml_is_loaded_safely():
    with pytest.raises(UsageError):
        parse_actors("actors: !!python/object/apply:os.system ['echo hacked']\n", "x.yaml")


def test_custom_actor():
    m = ActorMatcher(parse_actors("actors:\n  - id: nato\n    name: NATO\n    aliases: [NATO, the alliance]\n"))
    assert found(m, "NATO said the alliance would respond.") == [("nato", "NATO"), ("nato", "the alliance")]


def test_first_word_index_agrees_with_the_combined_regex_on_our_sentences(actors, matcher):
    import json
    from pathlib import Path

    reference = ActorMatcher(actors, first_word_index=False)
    root = Path(__file__).resolve().parent.parent
    texts = [json.loads(line)["sentence"] for name in ("train.jsonl", "test.jsonl")
             for line in (root / "datasets" / "stance" / name).open(encoding="utf-8")]
    texts += [json.loads(line)["text"] for line in (root / "datasets" / "sample" / "meridian_wire.jsonl").open(encoding="utf-8")]
    found_any = 0
    for text in texts:
        got = matcher.find(text)
        assert got == reference.find(text), text
        found_any += bool(got)
    assert found_any > 500


def test_an_alias_starting_with_punctuation_still_matches():
    actors = parse_actors("actors:\n  - id: tag\n    aliases: ['#Assad', 'the regime']\n")
    for m in (ActorMatcher(actors), ActorMatcher(actors, first_word_index=False)):
        assert found(m, "Posts tagged #Assad blamed the regime.") == [("tag", "#Assad"), ("tag", "the regime")]


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_fold_table_folds_like_the_per_character_rule(text):
    folded = fold(text)
    assert folded == "".join(_fold_char(c) for c in text)
    assert len(folded) == len(text)


def test_an_alias_without_word_characters_turns_the_word_checks_off():
    from pipeline.actors import Actor

    m = ActorMatcher([Actor("tag", "Tag", ("#",)), Actor("ru", "Russia", ("Putin",))])
    assert found(m, "Putin said #") == [("ru", "Putin"), ("tag", "#")]
