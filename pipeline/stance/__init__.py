"""Stance of a sentence toward one target: favor, against or neutral.

``classify`` is the public entry point for any target, not only the configured actors.
"""

from pipeline.stance.model import LABELS, StanceInput, StanceModel, classify, classify_lines, load_model

__all__ = ["LABELS", "StanceInput", "StanceModel", "classify", "classify_lines", "load_model"]
