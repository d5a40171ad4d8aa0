"""Run settings: column names, limits, duplicate policy. Parsed once at the edge, passed down."""

from __future__ import annotations

import dataclasses

import yaml

from pipeline.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Columns:
    id: str = "id"
    text: str = "text"
    title: str = "title"
    source: str = "source"
    published: str = "published"
    url: str = "url"


@dataclasses.dataclass(frozen=True)
class Limits:
    max_article_chars: int = 1_000_000
    max_sentence_chars: int = 2000
    max_raw_chars: int = 2000


@dataclasses.dataclass(frozen=True)
class RunConfig:
    columns: Columns = Columns()
    limits: Limits = Limits()
    duplicates: str = "first"
    batch_size: int = 64


def load_config(path: str | None) -> RunConfig:
    if path is None:
        return RunConfig()
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path) as f:
            raw = f.read().decode("utf-8")
    except Exception:
        raise UsageError(f"cannot read config file {path}") from None
    return parse_config(raw, path)


def parse_config(raw: str, path: str = "<config>") -> RunConfig:
    try:
        doc = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        raise UsageError(f"{path}:{where} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: expected a mapping of settings")
    _known(doc, {"columns", "limits", "duplicates", "batch_size"}, path, "")
    columns = _section(doc, "columns", Columns, str, path)
    limits = _section(doc, "limits", Limits, int, path)
    duplicates = doc.get("duplicates", "first")
    if duplicates not in ("first", "all"):
        raise UsageError(f"{path}: key 'duplicates' must be 'first' or 'all', got {duplicates!r}")
    batch_size = doc.get("batch_size", 64)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise UsageError(f"{path}: key 'batch_size' must be a positive integer, got {batch_size!r}")
    return RunConfig(columns, limits, duplicates, batch_size)


def _section(doc, key, cls, typ, path):
    values = doc.get(key) or {}
    if not isinstance(values, dict):
        raise UsageError(f"{path}: key '{key}' must be a mapping")
    _known(values, {f.name for f in dataclasses.fields(cls)}, path, f"{key}.")
    for name, value in values.items():
        ok = isinstance(value, typ) and not isinstance(value, bool) and (typ is not int or value > 0)
        if not ok or (typ is str and not value):
            kind = "a positive integer" if typ is int else "a non-empty string"
            raise UsageError(f"{path}: key '{key}.{name}' must be {kind}, got {value!r}")
    return cls(**values)


def _known(values, allowed, path, prefix):
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise UsageError(f"{path}: unknown key '{prefix}{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
