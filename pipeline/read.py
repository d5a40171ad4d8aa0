"""Step 1, read: input files -> ``Article`` records, and dead letters for what cannot be read.

Formats by file name: JSON Lines (``.jsonl``, ``.ndjson``, ``.json``), CSV (``.csv``), Parquet
(``.parquet``), plain text (``.txt``, one article per file, id = file name); ``.gz`` on any but
Parquet. Files are opened through Beam's ``FileSystems``, so paths may be local or on any filesystem
Beam knows (gs://, s3://, ...).

Every unit the reader produces is one "record read": an article, or one dead letter for a record (a
line, a row) or for a whole file that could not be read past some point.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import logging
import os
import re

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipeline import progress
from pipeline.config import RunConfig
from pipeline.errors import UsageError
from pipeline.records import BadRecord, DeadLetter, to_article

DEAD = "dead"
SUPPORTED = (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".txt")
_LOG = logging.getLogger(__name__)
# A JSON escape of a UTF-16 surrogate ("\\ud800"); a lone one decodes to a str no stage can encode.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def file_format(path: str) -> str | None:
    name = path.lower()
    if name.endswith(".gz"):
        name = name[:-3]
        if name.endswith(".parquet"):
            return None
    for ext in SUPPORTED:
        if name.endswith(ext):
            return {".ndjson": "jsonl", ".json": "jsonl"}.get(ext, ext[1:])
    return None


def expand_inputs(inputs: list[str]) -> list[str]:
    """Input paths, globs and directories -> the sorted list of files to read (driver side).

    A directory means its files with a supported extension (not recursive). Raises ``UsageError``
    when an input matches nothing, so a typo never becomes an empty, "successful" run.
    """
    files: list[str] = []
    for pattern in inputs:
        patterns = [pattern]
        if _is_dir(pattern):
            base = pattern.rstrip("/")
            patterns = [f"{base}/*{ext}" for ext in SUPPORTED] + [f"{base}/*{ext}.gz" for ext in SUPPORTED[:-2]]
            patterns.append(f"{base}/*.txt.gz")
        matched = []
        for p in patterns:
            try:
                result = FileSystems.match([p])[0]
            except Exception:
                continue
            matched.extend(m.path for m in result.metadata_list)
        if not matched:
            what = "directory has no input files" if _is_dir(pattern) else "no file matches"
            raise UsageError(f"{what}: {pattern}")
        for path in matched:
            if _is_dir(path):
                continue
            files.append(path)
    unique = sorted(set(files))
    if not unique:
        raise UsageError(f"no input files in: {' '.join(inputs)}")
    return unique


def _is_dir(path: str) -> bool:
    return "://" not in path and os.path.isdir(path)


class ParseFileFn(beam.DoFn):
    """One matched file -> Articles (main output) and DeadLetters (tagged ``dead``)."""

    def __init__(self, config: RunConfig, counted: bool = True):
        self._config = config
        # Articles read, for progress (pipeline/progress.py); off for a second read of the same files.
        self._read = Metrics.counter(progress.NAMESPACE, progress.READ) if counted else None

    def process(self, readable: fileio.ReadableFile):
        path = readable.metadata.path
        fmt = file_format(path)
        if fmt is None:
            yield self._dead(path, None, None, "unsupported_format",
                             f"cannot tell the format from the file name (supported: {', '.join(SUPPORTED)})", None)
            return
        reader = {"jsonl": self._jsonl, "csv": self._csv, "parquet": self._parquet, "txt": self._txt}[fmt]
        produced = 0
        try:
            for record, item in reader(path):
                produced = record
                yield from self._validate(path, record, item)
        except Exception as exc:  # a file that breaks part-way: keep what came before, say where it broke
            yield self._dead(path, produced + 1, None, "unreadable_file",
                             f"{type(exc).__name__}: {_first_line(exc)} (after record {produced})", None)

    def _validate(self, path, record, item):
        if isinstance(item, DeadLetter):
            yield beam.pvalue.TaggedOutput(DEAD, item)
            return
        try:
            article = to_article(item, path, record, self._config)
        except BadRecord as exc:
            yield self._dead(path, record, exc.article_id, exc.kind, exc.message, _raw(item))
            return
        if self._read is not None:
            self._read.inc()
        yield article

    def _dead(self, path, record, article_id, kind, message, raw):
        return beam.pvalue.TaggedOutput(DEAD, self._letter(path, record, kind, message, raw, article_id))

    @contextlib.contextmanager
    def _open(self, path):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            if not path.lower().endswith(".gz"):
                yield raw
                return
            # Python's gzip, not Beam's decompressor: Beam reads a truncated .gz as if it simply ended,
            # so the lost tail would go unnoticed; gzip raises EOFError (-> unreadable_file).
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                yield f

    def _jsonl(self, path):
        with self._open(path) as f:
            # Beam's CompressedFile has readline() but is not iterable.
            for n, line in enumerate(iter(f.readline, b""), 1):
                if n == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8):]
                if not line.strip():
                    continue
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield n, self._letter(path, n, "invalid_utf8", f"invalid UTF-8 at byte {exc.start}",
                                          line.decode("utf-8", "replace"))
                    continue
                try:
                    item = json.loads(text)
                except (json.JSONDecodeError, RecursionError) as exc:
                    yield n, self._letter(path, n, "malformed_json", f"invalid JSON: {getattr(exc, 'msg', exc)}", text)
                    continue
                # Python's json accepts "\\ud800" alone, but the str it makes cannot be encoded as
                # UTF-8: Beam would fail the whole job when it serialises the record.
                if _SURROGATE_ESCAPE_RE.search(text) and _SURROGATE_RE.search(json.dumps(item, ensure_ascii=False)):
                    yield n, self._letter(path, n, "invalid_utf8", "a \\u escape encodes a lone UTF-16 surrogate, "
                                          "which is not a Unicode character", text)
                    continue
                yield n, item

    def _csv(self, path):
        # No field limit of its own: a field over limits.max_article_chars must become one too_large
        # dead letter (checked per record, as for JSON Lines), not end the reading of the file.
        csv.field_size_limit(2**31 - 1)
        with self._open(path) as raw:
            reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            columns = self._config.columns
            if reader.fieldnames is None:
                return
            if columns.id not in reader.fieldnames or columns.text not in reader.fieldnames:
                yield 1, self._letter(path, None, "bad_schema", f"CSV header must have columns {columns.id!r} and "
                                      f"{columns.text!r}, has {reader.fieldnames[:10]}", None)
                return
            for n, row in enumerate(reader, 1):
                row.pop(None, None)  # extra unnamed fields
                yield n, {k: (v if v != "" else None) for k, v in row.items()}

    def _parquet(self, path):
        import pyarrow.parquet as pq

        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            try:
                pf = pq.ParquetFile(f)
            except Exception as exc:
                yield 1, self._letter(path, None, "unreadable_file", f"not a Parquet file: {_first_line(exc)}", None)
                return
            names = pf.schema_arrow.names
            columns = self._config.columns
            if columns.id not in names or columns.text not in names:
                yield 1, self._letter(path, None, "bad_schema", f"Parquet file must have columns {columns.id!r} and "
                                      f"{columns.text!r}, has {names[:10]}", None)
                return
            wanted = [c for c in vars(columns).values() if c in names]
            n = 0
            for batch in pf.iter_batches(batch_size=1000, columns=wanted):
                for row in batch.to_pylist():
                    n += 1
                    yield n, row

    def _txt(self, path):
        with self._open(path) as f:
            data = f.read()
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield 1, self._letter(path, 1, "invalid_utf8", f"invalid UTF-8 at byte {exc.start}",
                                  data.decode("utf-8", "replace"), name)
            return
        yield 1, {self._config.columns.id: name, self._config.columns.text: text}

    def _letter(self, path, record, kind, message, raw, article_id=None):
        limit = self._config.limits.max_raw_chars
        return DeadLetter(path, record, article_id, kind, message, raw[:limit] if raw is not None else None)


class ReadArticles(beam.PTransform):
    """Files -> (articles, dead letters). ``files`` is the already-matched list (see expand_inputs)."""

    def __init__(self, files: list[str], config: RunConfig, counted: bool = True):
        super().__init__()
        self._files = files
        self._config = config
        self._counted = counted

    def expand(self, pbegin):
        results = (
            pbegin
            | "FileNames" >> beam.Create(self._files)
            | "Match" >> fileio.MatchAll()
            # Spread files over workers before the expensive per-file parse.
            | "SpreadFiles" >> beam.Reshuffle()
            | "Open" >> fileio.ReadMatches(compression=CompressionTypes.UNCOMPRESSED)
            | "Parse" >> beam.ParDo(ParseFileFn(self._config, self._counted)).with_outputs(DEAD, main="articles"))
        return results.articles, results[DEAD]


def _raw(item) -> str | None:
    if item is None:
        return None
    try:
        return json.dumps(item, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(item)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
