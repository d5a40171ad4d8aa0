"""Raw record -> Article: normalization, dates, and the kinds of bad records."""

import datetime

import pytest

from pipeline.config import Limits, RunConfig
from pipeline.records import BadRecord, normalize_text, parse_published, to_article

CONFIG = RunConfig()


def article(raw, config=CONFIG):
    return to_article(raw, "f.jsonl", 1, config)


def test_nfc_and_markup():
    decomposed = "Erdog\u0306an"  # g + combining breve
    assert normalize_text(decomposed) == "Erdoğan"
    assert normalize_text("<p>Ankara &amp; Moscow</p><p>agreed.</p>") == "\nAnkara & Moscow\n\nagreed.\n"
    assert normalize_text("a\x00b\r\nc") == "a b\nc"
    assert normalize_text("\ufeffText") == "Text"


@pytest.mark.parametrize("value, expected", [
    ("2024-03-05", datetime.date(2024, 3, 5)),
    ("2024-03-05T23:30:00-05:00", datetime.date(2024, 3, 6)),  # UTC date
    ("2024-03-05T09:30:00Z", datetime.date(2024, 3, 5)),
    ("1970-01-01", datetime.date(1970, 1, 1)),
    ("2099-12-31", datetime.date(2099, 12, 31)),
    (None, None),
    ("", None),
])
def test_published(value, expected):
    assert parse_published(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45", 20240305, ["2024-03-05"]])
def test_bad_published(value):
    with pytest.raises(BadRecord) as e:
        parse_published(value)
    assert e.value.kind == "invalid_date"


@pytest.mark.parametrize("raw, kind", [
    ({"text": "Hello."}, "missing_id"),
    ({"id": "  ", "text": "Hello."}, "missing_id"),
    ({"id": "a"}, "missing_text"),
    ({"id": "a", "text": "   \n "}, "empty_text"),
    ({"id": "a", "text": 42}, "wrong_type"),
    ({"id": "a", "text": ["a", "b"]}, "wrong_type"),
    ({"id": {"x": 1}, "text": "Hello."}, "wrong_type"),
    ({"id": "a", "text": "Hello.", "published": "soon"}, "invalid_date"),
    (["not", "an", "object"], "wrong_type"),
])
def test_bad_records(raw, kind):
    with pytest.raises(BadRecord) as e:
        article(raw)
    assert e.value.kind == kind


def test_too_large_is_configurable():
    small = RunConfig(limits=Limits(max_article_chars=10))
    with pytest.raises(BadRecord) as e:
        article({"id": "a", "text": "x" * 11}, small)
    assert e.value.kind == "too_large" and e.value.article_id == "a"


def test_good_record():
    a = article({"id": 7, "text": "Ankara spoke.", "source": "Wire", "published": "2024-03-05", "url": None})
    assert (a.id, a.text, a.source, a.published, a.url, a.title) == (
        "7", "Ankara spoke.", "Wire", datetime.date(2024, 3, 5), None, None)
