"""stance-pipeline: how the news portrays political actors, sentence by sentence."""

__version__ = "0.1.0"
