"""Step 7, write: rows -> Parquet tables in a staging directory; then, on the driver, the manifest
and an all-or-nothing swap into the output directory, ``_SUCCESS`` last.

A run writes everything under ``OUTPUT/.staging-<run id>/``. Only when the pipeline has finished and
the counts reconcile are the old tables removed and the new ones moved in. A run killed at any point
leaves no ``_SUCCESS``; the next run clears leftover staging directories and replaces the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath

import apache_beam as beam
import pyarrow as pa
from apache_beam.io import parquetio
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from pipeline.errors import UsageError
from pipeline.schemas import TABLES

_LOG = logging.getLogger(__name__)
SUCCESS = "_SUCCESS"
MANIFEST = "manifest.json"
COUNTS_DIR = "_counts"
# Rows per Parquet row group. DuckDB, Polars and Spark scan a file one row group per thread, so a
# table of a few hundred thousand rows should hold several; each group is also what a worker holds in
# memory before writing it (about 18 MB of Arrow for 50,000 mention rows, more while it is encoded),
# and that buffer is most of what the pipeline's memory grows by with the corpus (reports/bench.md).
# DuckDB writes 122,880-row groups and accepts anything above 2,048.
ROWS_PER_GROUP = 50_000


# Rows are turned into Arrow this many at a time while a row group fills: as Python dicts a mention
# row takes about five times the memory it takes as Arrow. The Parquet written is the same byte for
# byte: a table made of chunks is written as one row group like a contiguous one.
ROWS_PER_CHUNK = 2_000


class _RowsToTablesFn(beam.DoFn):
    """Buffers dict rows and emits pyarrow Tables of up to ``rows_per_table`` rows; the schema is
    applied here, so a row of the wrong type fails loudly at write time."""

    def __init__(self, schema: pa.Schema, rows_per_table: int):
        self._schema = schema
        self._rows_per_table = rows_per_table

    def start_bundle(self):
        self._rows = []
        self._chunks = []
        self._buffered = 0

    def process(self, row):
        self._rows.append(row)
        self._buffered += 1
        if self._buffered >= self._rows_per_table:
            yield self._flush()
        elif len(self._rows) >= ROWS_PER_CHUNK:
            self._chunks.append(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def finish_bundle(self):
        if self._buffered:
            yield WindowedValue(self._flush(), GlobalWindow().max_timestamp(), [GlobalWindow()])

    def _flush(self):
        if self._rows:
            self._chunks.append(pa.Table.from_pylist(self._rows, schema=self._schema))
        table = self._chunks[0] if len(self._chunks) == 1 else pa.concat_tables(self._chunks)
        self._rows, self._chunks, self._buffered = [], [], 0
        return table


class WriteTable(beam.PTransform):
    """Rows -> ``<directory>/<name>/part-SSSSS-of-NNNNN.parquet``, zstd-compressed."""

    def __init__(self, name: str, directory: str, num_shards: int = 1, rows_per_group: int = ROWS_PER_GROUP):
        super().__init__()
        self._name = name
        self._directory = directory
        self._num_shards = num_shards
        self._rows_per_group = rows_per_group

    def expand(self, rows):
        schema = TABLES[self._name]
        return (rows
                | "ToArrow" >> beam.ParDo(_RowsToTablesFn(schema, self._rows_per_group))
                | "Parquet" >> parquetio.WriteToParquetBatched(
                    FileSystems.join(self._directory, self._name, "part"), schema=schema, codec="zstd",
                    file_name_suffix=".parquet", num_shards=self._num_shards,
                    shard_name_template="-SSSSS-of-NNNNN"))


class WriteCounts(beam.PTransform):
    """(name, count) pairs -> one small JSON file the driver reads into the manifest."""

    def __init__(self, directory: str):
        super().__init__()
        self._directory = directory

    def expand(self, counts):
        return (counts
                | "AsDict" >> beam.combiners.ToDict()
                | "ToJson" >> beam.Map(lambda d: json.dumps(d, sort_keys=True))
                | "Write" >> beam.io.WriteToText(FileSystems.join(self._directory, COUNTS_DIR, "counts"),
                                                 file_name_suffix=".json", num_shards=1,
                                                 shard_name_template=""))


# ---- driver side -----------------------------------------------------------------------------------

def check_output_dir(output: str) -> None:
    if "://" not in output and os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"output path {output} is a file, not a directory")


def staging_dir(output: str, run_id: str) -> str:
    return FileSystems.join(output, f".staging-{run_id}")


def clear_stale_staging(output: str) -> None:
    """Removes staging directories of runs that were killed (runs into one directory are not
    meant to be concurrent)."""
    if "://" not in output:
        # Listed, not globbed: a run killed early leaves a staging directory holding only empty
        # directories, which a file glob does not see.
        names = os.listdir(output) if os.path.isdir(output) else []
        for path in sorted(os.path.join(output, n) for n in names if n.startswith(".staging-")):
            _LOG.info("removing the staging directory of an unfinished run: %s", path)
            FileSystems.delete([path])
        return
    try:
        stale = {_top_child(output, m.path) for m in FileSystems.match([FileSystems.join(output, ".staging-*/**")])[0].metadata_list}
    except Exception:
        return
    for path in sorted(p for p in stale if p):
        _LOG.info("removing the staging directory of an unfinished run: %s", path)
        FileSystems.delete([path])


def _top_child(root: str, path: str) -> str:
    rel = path[len(root.rstrip("/")) + 1:]
    return FileSystems.join(root, rel.split("/", 1)[0]) if rel else ""


def _files(directory: str) -> list[str]:
    try:
        return sorted(m.path for m in FileSystems.match([FileSystems.join(directory, "**")])[0].metadata_list)
    except Exception:
        return []


def table_stats(staging: str) -> dict:
    """Rows and files per table, read from the Parquet footers that were actually written."""
    import pyarrow.parquet as pq

    stats = {}
    for name in TABLES:
        files = [p for p in _files(FileSystems.join(staging, name)) if p.endswith(".parquet")]
        rows = 0
        for path in files:
            with FileSystems.open(path) as f:
                rows += pq.ParquetFile(f).metadata.num_rows
        stats[name] = {"rows": rows, "files": [posixpath.join(name, p.rsplit("/", 1)[-1]) for p in files]}
    return stats


def read_counts(staging: str) -> dict:
    path = FileSystems.join(staging, COUNTS_DIR, "counts.json")
    with FileSystems.open(path) as f:
        text = f.read().decode("utf-8").strip()
    counts = json.loads(text) if text else {}
    for key in ("records_read", "articles_analysed", "dead_letters", "sentences", "sentences_cut", "mentions"):
        counts.setdefault(key, 0)
    return counts


class RunFailed(Exception):
    """The pipeline ran but its result must not be published as a success."""


def publish(output: str, staging: str, manifest: dict) -> None:
    """Checks that the counts reconcile, writes the manifest, swaps the new tables in, ``_SUCCESS``
    last."""
    counts, tables = manifest["counts"], manifest["tables"]
    problems = []
    if counts["records_read"] != counts["articles_analysed"] + counts["dead_letters"]:
        problems.append(f"records read {counts['records_read']} != articles analysed "
                        f"{counts['articles_analysed']} + dead letters {counts['dead_letters']}")
    if tables["mentions"]["rows"] != counts["mentions"]:
        problems.append(f"mentions table has {tables['mentions']['rows']} rows, counted {counts['mentions']}")
    if tables["errors"]["rows"] != counts["dead_letters"]:
        problems.append(f"errors table has {tables['errors']['rows']} rows, counted {counts['dead_letters']}")
    if problems:
        raise RunFailed("counts do not reconcile: " + "; ".join(problems))

    FileSystems.delete([FileSystems.join(staging, COUNTS_DIR)])  # its numbers are in the manifest now
    with FileSystems.create(FileSystems.join(staging, MANIFEST), mime_type="application/json") as f:
        f.write((json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8"))
    success = FileSystems.join(output, SUCCESS)
    if FileSystems.exists(success):
        FileSystems.delete([success])
    old = [FileSystems.join(output, n) for n in (*TABLES, MANIFEST, COUNTS_DIR)]
    old = [p for p in old if FileSystems.exists(p)]
    if old:
        FileSystems.delete(old)
    moves = [(p, FileSystems.join(output, p[len(staging.rstrip("/")) + 1:])) for p in _files(staging)]
    for _, dst in moves:
        parent = dst.rsplit("/", 1)[0]
        if "://" not in parent and not FileSystems.exists(parent):
            FileSystems.mkdirs(parent)
    if moves:
        FileSystems.rename([s for s, _ in moves], [d for _, d in moves])
    FileSystems.delete([staging])
    if counts["records_read"] > 0 and counts["articles_analysed"] == 0:
        raise RunFailed(f"no article could be analysed: all {counts['records_read']} records were "
                        f"dead-lettered (see {FileSystems.join(output, 'errors')})")
    with FileSystems.create(success, mime_type="text/plain") as f:
        f.write(b"")


def file_hash(path: str) -> str:
    """sha256 of a model file; of a model directory (the ONNX or the torch encoder model), over its
    files' relative paths and contents in sorted order."""
    # header.py and onnx_model.py: the driver imports nothing heavy for them
    from pipeline.stance.header import is_encoder_model
    from pipeline.stance.onnx_model import is_onnx_model

    if not is_encoder_model(path) and not is_onnx_model(path):
        with FileSystems.open(path) as f:
            return hashlib.sha256(f.read()).hexdigest()
    base = path.rstrip("/")
    files = sorted(m.path for pattern in (base + "/*", base + "/encoder/*")
                   for m in FileSystems.match([pattern])[0].metadata_list)
    h = hashlib.sha256()
    for name in files:
        h.update(name[len(base) + 1:].encode() + b"\0")
        with FileSystems.open(name) as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()
