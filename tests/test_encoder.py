"""The optional encoder stance model (pipeline/stance/encoder.py).

Marking and the missing-extra error run everywhere. The rest needs the [encoder] extra (`make
test-encoder` installs it and trains the model): with torch installed these tests use the model named by
STANCE_ENCODER_MODEL, or else fine-tune a tiny one on 64 training examples, which checks the code,
not the accuracy (`make eval` measures the served model). Without torch they are skipped.
"""

import builtins
import json
import os
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.errors import UsageError
from pipeline.stance.encoder import MARKER_FILE, is_encoder_model, load_encoder_model, mark, mark_with_spans
from pipeline.stance.features import StanceInput
from tests.conftest import ROOT

TRAIN = os.path.join(ROOT, "datasets", "stance", "train.jsonl")


def test_mark_wraps_target_and_others():
    x = StanceInput("Ankara blamed Damascus for the attack.", ((0, 6),), ((14, 22),))
    assert mark(x) == "<t> Ankara </t> blamed <o> Damascus </o> for the attack."


def test_mark_merges_overlaps_and_the_target_wins():
    text = "Russian President Vladimir Putin spoke."
    x = StanceInput(text, ((0, 7), (18, 32), (26, 32)), ((8, 17), (18, 26)))
    # "Putin" inside "Vladimir Putin" merges; the other-actor span over "Vladimir" overlaps the target.
    assert mark(x) == "<t> Russian </t> <o> President </o> <t> Vladimir Putin </t> spoke."


def test_target_spans_cover_each_marked_mention_and_nothing_else():
    # The "both" pooling averages the tokens inside these spans: they must be the target's, markers
    # included, never the other actor's.
    x = StanceInput("Ankara blamed Damascus, and Ankara's envoy left.", ((0, 6), (28, 34)), ((14, 22),))
    text, spans = mark_with_spans(x)
    assert text == mark(x)
    assert [text[a:b] for a, b in spans] == ["<t> Ankara </t>", "<t> Ankara </t>"]
    assert "Damascus" not in "".join(text[a:b] for a, b in spans)


def test_without_the_extra_the_error_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / MARKER_FILE).write_text("{}")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    assert is_encoder_model(str(tmp_path))
    with pytest.raises(UsageError, match=r"\[encoder\] extra: run 'make encoder'"):
        load_encoder_model(str(tmp_path))


# ---- with the extra ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    given = os.environ.get("STANCE_ENCODER_MODEL")
    if given:
        return given
    from pipeline.stance.encoder import train_encoder

    d = tmp_path_factory.mktemp("encoder")
    subset = d / "train64.jsonl"
    with open(TRAIN, encoding="utf-8") as f:
        subset.write_text("".join(next(f) for _ in range(64)), encoding="utf-8")
    train_encoder([str(subset)], str(d / "model"), epochs=1, batch=32, threads=2)
    return str(d / "model")


@pytest.fixture(scope="module")
def encoder(encoder_dir):
    from pipeline.stance.model import load_model

    return load_model(encoder_dir)  # through the same entry point the pipeline uses


INPUTS = [StanceInput("Turkish forces shelled the village, killing four civilians.", ((0, 14),)),
          StanceInput("The minister praised Ankara for brokering the ceasefire.", ((21, 27),)),
          StanceInput("Moscow and Ankara met on Tuesday.", ((11, 17),), ((0, 6),))]


def test_target_mask_is_the_targets_tokens(encoder):
    import torch

    from pipeline.stance.encoder import _batch

    x = StanceInput("Moscow and Ankara met on Tuesday.", ((11, 17),), ((0, 6),))
    batch = _batch(torch, encoder.tokenizer, [mark_with_spans(x)], 96, "both")
    ids = batch["input_ids"][0][batch["target_mask"][0].bool()]
    assert encoder.tokenizer.convert_ids_to_tokens(ids) == ["<", "t", ">", "ankara", "<", "/", "t", ">"]


def test_a_long_sentence_keeps_its_target(encoder):
    import torch

    from pipeline.stance.encoder import _batch, around_target

    filler = " ".join(f"word{i}" for i in range(120))
    text = f"{filler} and then Ankara praised the ceasefire before {filler}."
    x = StanceInput(text, ((text.index("Ankara"), text.index("Ankara") + 6),))
    marked, spans = mark_with_spans(x)
    cut, kept = around_target(encoder.tokenizer, marked, spans, 96)
    assert len(encoder.tokenizer(cut)["input_ids"]) <= 96
    assert [cut[a:b] for a, b in kept] == ["<t> Ankara </t>"]
    assert cut.startswith("word") and cut.split()[0] in marked.split()  # cut between whole words
    batch = _batch(torch, encoder.tokenizer, [(marked, spans)], 96, "both")
    ids = batch["input_ids"][0][batch["target_mask"][0].bool()]
    assert encoder.tokenizer.convert_ids_to_tokens(ids) == ["<", "t", ">", "ankara", "<", "/", "t", ">"]
    short = mark_with_spans(INPUTS[1])
    assert around_target(encoder.tokenizer, *short, 96) == short


def test_probabilities_in_label_order_and_repeatable(encoder):
    p = encoder.predict_proba(INPUTS)
    assert p.shape == (3, 3) and np.allclose(p.sum(axis=1), 1.0)
    # Batched, length-sorted prediction gives each input the same row as predicting it alone.
    alone = np.vstack([encoder.predict_proba([x]) for x in INPUTS])
    assert np.allclose(p, alone, atol=1e-5)
    assert encoder.model_version.startswith("minilm-ft-v1-") and len(encoder.training_data_hash) == 64


def test_weights_that_are_not_safetensors_are_refused(encoder_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(encoder_dir, bad)
    os.remove(bad / "encoder" / "model.safetensors")
    (bad / "encoder" / "pytorch_model.bin").write_bytes(b"a pickle would run code")
    with pytest.raises(UsageError, match="incomplete or corrupted"):
        load_encoder_model(str(bad))


def test_other_format_version_is_refused(encoder_dir, tmp_path):
    bad = tmp_path / "old"
    shutil.copytree(encoder_dir, bad)
    meta = json.loads((bad / MARKER_FILE).read_text())
    (bad / MARKER_FILE).write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(UsageError, match="format version 99"):
        load_encoder_model(str(bad))


def test_pipeline_and_classify_run_with_the_encoder(encoder_dir, encoder, tmp_path, capsys):
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(json.dumps({"id": "a1", "source": "Wire", "published": "2024-03-05",
                                  "text": "Turkish forces shelled the village. Moscow called for calm."}) + "\n")
    out = tmp_path / "out"
    assert main(["-q", "run", "--input", str(corpus), "--output", str(out), "--model", encoder_dir]) == 0
    rows = pq.read_table(out / "mentions").to_pylist()
    assert {r["actor"] for r in rows} == {"turkey", "russia"}
    assert {r["model_version"] for r in rows} == {encoder.model_version}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["model_version"] == encoder.model_version

    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps({"text": "Ankara thanked Moscow.", "targets": [[0, 6]]}) + "\n")
    capsys.readouterr()
    assert main(["classify", "--model", encoder_dir, "--input", str(lines)]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = encoder.predict_proba([StanceInput("Ankara thanked Moscow.", ((0, 6),))])[0]
    assert np.allclose([result["p_favor"], result["p_against"], result["p_neutral"]], expected)
