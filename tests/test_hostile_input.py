"""Bad input, faults and re-runs (issue #4): nothing lost, every failure explained.

Every input here is built in tmp_path and run through the real CLI (``pipeline.cli.main``, in-process)
or, where the process itself is under test (real stderr, SIGKILL), a subprocess. One hostile corpus
holds most of the record-level cases and is run once; its tests each check one behaviour.
"""

import codecs
import functools
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.actors import fold
from pipeline.cli import main
from tests.conftest import ROOT

# ---- helpers ---------------------------------------------------------------------------------------

SORT_KEYS = {"mentions": ("article_id", "sentence_index", "actor"), "articles": ("article_id", "actor"),
             "daily": ("source", "published", "actor"), "actors": ("actor",), "errors": ("input_file", "record")}


def run(*args: str) -> int:
    return main(["-q", "run", *map(str, args)])


def read(out, name) -> list[dict]:
    return pq.read_table(os.path.join(out, name)).to_pylist()


def sorted_rows(out, name) -> list[dict]:
    # None sorts first, so nullable keys (source, published, record) order the same in every run.
    def key(r):
        return tuple((r[k] is not None, r[k] if r[k] is not None else "") for k in SORT_KEYS[name])
    return sorted(read(out, name), key=key)


def manifest(out) -> dict:
    return json.loads((out / "manifest.json").read_text())


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("Error: ") and "Traceback" not in err
    return lines[0]


def same_alias(mention_text: str, alias: str) -> bool:
    """The matcher's notion of equality: case- and diacritic-insensitive, any run of spaces or
    hyphens (after folding) standing for one space."""
    def norm(s):
        return re.sub(r"[\s\-]+", " ", fold(s)).casefold().strip()
    return norm(mention_text) == norm(alias)


def tree(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files}


def jsonl(*records) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n"
                    for r in records)


@pytest.fixture(scope="module")
def model_file(model_path, tmp_path_factory):
    """A private copy of the model, so that every run in this module uses the very same one even if
    models/ is retrained meanwhile."""
    path = tmp_path_factory.mktemp("model") / "stance.skops"
    shutil.copyfile(model_path, path)
    return str(path)


# ---- the hostile corpus ------------------------------------------------------------------------------

RUN_ON_CHARS = 200_000
HTML = ('<div><p>Putin &amp; Erdo&#287;an met in Sochi.</p><script>var who = "Assad";</script>'
        "<p>They &quot;agreed&quot; on&nbsp;nothing.</p></div>")
EMOJI = "Putin 👍🏽 smiled at Erdoğan 😀. 🇹🇷🇷🇺 flags waved."
RTL = "قال الرئيس Putin إن موسكو مستعدة للحوار. אמר Erdoğan כי הוא מוכן."
GERMAN = "Die Türkei und Russland verhandeln seit Wochen. Erdoğan traf Putin in Sotschi und lächelte."


