"""Every snippet in the README's "Analyse the tables" section runs against the sample run, and the
DuckDB, pandas and Polars versions of each recipe give the same rows, so none can rot."""

import contextlib
import io
import math
import os
import re

import duckdb
import pytest

from tests.conftest import ROOT


def recipes():
    """{recipe heading: [(language, code), ...]} from the README section."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = readme.split("\n## Analyse the tables\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for part in section.split("\n### ")[1:]:
        title = part.split("\n", 1)[0]
        found[title] = re.findall(r"```(sql|python)\n(.*?)```", part, re.S)
    return found


RECIPES = recipes()


def test_the_section_has_the_recipes():
    assert list(RECIPES) == ["Join mentions to articles", "Weekly stance per actor, normalised by the source's volume",
                             "Outlets compared", "The evidence for one actor and day"]
    for snippets in RECIPES.values():
        assert [lang for lang, _ in snippets] == ["sql", "python", "python"]
        assert "import pandas" in snippets[1][1] and "import polars" in snippets[2][1]


def _rows(frame):
    """A pandas or Polars frame as a list of plain tuples, in its order."""
    if hasattr(frame, "iter_rows"):
        return list(frame.iter_rows())
    return list(frame.itertuples(index=False, name=None))


def _plain(value):
    """A value as the SQL result has it: a pandas Timestamp as its day, an array as a list, NaN as None."""
    if hasattr(value, "hour") and hasattr(value, "date"):
        value = value.date()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):
        value = None
    return value


def _key(row):
    return [round(v, 2) if isinstance(v, float) else str(v) for v in row]


@pytest.mark.parametrize("title", list(RECIPES))
def test_recipe_runs_and_the_three_agree(title, sample_run, monkeypatch):
    monkeypatch.chdir(sample_run.parent)  # the recipes read out/...
    (_, sql), (_, pandas_code), (_, polars_code) = RECIPES[title]
    relation = duckdb.sql(sql)
    columns, expected = relation.columns, relation.fetchall()
    assert expected, "the SQL returned no rows"
    for code in (pandas_code, polars_code):
        namespace, printed = {}, io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"README.md: {title}", "exec"), namespace)
        assert printed.getvalue().strip(), "the snippet printed nothing"
        name = re.search(r"print\((\w+)", code.strip().splitlines()[-1]).group(1)
        rows = _rows(namespace[name])
        assert len(rows) == len(expected), f"{len(rows)} rows, the SQL gives {len(expected)}"
        # the columns both name (the Python snippets may keep more), each side in a fixed order, as
        # the three may break ties in a sort differently
        frame_columns = list(namespace[name].columns)
        shared = [c for c in columns if c in frame_columns]
        assert len(shared) >= 3
        got = sorted(([_plain(r[frame_columns.index(c)]) for c in shared] for r in rows), key=_key)
        want = sorted(([_plain(r[columns.index(c)]) for c in shared] for r in expected), key=_key)
        for g, w in zip(got, want):
            for c, a, b in zip(shared, g, w):
                # the SQL may round to 3 places
                same = math.isclose(a, b, abs_tol=5e-4) if isinstance(b, float) and a is not None else a == b
                assert same, f"{c}: {a!r} != {b!r}"
