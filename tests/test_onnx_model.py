"""The default stance model: the committed ONNX directory (models/stance-onnx), served without torch.

Accuracy is `make eval`'s business; these tests hold the served model to its training code and data,
to the way training reads a sentence, and to the pipeline's contract (probabilities, Beam serving).
"""

import json
import os
import subprocess
import sys

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline  # noqa: F401
from apache_beam.testing.util import assert_that

from pipeline.analyze import AnalysedArticle, StanceModelHandler, analyse_sentences, add_mentions
from pipeline.errors import UsageError
from pipeline.records import Article
from pipeline.stance.export import fingerprint, fit_temperature
from pipeline.stance.inputs import LABELS, StanceInput
from pipeline.stance.marking import mark_with_spans
from pipeline.stance.model import load_model
from pipeline.stance.onnx_model import MARKER_FILE, load_onnx_model, read_meta
from tests.conftest import ROOT

MODEL = os.path.join(ROOT, "models", "stance-onnx")


@pytest.fixture(scope="module")
def onnx_model():
    return load_onnx_model(MODEL, threads=1)


def test_committed_model_matches_the_training_code_and_data():
    meta = read_meta(MODEL)
    recorded = meta["fingerprint"]
    now = fingerprint(ROOT)
    stale = sorted(path for path in now if recorded.get(path) != now[path])
    assert not stale, (f"models/stance-onnx was trained on other versions of {', '.join(stale)}: "
                       "run 'make encoder' (and 'make teacher' first if the training data changed)")


def test_committed_model_is_small_enough_to_commit():
    size = sum(os.path.getsize(os.path.join(MODEL, f)) for f in os.listdir(MODEL))
    assert size <= 50 * 2**20


def test_probabilities_are_calibrated_distributions(onnx_model):
    inputs = [StanceInput("Ankara and Moscow signed a ceasefire that halted the fighting.", ((0, 6),), ((11, 17),)),
              StanceInput("Ankara and Moscow signed a ceasefire that halted the fighting.", ((11, 17),), ((0, 6),)),
              StanceInput("Regime jets bombed a crowded market, killing dozens of civilians.", ((0, 6),))]
    p = onnx_model.predict_proba(inputs)
    assert p.shape == (3, len(LABELS))
    assert np.allclose(p.sum(axis=1), 1)
    z = onnx_model.logits(inputs)
    raw = np.exp(z - z.max(axis=1, keepdims=True))
    raw /= raw.sum(axis=1, keepdims=True)
    # The temperature softens or sharpens, never reorders.
    assert (raw.argmax(axis=1) == p.argmax(axis=1)).all()
    if onnx_model.temperature != 1.0:
        assert not np.allclose(raw, p)


def test_an_articles_labels_do_not_depend_on_its_batch(onnx_model):
    article = [StanceInput("Kyiv said Russian drones hit a power station overnight.", ((10, 17),), ((0, 4),)),
               StanceInput("Kyiv said Russian drones hit a power station overnight.", ((0, 4),), ((10, 17),))]
    other = [StanceInput("Turkish troops moved to the border in a long convoy of trucks.", ((0, 7),))]
    alone = onnx_model.predict_proba_grouped([article])[0]
    with_other = onnx_model.predict_proba_grouped([other, article, other])[1]
    assert np.array_equal(alone, with_other)
    # Within one call, order does not matter either (inputs are sorted by length first).
    assert np.allclose(onnx_model.predict_proba(article[::-1])[::-1], alone, atol=1e-6)


def test_target_tokens_are_the_marked_mention(onnx_model):
    x = StanceInput("Ankara blamed Damascus for the attack.", ((0, 6),), ((14, 22),))
    (ids, mask), = onnx_model.encode([x])
    enc = onnx_model.tokenizer.encode(mark_with_spans(x)[0])
    picked = [t for t, m in zip(enc.tokens, mask) if m]
    assert "ankara" in picked and "damascus" not in picked
    assert ids == enc.ids


def test_a_long_sentence_keeps_its_target(onnx_model):
    filler = " ".join(["The talks dragged on for hours without any agreement being reached."] * 20)
    text = filler + " Then Cairo proposed a truce."
    start = text.index("Cairo")
    (ids, mask), = onnx_model.encode([StanceInput(text, ((start, start + 5),))])
    assert len(ids) <= read_meta(MODEL)["max_length"]
    assert sum(mask) > 0


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 2
    p = np.exp(true_logits) / np.exp(true_logits).sum(axis=1, keepdims=True)
    gold = [LABELS[rng.choice(3, p=row)] for row in p]
    # A model three times too confident: its logits are the true ones times three.
    t = fit_temperature(true_logits * 3, gold)
    assert 2.6 < t < 3.4


def test_load_model_dispatches_to_onnx_and_the_header_stays_light(tmp_path):
    model = load_model(MODEL)
    assert model.model_version == read_meta(MODEL)["model_version"]
    # The job's driver reads the header only: neither ONNX Runtime nor tokenizers gets imported.
    code = ("import sys; from pipeline.stance.header import read_header; from pipeline.write import file_hash; "
            f"h = read_header({MODEL!r}); file_hash({MODEL!r}); "
            "print(h.model_version, 'onnxruntime' in sys.modules, 'tokenizers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    assert out == [model.model_version, "False", "False"]


def test_a_damaged_model_directory_is_one_clear_error(tmp_path):
    broken = tmp_path / "m"
    broken.mkdir()
    meta = read_meta(MODEL)
    (broken / MARKER_FILE).write_text(json.dumps(meta))
    (broken / "model.onnx").write_bytes(b"not a graph")
    (broken / "tokenizer.json").write_text("{}")
    with pytest.raises(UsageError, match="incomplete or corrupted"):
        load_onnx_model(str(broken))
    (broken / MARKER_FILE).write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(UsageError, match="format version 99"):
        read_meta(str(broken))


def test_run_inference_labels_every_mention_of_every_article(matcher):
    texts = {"a1": "Moscow and Ankara agreed a ceasefire in Idlib. Regime forces shelled the town anyway.",
             "a2": "Nothing about any actor here.",
             "a3": "Turkish troops moved to the border, Ankara said."}
    found = [add_mentions(analyse_sentences(Article(k, v, None, "s", None, None, "t", i + 1), 10_000), matcher)
             for i, (k, v) in enumerate(texts.items())]
    expected = {aa.article.id: sorted((s.index, a) for s in aa.sentences for a in s.actors()) for aa in found}

    def check(out):
        got = {aa.article.id: sorted((s.index, a) for s in aa.sentences for a, _ in s.stances) for aa in out}
        assert got == expected, got
        versions = {aa.model_version for aa in out}
        assert versions == {read_meta(MODEL)["model_version"]}
        for aa in out:
            for s in aa.sentences:
                for _, st in s.stances:
                    assert st.label in LABELS and abs(st.p_favor + st.p_against + st.p_neutral - 1) < 1e-9

    with TestPipeline() as p:
        out = (p | beam.Create(found)
               | beam.ml.inference.RunInference(StanceModelHandler(MODEL, batch_size=2, threads=1)))
        assert_that(out, check)