@functools.lru_cache(maxsize=1)
def _run_on_text() -> str:
    """200,000 characters, no sentence punctuation at all, an actor every few hundred characters."""
    words = ["Putin" if i % 60 == 0 else f"word{i % 7}" for i in range(RUN_ON_CHARS // 5)]
    return " ".join(words)[:RUN_ON_CHARS]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, model_file):
    """Builds the corpus, runs it once, and returns what the tests need to check the result.

    ``errors``: (file name, record, article id, error kind) for every record that must be
    dead-lettered; ``good``: the ids that must be analysed (every good text mentions an actor, so
    each appears in the articles table); ``kept``: the record number of each good id.
    """
    sandbox = tmp_path_factory.mktemp("sandbox")
    inp = sandbox / "in"
    inp.mkdir()
    out = sandbox / "deep" / "er" / "out"  # "../../x" from out/ or out/<table>/ stays inside the sandbox
    errors, good, kept = [], set(), {}

    # JSON Lines: BOM first, CRLF line ends, a blank line (not a record), one case per line.
    lines = []

    def line(record, kind=None, article_id=None):
        lines.append(record if isinstance(record, bytes) else json.dumps(record, ensure_ascii=False).encode())
        number = len(lines) + (1 if len(lines) > 3 else 0)  # the blank line after line 3 counts
        if kind:
            errors.append(("a_records.jsonl", number, article_id, kind))
        elif isinstance(record, dict):
            good.add(record["id"])
            kept.setdefault(record["id"], number)

    line({"id": "j_bom", "title": "first line", "text": "Putin spoke first.\r\nErdoğan replied.\r\n"})
    line(b'{"id": "j_broken", "text": "Putin', "malformed_json")
    line(b'{"id": "j_bad_utf8", "text": "Putin \xff\xfe spoke."}', "invalid_utf8")
    # (a blank line goes here: see the record arithmetic in line())
    line({"id": "j_nul", "text": "Putin\u0000spoke.\u0000 Then\x01 left."})  # escaped control characters
    line(b'{"id": "j_raw_nul", "text": "Putin\x00 spoke."}', "malformed_json")  # JSON forbids raw ones
    line({"id": "j_empty", "text": ""}, "empty_text", "j_empty")
    line({"id": "j_blank", "text": " \n\t\u00a0\r\n "}, "empty_text", "j_blank")
    line({"text": "Putin spoke without an id."}, "missing_id")
    line({"id": "j_no_text", "title": "Putin"}, "missing_text", "j_no_text")
    line({"id": "j_text_number", "text": 42}, "wrong_type", "j_text_number")
    line({"id": "j_text_list", "text": ["Putin", "spoke"]}, "wrong_type", "j_text_list")
    line({"id": ["j"], "text": "Putin spoke."}, "wrong_type")
    line(["Putin", "spoke"], "wrong_type")
    line(b"[" * 100_000, "malformed_json")  # nesting deep enough to exhaust the recursion limit
    line({"id": "dup1", "title": "kept", "text": "Putin spoke (the kept one)."})
    line({"id": "dup1", "title": "second", "text": "Putin spoke again."}, "duplicate_id", "dup1")
    line({"id": "j_html", "text": HTML})
    line({"id": "j_emoji", "text": EMOJI})
    line({"id": "j_rtl", "text": RTL})
    line({"id": "j_german", "text": GERMAN})
    line({"id": "j_future", "published": "2999-06-01", "text": "Putin will speak."})
    line({"id": "j_epoch", "published": "1970-01-01T00:00:00Z", "text": "Putin was not born yet."})
    line({"id": "j_bad_date", "published": "next tuesday", "text": "Putin spoke."}, "invalid_date", "j_bad_date")
    line({"id": "j_date_number", "published": 20240305, "text": "Putin spoke."}, "invalid_date", "j_date_number")
    # A valid ISO datetime whose UTC date is in year 10000.
    line({"id": "j_date_overflow", "published": "9999-12-31T23:30:00-05:00", "text": "Putin spoke."},
         "invalid_date", "j_date_overflow")
    line(b'{"id": "j_surrogate", "text": "Putin \\ud800 spoke."}', "invalid_utf8")  # a lone UTF-16 half
    line(b'{"id": "j_pair", "text": "Putin \\ud83d\\ude00 spoke."}')  # a proper surrogate pair is fine
    good.add("j_pair")
    line({"id": "dup2", "title": "kept", "text": "Putin spoke (kept: a_records sorts before b_dups)."})
    for evil in ("../../evil", "../../../../evil.parquet", "/evil_absolute", "..\\..\\evil_backslash"):
        line({"id": evil, "text": "Putin spoke from a strange place."})
    body = b"\r\n".join(lines[:3]) + b"\r\n\r\n" + b"\r\n".join(lines[3:]) + b"\r\n"
    (inp / "a_records.jsonl").write_bytes(codecs.BOM_UTF8 + body)

    # Duplicates in a later file (by name): both lose to a_records.jsonl, whatever their line.
    (inp / "b_dups.jsonl").write_bytes(jsonl({"id": "dup1", "text": "Putin, third copy."},
                                             {"id": "dup2", "text": "Putin, second copy."}))
    errors += [("b_dups.jsonl", 1, "dup1", "duplicate_id"), ("b_dups.jsonl", 2, "dup2", "duplicate_id")]

    # A 5 MB article, then a good record in the same file: the file goes on after the big one.
    (inp / "c_big.jsonl").write_bytes(jsonl({"id": "big", "text": "Putin spoke. " * 400_000},
                                            {"id": "after_big", "text": "Putin spoke briefly."}))
    errors.append(("c_big.jsonl", 1, "big", "too_large"))
    good.add("after_big")
    (inp / "c_big.csv").write_text("id,text\nbig_csv,\"" + "Putin spoke. " * 400_000 + "\"\ncsv_after_big,Putin\n",
                                    encoding="utf-8")
    errors.append(("c_big.csv", 1, "big_csv", "too_large"))
    good.add("csv_after_big")

    (inp / "d_run_on.jsonl").write_bytes(jsonl({"id": "run_on", "text": _run_on_text()}))
    good.add("run_on")

    # CSV: BOM, CRLF, quoted newlines and quotes, a raw NUL, an empty text field (= missing).
    (inp / "e_quoted.csv").write_bytes(codecs.BOM_UTF8 + (
        'id,title,text\r\n'
        'csv1,"Two\nlines","Putin spoke.\nErdoğan said ""no"", twice.\r\nThe end."\r\n'
        'csv2,,"Putin\x00 spoke."\r\n'
        'csv3,no text,\r\n'
        'csv4,,Assad spoke\r\n').encode())
    good |= {"csv1", "csv2", "csv4"}
    errors.append(("e_quoted.csv", 3, "csv3", "missing_text"))

    # gzip cut in the middle: the records before the cut are analysed, the file gets one dead letter.
    gz_lines = jsonl(*({"id": f"gz{i}", "text": f"Putin spoke for the {i}th time at length."} for i in range(400)))
    packed = gzip.compress(gz_lines)
    cut = packed[:len(packed) // 2]
    (inp / "f_truncated.jsonl.gz").write_bytes(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)
    complete = readable.count(b"\n")
    assert 0 < complete < 400
    good |= {f"gz{i}" for i in range(complete)}
    errors.append(("f_truncated.jsonl.gz", complete + 1, None, "unreadable_file"))

    pq.write_table(pa.table({"headline": ["Putin"], "body": ["Putin spoke."]}), inp / "g_wrong_schema.parquet")
    errors.append(("g_wrong_schema.parquet", None, None, "bad_schema"))
    (inp / "h_not_parquet.parquet").write_bytes(b"PAR1 this is not a Parquet file")
    errors.append(("h_not_parquet.parquet", None, None, "unreadable_file"))
    pq.write_table(pa.table({"id": ["pq1", "pq2"], "text": ["Putin spoke in Parquet.", None]}), inp / "i_ok.parquet")
    good.add("pq1")
    errors.append(("i_ok.parquet", 2, "pq2", "missing_text"))

    (inp / "j_empty.jsonl").write_bytes(b"")  # no records, no error
    (inp / "k_note.txt").write_bytes(codecs.BOM_UTF8 + "Putin spoke.\r\nErdoğan\x00 listened.\r\n".encode())
    good.add("k_note.txt")
    (inp / "l_bad.txt").write_bytes(b"Putin \xc3\x28 spoke.")
    errors.append(("l_bad.txt", 1, "l_bad.txt", "invalid_utf8"))
    (sandbox / "notes.xml").write_text("<a>Putin</a>")  # named on the command line: format unknown
    errors.append(("notes.xml", None, None, "unsupported_format"))

    before = tree(sandbox)
    t0 = time.perf_counter()
    code = run("--input", inp, sandbox / "notes.xml", "--output", out, "--model", model_file)
    seconds = time.perf_counter() - t0
    return {"code": code, "out": out, "sandbox": sandbox, "before": before,
            "errors": errors, "good": good, "kept": kept, "gz_complete": complete, "seconds": seconds}


def test_run_succeeds_despite_dead_letters(hostile):
    out = hostile["out"]
    assert hostile["code"] == 0
    assert sorted(os.listdir(out)) == ["_SUCCESS", "actors", "articles", "daily", "errors", "manifest.json", "mentions"]


def test_each_bad_record_is_exactly_one_error_row(hostile):
    rows = read(hostile["out"], "errors")
    got = sorted(((os.path.basename(r["input_file"]), r["record"], r["article_id"], r["error_kind"]) for r in rows),
                 key=repr)
    assert got == sorted(hostile["errors"], key=repr)
    for r in rows:
        assert r["message"].strip() and "\n" not in r["message"], r
        assert r["raw"] is None or len(r["raw"]) <= 2000


@pytest.mark.parametrize("kind, fragment", [
    ("malformed_json", "invalid JSON"),
    ("invalid_utf8", "UTF"),
    ("too_large", "the limit is 1000000"),
    ("invalid_date", "published"),
    ("unreadable_file", "EOFError"),
    ("bad_schema", "must have columns 'id' and 'text', has ['headline', 'body']"),
    ("duplicate_id", "a_records.jsonl record"),
    ("unsupported_format", "cannot tell the format"),
])
def test_error_messages_explain(hostile, kind, fragment):
    messages = [r["message"] for r in read(hostile["out"], "errors") if r["error_kind"] == kind]
    assert messages and any(fragment in m for m in messages), messages


def test_every_good_record_is_analysed_and_counts_reconcile(hostile):
    out = hostile["out"]
    assert {r["article_id"] for r in read(out, "articles")} == hostile["good"]
    c = manifest(out)["counts"]
    assert c["articles_analysed"] == len(hostile["good"])
    assert c["dead_letters"] == len(hostile["errors"]) == len(read(out, "errors"))
    assert c["records_read"] == c["articles_analysed"] + c["dead_letters"]
    assert c["mentions"] == len(read(out, "mentions"))


def test_duplicates_keep_the_first_by_file_then_record(hostile):
    articles = {r["article_id"]: r for r in read(hostile["out"], "articles")}
    assert articles["dup1"]["title"] == "kept" and articles["dup2"]["title"] == "kept"
    dup_errors = [r for r in read(hostile["out"], "errors") if r["error_kind"] == "duplicate_id"]
    assert len(dup_errors) == 3
    for r in dup_errors:
        kept_record = hostile["kept"][r["article_id"]]
        assert r["message"].endswith(f"a_records.jsonl record {kept_record}; that one was analysed")


def test_a_truncated_gzip_keeps_the_records_before_the_cut(hostile):
    ids = {r["article_id"] for r in read(hostile["out"], "articles") if r["article_id"].startswith("gz")}
    assert ids == {f"gz{i}" for i in range(hostile["gz_complete"])}
    (dead,) = [r for r in read(hostile["out"], "errors") if r["input_file"].endswith(".gz")]
    assert f"(after record {hostile['gz_complete']})" in dead["message"]


def test_offsets_and_text_survive_hostile_characters(hostile):
    rows = read(hostile["out"], "mentions")
    for r in rows:
        s = r["sentence"]
        assert not set(s) & {"\x00", "\x01", "\r", "\ufeff"} and "<" not in s and "&amp;" not in s
        for alias, start, end in zip(r["aliases"], r["mention_starts"], r["mention_ends"]):
            assert same_alias(s[start:end], alias), (r["article_id"], s, alias)
    by_id = {}
    for r in rows:
        by_id.setdefault(r["article_id"], set()).add((r["actor"], r["sentence"]))

    def both(sentence):
        return {("russia", sentence), ("turkey", sentence)}

    assert by_id["j_html"] == both("Putin & Erdoğan met in Sochi.")  # the <script> naming Assad is gone
    assert by_id["j_emoji"] == both("Putin 👍🏽 smiled at Erdoğan 😀.")
    assert by_id["j_rtl"] == {("russia", "قال الرئيس Putin إن موسكو مستعدة للحوار."),
                              ("turkey", "אמר Erdoğan כי הוא מוכן.")}
    assert by_id["j_german"] == both("Erdoğan traf Putin in Sotschi und lächelte.")
    assert by_id["j_nul"] == {("russia", "Putin spoke.")}
    assert by_id["csv1"] == {("russia", "Putin spoke."), ("turkey", 'Erdoğan said "no", twice.')}
    assert by_id["j_pair"] == {("russia", "Putin \U0001F600 spoke.")}
    assert by_id["k_note.txt"] == {("russia", "Putin spoke."), ("turkey", "Erdoğan  listened.")}


def test_dates_far_future_and_epoch_are_kept(hostile):
    published = {r["article_id"]: str(r["published"]) for r in read(hostile["out"], "articles")}
    assert published["j_future"] == "2999-06-01" and published["j_epoch"] == "1970-01-01"
    assert published["j_bom"] == "None"


def test_a_run_on_sentence_is_cut(hostile):
    out = hostile["out"]
    rows = sorted((r for r in read(out, "mentions") if r["article_id"] == "run_on"), key=lambda r: r["sentence_index"])
    cut = manifest(out)["counts"]["sentences_cut"]
    # Every piece of the run-on text mentions Putin, so the mentions show every piece.
    assert cut == len(rows) >= RUN_ON_CHARS // 2000
    assert [r["sentence_index"] for r in rows] == list(range(len(rows)))
    assert all(r["sentence_cut"] and len(r["sentence"]) <= 2000 for r in rows)
    assert " ".join(r["sentence"] for r in rows) == _run_on_text()
    assert not any(r["sentence_cut"] for r in read(out, "mentions") if r["article_id"] != "run_on")
    assert hostile["seconds"] < 120


def test_ids_cannot_write_outside_the_output(hostile):
    out, sandbox = hostile["out"], hostile["sandbox"]
    outside = {p for p in tree(sandbox) - hostile["before"] if not os.path.join(sandbox, p).startswith(str(out))}
    assert outside == {"deep", "deep/er"}  # only the parents of the output directory
    for directory in (os.getcwd(), os.path.dirname(os.getcwd()), "/"):
        assert not [n for n in os.listdir(directory) if "evil" in n], directory
    assert not any("evil" in p for p in tree(out))
    ids = {r["article_id"] for r in read(out, "articles")}
    assert {"../../evil", "../../../../evil.parquet", "/evil_absolute", "..\\..\\evil_backslash"} <= ids


def test_split_sentences_on_run_ons_is_fast():
    from pipeline.sentences import split_sentences

    for text in (_run_on_text(), "x" * 200_000, "a, " * 70_000):
        t0 = time.perf_counter()
        spans = split_sentences(text, 2000)
        assert time.perf_counter() - t0 < 2
        assert len(spans) >= 100 and all(s.cut and s.end - s.start <= 2000 for s in spans)


# ---- policies and whole-run outcomes -------------------------------------------------------------------

def test_duplicates_all_keeps_every_record(tmp_path, model_file):
    (tmp_path / "a.jsonl").write_bytes(jsonl({"id": "x", "title": "one", "text": "Putin spoke."},
                                             {"id": "x", "title": "two", "text": "Erdoğan spoke."}))
    (tmp_path / "b.jsonl").write_bytes(jsonl({"id": "x", "title": "three", "text": "Assad spoke."}))
    (tmp_path / "all.yaml").write_text("duplicates: all\n")
    out = tmp_path / "out"
    assert run("--input", tmp_path / "a.jsonl", tmp_path / "b.jsonl", "--output", out, "--model", model_file,
               "--config", tmp_path / "all.yaml") == 0
    assert sorted((r["title"], r["actor"]) for r in read(out, "articles")) == [
        ("one", "russia"), ("three", "assad_regime"), ("two", "turkey")]
    assert read(out, "errors") == []
    assert manifest(out)["counts"]["articles_analysed"] == 3


def test_only_empty_input_is_an_empty_success(tmp_path, model_file):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.csv").write_bytes(b"")
    out = tmp_path / "out"
    assert run("--input", tmp_path / "empty.jsonl", tmp_path / "blank.csv", "--output", out, "--model", model_file) == 0
    assert (out / "_SUCCESS").exists()
    assert manifest(out)["counts"] == {"records_read": 0, "articles_analysed": 0, "dead_letters": 0,
                                       "sentences": 0, "sentences_cut": 0, "mentions": 0}
    for name in ("mentions", "articles", "daily", "errors"):
        assert read(out, name) == []
    assert {r["actor"]: r["articles"] for r in read(out, "actors")} == {"turkey": 0, "russia": 0, "assad_regime": 0}


def test_zero_analysed_articles_fails_without_success(tmp_path, model_file):
    """A subprocess, so that the whole of stderr is seen: one Error line and nothing else."""
    (tmp_path / "bad.jsonl").write_bytes(jsonl({"id": "a", "text": ""}, b"{nope", {"id": "b"}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "_SUCCESS").write_text("")  # left by an earlier run: must not vouch for this one
    (out / "manifest.json").write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "-q", "run", "--input", str(tmp_path / "bad.jsonl"),
                           "--output", str(out), "--model", model_file],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "no article could be analysed: all 3 records were dead-lettered" in line
    assert not (out / "_SUCCESS").exists()
    assert sorted(r["error_kind"] for r in read(out, "errors")) == ["empty_text", "malformed_json", "missing_text"]
    assert proc.stdout == ""


def test_nothing_matched_in_a_subprocess(tmp_path, model_file):
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", str(tmp_path / "*.jsonl"),
                           "--output", str(tmp_path / "out"), "--model", model_file],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert one_error_line(proc.stderr) == f"Error: no file matches: {tmp_path / '*.jsonl'}"
    assert not (tmp_path / "out").exists()


# ---- usage errors: exit 1, one line, no traceback, nothing written ------------------------------------

ACTORS_OK = "actors:\n  - id: alpha\n    name: Alpha\n    aliases: [Alpha]\n"


def _write_model_variant(path, kind, model_file):
    if kind == "garbage":
        path.write_bytes(os.urandom(4096))
    elif kind == "truncated":
        data = open(model_file, "rb").read()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "future_format":
        import skops.io as sio

        from pipeline.stance.model import FORMAT_VERSION

        path.write_bytes(sio.dumps({"format_version": FORMAT_VERSION + 1, "model_version": "from-the-future",
                                    "training_data_hash": "0" * 64, "pipeline": None}))
    elif kind == "untrusted":
        import skops.io as sio
        from sklearn.preprocessing import FunctionTransformer

        from pipeline.stance.model import FORMAT_VERSION

        path.write_bytes(sio.dumps({"format_version": FORMAT_VERSION, "model_version": "x", "training_data_hash": "0" * 64,
                                    "pipeline": FunctionTransformer(func=os.system)}))


@pytest.mark.parametrize("case, fragments", [
    ("missing_input", ["no file matches", "missing.jsonl"]),
    ("glob_nothing", ["no file matches", "*.ndjson"]),
    ("dir_without_inputs", ["directory has no input files"]),
    ("config_is_a_directory", ["cannot read config file"]),
    ("config_not_utf8", ["cannot read config file"]),
    ("config_bad_yaml", ["config.yaml: line 2: invalid YAML"]),
    ("config_unknown_key", ["unknown key 'limits.max_article_char'"]),
    ("config_python_tag", ["config.yaml: line 1: invalid YAML", "python/object/apply:os.system"]),
    ("actors_missing", ["cannot read actors file"]),
    ("actors_unknown_key", ["actors.yaml: line 5:", "unknown key 'alias'"]),
    ("actors_empty_aliases", ["actors.yaml: line 5:", "actor 'beta' key 'aliases' must be a non-empty list"]),
    ("actors_bad_yaml", ["actors.yaml: line 3: invalid YAML"]),
    ("actors_python_tag", ["actors.yaml: line 3: invalid YAML", "python/object/apply:os.system"]),
    ("output_is_a_file", ["is a file, not a directory"]),
    ("model_missing", ["model file", "not found"]),
    ("model_garbage", ["is corrupted or not a stance model"]),
    ("model_truncated", ["is corrupted or not a stance model"]),
    ("model_future_format", ["has format version", "retrain it"]),
    ("model_untrusted", ["contains types this version does not trust", "posix.system"]),
])
def test_usage_errors(case, fragments, tmp_path, model_file, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_bytes(jsonl({"id": "a", "text": "Alpha spoke."}))
    pwned = tmp_path / "pwned"
    args = {"--input": str(tmp_path / "in"), "--output": str(tmp_path / "out"), "--model": model_file}
    config, actors = tmp_path / "config.yaml", tmp_path / "actors.yaml"
    actors.write_text(ACTORS_OK)
    args["--actors"] = str(actors)
    python_tag = f'!!python/object/apply:os.system ["touch {pwned}"]'
    if case == "missing_input":
        args["--input"] = str(tmp_path / "missing.jsonl")
    elif case == "glob_nothing":
        args["--input"] = str(tmp_path / "in" / "*.ndjson")
    elif case == "dir_without_inputs":
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "readme.md").write_text("no articles here")
        args["--input"] = str(tmp_path / "other")
    elif case.startswith("config_"):
        args["--config"] = str(config)
        if case == "config_is_a_directory":
            config.mkdir()
        else:
            config.write_bytes({"config_not_utf8": b"limits:\n  max_sentence_chars: \xff\xfe\n",
                                "config_bad_yaml": b"limits:\n\tmax_sentence_chars: 5\n",
                                "config_unknown_key": b"limits:\n  max_article_char: 5\n",
                                "config_python_tag": f"duplicates: {python_tag}\n".encode()}[case])
    elif case == "actors_missing":
        args["--actors"] = str(tmp_path / "nowhere.yaml")
    elif case.startswith("actors_"):
        second = {"actors_unknown_key": "  - id: beta\n    name: Beta\n    alias: [Beta]\n",
                  "actors_empty_aliases": "  - id: beta\n    name: Beta\n    aliases: []\n"}
        actors.write_text({"actors_bad_yaml": "actors:\n  - id: alpha\n\tname: Alpha\n",
                           "actors_python_tag": f"actors:\n  - id: alpha\n    name: {python_tag}\n    aliases: [A]\n",
                           }.get(case) or ACTORS_OK + second[case])
    elif case == "output_is_a_file":
        (tmp_path / "out").write_text("I am a file")
    elif case == "model_missing":
        args["--model"] = str(tmp_path / "missing.skops")
    elif case.startswith("model_"):
        args["--model"] = str(tmp_path / "model.skops")
        _write_model_variant(tmp_path / "model.skops", case[len("model_"):], model_file)

    argv = ["-q", "run"] + [x for kv in args.items() for x in kv]
    capsys.readouterr()
    assert main(argv) == 1
    line = one_error_line(capsys.readouterr().err)
    for fragment in fragments:
        assert fragment in line
    assert not pwned.exists()  # YAML is loaded safely: no tag runs code
    if case == "output_is_a_file":
        assert (tmp_path / "out").read_text() == "I am a file"
    else:
        assert not (tmp_path / "out").exists()  # failed before any work was done


# ---- faults and re-runs -----------------------------------------------------------------------------

def _corpus(directory, n):
    texts = ["Putin met Erdoğan in Ankara on Monday. Russian forces shelled the town, and Turkish troops withdrew.",
             "The Kremlin denied the report. Assad's forces advanced near Idlib while Moscow said little.",
             "Erdoğan praised the ceasefire. Critics said Putin had gained the most from it."]
    sources, days = ["Wire", "Daily", None], ["2024-03-05", "2024-03-06T23:30:00-02:00", None]
    records = [{"id": f"k{i}", "source": sources[i % 3], "published": days[i % 4 % 3],
                "text": texts[i % 3] + f" Item {i}."} for i in range(n)]
    directory.mkdir()
    (directory / "news.jsonl").write_bytes(jsonl(*records, {"id": "k1", "text": "Putin again."}, b"{broken"))
    (directory / "more.csv").write_text("id,text,published\nc1,Assad spoke,2024-03-05\nc2,,\n", encoding="utf-8")
    return n + 1  # analysed: k0 ... k{n-1} and c1; dead letters: the second k1, "{broken" and c2


def test_rerun_gives_identical_tables_and_clears_stale_staging(tmp_path, model_file):
    analysed = _corpus(tmp_path / "in", 150)
    out = tmp_path / "out"
    assert run("--input", tmp_path / "in", "--output", out, "--model", model_file) == 0
    first = {name: sorted_rows(out, name) for name in SORT_KEYS}
    first_manifest = manifest(out)
    assert first_manifest["counts"]["articles_analysed"] == analysed
    assert len(first["errors"]) == 3  # duplicate k1, broken JSON, c2 without text

    # What killed runs leave behind: a staging directory holding only empty directories (killed
    # before any file was written), and one with files.
    (out / ".staging-20000101T000000-dead0001" / "mentions" / "beam-temp-part-x").mkdir(parents=True)
    (out / ".staging-20000101T000000-dead0002" / "errors").mkdir(parents=True)
    (out / ".staging-20000101T000000-dead0002" / "errors" / "part-00000-of-00001.parquet").write_bytes(b"junk")
    assert run("--input", tmp_path / "in", "--output", out, "--model", model_file) == 0
    assert sorted(os.listdir(out)) == ["_SUCCESS", "actors", "articles", "daily", "errors", "manifest.json", "mentions"]
    for name in SORT_KEYS:
        assert sorted_rows(out, name) == first[name], name
    second_manifest = manifest(out)
    for key in ("counts", "tables", "config_hash", "model"):
        assert second_manifest[key] == first_manifest[key]
    assert second_manifest["run_id"] != first_manifest["run_id"]


def test_sigkill_part_way_then_rerun(tmp_path, model_file):
    analysed = _corpus(tmp_path / "in", 1500)
    out = tmp_path / "out"
    log_path = tmp_path / "killed.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-q", "run", "--input", str(tmp_path / "in"),
                             "--output", str(out), "--model", model_file], cwd=ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 240
        while not (out.is_dir() and any(p.startswith(".staging-") for p in os.listdir(out))):
            assert proc.poll() is None, f"the run ended before its staging directory appeared:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, "no staging directory after 240 s"
            time.sleep(0.005)
        assert proc.poll() is None, ("the run ended before it could be killed (make the corpus bigger):\n"
                                     + log_path.read_text())
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()

    left = os.listdir(out)
    assert [p for p in left if p.startswith(".staging-")]
    assert [p for p in left if not p.startswith(".")] == []  # no _SUCCESS, manifest or tables

    assert run("--input", tmp_path / "in", "--output", out, "--model", model_file) == 0
    assert sorted(os.listdir(out)) == ["_SUCCESS", "actors", "articles", "daily", "errors", "manifest.json", "mentions"]
    c = manifest(out)["counts"]
    assert (c["records_read"], c["articles_analysed"], c["dead_letters"]) == (analysed + 3, analysed, 3)
    assert {r["article_id"] for r in read(out, "articles")} == {f"k{i}" for i in range(1500)} | {"c1"}
    assert c["mentions"] == len(read(out, "mentions"))


