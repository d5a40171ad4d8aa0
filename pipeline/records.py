"""Records that flow between the stages, and the checks that turn raw input into an ``Article``."""

from __future__ import annotations

import dataclasses
import datetime
import html
import re
import unicodedata
from typing import Any, Optional

from pipeline.config import RunConfig


@dataclasses.dataclass(frozen=True)
class Article:
    id: str
    text: str  # NFC-normalized; every offset written out refers to this string
    title: Optional[str]
    source: Optional[str]
    published: Optional[datetime.date]
    url: Optional[str]
    input_file: str
    record: int  # 1-based line (JSON Lines), data row (CSV, Parquet) or 1 (plain text)


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    input_file: str
    record: Optional[int]
    article_id: Optional[str]
    kind: str
    message: str
    raw: Optional[str]


class BadRecord(Exception):
    """A record that cannot be analysed; ``kind`` is the errors/ table's error_kind."""

    def __init__(self, kind: str, message: str, article_id: Optional[str] = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.article_id = article_id


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")
_SCRIPT_RE = re.compile(r"<(script|style)\b[^<>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK_TAGS = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "article",
               "section", "ul", "ol", "table", "header", "footer"}


def normalize_text(text: str) -> str:
    """NFC; HTML markup dropped and entities decoded; control characters (NUL included) as spaces;
    CRLF as LF; a leading byte-order mark removed."""
    if "<" in text and _TAG_RE.search(text):
        text = _SCRIPT_RE.sub(" ", text)
        text = _TAG_RE.sub(lambda m: "\n" if m.group(2).lower() in _BLOCK_TAGS else " ", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _CONTROL_RE.sub(" ", text)
    return unicodedata.normalize("NFC", text)


def parse_published(value: Any) -> Optional[datetime.date]:
    """ISO date or datetime (a timezone, if given, is converted to UTC) -> date; None stays None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return _utc_date(value)
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        s = value.strip()
        try:
            if len(s) == 10:
                return datetime.date.fromisoformat(s)
            return _utc_date(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")))
        except ValueError:
            pass
        raise BadRecord("invalid_date", f"published {s[:40]!r} is not an ISO date or datetime")
    raise BadRecord("invalid_date", f"published must be an ISO date string, got {type(value).__name__}")


def _utc_date(dt: datetime.datetime) -> datetime.date:
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(datetime.timezone.utc)
        except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in year 10000 in UTC
            raise BadRecord("invalid_date", f"published {dt.isoformat()!r} is outside years 1-9999 in UTC") from None
    return dt.date()


def _optional_str(raw: dict, column: str) -> Optional[str]:
    value = raw.get(column)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadRecord("wrong_type", f"column {column!r} must be a string, got {type(value).__name__}")
    value = normalize_text(value).strip()
    return value or None


def to_article(raw: Any, input_file: str, record: int, config: RunConfig) -> Article:
    """Validates one raw record (a dict of column -> value); raises ``BadRecord``."""
    cols = config.columns
    if not isinstance(raw, dict):
        raise BadRecord("wrong_type", f"record must be an object, got {type(raw).__name__}")
    article_id = raw.get(cols.id)
    if isinstance(article_id, int) and not isinstance(article_id, bool):
        article_id = str(article_id)
    if article_id is None or (isinstance(article_id, str) and not article_id.strip()):
        raise BadRecord("missing_id", f"record has no {cols.id!r}")
    if not isinstance(article_id, str):
        raise BadRecord("wrong_type", f"column {cols.id!r} must be a string, got {type(article_id).__name__}")
    article_id = unicodedata.normalize("NFC", article_id.strip())
    text = raw.get(cols.text)
    if text is None:
        raise BadRecord("missing_text", f"record has no {cols.text!r}", article_id)
    if not isinstance(text, str):
        raise BadRecord("wrong_type", f"column {cols.text!r} must be a string, got {type(text).__name__}", article_id)
    if len(text) > config.limits.max_article_chars:
        raise BadRecord("too_large", f"text has {len(text)} characters, the limit is "
                        f"{config.limits.max_article_chars} (limits.max_article_chars)", article_id)
    text = normalize_text(text)
    if not text.strip():
        raise BadRecord("empty_text", "text is empty or white space only", article_id)
    try:
        return Article(article_id, text, _optional_str(raw, cols.title), _optional_str(raw, cols.source),
                       parse_published(raw.get(cols.published)), _optional_str(raw, cols.url), input_file, record)
    except BadRecord as exc:
        exc.article_id = article_id
        raise
