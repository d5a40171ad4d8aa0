"""The README documents every output table as declared in pipeline/schemas.py, and every command
explains itself with --help."""

import os

import pytest

from pipeline.cli import main
from pipeline.schemas import TABLES, markdown
from tests.conftest import ROOT


@pytest.mark.parametrize("table", sorted(TABLES))
def test_readme_has_each_schema(table):
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert f"### `{table}/`\n\n{markdown(table)}\n" in readme


@pytest.mark.parametrize("command, words", [
    ([], ["run", "train", "eval", "classify", "report"]),
    (["train"], ["--data", "--format", "--model", "newsmtsc"]),
    (["eval"], ["--model", "--test", "reports/eval.md"]),
    (["classify"], ["--input", "targets", "p_favor"]),
    (["report"], ["--output", "index.html", "confidence", "stance-pipeline report --output out"]),
])
def test_help(command, words, capsys):
    with pytest.raises(SystemExit) as e:
        main([*command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for w in words:
        assert w in out


def test_readme_gives_the_sort_keys_of_schemas():
    from pipeline.schemas import SORT_KEYS

    readme = " ".join(open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().split())
    keys = "; ".join(f"{name} `{', '.join(cols)}`" for name, cols in SORT_KEYS.items())
    assert f"sort by the keys: {keys}." in readme
