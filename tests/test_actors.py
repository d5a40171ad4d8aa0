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


# ---- context aliases, compound forms, exclusions, presets ------------------------------------------

CONTEXT_ACTORS = """\
actors:
  - id: regime
    name: Syrian government
    aliases: [Assad, Syrian army, Syrian air forces, Syria's president, Damascus]
    context_aliases: [the army, troops, the regime, regime, government forces]
    exclusions: [Free Syrian Army, the capital, Damascus, regime change]
  - id: turkey
    name: Turkey
    aliases: [Turkey, Turkish]
    context_aliases: [troops, the army]
  - id: russia
    name: Russia
    aliases: [Russia, Russian, Russo]
"""


@pytest.fixture(scope="module")
def context_matcher():
    return ActorMatcher(parse_actors(CONTEXT_ACTORS, "x.yaml"))


def kinds(matcher, text):
    return [(m.actor, text[m.start:m.end], "context" if m.context else "explicit") for m in matcher.find(text)]


def test_a_context_alias_counts_only_where_the_article_names_its_actor(context_matcher):
    assert kinds(context_matcher, "Government forces shelled the town.") == []
    assert kinds(context_matcher, "Government forces shelled the town. Assad praised the army.") == [
        ("regime", "Government forces", "context"), ("regime", "Assad", "explicit"), ("regime", "the army", "context")]


def test_two_claimants_the_one_named_nearest_before_wins(context_matcher):
    text = "Assad spoke. Turkey protested and said the army would stay; troops arrived."
    assert kinds(context_matcher, text) == [
        ("regime", "Assad", "explicit"), ("turkey", "Turkey", "explicit"), ("turkey", "the army", "context"),
        ("turkey", "troops", "context")]
    # Named only after the word: ambiguous, nobody's.
    assert kinds(context_matcher, "The army moved. Assad and Turkey met.") == [
        ("regime", "Assad", "explicit"), ("turkey", "Turkey", "explicit")]


def test_a_word_modified_by_another_actor_is_not_a_context_mention(context_matcher):
    assert kinds(context_matcher, "Assad said Russian troops and Russia-backed troops left.") == [
        ("regime", "Assad", "explicit"), ("russia", "Russian", "explicit"), ("russia", "Russia", "explicit")]
    # ... but goes to the modifying actor when it claims the word.
    assert kinds(context_matcher, "Assad said Turkish troops left.") == [
        ("regime", "Assad", "explicit"), ("turkey", "Turkish", "explicit"), ("turkey", "troops", "context")]


def test_compound_and_derived_forms(context_matcher):
    # "-regime" is not a word Russia modifies as "Russia-backed" would be: it names the partner.
    assert kinds(context_matcher, "Assad hailed the Russia-regime offensive.") == [
        ("regime", "Assad", "explicit"), ("russia", "Russia", "explicit"), ("regime", "regime", "context")]
    assert kinds(context_matcher, "Russo-Turkish talks began.") == [
        ("russia", "Russo", "explicit"), ("turkey", "Turkish", "explicit")]
    assert kinds(context_matcher, "Syria's president flew to Moscow.") == [("regime", "Syria's president", "explicit")]
    text = "Syrian and Russian air forces struck Idlib."
    assert [(m.actor, m.alias, text[m.start:m.end]) for m in context_matcher.find(text)] == [
        ("regime", "Syrian air forces", "Syrian"), ("russia", "Russian", "Russian")]


def test_exclusions_for_names_that_hold_an_alias(context_matcher):
    assert kinds(context_matcher, "The Free Syrian Army held the town.") == []
    assert kinds(context_matcher, "They reached the capital, Damascus, at night.") == []
    assert kinds(context_matcher, "Assad rejected regime change.") == [("regime", "Assad", "explicit")]


def test_find_in_article_gives_each_sentence_its_mentions(context_matcher):
    text = "Assad spoke. The army advanced."
    per_sentence = context_matcher.find_in_article(text, [(0, 12), (13, len(text))])
    assert [[(m.actor, text[m.start:m.end], m.context) for m in s] for s in per_sentence] == [
        [("regime", "Assad", False)], [("regime", "The army", True)]]