# ---- properties -------------------------------------------------------------------------------------

PIECES = ["Mr.", "U.S.", "a.m.", "Monday", "Dr. Smith", "e.g.", "...", "?!", "\n", "\r\n", "\r", " ", "  ", "\t",
          "\u00a0", "\u2028", "\x85", "“Quote.”", "Putin", "Erdoğan", ",", ";", ":", "-", "(", ")", "3.5", "Jan.",
          "ok.", "!", "?", "。", "؟", "\u200b", "\ufeff", "\u0301", "👍🏽", "x" * 30]
prose = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=40).map("".join)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(text=prose, max_chars=st.one_of(st.just(2000), st.integers(1, 40)))
def test_split_sentences_spans_partition_the_text(text, max_chars):
    from pipeline.sentences import split_sentences

    spans = split_sentences(text, max_chars)
    pos = 0
    covered = set()
    for s in spans:
        assert pos <= s.start < s.end <= len(text)  # inside, ordered, not overlapping, not empty
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        assert s.end - s.start <= max_chars
        covered.update(range(s.start, s.end))
        pos = s.end
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


def _accented(ch: str) -> str:
    composed = unicodedata.normalize("NFC", ch + "\u0301")
    return composed if len(composed) == 1 else ch


@st.composite
def alias_variants(draw, aliases):
    alias = draw(st.sampled_from(aliases))
    out = []
    for ch in alias:
        if ch == " ":
            out.append(draw(st.sampled_from([" ", "  ", "-", "\u2013", " \n", "\t", "\u00a0"])))
        else:
            out.append(draw(st.sampled_from([ch, ch.upper(), ch.lower(), _accented(ch)])))
    return "".join(out)


