import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTORS = os.path.join(ROOT, "configs", "actors.yaml")


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    """The shipped model if `make` built it, else one trained now on the committed training split."""
    shipped = os.path.join(ROOT, "models", "stance.skops")
    if os.path.exists(shipped):
        return shipped
    from pipeline.stance.train import train

    path = str(tmp_path_factory.mktemp("model") / "stance.skops")
    train([os.path.join(ROOT, "datasets", "stance", "train.jsonl")], path)
    return path


@pytest.fixture(scope="session")
def model(model_path):
    from pipeline.stance.model import load_model

    return load_model(model_path)


@pytest.fixture(scope="session")
def actors():
    from pipeline.actors import load_actors

    return load_actors(ACTORS)


@pytest.fixture(scope="session")
def matcher(actors):
    from pipeline.actors import ActorMatcher

    return ActorMatcher(actors)


@pytest.fixture(scope="session")
def sample_run(model_path, tmp_path_factory):
    """The sample corpus (datasets/sample/) run once into a directory named out/, as `make run` does."""
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("sample") / "out"
    args = ["-q", "run", "--input", os.path.join(ROOT, "datasets", "sample"), "--output", str(out), "--model", model_path]
    assert main(args) == 0
    return out
