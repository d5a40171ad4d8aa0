"""Stance of a sentence toward one target: favor, against or neutral.

``classify`` is the public entry point for any target, not only the configured actors.
"""

# Resolved on first use: importing this package must not import scikit-learn (see inputs.py), since
# the job's driver imports pipeline.stance.inputs and pipeline.stance.header through it.
_EXPORTS = {"LABELS": "inputs", "StanceInput": "inputs", "StanceModel": "model", "classify": "model",
            "classify_lines": "model", "load_model": "model"}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"pipeline.stance.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'pipeline.stance' has no attribute {name!r}")
