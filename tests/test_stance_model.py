"""Stance features and model: masking, target-aware context, training, safe loading, classify."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.errors import UsageError
from pipeline.stance.data import read_examples
from pipeline.stance.features import CueFeatures, StanceInput, TargetContext, TargetRoles, mask
from pipeline.stance.header import ENCODER_MARKER, FORMAT_VERSION, ModelHeader, read_header
from pipeline.stance.model import (LABELS, CompactTfidfVectorizer, StanceModel, build_pipeline, classify,
                                   classify_lines, load_model, save_model)
from pipeline.stance.train import fit
from tests.conftest import ROOT

TRAIN = os.path.join(ROOT, "datasets", "stance", "train.jsonl")


def test_mask_target_and_others():
    x = StanceInput("Ankara blamed Damascus for the attack.", ((0, 6),), ((14, 22),))
    assert mask(x) == " TGT  blamed  OTH  for the attack."


def test_context_tells_agent_from_patient():
    agent = StanceInput("Moscow shelled the town.", ((0, 6),))
    patient = StanceInput("Rebels shelled Moscow.", ((15, 21),))
    a, p = TargetContext(width=2).transform([agent, patient])
    assert "R1_shelled" in a.split() and "TGT_FIRST" in a.split()
    assert "L1_shelled" in p.split()


@pytest.mark.parametrize("text, target, expected", [
    ("Regime forces shelled the town.", "Regime forces", {"ag_shelled", "ag_town"}),
    ("Rebels shelled Moscow.", "Moscow", {"pt_shelled", "pt_rebels"}),
    ("Civilians were killed by regime forces.", "regime forces", {"ag_killed", "ag_civilians"}),
    ("Turkish soldiers were killed near Idlib.", "Turkish soldiers", {"pt_killed", "ag_near", "ag_idlib"}),
    ("Turkish soldiers killed in an air strike.", "Turkish soldiers", {"pt_killed", "ag_air", "ag_strike"}),
    ("Ankara said Damascus is to blame, and others agreed.", "Ankara", {"ag_said", "sp_blame", "sp_damascus", "fa_agreed", "fa_others"}),
])
def test_roles(text, target, expected):
    start = text.index(target)
    out = TargetRoles().transform([StanceInput(text, ((start, start + len(target)),))])[0].split()
    assert expected <= set(out), out


def test_cue_features_shape_and_names():
    x = StanceInput("Putin praised the deal, while critics condemned Kyiv.", ((0, 5),), ((48, 52),))
    f = CueFeatures().transform([x])
    names = list(CueFeatures().get_feature_names_out())
    assert f.shape == (1, len(names))
    assert f[0, names.index("praise_right")] == 1.0
    assert f[0, names.index("others")] == 1.0


def _vectorizers(**params):
    return CompactTfidfVectorizer(**params), TfidfVectorizer(**params)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
def test_fast_analyzer_gives_sklearns_features(ngram_range):
    """The vectorizer's faster n-grams: the same terms in the same order as sklearn's analyzer, and
    the same fitted vocabulary and matrix, on every masked training sentence."""
    docs = [x for x in build_pipeline().named_steps["features"].transformer_list[0][1].named_steps["mask"].transform(
        [ex.input for ex in read_examples(TRAIN)])]
    params = dict(ngram_range=ngram_range, min_df=2, sublinear_tf=True, token_pattern=r"\S+", lowercase=False)
    ours, theirs = _vectorizers(**params)
    fast, reference = ours.build_analyzer(), theirs.build_analyzer()
    assert fast.__qualname__.startswith("CompactTfidfVectorizer")  # the fast path is the one tested
    assert all(fast(d) == reference(d) for d in docs)
    a, b = ours.fit_transform(docs), theirs.fit_transform(docs)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert (a != b).nnz == 0 and np.array_equal(a.indices, b.indices) and np.array_equal(a.indptr, b.indptr)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab TGT\t\n\u00a0\u2003\u3000\x1c\x85,\u200b")), max_size=40))
def test_fast_analyzer_splits_like_the_token_pattern(doc):
    # Unicode whitespace, separators that are not whitespace (U+200B), and control characters.
    for ngram_range in ((1, 1), (1, 2)):
        ours, theirs = _vectorizers(ngram_range=ngram_range, token_pattern=r"\S+", lowercase=False)
        assert ours.build_analyzer()(doc) == theirs.build_analyzer()(doc)


def test_other_vectorizer_settings_use_sklearns_analyzer():
    ours, theirs = _vectorizers(ngram_range=(1, 3), lowercase=True)
    assert ours.build_analyzer()("The Kremlin said") == theirs.build_analyzer()("The Kremlin said")
    assert not getattr(ours.build_analyzer(), "__qualname__", "").startswith("CompactTfidfVectorizer")


def test_estimator_conventions():
    pipe = build_pipeline(C=0.5, seed=3)
    assert clone(pipe).get_params()["clf__C"] == 0.5
    for step in (TargetRoles(width=5), TargetContext(width=4), CueFeatures(width=5)):
        assert clone(step).get_params() == step.get_params()
        assert step.fit([StanceInput("a", ((0, 1),))]) is step  # stateless


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    lines = open(TRAIN, encoding="utf-8").readlines()[:400]
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def test_training_is_deterministic(small_data):
    a, b = fit([small_data]), fit([small_data])
    xs = [e.input for e in read_examples(small_data)[:50]]
    assert a.model_version == b.model_version
    np.testing.assert_array_equal(a.predict_proba(xs), b.predict_proba(xs))
    assert np.allclose(a.predict_proba(xs).sum(axis=1), 1.0)


def test_save_load_round_trip(small_data, tmp_path):
    model = fit([small_data])
    path = str(tmp_path / "m.skops")
    save_model(model, path)
    loaded = load_model(path)
    xs = [e.input for e in read_examples(small_data)[:20]]
    np.testing.assert_array_equal(model.predict_proba(xs), loaded.predict_proba(xs))
    assert (loaded.model_version, loaded.training_data_hash) == (model.model_version, model.training_data_hash)


def test_bad_model_files(tmp_path):
    missing = str(tmp_path / "nope.skops")
    corrupt = tmp_path / "corrupt.skops"
    corrupt.write_bytes(b"PK\x03\x04 this is not a model")
    for read in (load_model, read_header):
        with pytest.raises(UsageError, match="not found"):
            read(missing)
        with pytest.raises(UsageError, match="corrupted or not a stance model"):
            read(str(corrupt))


def test_damaged_model_body_is_refused_from_the_header(model, tmp_path):
    data = bytearray(model.to_bytes())
    # One flipped byte inside the first compressed member: the archive's directory still reads, the
    # member's checksum does not match.
    data[200] ^= 0xFF
    damaged = tmp_path / "damaged.skops"
    damaged.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="corrupted or not a stance model"):
        read_header(str(damaged))


def test_untrusted_types_are_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    evil = sio.dumps({"format_version": FORMAT_VERSION, "model_version": "x", "training_data_hash": "y",
                      "pipeline": FunctionTransformer(func=os.system)})
    with pytest.raises(UsageError, match="types this version does not trust"):
        StanceModel.from_bytes(evil, "evil.skops")
    (tmp_path / "evil.skops").write_bytes(evil)
    with pytest.raises(UsageError, match="types this version does not trust"):
        read_header(str(tmp_path / "evil.skops"))


def test_other_format_version_is_refused(model, tmp_path):
    import skops.io as sio

    old = sio.dumps({"format_version": 0, "model_version": "x", "training_data_hash": "y",
                     "pipeline": model.pipeline})
    with pytest.raises(UsageError, match="format version 0"):
        StanceModel.from_bytes(old, "old.skops")
    (tmp_path / "old.skops").write_bytes(old)
    with pytest.raises(UsageError, match="format version 0"):
        read_header(str(tmp_path / "old.skops"))


def test_header_is_the_models_identity(model, tmp_path):
    path = str(tmp_path / "m.skops")
    save_model(model, path)
    assert read_header(path) == ModelHeader(model.model_version, model.training_data_hash)
    from pipeline.stance.encoder import MARKER_FILE

    assert ENCODER_MARKER == MARKER_FILE


def test_the_jobs_driver_does_not_import_scikit_learn(model_path):
    # The driver starts every run alone and publishes it alone: scikit-learn's import (2-3 s) belongs
    # in the workers' stance step. A fresh interpreter, since this one has imported it already.
    code = ("import sys, pipeline.run, pipeline.cli, pipeline.stance; "
            "from pipeline.stance.header import read_header; from pipeline.write import file_hash; "
            f"read_header({model_path!r}); file_hash({model_path!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy', 'skops')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_classify_any_target(model):
    text = "The senator praised the governor, while critics accused the mayor of corruption."
    out = list(classify([{"text": text, "targets": [[4, 11]]},
                         {"text": text, "targets": [[60, 65]]}], model))
    assert [set(o) for o in out] == [{"label", "p_favor", "p_against", "p_neutral"}] * 2
    for o in out:
        assert o["label"] == max(LABELS, key=lambda k: o[f"p_{k}"])
        assert abs(o["p_favor"] + o["p_against"] + o["p_neutral"] - 1) < 1e-9


def test_classify_lines_keeps_order_and_reports_bad_lines(model):
    lines = [json.dumps({"text": "Ankara helped.", "targets": [[0, 6]]}), "{not json",
             json.dumps({"text": "abc", "targets": [[2, 9]]}), "",
             json.dumps({"text": "Moscow lied.", "targets": [[0, 6]]})]
    out = list(classify_lines(io.StringIO("\n".join(lines)), model, batch_size=2))
    assert len(out) == 4
    assert "label" in out[0] and "label" in out[3]
    assert out[1]["error"].startswith("line 2:")
    assert "span [2, 9]" in out[2]["error"]


def test_newsmtsc_format_reader(tmp_path):
    line = {"primary_gid": "g1", "sentence_normalized": "Smith praised Jones.",
            "targets": [{"from": 0, "to": 5, "mention": "Smith", "polarity": 4.0},
                        {"from": 14, "to": 19, "mention": "Jones", "polarity": 6.0}]}
    path = tmp_path / "n.jsonl"
    path.write_text(json.dumps(line) + "\n")
    ex = read_examples(str(path), "newsmtsc")
    assert [(e.label, e.input.targets, e.input.others) for e in ex] == [
        ("neutral", ((0, 5),), ((14, 19),)), ("favor", ((14, 19),), ((0, 5),))]
