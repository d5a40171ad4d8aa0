"""Rows are turned into Arrow in chunks while a row group fills; the Parquet written is unchanged."""

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import write
from pipeline.schemas import TABLES


def _rows(n):
    return [{"actor": f"a{i}", "name": f"Actor {i}", "articles": i, "mentions": i, "favor": i, "against": 0,
             "neutral": 0, "stance_score": 1.0, "mean_p_favor": 0.5, "mean_p_against": 0.25,
             "mean_p_neutral": 0.25, "mean_vader_compound": 0.1, "share_of_articles": 0.5} for i in range(n)]


def _tables(fn, rows):
    fn.start_bundle()
    out = [t for row in rows for t in fn.process(row)]
    out += [wv.value for wv in fn.finish_bundle()]
    return out


def test_chunked_tables_have_the_same_rows_and_bytes(tmp_path, monkeypatch):
    schema = TABLES["actors"]
    rows = _rows(57)
    monkeypatch.setattr(write, "ROWS_PER_CHUNK", 10)
    chunked = _tables(write._RowsToTablesFn(schema, 25), rows)
    monkeypatch.setattr(write, "ROWS_PER_CHUNK", 10**9)
    whole = _tables(write._RowsToTablesFn(schema, 25), rows)
    assert [t.num_rows for t in chunked] == [t.num_rows for t in whole] == [25, 25, 7]
    for i, (a, b) in enumerate(zip(chunked, whole)):
        assert a.equals(b) and a.schema.equals(schema, check_metadata=True)
        paths = []
        for name, table in (("a", a), ("b", b)):
            path = tmp_path / f"{name}{i}.parquet"
            with pq.ParquetWriter(path, schema, compression="zstd") as w:
                w.write_table(table)
            paths.append(path)
        assert paths[0].read_bytes() == paths[1].read_bytes()
        assert pq.ParquetFile(paths[0]).metadata.num_row_groups == 1
    assert pa.concat_tables(chunked).to_pylist() == rows
