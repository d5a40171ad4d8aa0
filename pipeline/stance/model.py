"""The stance model: a scikit-learn ``Pipeline`` of named steps, saved without pickle.

Saved with skops, whose loader refuses any type that is not on an explicit trusted list, so loading
a model file never runs code from it. The file also carries the model version and the hash of the
data it was trained on; the pipeline writes both into every table it produces.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Iterable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.errors import UsageError
from pipeline.stance.features import CueFeatures, MaskedSentence, TargetContext, TargetRoles, Tokenize
from pipeline.stance.header import FORMAT_VERSION, TRUSTED_TYPES, corrupted, not_found, untrusted_type, wrong_format
from pipeline.stance.inputs import LABELS, StanceInput


class CompactTfidfVectorizer(TfidfVectorizer):
    """A TfidfVectorizer whose saved form keeps the vocabulary as one array of terms instead of a
    dict: skops writes a dict entry by entry, which made a 46k-term model 50 MB and 4 s to load."""

    def __getstate__(self):
        state = super().__getstate__().copy()
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            state["vocabulary_terms_"] = np.array(sorted(vocabulary, key=vocabulary.get), dtype=np.str_)
        state.pop("stop_words_", None)  # terms dropped by min_df; never used to transform
        return state

    def __setstate__(self, state):
        terms = state.pop("vocabulary_terms_", None)
        super().__setstate__(state)
        if terms is not None:
            self.vocabulary_ = {str(t): i for i, t in enumerate(terms)}

    def build_analyzer(self):
        """sklearn's analyzer, or the same n-grams made faster for the one setting the model uses
        (whitespace tokens, no lowercasing, no stop words, uni- or bigrams): str.split() splits on
        exactly what ``\\S+`` does not match, and the bigrams come in sklearn's order. About 12 µs
        of the 24 µs sklearn spends per sentence; tests hold the two to the same output."""
        if not (self.analyzer == "word" and self.input == "content" and self.token_pattern == r"\S+"
                and self.tokenizer is None and self.preprocessor is None and not self.lowercase
                and not self.strip_accents and self.stop_words is None and self.ngram_range in ((1, 1), (1, 2))):
            return super().build_analyzer()
        decode, bigrams = self.decode, self.ngram_range == (1, 2)

        def analyze(doc):
            tokens = decode(doc).split()
            return tokens + [a + " " + b for a, b in zip(tokens, tokens[1:])] if bigrams else tokens

        return analyze


MODEL_FAMILY = "tfidf-cues-lr"


def build_pipeline(*, C: float = 2.0, seed: int = 0) -> Pipeline:
    """The estimator, unfitted. Inputs are ``StanceInput`` tuples; classes are ``LABELS``."""
    return Pipeline([
        ("tokenize", Tokenize()),
        ("features", FeatureUnion([
            ("sentence", Pipeline([
                ("mask", MaskedSentence()),
                ("tfidf", CompactTfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                                 token_pattern=r"\S+", lowercase=False)),
            ])),
            ("context", Pipeline([
                ("window", TargetContext(width=6)),
                ("tfidf", CompactTfidfVectorizer(min_df=2, sublinear_tf=True, token_pattern=r"\S+", lowercase=False)),
            ])),
            ("roles", Pipeline([
                ("roles", TargetRoles(width=12)),
                ("tfidf", CompactTfidfVectorizer(min_df=2, sublinear_tf=True, token_pattern=r"\S+", lowercase=False)),
            ])),
            ("cues", Pipeline([
                ("cues", CueFeatures(width=8)),
                ("scale", StandardScaler()),
            ])),
        ])),
        # tol well below the default: at 1e-4 lbfgs stopped where the BLAS thread count decided the last
        # digits (NewsMTSC-trained macro-F1 0.6195 with one thread, 0.6205 with two); at 1e-6 both give
        # the same model, so training reproduces across machines. Still about 10 s.
        ("clf", LogisticRegression(C=C, tol=1e-6, max_iter=2000, class_weight="balanced", random_state=seed)),
    ])


@dataclasses.dataclass
class StanceModel:
    """A fitted pipeline plus what the outputs must record about it."""

    pipeline: Pipeline
    model_version: str
    training_data_hash: str

    def predict_proba(self, inputs: Sequence[StanceInput]) -> np.ndarray:
        """Probabilities in the order of ``LABELS``."""
        if not inputs:
            return np.zeros((0, len(LABELS)))
        proba = self.pipeline.predict_proba(list(inputs))
        order = [list(self.pipeline.classes_).index(label) for label in LABELS]
        return proba[:, order]

    def predict(self, inputs: Sequence[StanceInput]) -> list[str]:
        return [LABELS[i] for i in self.predict_proba(inputs).argmax(axis=1)]

    def to_bytes(self) -> bytes:
        import skops.io as sio

        return sio.dumps({"format_version": FORMAT_VERSION, "model_version": self.model_version,
                          "training_data_hash": self.training_data_hash, "pipeline": self.pipeline})

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "<bytes>") -> "StanceModel":
        import skops.io as sio

        try:
            untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
        except Exception as exc:
            raise corrupted(where, exc) from None
        if untrusted:
            raise untrusted_type(where, untrusted[0])
        try:
            obj = sio.loads(data, trusted=TRUSTED_TYPES)
        except Exception as exc:
            raise corrupted(where, exc) from None
        if not isinstance(obj, dict) or obj.get("format_version") != FORMAT_VERSION:
            raise wrong_format(where, obj.get("format_version") if isinstance(obj, dict) else None)
        return cls(obj["pipeline"], obj["model_version"], obj["training_data_hash"])


def model_version_for(data_hash: str, params: dict) -> str:
    """Family, file format, training data and parameters plus the feature code: a change to any of
    them gives a new version, so tables labelled by different models never share one."""
    import pipeline.stance.features as features
    import pipeline.stance.inputs as inputs

    h = hashlib.sha256(repr(sorted(params.items())).encode())
    for module in (inputs, features, __import__(__name__, fromlist=["_"])):
        with open(module.__file__, "rb") as f:
            h.update(f.read())
    return f"{MODEL_FAMILY}-v{FORMAT_VERSION}-{data_hash[:8]}-{h.hexdigest()[:6]}"


def save_model(model: StanceModel, path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(path) as f:
        f.write(model.to_bytes())


def load_model(path: str, threads: int | None = None) -> StanceModel:
    """Loads a model from a local path or any Beam filesystem (gs://, s3://, ...): a model file, a
    directory holding the ONNX model (``pipeline.stance.onnx_model``, the default) or one holding a
    fine-tuned encoder in torch (``pipeline.stance.encoder``). ``threads``: ONNX Runtime's."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.stance.encoder import is_encoder_model, load_encoder_model
    from pipeline.stance.onnx_model import is_onnx_model, load_onnx_model

    if is_onnx_model(path):
        return load_onnx_model(path, threads)
    if is_encoder_model(path):
        return load_encoder_model(path)
    try:
        with FileSystems.open(path) as f:
            data = f.read()
    except Exception:
        raise not_found(path) from None
    return StanceModel.from_bytes(data, path)


def classify(items: Iterable[dict], model: StanceModel, batch_size: int = 1000) -> Iterable[dict]:
    """Stance toward any target. Each item: ``{"text": ..., "targets": [[start, end], ...]}``
    (optionally ``"others"``: spans of other actors); yields ``{"label", "p_favor", "p_against",
    "p_neutral"}`` in input order, predicting in batches."""
    batch: list[StanceInput] = []
    for item in items:
        batch.append(to_input(item))
        if len(batch) >= batch_size:
            yield from _labelled(model.predict_proba(batch))
            batch = []
    if batch:
        yield from _labelled(model.predict_proba(batch))


def to_input(item: dict) -> StanceInput:
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    spans = []
    for key in ("targets", "others"):
        value = item.get(key, [] if key == "others" else None)
        if not isinstance(value, list) or (key == "targets" and not value):
            raise ValueError(f"'{key}' must be a list of [start, end] pairs")
        pairs = []
        for pair in value:
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
                    or not 0 <= pair[0] < pair[1] <= len(text)):
                raise ValueError(f"'{key}' span {pair!r} is not [start, end] with 0 <= start < end <= {len(text)}")
            pairs.append((pair[0], pair[1]))
        spans.append(tuple(pairs))
    return StanceInput(text, spans[0], spans[1])


def _labelled(proba: np.ndarray) -> Iterable[dict]:
    for row in proba:
        yield {"label": LABELS[int(row.argmax())], "p_favor": float(row[0]), "p_against": float(row[1]),
               "p_neutral": float(row[2])}


def classify_lines(lines: Iterable[str], model: StanceModel, batch_size: int = 1000) -> Iterable[dict]:
    """JSON Lines in, one result per line out, in order; a line that cannot be read or has bad spans
    yields ``{"error": ...}`` instead of stopping the stream. Blank lines are skipped."""
    import json

    pending: list[tuple[StanceInput | None, str | None]] = []

    def flush():
        valid = [x for x, _ in pending if x is not None]
        results = iter(_labelled(model.predict_proba(valid))) if valid else iter(())
        for x, error in pending:
            yield next(results) if x is not None else {"error": error}
        pending.clear()

    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("each line must be a JSON object")
            pending.append((to_input(item), None))
        except (json.JSONDecodeError, ValueError) as exc:
            pending.append((None, f"line {n}: {getattr(exc, 'msg', None) or exc}"))
        if len(pending) >= batch_size:
            yield from flush()
    yield from flush()
