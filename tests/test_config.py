import pytest

from pipeline.config import parse_config
from pipeline.errors import UsageError


def test_defaults_and_overrides():
    c = parse_config("columns:\n  text: body\nlimits:\n  max_sentence_chars: 500\nduplicates: all\n")
    assert (c.columns.text, c.columns.id, c.limits.max_sentence_chars, c.duplicates) == ("body", "id", 500, "all")


def test_shipped_config_is_the_defaults():
    from pipeline.config import RunConfig, load_config
    from tests.conftest import ROOT

    assert load_config(f"{ROOT}/configs/pipeline.yaml") == RunConfig()


@pytest.mark.parametrize("raw, message", [
    ("limits:\n  max_sentence_chars: -1\n", "key 'limits.max_sentence_chars' must be a positive integer"),
    ("colums: {}\n", "unknown key 'colums'"),
    ("duplicates: maybe\n", "key 'duplicates' must be 'first' or 'all'"),
    ("columns: [1]\n", "key 'columns' must be a mapping"),
    ("a: [\n", "invalid YAML"),
])
def test_errors(raw, message):
    with pytest.raises(UsageError, match=message):
        parse_config(raw, "c.yaml")
