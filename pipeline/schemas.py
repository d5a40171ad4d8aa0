"""Every output table's pyarrow schema, declared once: the writer, the tests and the README use these.

Each field's metadata holds its meaning; ``python -m pipeline.schemas`` prints the README tables.
"""

from __future__ import annotations

import pyarrow as pa


def _f(name: str, typ: pa.DataType, meaning: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, typ, nullable=nullable, metadata={"meaning": meaning})


_COUNTS = [
    _f("favor", pa.int64(), "mentions labelled favor", False),
    _f("against", pa.int64(), "mentions labelled against", False),
    _f("neutral", pa.int64(), "mentions labelled neutral", False),
    _f("stance_score", pa.float64(), "(favor - against) / mentions, from -1 (all against) to 1 (all favor); null when mentions = 0"),
    _f("mean_p_favor", pa.float64(), "mean model probability of favor over the mentions"),
    _f("mean_p_against", pa.float64(), "mean model probability of against over the mentions"),
    _f("mean_p_neutral", pa.float64(), "mean model probability of neutral over the mentions"),
    _f("mean_vader_compound", pa.float64(), "mean VADER compound over the sentences mentioning the actor"),
]

MENTIONS = pa.schema([
    _f("article_id", pa.string(), "the article's id", False),
    _f("source", pa.string(), "the article's source, null if not given"),
    _f("published", pa.date32(), "publication date (UTC), null if not given"),
    _f("sentence_index", pa.int32(), "0-based index of the sentence in the article", False),
    _f("sentence_start", pa.int64(), "offset of the sentence's first character in the normalized article text", False),
    _f("sentence_end", pa.int64(), "offset after the sentence's last character (exclusive)", False),
    _f("sentence", pa.string(), "the sentence text", False),
    _f("sentence_cut", pa.bool_(), "true when an over-long run-on sentence was cut here (limits.max_sentence_chars)", False),
    _f("actor", pa.string(), "actor id from the actors file", False),
    _f("aliases", pa.list_(pa.string()), "the aliases matched, one per mention, in order", False),
    _f("mention_starts", pa.list_(pa.int32()), "start offset of each mention within `sentence`", False),
    _f("mention_ends", pa.list_(pa.int32()), "end offset (exclusive) of each mention within `sentence`", False),
    _f("alias_kind", pa.string(), "explicit when an alias of the sentence names the actor outright; context when all "
       "its aliases are context aliases (\"the army\"), which count only in an article that names the actor", False),
    _f("stance", pa.string(), "favor, against or neutral: how the sentence portrays the actor", False),
    _f("p_favor", pa.float64(), "model probability of favor", False),
    _f("p_against", pa.float64(), "model probability of against", False),
    _f("p_neutral", pa.float64(), "model probability of neutral", False),
    _f("confidence", pa.float64(), "probability of the chosen label; calibrated for the default model (of the "
       "mentions labelled with confidence 0.8, about 80 % are right: reports/eval.md)", False),
    _f("vader_compound", pa.float64(), "VADER compound score of the whole sentence, -1 to 1", False),
    _f("vader_pos", pa.float64(), "VADER positive share of the sentence", False),
    _f("vader_neu", pa.float64(), "VADER neutral share of the sentence", False),
    _f("vader_neg", pa.float64(), "VADER negative share of the sentence", False),
    _f("model_version", pa.string(), "version of the stance model that labelled the row", False),
])

ARTICLES = pa.schema([
    _f("article_id", pa.string(), "the article's id", False),
    _f("source", pa.string(), "the article's source, null if not given"),
    _f("published", pa.date32(), "publication date (UTC), null if not given"),
    _f("title", pa.string(), "the article's title, null if not given"),
    _f("url", pa.string(), "the article's URL, null if not given"),
    _f("actor", pa.string(), "actor id", False),
    _f("sentences", pa.int64(), "sentences in the article", False),
    _f("mentions", pa.int64(), "sentences in the article that mention the actor", False),
    *_COUNTS,
    _f("article_vader_compound", pa.float64(), "mean VADER compound over all sentences of the article", False),
    _f("model_version", pa.string(), "stance model version", False),
])

DAILY = pa.schema([
    _f("source", pa.string(), "source, null for articles without one"),
    _f("published", pa.date32(), "publication date (UTC), null for articles without one"),
    _f("actor", pa.string(), "actor id", False),
    _f("articles", pa.int64(), "articles that day from the source that mention the actor", False),
    _f("mentions", pa.int64(), "sentences mentioning the actor", False),
    *_COUNTS,
    _f("source_articles", pa.int64(), "all analysed articles from the source that day, mentioning the actor or not", False),
])

ACTORS = pa.schema([
    _f("actor", pa.string(), "actor id", False),
    _f("name", pa.string(), "display name from the actors file", False),
    _f("articles", pa.int64(), "articles that mention the actor", False),
    _f("mentions", pa.int64(), "sentences mentioning the actor", False),
    *_COUNTS,
    _f("share_of_articles", pa.float64(), "articles mentioning the actor / all analysed articles", False),
])

ERRORS = pa.schema([
    _f("input_file", pa.string(), "the file the record came from", False),
    _f("record", pa.int64(), "1-based line (JSON Lines) or data row (CSV, Parquet); null for a whole file"),
    _f("article_id", pa.string(), "the record's id if it could be read"),
    _f("error_kind", pa.string(), "machine-readable kind, e.g. malformed_json, missing_text, duplicate_id", False),
    _f("message", pa.string(), "what was wrong, in one line", False),
    _f("raw", pa.string(), "the raw record, truncated to limits.max_raw_chars"),
])

TABLES = {"mentions": MENTIONS, "articles": ARTICLES, "daily": DAILY, "actors": ACTORS, "errors": ERRORS}

# Row order within a table is not guaranteed (runners parallelise): sort by these to compare runs.
SORT_KEYS = {
    "mentions": ("article_id", "sentence_index", "actor"),
    "articles": ("article_id", "actor"),
    "daily": ("source", "published", "actor"),
    "actors": ("actor",),
    "errors": ("input_file", "record"),
}


def markdown(name: str) -> str:
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for field in TABLES[name]:
        meaning = (field.metadata or {}).get(b"meaning", b"").decode()
        lines.append(f"| `{field.name}` | {field.type}{'' if field.nullable else ', not null'} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    for table in TABLES:
        print(f"### `{table}/`\n\n{markdown(table)}\n")

