"""The CLI end to end on a small corpus: every table read back with pyarrow and DuckDB."""

import json
import os

import duckdb
import pyarrow.parquet as pq
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from pipeline.cli import main
from pipeline.schemas import TABLES

HAND_CHECKED = ("ANKARA, March 5 (Wire) - Turkish troops were killed by regime forces near Idlib. "
                "Erdoğan said Moscow must act.")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    rows = [
        {"id": "w1", "source": "Wire", "published": "2024-03-05T10:00:00Z", "title": "Troops killed", "text": HAND_CHECKED},
        {"id": "w2", "source": "Wire", "published": "2024-03-05", "text": "Putin and Assad met in Sochi. Rain fell."},
        {"id": "w3", "source": "Wire", "published": "2024-03-06", "text": "Markets were calm on Wednesday."},
        {"id": "w4", "source": "Wire", "text": 17},  # a dead letter
    ]
    (d / "wire.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (d / "note.txt").write_text("Türkiye and Russia signed a deal.", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def result(corpus, model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "run"
    code = main(["-q", "run", "--input", str(corpus), "--output", str(out), "--model", model_path])
    assert code == 0
    return out


def read(out, name):
    return pq.read_table(os.path.join(out, name)).to_pylist()


def test_layout_and_success_marker(result):
    assert sorted(os.listdir(result)) == ["_SUCCESS", "actors", "articles", "daily", "errors", "manifest.json", "mentions"]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_schemas_match_the_declared_ones(result, name):
    schema = pq.read_schema(next(iter(sorted((result / name).glob("*.parquet")))))
    assert schema.remove_metadata().equals(TABLES[name].remove_metadata())
    for field in TABLES[name]:
        assert schema.field(field.name).metadata == field.metadata  # column meanings travel with the file


def test_hand_checked_article(result):
    rows = sorted((r for r in read(result, "mentions") if r["article_id"] == "w1"),
                  key=lambda r: (r["sentence_index"], r["actor"]))
    first = "ANKARA, March 5 (Wire) - Turkish troops were killed by regime forces near Idlib."
    second = "Erdoğan said Moscow must act."
    assert [(r["sentence_index"], r["actor"], r["aliases"]) for r in rows] == [
        (0, "assad_regime", ["regime forces"]), (0, "turkey", ["Ankara", "Turkish troops"]),
        (1, "russia", ["Moscow"]), (1, "turkey", ["Erdoğan"])]
    for r in rows:
        assert HAND_CHECKED[r["sentence_start"]:r["sentence_end"]] == r["sentence"]
        assert r["sentence"] == (first if r["sentence_index"] == 0 else second)
        for alias, s, e in zip(r["aliases"], r["mention_starts"], r["mention_ends"]):
            assert r["sentence"][s:e].lower() == alias.lower()
        vader = SentimentIntensityAnalyzer().polarity_scores(r["sentence"])
        assert (r["vader_compound"], r["vader_pos"], r["vader_neu"], r["vader_neg"]) == (
            vader["compound"], vader["pos"], vader["neu"], vader["neg"])
        assert abs(r["p_favor"] + r["p_against"] + r["p_neutral"] - 1) < 1e-9
        assert r["stance"] == max(("favor", "against", "neutral"), key=lambda k: r[f"p_{k}"])
        assert str(r["published"]) == "2024-03-05" and r["source"] == "Wire"
    assert rows[0]["sentence_start"] == 0 and rows[0]["sentence_end"] == len(first)
    assert rows[2]["sentence_start"] == len(first) + 1
    # The one label a reader cannot dispute: troops "killed by regime forces" is against the regime.
    assert rows[0]["stance"] == "against"

    article = {r["actor"]: r for r in read(result, "articles") if r["article_id"] == "w1"}
    assert sorted(article) == ["assad_regime", "russia", "turkey"]
    turkey = article["turkey"]
    assert (turkey["sentences"], turkey["mentions"], turkey["title"]) == (2, 2, "Troops killed")
    labels = [r["stance"] for r in rows if r["actor"] == "turkey"]
    assert turkey["favor"] == labels.count("favor") and turkey["against"] == labels.count("against")
    assert turkey["stance_score"] == (labels.count("favor") - labels.count("against")) / 2
    assert turkey["mean_vader_compound"] == pytest.approx(sum(r["vader_compound"] for r in rows if r["actor"] == "turkey") / 2)


def test_counts_reconcile(result):
    manifest = json.loads((result / "manifest.json").read_text())
    c = manifest["counts"]
    assert c == {"records_read": 5, "articles_analysed": 4, "dead_letters": 1, "sentences": 6,
                 "sentences_cut": 0, "mentions": len(read(result, "mentions"))}
    assert c["records_read"] == c["articles_analysed"] + c["dead_letters"]
    errors = read(result, "errors")
    assert [(e["article_id"], e["record"], e["error_kind"]) for e in errors] == [("w4", 4, "wrong_type")]
    assert manifest["tables"]["mentions"]["rows"] == c["mentions"]
    assert manifest["model"]["model_version"] and manifest["model"]["training_data_hash"]
    assert len(manifest["config_hash"]) == 64 and manifest["packages"]["apache-beam"]
    ids = {r["article_id"] for r in read(result, "articles")}
    assert ids == {"w1", "w2", "note.txt"}  # w3 mentions nobody


def test_duckdb_reads_every_table(result):
    con = duckdb.connect()
    for name in TABLES:
        n = con.sql(f"select count(*) from read_parquet('{result}/{name}/*.parquet')").fetchall()[0][0]
        assert n == len(read(result, name))
    daily = con.sql(f"select source, cast(published as varchar), actor, articles, source_articles "
                    f"from read_parquet('{result}/daily/*.parquet') where source = 'Wire' order by 2, 3").fetchall()
    assert daily == [("Wire", "2024-03-05", "assad_regime", 2, 2), ("Wire", "2024-03-05", "russia", 2, 2),
                     ("Wire", "2024-03-05", "turkey", 1, 2)]
    per_actor = dict(con.sql(f"select actor, articles from read_parquet('{result}/actors/*.parquet')").fetchall())
    assert per_actor == {"turkey": 2, "russia": 3, "assad_regime": 2}


def test_rerun_replaces_the_result(corpus, model_path, tmp_path):
    out = tmp_path / "out"
    assert main(["-q", "run", "--input", str(corpus), "--output", str(out), "--model", model_path]) == 0
    assert main(["-q", "run", "--input", str(corpus / "note.txt"), "--output", str(out), "--model", model_path]) == 0
    assert {r["article_id"] for r in read(out, "mentions")} == {"note.txt"}
    assert json.loads((out / "manifest.json").read_text())["counts"]["records_read"] == 1
    assert not [p for p in os.listdir(out) if p.startswith(".staging")]


@pytest.mark.parametrize("args, message", [
    (["run", "--input", "/nonexistent/*.jsonl", "--output", "{tmp}/o"], "Error: no file matches: /nonexistent/*.jsonl"),
    (["run", "--input", "{corpus}", "--output", "{corpus}/note.txt"], "is a file, not a directory"),
    (["run", "--input", "{corpus}", "--output", "{tmp}/o", "--model", "{tmp}/missing.skops"], "model file"),
    (["run", "--input", "{corpus}", "--output", "{tmp}/o", "--actors", "{tmp}/none.yaml"], "cannot read actors file"),
    (["run", "--input", "{corpus}", "--output", "{tmp}/o", "--config", "{tmp}/none.yaml"], "cannot read config file"),
])
def test_usage_errors_are_one_line(args, message, corpus, tmp_path, capsys, model_path):
    args = [a.format(tmp=tmp_path, corpus=corpus) for a in args]
    if "--model" not in args:
        args += ["--model", model_path]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and message in err[0]


def test_help_explains(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--input", "--output", "--actors", "--config", "--model", "Beam pipeline option"):
        assert flag in out
