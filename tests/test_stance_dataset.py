"""The committed stance dataset is what datasets/stance/build.py makes of the writers' files, and it
keeps the promises the README makes of it: split by document, no near-duplicate across the split,
spans that point at the target, and most examples about actors other than the three defaults."""

import importlib.util
import json
import os

import pytest

from tests.conftest import ROOT

STANCE = os.path.join(ROOT, "datasets", "stance")


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("stance_build", os.path.join(STANCE, "build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def splits():
    return {name: [json.loads(line) for line in open(os.path.join(STANCE, f"{name}.jsonl"), encoding="utf-8")]
            for name in ("train", "calibration", "test")}


def test_committed_splits_are_the_builds_output(build, splits):
    assert build.build() == splits, "run `make data` after editing datasets/stance/parts/"


def test_split_by_document_without_near_duplicates_across(build, splits):
    train, test = splits["train"] + splits["calibration"], splits["test"]
    assert not {r["doc_id"] for r in train} & {r["doc_id"] for r in test}
    assert not {r["doc_id"] for r in splits["train"]} & {r["doc_id"] for r in splits["calibration"]}
    # Documents joined by a near-duplicate sentence (build.components) must all sit on one side.
    side = {r["doc_id"]: name for name, rows in splits.items() for r in rows}
    groups: dict = {}
    for doc, group in build.components(splits["train"] + splits["calibration"] + test).items():
        groups.setdefault(group, set()).add(side[doc])
    assert all(len(sides) == 1 for sides in groups.values())


def test_examples_are_well_formed(splits):
    rows = splits["train"] + splits["test"]
    assert len(rows) >= 3000
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["label"] in ("favor", "against", "neutral")
        assert r["targets"] == sorted(r["targets"])
        for start, end in r["targets"]:
            assert 0 <= start < end <= len(r["sentence"])
            assert r["sentence"][start:end].strip() == r["sentence"][start:end]


def test_most_examples_are_about_actors_other_than_the_defaults(splits, matcher):
    rows = splits["train"] + splits["test"]
    default = sum(bool(matcher.find(r["actor"])) for r in rows)
    assert 1 - default / len(rows) >= 0.4


def test_pronouns_are_named_by_occurrence(build):
    sentence = "He said Ms Okafor would resign, and she did, taking her staff with her."
    she, last_her = sentence.index("she"), sentence.rindex("her")
    assert build.pronoun_spans(sentence, [["she", 1], ["her", 2]]) == [[she, she + 3], [last_her, last_her + 3]]
    assert build.pronoun_spans(sentence, [["he", 1]]) == [[0, 2]]
    with pytest.raises(ValueError, match="has 1"):
        build.pronoun_spans(sentence, [["she", 2]])


def test_unlabelled_inputs_are_the_builds_and_none_repeats_a_held_out_sentence(build, splits):
    held_out = splits["test"] + splits["calibration"]
    committed = [json.loads(line) for line in open(os.path.join(STANCE, "unlabelled.jsonl"), encoding="utf-8")]
    assert build.build_unlabelled(held_out) == committed, "run `make data` after editing datasets/stance/unlabelled/"
    assert len(committed) >= 5000 and all("label" not in r for r in committed)
    held = {r["sentence"]: build.shingles(r["sentence"]) for r in held_out}
    for r in committed[::25]:  # the build checks all of them; a sample here re-checks it independently
        sh = build.shingles(r["sentence"])
        assert all(len(sh & h) / len(sh | h) < build.NEAR_DUPLICATE for h in held.values())


def test_the_audit_only_changes_labels_it_names(build):
    rows = build.adjudicate(build.dedupe(build.load_parts()))
    before = {r["id"]: r["label"] for r in rows}
    after = {r["id"]: r["label"] for r in build.audit([dict(r) for r in rows])}
    changed = {i for i in before if before[i] != after[i]}
    named = set()
    for path in os.listdir(os.path.join(STANCE, "audit")):
        for line in open(os.path.join(STANCE, "audit", path), encoding="utf-8"):
            if line.strip():
                d = json.loads(line)
                named.add(d["id"])
                assert before[d["id"]] == d["from"] and after[d["id"]] == d["to"]
    assert changed == {i for i in named if i in before}
