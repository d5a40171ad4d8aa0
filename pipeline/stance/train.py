"""Fits the stance model on labelled examples and saves it.

    stance-pipeline train --data datasets/stance/train.jsonl --model models/stance.skops

Deterministic: the same data and parameters give the same model_version and the same predictions. The
file's bytes differ from one training to the next (skops names the arrays inside by object id and
stamps the time), so compare models by model_version, not by the manifest's file_sha256.
"""

from __future__ import annotations

import logging
import time

from threadpoolctl import threadpool_limits

from pipeline.stance.data import data_hash, read_examples
from pipeline.stance.model import StanceModel, build_pipeline, model_version_for, save_model

DEFAULT_DATA = ("datasets/stance/train.jsonl",)
DEFAULT_MODEL = "models/stance.skops"
DEFAULT_PARAMS = {"C": 2.0, "seed": 0}


def fit(data_paths, fmt: str = "jsonl", **params) -> StanceModel:
    params = {**DEFAULT_PARAMS, **params}
    examples = [e for p in data_paths for e in read_examples(p, fmt)]
    pipe = build_pipeline(**params)
    # One BLAS thread: the lbfgs fit is many small matrix products, and with the default thread pool
    # on this shared 2-core machine the classifier took about 37 s instead of 4.5 s. Same result.
    with threadpool_limits(limits=1):
        pipe.fit([e.input for e in examples], [e.label for e in examples])
    digest = data_hash(data_paths)
    return StanceModel(pipe, model_version_for(digest, {**params, "format": fmt}), digest)


def train(data_paths=DEFAULT_DATA, model_path: str = DEFAULT_MODEL, fmt: str = "jsonl", **params) -> StanceModel:
    started = time.perf_counter()
    model = fit(list(data_paths), fmt, **params)
    save_model(model, model_path)
    logging.getLogger(__name__).info("trained %s in %.1f s -> %s", model.model_version,
                                     time.perf_counter() - started, model_path)
    return model

