"""A model's identity, read without loading the model.

The job's driver records the model version and the training data hash in the manifest, and checks
before any work that the file is a model this version reads; only the workers load the model itself.
Reading the header alone keeps scikit-learn (2-3 s to import) and the model (1-2 s to load) out of the
driver, which starts every run alone, before any worker.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

from pipeline.errors import UsageError

FORMAT_VERSION = 3
# The file that makes a directory an encoder model (pipeline.stance.encoder, which imports numpy and,
# once used, torch: this module stays light for the job's driver).
ENCODER_MARKER = "encoder.json"

# Types a model file may contain. Anything else makes loading fail: skops refuses it in load_model,
# and read_header refuses it first.
TRUSTED_TYPES = [
    "pipeline.stance.features.CueFeatures",
    "pipeline.stance.features.MaskedSentence",
    "pipeline.stance.features.TargetContext",
    "pipeline.stance.features.TargetRoles",
    "pipeline.stance.features.Tokenize",
    "pipeline.stance.model.CompactTfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType", "numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.int64",
    "numpy.str_", "numpy.random.RandomState", "collections.OrderedDict", "builtins.type", "builtins.slice",
    "scipy.sparse._csr.csr_matrix",
]


@dataclasses.dataclass(frozen=True)
class ModelHeader:
    model_version: str
    training_data_hash: str


def not_found(path: str) -> UsageError:
    return UsageError(f"model file {path} not found: train one with 'make train' "
                      f"or 'stance-pipeline train --model {path}'")


def corrupted(where: str, exc: BaseException) -> UsageError:
    return UsageError(f"model file {where} is corrupted or not a stance model ({type(exc).__name__})")


def untrusted_type(where: str, name: str) -> UsageError:
    return UsageError(f"model file {where} contains types this version does not trust: {name}")


def wrong_format(where: str, found) -> UsageError:
    return UsageError(f"model file {where} has format version {found!r}, this version reads "
                      f"{FORMAT_VERSION}: retrain it with 'stance-pipeline train'")


def read_header(path: str) -> ModelHeader:
    """The version and training data hash of the model at ``path`` (local or any Beam filesystem).

    Raises ``UsageError`` for a missing file, one that is not a skops archive or fails its checksums,
    one that names a type outside ``TRUSTED_TYPES``, and one of another format version: what
    ``load_model`` refuses, found without building anything. ``load_model`` checks again, with skops's
    own reading of the file, in every worker."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.stance.onnx_model import is_onnx_model, read_meta

    if is_onnx_model(path):  # onnx.json alone: ONNX Runtime stays out of the driver
        meta = read_meta(path)
        return ModelHeader(meta["model_version"], meta["training_data_hash"])
    if is_encoder_model(path):  # not imported from here: model.py imports encoder.py, which imports this module
        raise ValueError(f"{path} is an encoder model's directory: load it with pipeline.stance.model.load_model")
    try:
        with FileSystems.open(path) as f:
            data = f.read()
    except Exception:
        raise not_found(path) from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            broken = archive.testzip()  # CRCs of every member: a damaged body fails here, not in a worker
            if broken is not None:
                raise zipfile.BadZipFile(f"bad CRC in {broken}")
            schema = json.loads(archive.read("schema.json"))
        content = schema["content"]
        fields = {k: json.loads(v["content"]) for k, v in content.items()
                  if k in ("format_version", "model_version", "training_data_hash")}
    except Exception as exc:
        raise corrupted(path, exc) from None
    untrusted = sorted(set(_types(schema)) - set(TRUSTED_TYPES))
    if untrusted:
        raise untrusted_type(path, untrusted[0])
    if fields.get("format_version") != FORMAT_VERSION:
        raise wrong_format(path, fields.get("format_version"))
    try:
        return ModelHeader(str(fields["model_version"]), str(fields["training_data_hash"]))
    except KeyError as exc:
        raise corrupted(path, exc) from None


def _types(node):
    """Every ``module.class`` that skops's schema names: each object, type and function it would
    build is a node carrying both keys."""
    if isinstance(node, dict):
        if isinstance(node.get("__module__"), str) and isinstance(node.get("__class__"), str):
            yield f"{node['__module__']}.{node['__class__']}"
        for value in node.values():
            yield from _types(value)
    elif isinstance(node, list):
        for value in node:
            yield from _types(value)


def is_encoder_model(path: str) -> bool:
    """Whether ``path`` is the optional encoder model's directory (``pipeline.stance.encoder``)."""
    from apache_beam.io.filesystems import FileSystems

    try:
        return FileSystems.exists(path.rstrip("/") + "/" + ENCODER_MARKER)
    except Exception:
        return False
