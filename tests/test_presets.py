"""A non-default preset end to end: the CLI with --actors sudan on team-written articles, mentions/
read back with its alias_kind column; and the one-line errors for a wrong preset or actors file."""

import json
import os

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from tests.conftest import ROOT

SAMPLE = os.path.join(ROOT, "datasets", "sample-sudan")


@pytest.fixture(scope="module")
def result(model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("sudan") / "run"
    assert main(["-q", "run", "--input", SAMPLE, "--output", str(out), "--actors", "sudan", "--model", model_path]) == 0
    return out


def test_sudan_preset_mentions(result):
    rows = pq.read_table(os.path.join(result, "mentions")).to_pylist()
    got = sorted((r["article_id"], r["sentence_index"], r["actor"], tuple(r["aliases"]), r["alias_kind"]) for r in rows)
    assert got == [
        ("nile-001", 0, "rsf", ("Rapid Support Forces",), "explicit"),
        ("nile-001", 0, "saf", ("Sudanese army",), "explicit"),
        ("nile-001", 1, "rsf", ("the paramilitary",), "context"),
        ("nile-001", 1, "saf", ("army troops",), "context"),
        ("nile-001", 2, "saf", ("government forces",), "context"),
        ("nile-001", 3, "rsf", ("RSF",), "explicit"),
        ("nile-001", 3, "saf", ("the army",), "context"),
        ("nile-002", 1, "rsf", ("the militia",), "context"),
        ("nile-002", 1, "saf", ("Burhan", "the government"), "explicit"),
        ("nile-002", 2, "rsf", ("Hemedti",), "explicit"),
        ("nile-002", 3, "rsf", ("RSF",), "explicit"),
        ("nile-002", 3, "saf", ("the army",), "context"),
        ("nile-002", 3, "uae", ("United Arab Emirates",), "explicit"),
        ("nile-002", 4, "uae", ("Abu Dhabi",), "explicit"),
    ]  # nile-003's "Troops" stands in an article that names nobody; "Sudanese civilians" is not the SAF
    for r in rows:
        for alias, s, e in zip(r["aliases"], r["mention_starts"], r["mention_ends"]):
            assert r["sentence"][s:e].lower() == alias.lower()


def test_sudan_preset_tables_and_manifest(result):
    actors = {r["actor"]: r["articles"] for r in pq.read_table(os.path.join(result, "actors")).to_pylist()}
    assert actors == {"saf": 2, "rsf": 2, "uae": 1}
    manifest = json.loads((result / "manifest.json").read_text())
    assert manifest["actors"] == ["saf", "rsf", "uae"]


@pytest.mark.parametrize("actors, message", [
    ("sudn", "Error: no actors preset or file 'sudn' (presets: drc, ethiopia, israel, karabakh, kashmir, "
             "libya, myanmar, sudan, syria, ukraine, yemen)\n"),
    ("BAD", None),
])
def test_a_wrong_actors_value_is_one_error_line(actors, message, model_path, tmp_path, capsys):
    if message is None:  # a file with a mistake: its line is in the message
        bad = tmp_path / "actors.yaml"
        bad.write_text("actors:\n  - id: saf\n    aliases: [SAF]\n    context_aliases:\n      - the army\n      - ''\n")
        actors, message = str(bad), f"Error: {bad}: line 6: actor 'saf' key 'context_aliases' has an invalid entry ''\n"
    code = main(["-q", "run", "--input", SAMPLE, "--output", str(tmp_path / "out"), "--actors", actors,
                 "--model", model_path])
    assert code == 1
    assert capsys.readouterr().err == message