def test_mentions_lie_inside_the_text_and_match_an_alias(actors, matcher):
    aliases = {a.id: a.aliases + a.context_aliases for a in actors}
    every_alias = sorted({alias for a in actors for alias in a.aliases})
    found = []

    @PROPERTY
    @given(parts=st.lists(st.one_of(alias_variants(every_alias), st.sampled_from(PIECES), st.text(max_size=8)),
                          max_size=12))
    def check(parts):
        text = "".join(parts)
        mentions = matcher.find(text)
        end = 0
        for m in mentions:
            assert end <= m.start < m.end <= len(text)
            end = m.end
            assert m.alias in aliases[m.actor]
            # A coordinated form ("Syrian and Russian air forces") covers the alias's first word only.
            assert same_alias(text[m.start:m.end], m.alias) or same_alias(
                text[m.start:m.end], m.alias.split()[0]), (text[m.start:m.end], m.alias)
        found.append(len(mentions))

    check()
    assert sum(1 for n in found if n) >= len(found) // 4  # the strategy does exercise matching


def test_first_word_index_finds_what_the_combined_regex_finds(actors, matcher):
    from pipeline.actors import ActorMatcher

    reference = ActorMatcher(actors, first_word_index=False)
    every_alias = sorted({alias for a in actors for alias in a.aliases})

    @PROPERTY
    @given(parts=st.lists(st.one_of(alias_variants(every_alias), st.sampled_from(PIECES), st.text(max_size=8)),
                          max_size=12))
    def check(parts):
        text = "".join(parts)
        assert matcher.find(text) == reference.find(text)

    check()


def test_analysis_functions_never_raise_on_arbitrary_unicode(matcher):
    from pipeline.analyze import add_mentions, add_sentiment, analyse_sentences
    from pipeline.records import Article, normalize_text
    from pipeline.sentiment import analyzer

    vader = analyzer()

    @PROPERTY
    @given(raw=st.one_of(st.text(max_size=300), prose), normalized=st.booleans(),
           max_chars=st.one_of(st.just(2000), st.integers(1, 50)))
    def check(raw, normalized, max_chars):
        text = normalize_text(raw) if normalized else raw
        article = Article("h", text, None, None, None, None, "f.jsonl", 1)
        aa = add_sentiment(add_mentions(analyse_sentences(article, max_chars), matcher), vader)
        for i, s in enumerate(aa.sentences):
            assert s.index == i and 0 <= s.start < s.end <= len(text)
            assert all(s.start <= m.start < m.end <= s.end for m in s.mentions)
            assert -1 <= s.sentiment.compound <= 1

    check()