@pytest.mark.parametrize("bad, message", [
    ("actors:\n  - id: a\n    aliases: [Alpha]\n    context_aliases:\n      - the army\n      - 7\n",
     r"x.yaml: line 6: actor 'a' key 'context_aliases' has an invalid entry 7"),
    ("actors:\n  - id: a\n    aliases: [Alpha, Beta,\n      alpha]\n",
     r"x.yaml: line 4: actor 'a' key 'aliases': 'alpha' is already listed in 'aliases'"),
    ("actors:\n  - id: a\n    aliases: [Alpha]\n    context_aliases: [the army, Alpha]\n",
     r"x.yaml: line 4: actor 'a' key 'context_aliases': 'Alpha' is already listed in 'aliases'"),
    ("actors:\n  - id: a\n    aliases: [Alpha]\n  - id: b\n    aliases: [Beta]\n    context_aliases:\n"
     "      - Alpha\n", r"x.yaml: line 7: actor 'b' key 'context_aliases': 'Alpha' is an explicit alias of 'a'"),
])
def test_actor_file_mistakes_name_their_line(bad, message):
    with pytest.raises(UsageError, match=message):
        parse_actors(bad, "x.yaml")


PRESET_IDS = {
    "syria": ["turkey", "russia", "assad_regime", "united_states", "sdf"],
    "ukraine": ["russia", "ukraine", "nato", "united_states"],
    "israel": ["israel", "hamas", "hezbollah", "iran"],
    "sudan": ["saf", "rsf", "uae"],
    "ethiopia": ["ethiopian_government", "tplf", "eritrea"],
    "karabakh": ["armenia", "azerbaijan", "russia"],
    "kashmir": ["india", "pakistan"],
    "yemen": ["houthis", "saudi_arabia", "united_states"],
    "libya": ["lna", "gna", "turkey", "russia"],
    "drc": ["drc_government", "m23", "rwanda"],
    "myanmar": ["junta", "resistance", "china"],
}


def test_presets_load_by_name_with_their_ids():
    from pipeline.actors import load_actors, presets

    assert presets() == sorted(PRESET_IDS)
    for name, ids in PRESET_IDS.items():
        actors = load_actors(name)
        assert [a.id for a in actors] == ids
        ActorMatcher(actors)  # compiles


def test_a_path_still_works_and_an_unknown_preset_is_a_usage_error(tmp_path):
    from pipeline.actors import load_actors

    path = tmp_path / "mine.yaml"
    path.write_text("actors:\n  - id: a\n    aliases: [Alpha]\n")
    assert [a.id for a in load_actors(str(path))] == ["a"]
    with pytest.raises(UsageError, match=r"no actors preset or file 'ukrane' \(presets: drc, ethiopia, "):
        load_actors("ukrane")


@pytest.mark.parametrize("preset, text, expected", [
    ("syria", "The Free Syrian Army and the Syrian Democratic Forces met near Damascus.", {"sdf"}),
    ("syria", "Syrian refugees returned to northern Syria.", set()),
    ("sudan", "Sudanese civilians fled Khartoum.", set()),
    ("ethiopia", "Aid reached Tigray, in northern Ethiopia.", set()),
    ("myanmar", "The Arakan Army seized a town in western Myanmar.", {"resistance"}),
    ("ukraine", "Ukrainian and Russian negotiators met in Istanbul.", {"ukraine", "russia"}),
])
def test_countries_and_factions_in_presets(preset, text, expected):
    """A country's name as a place mentions a country actor, never a faction actor."""
    from pipeline.actors import load_actors

    assert {m.actor for m in ActorMatcher(load_actors(preset)).find(text)} == expected


@pytest.mark.parametrize("text, expected", [
    ("SANA said troops shelled the town.", [("assad_regime", "SANA", "explicit"), ("assad_regime", "troops", "context")]),
    ("Assad said Ankara has 10,000 troops in Idlib.",
     [("assad_regime", "Assad", "explicit"), ("turkey", "Ankara", "explicit"), ("turkey", "troops", "context")]),
    ("Assad hailed the Russia-regime offensive and pro-regime forces.",
     [("assad_regime", "Assad", "explicit"), ("russia", "Russia", "explicit"), ("assad_regime", "regime", "context"),
      ("assad_regime", "pro-regime forces", "explicit")]),
    ("Syria's president thanked Syrian and Russian air forces.",
     [("assad_regime", "Syria's president", "explicit"), ("assad_regime", "Syrian", "explicit"),
      ("russia", "Russian", "explicit")]),
    ("The Free Syrian Army entered the capital, Damascus, as government forces left.", []),
])
def test_default_actors_read_as_a_reader_does(matcher, text, expected):
    assert kinds(matcher, text) == expected
