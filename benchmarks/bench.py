"""Throughput benchmark (issues #5 and 14): ``make bench``, or ``python -m benchmarks.bench --sizes 100`` for
a quick run. It measures the default model (the ONNX encoder, ``models/stance-onnx``); ``--model
models/stance.skops --sizes 1000 10000`` reproduces the linear model's figures, which the sentences/s
targets were set for. Throughput is reported as sentences/s and as sentence x actor mentions/s (each
mention is one input to the stance model, most of the cost with the ONNX model).

1. Builds a deterministic corpus of N articles (about 40 sentences each) from team-written text: the
   sentences of the sample corpus (datasets/sample/) and of the stance training split
   (datasets/stance/train.jsonl), shuffled with a fixed seed, with sources, dates, titles and URLs.
   Written as JSON Lines into ``reports/bench/corpus-N/`` (git-ignored).
2. Runs the same work three ways, each in a fresh process so its peak memory is its own:
   (a) ``plain``: a single-process Python loop over the project's own functions (the reader's
       ``ParseFileFn``, ``pipeline.analyze``, ``pipeline.aggregate``, pyarrow with ``pipeline.schemas``):
       the per-core reference;
   (b) ``beam``: ``stance-pipeline run`` on the in-process DirectRunner (FnApiRunner), ONNX threads
       automatic (all cores for its one process);
   (c) ``beam_mp2``: the same with ``--direct_running_mode=multi_processing --direct_num_workers=2
       --model_threads 1``; (a) and each process of (d) also give the ONNX model one thread;
   (d) ``plain_x2``: two (a) processes at once, each on half the corpus's files: what two cores of
       this machine give for this work with no Beam at all, the ceiling (c) is measured against.
   The process tree of every run is sampled from /proc (resident memory summed over the tree, CPU
   seconds per process), so (c) shows how many worker processes did the work.
3. Profiles (a) with cProfile, times each stage of the stance model on the corpus's own inputs, reads
   the Parquet footers of the largest Beam runs, checks the targets and writes reports/bench.json and
   reports/bench.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import glob
import hashlib
import json
import os
import platform
import pstats
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_DIR = os.path.join(_ROOT, "datasets", "sample")
STANCE_TRAIN = os.path.join(_ROOT, "datasets", "stance", "train.jsonl")
DEFAULT_WORKDIR = os.path.join(_ROOT, "reports", "bench")
DEFAULT_REPORTS = os.path.join(_ROOT, "reports")
# With the ONNX model (about 5 ms a mention on one core of this machine, 0.4 mentions a sentence) a
# round of the four runs takes about 0.4 s an article on an idle machine: 3 rounds at 50 and 500
# articles plus the profiles come to about 13 minutes. The linear model's committed figures used
# --sizes 1000 10000.
DEFAULT_SIZES = (50, 500)
SENTENCES_PER_ARTICLE = 40
SEED = 5
FILES_PER_CORPUS = 8
START_DATE = datetime.date(2024, 3, 1)
DAYS = 61
MODES = ("plain", "beam", "beam_mp2", "plain_x2")
MODE_LABELS = {"plain": "(a) plain loop, 1 process", "beam": "(b) Beam FnApiRunner, in-process",
               "beam_mp2": "(c) Beam multi_processing x 2",
               "plain_x2": "(d) plain loop x 2 processes, half the files each"}
MP2_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
# ONNX Runtime threads per process (pipeline/run.py --model_threads; the linear model ignores them):
# one where each process should hold one core, (a) and (d) like (c)'s workers, so that (c) vs (a) and
# (d) compare the same per-core work; (b) runs with the CLI's automatic setting, all cores for the
# one process of the in-process runner, as a user running `stance-pipeline run` gets it.
MODEL_THREADS = {"plain": 1, "beam": 0, "beam_mp2": 1, "plain_x2": 1}
# The throughput targets and the model each was set for: issue #5 (sentences/s) measured the linear
# model, issue 14 (mentions/s) the default ONNX model. A target is judged only on a run of its model.
LINEAR, ONNX = "linear", "onnx"
MODEL_KINDS = {LINEAR: "the linear model (models/stance.skops)", ONNX: "the default ONNX model (models/stance-onnx)"}
_END_RE = re.compile(r"""[.!?]["'”’)]?$""")


# ---- corpus ----------------------------------------------------------------------------------------

def _sample_articles():
    """The sample corpus, read by the pipeline's own reader (every format it has)."""
    from pipeline.config import RunConfig
    from pipeline.read import ParseFileFn, expand_inputs
    from pipeline.records import Article

    parse = ParseFileFn(RunConfig())
    out = []
    for path in expand_inputs([SAMPLE_DIR]):
        for item in parse.process(SimpleNamespace(metadata=SimpleNamespace(path=path))):
            if isinstance(item, Article):
                out.append(item)
    return out


def sentence_pool() -> tuple[list[str], list[str], list[str], dict]:
    """(sentences, titles, sources, provenance): the team-written sentences a corpus is drawn from."""
    from pipeline.sentences import split_sentences

    articles = _sample_articles()
    sample_sentences, titles, sources = [], [], []
    for a in articles:
        sample_sentences += [a.text[s.start:s.end] for s in split_sentences(a.text)]
        if a.title:
            titles.append(a.title)
        if a.source and a.source not in sources:
            sources.append(a.source)
    train_sentences = []
    with open(STANCE_TRAIN, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            train_sentences.append(row["sentence"])
            if row.get("register") == "headline":
                titles.append(row["sentence"])
    pool = list(dict.fromkeys(s.strip() for s in sample_sentences + train_sentences if s.strip()))
    titles = list(dict.fromkeys(titles))
    digest = hashlib.sha256("\n".join(pool).encode("utf-8")).hexdigest()[:12]
    provenance = {"sample_articles": len(articles), "sample_sentences": len(set(sample_sentences)),
                  "train_sentences": len(set(train_sentences)), "pool_sentences": len(pool),
                  "pool_sha256_12": digest, "sources": sources}
    return pool, titles, sorted(sources), provenance


def generate_articles(n: int, pool: list[str], titles: list[str], sources: list[str], seed: int = SEED):
    """The first ``n`` articles of one deterministic stream (so a smaller corpus is a prefix of a
    larger one). Sentences come from the pool in shuffled order, reshuffled each pass; 1-4 sentences
    per paragraph; a sentence without end punctuation (a headline) stands as its own paragraph so
    the splitter does not join it to the next one."""
    rng = random.Random(seed)
    order: list[int] = []
    pos = 0
    for i in range(n):
        sentences = []
        while len(sentences) < SENTENCES_PER_ARTICLE:
            if pos >= len(order):
                order = list(range(len(pool)))
                rng.shuffle(order)
                pos = 0
            sentences.append(pool[order[pos]])
            pos += 1
        paragraphs, current, target = [], [], rng.randint(1, 4)
        for s in sentences:
            if not _END_RE.search(s):
                if current:
                    paragraphs.append(" ".join(current))
                    current = []
                paragraphs.append(s)
                continue
            current.append(s)
            if len(current) >= target:
                paragraphs.append(" ".join(current))
                current, target = [], rng.randint(1, 4)
        if current:
            paragraphs.append(" ".join(current))
        source = sources[rng.randrange(len(sources))]
        day = START_DATE + datetime.timedelta(days=rng.randrange(DAYS))
        slug = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")
        yield {"id": f"bench-{i + 1:06d}", "title": titles[rng.randrange(len(titles))], "source": source,
               "published": day.isoformat(), "url": f"https://example.org/{slug}/{day:%Y/%m/%d}/bench-{i + 1:06d}",
               "text": "\n\n".join(paragraphs)}


def write_corpus(directory: str, n: int, pool, titles, sources, files: int = FILES_PER_CORPUS,
                 seed: int = SEED) -> dict:
    """Writes ``n`` articles as ``files`` JSON Lines files of consecutive articles."""
    if os.path.isdir(directory):
        shutil.rmtree(directory)
    os.makedirs(directory)
    files = max(1, min(files, n))
    handles = [open(os.path.join(directory, f"part-{k:02d}.jsonl"), "w", encoding="utf-8") for k in range(files)]
    chars = 0
    try:
        for i, article in enumerate(generate_articles(n, pool, titles, sources, seed)):
            chars += len(article["text"])
            handles[i * files // n].write(json.dumps(article, ensure_ascii=False) + "\n")
    finally:
        for h in handles:
            h.close()
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(directory, "*.jsonl")))
    return {"articles": n, "files": files, "bytes": size, "mean_article_chars": round(chars / max(n, 1))}


# ---- (a): the plain loop ---------------------------------------------------------------------------

class _TableWriter:
    """Rows -> one Parquet file per table, written like pipeline.write.WriteTable: the table's schema,
    zstd, up to ROWS_PER_GROUP rows per row group, rows turned into Arrow ROWS_PER_CHUNK at a time."""

    def __init__(self, output: str, name: str):
        import pyarrow.parquet as pq

        from pipeline.schemas import TABLES
        from pipeline.write import ROWS_PER_GROUP

        self._schema = TABLES[name]
        self._limit = ROWS_PER_GROUP
        os.makedirs(os.path.join(output, name), exist_ok=True)
        self._writer = pq.ParquetWriter(os.path.join(output, name, "part-00000-of-00001.parquet"),
                                        self._schema, compression="zstd")
        self._rows: list[dict] = []
        self._chunks: list = []
        self._buffered = 0
        self.count = 0

    def extend(self, rows):
        import pyarrow as pa

        from pipeline.write import ROWS_PER_CHUNK

        for row in rows:
            self._rows.append(row)
            self._buffered += 1
            if self._buffered >= self._limit:
                self._flush()
            elif len(self._rows) >= ROWS_PER_CHUNK:
                self._chunks.append(pa.Table.from_pylist(self._rows, schema=self._schema))
                self._rows = []

    def _flush(self):
        import pyarrow as pa

        if self._rows:
            self._chunks.append(pa.Table.from_pylist(self._rows, schema=self._schema))
        if self._chunks:
            self._writer.write_table(pa.concat_tables(self._chunks))
        self.count += self._buffered
        self._rows, self._chunks, self._buffered = [], [], 0

    def close(self):
        self._flush()
        self._writer.close()


def plain_run(inputs: list[str], output: str, actors_path: str, model_path: str,
              config_path: str | None = None, model_threads: int = 1) -> dict:
    """The whole job as one loop in one process, with the project's functions. Returns counts and
    seconds per step."""
    import apache_beam as beam

    from pipeline.actors import ActorMatcher, load_actors
    from pipeline.aggregate import Totals, _daily_rows, _day, article_rows, article_totals, dead_letter_row, mention_rows
    from pipeline.analyze import add_mentions, add_sentiment, add_stances, analyse_sentences
    from pipeline.config import load_config
    from pipeline.read import ParseFileFn, expand_inputs
    from pipeline.records import DeadLetter
    from pipeline.sentiment import analyzer
    from pipeline.stance.model import load_model

    clock = time.perf_counter
    t_start = clock()
    actors = load_actors(actors_path)
    config = load_config(config_path)
    model = load_model(model_path, model_threads)
    matcher = ActorMatcher(actors)
    vader = analyzer()
    gc.freeze()  # as the stance step's setup does in every worker (pipeline/analyze.py)
    files = expand_inputs(inputs)
    if os.path.isdir(output):
        shutil.rmtree(output)
    writers = {name: _TableWriter(output, name) for name in ("mentions", "articles", "daily", "actors", "errors")}
    secs = dict.fromkeys(("read", "split", "mentions", "vader", "stance", "rows", "write"), 0.0)
    secs["load"] = clock() - t_start
    counts = dict.fromkeys(("records_read", "articles_analysed", "dead_letters", "sentences", "sentences_cut",
                            "mentions"), 0)
    daily: dict = {}
    volume: dict = {}
    per_actor = {a.id: Totals() for a in actors}
    seen: dict = {}
    batch: list = []
    max_chars = config.limits.max_sentence_chars
    parse = ParseFileFn(config)

    def finish(batch):
        t0 = clock()
        done = add_stances(batch, model)
        t1 = clock()
        mentions, article = [], []
        for aa in done:
            mentions += mention_rows(aa)
            article += article_rows(aa)
            key = (aa.article.source, _day(aa.article))
            volume[key] = volume.get(key, 0) + 1
            for actor, t in article_totals(aa).items():
                daily.setdefault((*key, actor), Totals()).add(t)
                per_actor.setdefault(actor, Totals()).add(t)
            counts["articles_analysed"] += 1
            counts["sentences"] += len(aa.sentences)
            counts["sentences_cut"] += sum(s.cut for s in aa.sentences)
            counts["mentions"] += sum(len(s.stances) for s in aa.sentences)
        t2 = clock()
        writers["mentions"].extend(mentions)
        writers["articles"].extend(article)
        t3 = clock()
        secs["stance"] += t1 - t0
        secs["rows"] += t2 - t1
        secs["write"] += t3 - t2

    def dead(letter):
        counts["dead_letters"] += 1
        writers["errors"].extend([dead_letter_row(letter)])

    for path in files:
        t0 = clock()
        items = iter(parse.process(SimpleNamespace(metadata=SimpleNamespace(path=path))))
        while True:
            t0 = clock()
            item = next(items, None)
            secs["read"] += clock() - t0
            if item is None:
                break
            counts["records_read"] += 1
            if isinstance(item, beam.pvalue.TaggedOutput):
                dead(item.value)
                continue
            if config.duplicates == "first":
                # Files in sorted order, records in file order: the first seen is the one Beam keeps.
                if item.id in seen:
                    kept = seen[item.id]
                    dead(DeadLetter(item.input_file, item.record, item.id, "duplicate_id",
                                    f"id already used by {kept[0]} record {kept[1]}; that one was analysed",
                                    item.text[:2000]))
                    continue
                seen[item.id] = (item.input_file, item.record)
            t0 = clock()
            aa = analyse_sentences(item, max_chars)
            t1 = clock()
            aa = add_mentions(aa, matcher)
            t2 = clock()
            aa = add_sentiment(aa, vader)
            t3 = clock()
            secs["split"] += t1 - t0
            secs["mentions"] += t2 - t1
            secs["vader"] += t3 - t2
            batch.append(aa)
            if len(batch) >= config.batch_size:
                finish(batch)
                batch = []
    if batch:
        finish(batch)

    t0 = clock()
    names = {a.id: a.name for a in actors}
    n = counts["articles_analysed"]
    by_day: dict = {}
    for (source, day, actor), t in daily.items():
        by_day.setdefault((source, day), []).append((actor, t))
    daily_rows = []
    for key in sorted(by_day, key=repr):
        daily_rows += list(_daily_rows((key, {"actors": by_day[key], "volume": [volume[key]]})))
    writers["daily"].extend(daily_rows)
    writers["actors"].extend([{"actor": actor, "name": names.get(actor, actor), "articles": t.articles, **t.columns(),
                               "share_of_articles": t.articles / n if n else 0.0} for actor, t in per_actor.items()])
    secs["rows"] += clock() - t0
    t0 = clock()
    for w in writers.values():
        w.close()
    secs["write"] += clock() - t0
    secs["total"] = clock() - t_start
    secs["processing"] = secs["total"] - secs["load"]
    return {"counts": counts, "seconds": {k: round(v, 3) for k, v in secs.items()},
            "tables": {name: w.count for name, w in writers.items()}}


# ---- measuring a run in a fresh process -------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _proc_table() -> dict[int, tuple[int, float, int]]:
    """pid -> (ppid, cpu seconds, resident bytes) for every process we can read."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
            fields = stat[stat.rindex(")") + 2:].split()
            out[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, int(fields[21]) * _PAGE)
        except (OSError, ValueError, IndexError):
            continue
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


class TreeSampler(threading.Thread):
    """Samples a process and its descendants every ``interval`` s: peak summed RSS, CPU per process."""

    def __init__(self, root: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_rss = 0
        self.procs: dict[int, dict] = {}
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            table = _proc_table()
            children: dict[int, list[int]] = {}
            for pid, (ppid, _, _) in table.items():
                children.setdefault(ppid, []).append(pid)
            tree, todo = [], [self.root]
            while todo:
                pid = todo.pop()
                if pid in table:
                    tree.append(pid)
                    todo += children.get(pid, [])
            total = 0
            for pid in tree:
                _, cpu, rss = table[pid]
                total += rss
                p = self.procs.get(pid)
                if p is None:
                    p = self.procs[pid] = {"pid": pid, "cmd": _cmdline(pid)[:160], "cpu_s": 0.0, "peak_rss": 0}
                p["cpu_s"] = max(p["cpu_s"], cpu)
                p["peak_rss"] = max(p["peak_rss"], rss)
            self.peak_rss = max(self.peak_rss, total)
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (sum(v[:8]) - v[3] - v[4]) / _TICK  # all but idle and iowait; guest time is inside user
    except (OSError, ValueError, IndexError):
        return float("nan")


def other_load(seconds: float = 2.0) -> float:
    """Cores kept busy by other processes over the next ``seconds`` (this process is idle)."""
    b0 = _busy_cpu_s()
    time.sleep(seconds)
    return round((_busy_cpu_s() - b0) / seconds, 2)


def wait_quiet(max_wait: float, threshold: float = 0.3) -> float:
    """Waits (up to ``max_wait`` s) until other processes use less than ``threshold`` cores; returns
    the last reading."""
    deadline = time.monotonic() + max_wait
    load = other_load(1.0)
    while load >= threshold and time.monotonic() < deadline:
        load = other_load(2.0)
    return load


def measured(cmd: list[str], log_path: str, env: dict | None = None) -> dict:
    """Runs ``cmd`` in a fresh process; wall time, rusage of that process and its reaped
    descendants (os.wait4), the sampled process tree, and how busy the rest of the machine was."""
    with open(log_path, "wb") as log:
        busy0 = _busy_cpu_s()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=_ROOT, env=env)
        sampler = TreeSampler(p.pid)
        sampler.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        busy = _busy_cpu_s() - busy0
        sampler.stop()
        p.returncode = os.waitstatus_to_exitcode(status)
    procs = sorted(sampler.procs.values(), key=lambda d: d["pid"])
    # Beam starts each SDK worker through a shell ("sh -c python -m ...sdk_worker_main"): count the
    # Python processes only.
    workers = [d for d in procs if "sdk_worker_main" in d["cmd"] and not re.match(r"^(/bin/)?sh ", d["cmd"])]
    tree_cpu = sum(d["cpu_s"] for d in procs)
    return {
        "returncode": p.returncode, "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),  # the process and its waited-for descendants
        "cpu_s_sampled_tree": round(sum(d["cpu_s"] for d in procs), 2),
        "maxrss_mb": round(ru.ru_maxrss / 1024, 1),  # the largest single process (KiB on Linux)
        "peak_tree_rss_mb": round(sampler.peak_rss / 2**20, 1),
        "processes": len(procs),
        "worker_processes": [{"pid": d["pid"], "cpu_s": round(d["cpu_s"], 2), "peak_rss_mb": round(d["peak_rss"] / 2**20, 1)}
                             for d in workers],
        "log": _rel(log_path),
        # Cores other processes kept busy during the run (this machine is shared): > 0.2 means the
        # numbers are disturbed.
        "other_load_cores": round(max(busy - tree_cpu, 0.0) / wall, 2),
    }


def _rel(path: str) -> str:
    """``path`` relative to the project when it is inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, _ROOT) if path.startswith(_ROOT + os.sep) else path


def _python() -> str:
    return sys.executable


def run_mode(mode: str, corpus: str, out: str, logs: str, model: str, actors: str) -> dict:
    if mode in ("plain", "plain_x2"):
        result_file = out + ".result.json"
        cmd = [_python(), "-m", "benchmarks.bench", "plain" if mode == "plain" else "plain-pair", "--input", corpus,
               "--output", out, "--model", model, "--actors", actors, "--result", result_file,
               "--model-threads", str(MODEL_THREADS[mode])]
    else:
        cmd = [_python(), "-m", "pipeline", "run", "--input", corpus, "--output", out, "--model", model,
               "--actors", actors, *(MP2_ARGS if mode == "beam_mp2" else []),
               *(["--model_threads", str(MODEL_THREADS[mode])] if MODEL_THREADS[mode] else [])]
    m = measured(cmd, os.path.join(logs, f"{os.path.basename(out)}.log"))
    m["command"] = " ".join(os.path.relpath(c, _ROOT) if c.startswith(_ROOT) else c for c in cmd)
    if m["returncode"] != 0:
        raise RuntimeError(f"{mode} failed (exit {m['returncode']}); see {m['log']}")
    if mode in ("plain", "plain_x2"):
        with open(result_file) as f:
            inner = json.load(f)
        m["counts"] = inner["counts"]
        m["steps_s"] = inner["seconds"]
        m["processing_s"] = inner["seconds"]["processing"]
        if mode == "plain_x2":
            m["halves_processing_s"] = [h["seconds"]["processing"] for h in inner["halves"]]
    else:
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        m["counts"] = manifest["counts"]
        m["runner"] = manifest["runner"]
        with open(os.path.join(logs, f"{os.path.basename(out)}.log"), encoding="utf-8", errors="replace") as f:
            found = re.findall(r"pipeline finished in ([0-9.]+) s", f.read())
        m["processing_s"] = float(found[-1]) if found else None
    m["model_threads"] = MODEL_THREADS[mode] or f"automatic ({os.cpu_count()})"
    m.update(throughput(m["counts"], m["wall_s"], m.get("processing_s")))
    m["cpu_per_wall"] = round(m["cpu_s_sampled_tree"] / m["wall_s"], 2)
    return m


def throughput(counts: dict, wall_s: float, processing_s: float | None = None) -> dict:
    """Articles, sentences and sentence x actor mentions per second of a run's counts: over the whole
    process (wall) and, when known, over its processing alone. Each mention is one input to the stance
    model, so with the ONNX model mentions/s is the rate that decides the cost."""
    out = {"articles_per_s": round(counts["articles_analysed"] / wall_s, 1),
           "sentences_per_s": round(counts["sentences"] / wall_s, 1),
           "mentions_per_s": round(counts["mentions"] / wall_s, 1)}
    if processing_s:
        out["sentences_per_s_processing"] = round(counts["sentences"] / processing_s, 1)
        out["mentions_per_s_processing"] = round(counts["mentions"] / processing_s, 1)
    return out


def mentions_per_s(run: dict) -> float:
    """A run's mentions/s; from its counts for reports written before the harness recorded it."""
    if "mentions_per_s" in run:
        return run["mentions_per_s"]
    return round(run["counts"]["mentions"] / run["wall_s"], 1)


def model_kind(path: str) -> str:
    """``onnx`` for an ONNX model directory, ``linear`` for a model file (the targets' two models);
    a torch encoder's directory is neither."""
    from pipeline.stance.header import is_encoder_model
    from pipeline.stance.onnx_model import is_onnx_model

    if is_onnx_model(path):
        return ONNX
    if is_encoder_model(path):
        return "encoder"
    return LINEAR


# ---- output checks ---------------------------------------------------------------------------------

def parquet_layout(output: str) -> dict:
    import pyarrow.parquet as pq

    from pipeline.schemas import TABLES

    out = {}
    for name in TABLES:
        files = sorted(glob.glob(os.path.join(output, name, "*.parquet")))
        groups, codecs = [], set()
        for path in files:
            md = pq.ParquetFile(path).metadata
            for g in range(md.num_row_groups):
                rg = md.row_group(g)
                groups.append(rg.num_rows)
                codecs.update(rg.column(c).compression for c in range(rg.num_columns))
        out[name] = {"files": len(files), "rows": sum(groups), "row_groups": len(groups),
                     "rows_per_group": groups if len(groups) <= 12 else groups[:12] + ["..."],
                     "codecs": sorted(codecs),
                     "bytes": sum(os.path.getsize(p) for p in files)}
    return out


_KEYS = {"mentions": ["article_id", "sentence_index", "actor"], "articles": ["article_id", "actor"],
         "daily": ["source", "published", "actor"], "actors": ["actor"],
         "errors": ["input_file", "record"]}


def compare_outputs(a: str, b: str) -> dict:
    """Table by table: identical (after sorting by key), equal within 1e-9 (sums in another order),
    or different."""
    import math

    import pyarrow.parquet as pq

    out = {}
    for name, keys in _KEYS.items():
        ta = pq.read_table(os.path.join(a, name)).to_pylist()
        tb = pq.read_table(os.path.join(b, name)).to_pylist()
        if name == "errors":
            ta = [{**r, "input_file": os.path.basename(r["input_file"])} for r in ta]
            tb = [{**r, "input_file": os.path.basename(r["input_file"])} for r in tb]
        key = lambda r: tuple("" if r[k] is None else str(r[k]) for k in keys)  # noqa: E731
        ta.sort(key=key)
        tb.sort(key=key)
        if len(ta) != len(tb):
            out[name] = f"different: {len(ta)} vs {len(tb)} rows"
        elif ta == tb:
            out[name] = f"identical ({len(ta)} rows)"
        else:
            def close(x, y):
                if isinstance(x, float) and isinstance(y, float):
                    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
                return x == y
            bad = sum(1 for ra, rb in zip(ta, tb) if any(not close(ra[k], rb[k]) for k in ra))
            out[name] = (f"equal within 1e-9 ({len(ta)} rows; float sums in another order)" if not bad
                         else f"different: {bad} of {len(ta)} rows")
    return out


# ---- profile of (a) ---------------------------------------------------------------------------------

def compare_counts(a: dict, d: dict) -> dict:
    """(d) writes two half outputs whose daily and per-actor sums differ from (a)'s by construction;
    the same work shows in the counts."""
    return {k: (f"identical ({a[k]:,})" if a[k] == d.get(k) else f"**differ**: {a[k]:,} vs {d.get(k)}") for k in a}


def _find(stats: pstats.Stats, func: str, path_part: str = ""):
    return [k for k in stats.stats if k[2] == func and path_part in k[0]]


def _cum(stats, func, path_part=""):
    return sum(stats.stats[k][3] for k in _find(stats, func, path_part))


def _calls(stats, func, path_part=""):
    return sum(stats.stats[k][1] for k in _find(stats, func, path_part))


def _label(k) -> str:
    path, line, func = k
    if path == "~":
        return func
    parts = path.replace("\\", "/").split("/")
    short = "/".join(parts[parts.index("site-packages") + 1:]) if "site-packages" in parts else "/".join(parts[-2:])
    return f"{short}:{line}({func})"


def profile_summary(prof_path: str, top: int = 20) -> dict:
    stats = pstats.Stats(prof_path)
    total = max(v[3] for v in stats.stats.values())
    rows = lambda idx: [  # noqa: E731
        {"function": _label(k), "calls": v[1], "tottime_s": round(v[2], 3), "cumtime_s": round(v[3], 3),
         "cum_share": round(v[3] / total, 3)}
        for k, v in sorted(stats.stats.items(), key=lambda kv: -kv[1][idx])[:top]]
    # polarity_scores split by caller: the per-sentence score vs the stance features.
    vader_by_caller = {}
    for k in _find(stats, "polarity_scores", "vader"):
        for caller, (cc, nc, tt, ct) in stats.stats[k][4].items():
            vader_by_caller[_label(caller)] = {"calls": nc, "cumtime_s": round(ct, 3)}
    feature_steps = {f"    {name}.transform": secs for name, secs in _features_transforms(stats).items()}
    steps = {
        "read + parse + normalise (ParseFileFn)": _cum(stats, "process", "pipeline/read.py"),
        "split sentences (analyse_sentences)": _cum(stats, "analyse_sentences", "pipeline/analyze.py"),
        "find actors (add_mentions)": _cum(stats, "add_mentions", "pipeline/analyze.py"),
        "VADER per sentence (add_sentiment)": _cum(stats, "add_sentiment", "pipeline/analyze.py"),
        "stance, all (add_stances)": _cum(stats, "add_stances", "pipeline/analyze.py"),
        "  stance inputs (stance_inputs)": _cum(stats, "stance_inputs", "pipeline/analyze.py"),
        "  predict_proba (model)": _cum(stats, "predict_proba", "pipeline/stance/model.py")
        + _cum(stats, "predict_proba", "pipeline/stance/onnx_model.py"),
        **feature_steps,
        "    VADER inside the stance features": sum(v["cumtime_s"] for c, v in vader_by_caller.items()
                                                    if "features.py" in c),
        "rows (mention_rows, article_rows, article_totals)": sum(_cum(stats, f, "pipeline/aggregate.py") for f in
                                                                 ("mention_rows", "article_rows")),
        "Parquet (from_pylist + write)": _cum(stats, "extend", "benchmarks/bench.py") + _cum(stats, "close", "benchmarks/bench.py"),
        "load model, actors, VADER lexicon": _cum(stats, "load_model", "pipeline/stance/model.py"),
    }
    return {"total_s": round(total, 3), "sentences_scored_by_vader_per_sentence": _calls(stats, "score", "pipeline/sentiment.py"),
            "polarity_scores_calls": _calls(stats, "polarity_scores", "vader"),
            "polarity_scores_by_caller": vader_by_caller,
            "steps": {k: {"cumtime_s": round(v, 3), "share": round(v / total, 3)} for k, v in steps.items()},
            "top_cumulative": rows(3), "top_tottime": rows(2)}


def beam_profile_summary(prof_path: str, top: int = 15) -> dict:
    """Where an in-process Beam run's time goes: the project's own functions (the same ones (a)
    calls) versus Beam's machinery around them."""
    stats = pstats.Stats(prof_path)
    total = max(v[3] for v in stats.stats.values())
    project = {
        "read + parse (ParseFileFn.process)": _cum(stats, "process", "pipeline/read.py"),
        "split sentences": _cum(stats, "analyse_sentences", "pipeline/analyze.py"),
        "find actors": _cum(stats, "add_mentions", "pipeline/analyze.py"),
        "VADER per sentence": _cum(stats, "add_sentiment", "pipeline/analyze.py"),
        "stance (add_stances)": _cum(stats, "add_stances", "pipeline/analyze.py"),
        "rows and totals (mention_rows, article_rows, article_totals)": sum(
            _cum(stats, f, "pipeline/aggregate.py") for f in ("mention_rows", "article_rows"))
        + sum(stats.stats[k][4].get(c, (0, 0, 0, 0))[3] for k in _find(stats, "article_totals", "pipeline/aggregate.py")
              for c in stats.stats[k][4] if "article_rows" not in c[2]),
        "rows -> pyarrow tables (_RowsToTablesFn._flush)": _cum(stats, "_flush", "pipeline/write.py"),
    }
    runner = _cum(stats, "run_pipeline", "fn_api_runner/fn_runner.py")
    load = _cum(stats, "load_model", "pipeline/stance/model.py")
    load_in_runner = sum(ct for k in _find(stats, "load_model", "pipeline/stance/model.py")
                         for c, (cc, nc, tt, ct) in stats.stats[k][4].items() if c[2] == "setup")
    work = sum(project.values())
    beam_rows = [
        {"function": _label(k), "calls": v[1], "tottime_s": round(v[2], 3), "cumtime_s": round(v[3], 3)}
        for k, v in sorted(stats.stats.items(), key=lambda kv: -kv[1][2])
        if "apache_beam" in k[0]][:top]
    return {
        "total_s": round(total, 3),
        "imports_s": round(_cum(stats, "_find_and_load", "importlib._bootstrap"), 3),
        "load_model_s": round(load, 3), "load_model_calls": _calls(stats, "load_model", "pipeline/stance/model.py"),
        "runner_s": round(runner, 3),
        "project_functions_s": {k: round(v, 3) for k, v in project.items()},
        "project_functions_total_s": round(work, 3),
        "runner_overhead_s": round(runner - work - load_in_runner, 3),
        "dofn_specs_s": round(_cum(stats, "get_dofn_specs", "apache_beam/transforms/userstate.py"), 3),
        "top_beam_tottime": beam_rows,
    }


def _features_transforms(stats) -> dict[str, float]:
    """Cumulative seconds of each ``transform`` defined in pipeline/stance/features.py, by class
    (the module is being changed by others: its classes are found, not named here)."""
    import inspect

    from pipeline.stance import features

    by_line = {}
    for name, cls in inspect.getmembers(features, inspect.isclass):
        fn = cls.__dict__.get("transform")
        if cls.__module__ == features.__name__ and fn is not None:
            by_line[inspect.getsourcelines(fn)[1]] = name
    out = {}
    for k, v in stats.stats.items():
        if k[2] == "transform" and k[0].replace("\\", "/").endswith("stance/features.py"):
            out[by_line.get(k[1], f"line {k[1]}")] = out.get(by_line.get(k[1], f"line {k[1]}"), 0.0) + v[3]
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def stance_stage_timings(corpus: str, model_path: str, actors_path: str, limit: int | None = None) -> dict:
    """Seconds per stance-model stage on the corpus's own model inputs (no profiler): which feature
    costs what, next to VADER and the rest of the per-sentence work."""
    import numpy as np
    import scipy.sparse as sp

    from pipeline.actors import ActorMatcher, load_actors
    from pipeline.analyze import add_mentions, analyse_sentences, stance_inputs
    from pipeline.config import RunConfig
    from pipeline.read import ParseFileFn, expand_inputs
    from pipeline.records import Article
    from pipeline.sentiment import analyzer
    from pipeline.stance.model import load_model

    model = load_model(model_path, 1)
    if limit is None:  # the ONNX model takes 10-20 times longer per input: fewer of them give as good a mean
        limit = 1000 if model_kind(model_path) == ONNX else 5000
    matcher = ActorMatcher(load_actors(actors_path))
    parse = ParseFileFn(RunConfig())
    inputs, sentences, articles = [], [], 0
    for path in expand_inputs([corpus]):
        for a in parse.process(SimpleNamespace(metadata=SimpleNamespace(path=path))):
            if not isinstance(a, Article):
                continue
            aa = add_mentions(analyse_sentences(a, 2000), matcher)
            articles += 1
            sentences += [a.text[s.start:s.end] for s in aa.sentences]
            inputs += [x for _, _, x in stance_inputs(aa)]
            if len(inputs) >= limit:
                break
        if len(inputs) >= limit:
            break
    inputs = inputs[:limit]
    clock = time.perf_counter
    out = {"inputs": len(inputs), "sentences_behind_them": len(sentences),
           "mentions_per_sentence": round(len(inputs) / max(len(sentences), 1), 3)}
    # Before and after for the two library-level replacements, timed side by side in this process:
    # vaderSentiment vs pipeline.vader (same scores), the combined alias regex vs the first-word index
    # (same mentions).
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    for key, vader in (("vader_reference_per_sentence_us", SentimentIntensityAnalyzer()),
                       ("vader_per_sentence_us", analyzer())):
        t0 = clock()
        for s in sentences:
            vader.polarity_scores(s)
        out[key] = round((clock() - t0) / len(sentences) * 1e6, 1)
    actors = load_actors(actors_path)
    for key, m in (("actors_combined_regex_per_sentence_us", ActorMatcher(actors, first_word_index=False)),
                   ("actors_per_sentence_us", matcher)):
        t0 = clock()
        for s in sentences:
            m.find(s)
        out[key] = round((clock() - t0) / len(sentences) * 1e6, 1)
    pipe = getattr(model, "pipeline", None)  # the linear model's scikit-learn stages; the ONNX model has none
    features = pipe.named_steps.get("features") if hasattr(pipe, "named_steps") else None
    if features is not None and hasattr(features, "transformer_list"):
        blocks, per = [], {}
        steps, prepared = list(pipe.named_steps), inputs
        for name in steps[:steps.index("features")]:  # shared preprocessing (tokenize), timed on its own
            t0 = clock()
            prepared = pipe.named_steps[name].transform(prepared)
            per[name] = round((clock() - t0) / len(inputs) * 1e6, 1)
        for name, step in features.transformer_list:
            t0 = clock()
            blocks.append(step.transform(prepared))
            per[name] = round((clock() - t0) / len(inputs) * 1e6, 1)
        X = sp.hstack([b if sp.issparse(b) else sp.csr_matrix(np.asarray(b)) for b in blocks]).tocsr()
        t0 = clock()
        pipe.steps[-1][1].predict_proba(X)
        per["classifier"] = round((clock() - t0) / len(inputs) * 1e6, 1)
        out["stance_stage_us_per_input"] = per
    per_article = max(1, round(len(inputs) / max(articles, 1)))
    out["predict_proba_us_per_input"] = {}
    for label, size, n in (("batches of 1 input", 1, 200), (f"batches of one article (~{per_article} inputs)", per_article, len(inputs)),
                           (f"batches of 64 articles (~{64 * per_article} inputs)", 64 * per_article, len(inputs))):
        t0 = clock()
        for i in range(0, n, size):
            model.predict_proba(inputs[i:min(i + size, n)])
        out["predict_proba_us_per_input"][label] = round((clock() - t0) / n * 1e6, 1)
    return out


def median_run(ms: list[dict]) -> dict:
    """The run with the median wall time (the faster middle one for an even count), with every
    repeat's wall time, sentences/s and peak memory attached: the machine is shared, and one run of a
    mode can land on a noisy minute that the others do not."""
    chosen = dict(sorted(ms, key=lambda m: m["wall_s"])[(len(ms) - 1) // 2])
    chosen["repeats"] = [{k: m[k] for k in ("wall_s", "sentences_per_s", "mentions_per_s", "maxrss_mb", "peak_tree_rss_mb")
                          if k in m} for m in ms]
    return chosen


# ---- targets and report ------------------------------------------------------------------------------

MENTIONS_TARGET = 400  # issue 14: (c) with the default ONNX model, mentions/s at the largest size


def targets(results: dict, sizes: list[int], model: str = LINEAR) -> list[dict]:
    """The targets at the largest size (and the two sizes compared), each with the model it was set
    for. ``model``: the kind of model the runs used (``model_kind``); a throughput target set for
    another model is shown, measured, but not judged."""
    out = []
    big, small = max(sizes), min(sizes)
    r = lambda n, m: results.get(str(n), {}).get(m)  # noqa: E731

    def add(name, value, goal, ok, note="", set_for=None):
        if set_for is not None and set_for != model and ok is not None:
            ok = None
            note = (f"not judged: set for {MODEL_KINDS[set_for]}, this run used "
                    f"{MODEL_KINDS.get(model, model)}" + (f"; {note}" if note else ""))
        out.append({"target": name, "measured": value, "goal": goal,
                    "set_for": {LINEAR: "linear model (issue #5)", ONNX: "ONNX model (issue 14)"}.get(set_for, "any model"),
                    "result": "n/a" if ok is None else ("PASS" if ok else "FAIL"), "note": note})

    a, b, c, d = r(big, "plain"), r(big, "beam"), r(big, "beam_mp2"), r(big, "plain_x2")
    if a and c:
        ratio = c["sentences_per_s"] / a["sentences_per_s"]
        note = "wall-clock sentences/s"
        if d:
            ceiling = d["sentences_per_s"] / a["sentences_per_s"]
            note += (f"; two plain processes, no Beam, reach {ceiling:.2f}x in this run (d), so (c) gets "
                     f"{c['sentences_per_s'] / d['sentences_per_s']:.0%} of what two cores give")
        if c.get("cpu_s") and a.get("cpu_s"):
            # CPU rather than (b) against (a): in-process, the runner's own buffering shares the one core
            # with the work, which (c)'s workers do not pay (in one run (b) took 18 % more time than
            # (a), and (c)'s two workers 6 % more CPU).
            note += (f"; all of (c)'s processes used {c['cpu_s']:.0f} s of CPU, (a) {a['cpu_s']:.0f} s "
                     f"({c['cpu_s'] / a['cpu_s'] - 1:+.0%}: Beam, the id-only read, a model load per worker)")
        add(f"(c) vs (a) at N={big:,}", f"{ratio:.2f}x", ">= 1.6x", ratio >= 1.6, note, set_for=LINEAR)
    if a and d:
        ratio = d["sentences_per_s"] / a["sentences_per_s"]
        note = "not a target: the most any two-process run of this work can reach on this machine in this run"
        if len(d.get("halves_processing_s", [])) == 2:
            # Both (c) and (d) give each process a fixed half of the files: when the two cores of this
            # shared machine run at different speeds, the slower one sets the wall time of both.
            fast, slow = sorted(d["halves_processing_s"])
            note += (f"; its halves took {fast:.1f} s and {slow:.1f} s for nearly the same work: one process ran "
                     f"{slow / fast - 1:.0%} slower than the other")
        add(f"(d) vs (a) at N={big:,}: the machine's two-core ceiling", f"{ratio:.2f}x", "(context)", None, note)
    for n in sizes:
        a = r(n, "plain")
        if a:
            note = f"whole process; {a.get('sentences_per_s_processing', 0):,.0f}/s without start-up and model load"
            if n == big:
                add(f"(a) sentences/s at N={n:,}", f"{a['sentences_per_s']:,.0f}", ">= 4,000",
                    a["sentences_per_s"] >= 4000, note, set_for=LINEAR)
            else:
                # Judged at the largest size, like (c): here start-up is a third of the run.
                startup = a["wall_s"] - a.get("processing_s", a["wall_s"])
                add(f"(a) sentences/s at N={n:,}", f"{a['sentences_per_s']:,.0f}", "(context)", None,
                    f"{note}; start-up (imports, model load) is {startup:.1f} s, {startup / a['wall_s']:.0%} of this "
                    f"run; the target is judged at N={big:,}")
    c = r(big, "beam_mp2")
    if c and "counts" in c:
        note = (f"wall-clock, whole process; {c['counts']['mentions']:,} sentence x actor mentions in "
                f"{c['counts']['sentences']:,} sentences ({c['counts']['mentions'] / max(c['counts']['sentences'], 1):.2f} "
                "per sentence)")
        if c.get("mentions_per_s_processing"):
            note += f"; {c['mentions_per_s_processing']:,.0f}/s without start-up"
        add(f"(c) mentions/s at N={big:,}", f"{mentions_per_s(c):,.0f}", f">= {MENTIONS_TARGET}",
            mentions_per_s(c) >= MENTIONS_TARGET, note, set_for=ONNX)
    if big != small:
        for mode in ("beam", "beam_mp2"):
            lo, hi = r(small, mode), r(big, mode)
            if lo and hi:
                ratio = hi["maxrss_mb"] / lo["maxrss_mb"]
                tree = hi["peak_tree_rss_mb"] / lo["peak_tree_rss_mb"]
                add(f"{MODE_LABELS[mode]}: peak memory N={big:,} / N={small:,}", f"{ratio:.2f}x",
                    "<= 1.3x", ratio <= 1.3,
                    f"largest process (rusage maxrss) {lo['maxrss_mb']:.0f} -> {hi['maxrss_mb']:.0f} MB; "
                    f"whole process tree {lo['peak_tree_rss_mb']:.0f} -> {hi['peak_tree_rss_mb']:.0f} MB ({tree:.2f}x)")
        for mode in ("plain", "beam", "beam_mp2"):
            lo, hi = r(small, mode), r(big, mode)
            if lo and hi:
                ratio = hi["wall_s"] / lo["wall_s"]
                limit = 1.1 * big / small
                note = ""
                if lo.get("processing_s") and hi.get("processing_s"):
                    note = f"processing only: {hi['processing_s'] / lo['processing_s']:.2f}x"
                add(f"{MODE_LABELS[mode]}: time N={big:,} / N={small:,}", f"{ratio:.2f}x",
                    f"<= {limit:.0f}x", ratio <= limit, note)
    return out


def _md_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
           ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


# The report of the last run before the speed work (commit 7c1834a), kept so that every new report
# shows the profile's top costs before and after. Same corpus generator, seed and sizes.
BEFORE = os.path.join(DEFAULT_REPORTS, "bench_before.json")


def _load_before() -> dict | None:
    try:
        with open(BEFORE, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _before_after(before: dict, after: dict) -> list[str]:
    """Per-step cost of (a) under cProfile, in µs per sentence, before and after; and throughput."""
    pb, pa_ = before.get("profile") or {}, after.get("profile") or {}
    sb, sa = (pb.get("summary") or {}).get("steps", {}), (pa_.get("summary") or {}).get("steps", {})
    if not sb or not sa or pb.get("n") != pa_.get("n"):
        return []
    n_sent = lambda r: next(iter(r["results"][str(r["profile"]["n"])].values()))["counts"]["sentences"]  # noqa: E731
    nb, na = n_sent(before), n_sent(after)
    rows = []
    for step in dict.fromkeys([*sb, *sa]):
        b = sb.get(step, {}).get("cumtime_s")
        a = sa.get(step, {}).get("cumtime_s")
        ub = b / nb * 1e6 if b is not None else None
        ua = a / na * 1e6 if a is not None else None
        rows.append([step.replace("  ", "&nbsp;&nbsp;"), f"{ub:.0f}" if ub is not None else "-",
                     f"{ua:.0f}" if ua is not None else "-",
                     f"{ub / ua:.1f}x" if ub and ua else "-"])
    tb, ta = pb["summary"]["total_s"] / nb * 1e6, pa_["summary"]["total_s"] / na * 1e6
    rows.append(["**total under cProfile**", f"{tb:.0f}", f"{ta:.0f}", f"{tb / ta:.1f}x"])
    L = ["## Before and after", "",
         f"Profile of (a) at N={pa_['n']:,}, cumulative µs per sentence under cProfile, in the run before the "
         f"speed work (`reports/bench_before.json`, {before.get('finished_at', '?')[:10]}, model "
         f"{(before.get('model') or {}).get('model_version', '?')}) and in this one. The same corpus; cProfile "
         "inflates call-heavy code, so compare the rows with each other, not with the throughput table.", ""]
    L += _md_table(["step", "before µs", "after µs", "speed-up"], rows)
    big = max(after["results"], key=int)
    thr = []
    for mode in after["results"][big]:
        rb = (before.get("results", {}).get(big) or {}).get(mode)
        ra = after["results"][big][mode]
        if rb:
            thr.append([MODE_LABELS.get(mode, mode), f"{rb['sentences_per_s']:,.0f}", f"{ra['sentences_per_s']:,.0f}",
                        f"{ra['sentences_per_s'] / rb['sentences_per_s']:.2f}x",
                        f"{mentions_per_s(rb):,.0f}", f"{mentions_per_s(ra):,.0f}",
                        f"{rb['maxrss_mb']:,.0f}", f"{ra['maxrss_mb']:,.0f}"])
    if thr:
        L += ["", f"Throughput and peak memory (largest process) at N={int(big):,}, before and after:", ""]
        L += _md_table(["run", "sentences/s before", "after", "ratio", "mentions/s before", "after",
                        "peak RSS MB before", "after"], thr)
    return L + [""]


def markdown(report: dict) -> str:
    m = report["machine"]
    L = ["# Throughput benchmark", "",
         f"`make bench` (`python -m benchmarks.bench`), {report['finished_at']}. Machine: {m['cpu_count']} cores "
         f"({m['cpu_model']}), Python {m['python']}, apache-beam {m['apache_beam']}. One fresh process per run; "
         f"runs at one size are interleaved (a, b, c, d), {report.get('repeats', 1)} rounds, and each run's row is its "
         "median round (wall time), ratios taken between those medians. This machine's single-core speed drifts by about "
         "±30 % (../shared/MEASURED.md): treat smaller differences as noise.", "",
         "Corpus: " + report["corpus"]["description"], "",
         f"Code: commit {report['code']['before']['commit']}"
         + (f", with uncommitted changes in {', '.join(report['code']['before']['modified'])}" if report['code']['before']['modified'] else "")
         + f". Model: {report['model'].get('model_version', '?')} (sha256 {report['model']['sha256'][:12]}, "
         f"{report['model']['bytes'] / 2**20:.0f} MB), copied before the first run.", ""]
    if report.get("notes"):
        L += ["## Notes", ""] + [f"- {x}" for x in report["notes"]] + [""]
    rows = []
    for n, runs in report["results"].items():
        base = runs.get("plain")
        for mode in MODES:
            x = runs.get(mode)
            if not x:
                continue
            ratio = f"{x['sentences_per_s'] / base['sentences_per_s']:.2f}x" if base and mode != "plain" else "1.00x" if base else ""
            workers = (", ".join(f"{w['cpu_s']:.0f}" for w in x["worker_processes"]) or "-")
            rounds = ", ".join(f"{r['wall_s']:.1f}" for r in x.get("repeats", []))
            rows.append([f"{int(n):,}", MODE_LABELS[mode], f"{x['wall_s']:.1f}", rounds,
                         f"{x['processing_s']:.1f}" if x.get("processing_s") else "",
                         f"{x['articles_per_s']:,.1f}", f"{x['sentences_per_s']:,.0f}", f"{mentions_per_s(x):,.0f}", ratio,
                         f"{x['maxrss_mb']:,.0f}", f"{x['peak_tree_rss_mb']:,.0f}", f"{x['cpu_per_wall']:.2f}", workers,
                         f"{x.get('other_load_cores', 0):.2f}", x.get("model_threads", "")])
    L += ["## Results", ""]
    L += _md_table(["N", "run", "wall s", "wall s, every round", "pipeline s", "articles/s", "sentences/s", "mentions/s",
                    "vs (a)", "peak RSS MB (largest process)", "peak RSS MB (process tree)", "CPU/wall", "SDK worker CPU s",
                    "other load", "ONNX threads per process"], rows)
    L += ["", "articles/s, sentences/s and mentions/s are over the whole process (interpreter start, imports, model "
          "load included); *mentions/s*: sentence x actor mentions, each one input to the stance model, which "
          "with the ONNX model is most of the cost. *pipeline s*: (a) everything after loading; (b)/(c) the `beam.Pipeline` block as "
          "logged by run.py; (d) the slower half's. (d) is a yardstick, not a way to run the product: it "
          "splits the files by hand and writes two half outputs. *CPU/wall*: CPU seconds of every process in the run's tree / wall seconds "
          "(about 1 = one core busy, 2 = both). *other load*: cores that other processes on this shared machine "
          "kept busy during the run (from /proc/stat); above about 0.2 the run was disturbed. *ONNX threads per process*: "
          "`--model_threads` of (b) and (c), the plain loop's for (a) and each half of (d); the linear model ignores "
          "it.", ""]
    for n, runs in report["results"].items():
        counts = runs.get("plain", {}).get("counts") or next(iter(runs.values()))["counts"]
        L.append(f"- N={int(n):,}: {counts['articles_analysed']:,} articles, {counts['sentences']:,} sentences, "
                 f"{counts['mentions']:,} sentence-actor mentions ({counts['mentions'] / max(counts['sentences'], 1):.2f} per sentence).")
    L += ["", "## Targets", ""]
    L += [f"This run used {MODEL_KINDS.get(report['model'].get('kind'), report['model'].get('kind', '?'))}. The "
          "sentences/s targets (issue #5) were set for the linear model and the mentions/s target (issue 14) for the "
          "default ONNX model: each is judged only on a run of its own model (`python -m benchmarks.bench --model "
          "models/stance.skops` for the linear figures); the memory and scaling targets hold for any model.", ""]
    L += _md_table(["target", "set for", "measured", "goal", "result", "note"],
                   [[t["target"], t.get("set_for", ""), t["measured"], t["goal"], f"**{t['result']}**", t["note"]]
                    for t in report["targets"]])
    if report.get("same_output"):
        L += ["", "## Same work, same output", ""]
        for n, cmp_ in report["same_output"].items():
            for pair, tables in cmp_.items():
                L.append(f"- N={int(n):,}, {pair}: " + "; ".join(f"{k} {v}" for k, v in tables.items()))
    if report.get("parquet"):
        L += ["", "## Parquet output", ""]
        for label, layout in report["parquet"].items():
            L += [f"{label}:", ""]
            L += _md_table(["table", "files", "rows", "row groups", "rows per group", "codec", "bytes"],
                           [[k, v["files"], f"{v['rows']:,}", v["row_groups"], ", ".join(str(x) for x in v["rows_per_group"]),
                             ", ".join(v["codecs"]), f"{v['bytes']:,}"] for k, v in layout.items()])
            L.append("")
    p = report.get("profile")
    if p:
        before = _load_before()
        if before:
            L += _before_after(before, report)
        L += ["## Profile of (a)", "",
              f"cProfile of the plain loop at N={p['n']:,} (`{p['file']}`); cProfile adds overhead, so "
              f"read shares, not absolute times. Total {p['summary']['total_s']:.1f} s.", ""]
        top = sorted(((k, v) for k, v in p["summary"]["steps"].items() if not k.startswith(" ")),
                     key=lambda kv: -kv[1]["share"])[:3]
        L += ["Top costs: " + "; ".join(f"{k} {v['share']:.0%}" for k, v in top) + "; VADER in all "
              f"(per sentence and inside the stance features) "
              f"{sum(v['cumtime_s'] for v in p['summary']['polarity_scores_by_caller'].values()) / p['summary']['total_s']:.0%}.", ""]
        L += _md_table(["step", "cumulative s", "share"],
                       [[k.replace("  ", "&nbsp;&nbsp;"), f"{v['cumtime_s']:.2f}", f"{v['share']:.0%}"]
                        for k, v in p["summary"]["steps"].items()])
        L += ["", f"VADER `polarity_scores` calls: {p['summary']['polarity_scores_calls']:,} for "
              f"{p['summary']['sentences_scored_by_vader_per_sentence']:,} sentences; by caller:", ""]
        L += _md_table(["caller", "calls", "cumulative s"],
                       [[c, f"{v['calls']:,}", f"{v['cumtime_s']:.2f}"] for c, v in p["summary"]["polarity_scores_by_caller"].items()])
        L += ["", "Top functions by cumulative time:", ""]
        L += _md_table(["function", "calls", "tottime s", "cumtime s"],
                       [[f"`{r['function']}`", f"{r['calls']:,}", r["tottime_s"], r["cumtime_s"]] for r in p["summary"]["top_cumulative"]])
        L += ["", "Top functions by own (total) time:", ""]
        L += _md_table(["function", "calls", "tottime s", "cumtime s"],
                       [[f"`{r['function']}`", f"{r['calls']:,}", r["tottime_s"], r["cumtime_s"]] for r in p["summary"]["top_tottime"]])
        st = p.get("stance_stages")
        if st:
            L += ["", f"Stance model, per input, no profiler ({st['inputs']:,} inputs from the corpus, "
                  f"{st['mentions_per_sentence']:.2f} per sentence): "
                  + "".join(f"{k} {v} µs, " for k, v in st.get("stance_stage_us_per_input", {}).items())
                  + "whole `predict_proba` per input: "
                  + ", ".join(f"{v} µs in {k}" for k, v in st["predict_proba_us_per_input"].items())
                  + f". VADER on one whole sentence: {st['vader_per_sentence_us']} µs with `pipeline.vader`, "
                  f"{st.get('vader_reference_per_sentence_us', '?')} µs with vaderSentiment (same scores). Finding the "
                  f"actors in one sentence: {st.get('actors_per_sentence_us', '?')} µs with the first-word index, "
                  f"{st.get('actors_combined_regex_per_sentence_us', '?')} µs with the combined regex alone (same mentions)."]
    bp = (p or {}).get("beam")
    if bp:
        b = bp["summary"]
        L += ["", f"## Profile of (b) at N={p['n']:,}", "",
              f"cProfile of `stance-pipeline run` in-process (`{bp['file']}`), total {b['total_s']:.1f} s: imports "
              f"{b['imports_s']:.1f} s; `load_model` called {b['load_model_calls']} times, {b['load_model_s']:.1f} s; "
              f"the runner (`run_pipeline`) {b['runner_s']:.1f} s, of which the project's own functions "
              f"{b['project_functions_total_s']:.1f} s and Beam's machinery around them "
              f"{b['runner_overhead_s']:.1f} s (DoFn signature inspection `get_dofn_specs` alone "
              f"{b['dofn_specs_s']:.1f} s).", ""]
        L += _md_table(["project function inside Beam", "cumulative s"],
                       [[k, f"{v:.2f}"] for k, v in b["project_functions_s"].items()])
        L += ["", "Beam functions by own time:", ""]
        L += _md_table(["function", "calls", "tottime s", "cumtime s"],
                       [[f"`{r['function']}`", f"{r['calls']:,}", r["tottime_s"], r["cumtime_s"]] for r in b["top_beam_tottime"]])
    if report.get("plain_steps"):
        L += ["", "## (a) without a profiler: seconds per step", ""]
        keys = ["load", "read", "split", "mentions", "vader", "stance", "rows", "write", "total"]
        L += _md_table(["N", *keys], [[f"{int(n):,}", *[f"{s.get(k, 0):.1f}" for k in keys]]
                                      for n, s in report["plain_steps"].items()])
    return "\n".join(L) + "\n"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_state() -> dict:
    """What code ran: the commit, files changed since it, and a hash of every pipeline/*.py (the
    tree is edited by others while benchmarks run)."""
    def git(*a):
        try:
            return subprocess.run(["git", *a], cwd=_ROOT, capture_output=True, text=True, timeout=30).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""
    files = sorted(glob.glob(os.path.join(_ROOT, "pipeline", "**", "*.py"), recursive=True))
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "modified": [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()],
            "pipeline_py": {_rel(f): _sha256(f)[:12] for f in files}}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench(args) -> int:
    from importlib import metadata

    from pipeline.defaults import DEFAULT_ACTORS

    sizes = sorted(set(args.sizes))
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    logs = os.path.join(workdir, "logs")
    os.makedirs(logs, exist_ok=True)
    # A snapshot of the model: `make train` or `make encoder` may replace it while the runs go on. The
    # ONNX model is a directory, the linear one a file.
    from pipeline.write import file_hash

    source = os.path.abspath(args.model)
    if os.path.isdir(source):
        model = os.path.join(workdir, "model-snapshot")
        shutil.rmtree(model, ignore_errors=True)
        shutil.copytree(source, model)
        size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(model, "**"), recursive=True) if os.path.isfile(p))
    else:
        model = os.path.join(workdir, "model-snapshot.skops")
        shutil.copyfile(source, model)
        size = os.path.getsize(model)
    kind = model_kind(model)
    model_info = {"path": args.model, "kind": kind, "sha256": file_hash(model), "bytes": size,
                  "threads_per_mode": {m: MODEL_THREADS[m] or "automatic" for m in MODES}}
    actors = os.path.abspath(args.actors or DEFAULT_ACTORS)
    started = time.perf_counter()
    code_before = code_state()

    pool, titles, sources, provenance = sentence_pool()
    corpora = {}
    for n in sizes:
        d = os.path.join(workdir, f"corpus-{n}")
        corpora[n] = {"dir": _rel(d), **write_corpus(d, n, pool, titles, sources, args.files, args.seed)}
        print(f"corpus N={n}: {corpora[n]}", flush=True)

    results: dict[str, dict] = {}
    for n in sizes:
        results[str(n)] = {}
        runs: dict[str, list[dict]] = {}
        for rep in range(args.repeats):
            for mode in MODES:
                out = os.path.join(workdir, f"out-{n}-{mode}")
                if args.quiet_wait > 0:
                    wait_quiet(args.quiet_wait)
                m = run_mode(mode, os.path.join(workdir, f"corpus-{n}"), out, logs, model, actors)
                print(f"N={n} {mode}: {m['wall_s']:.1f} s wall, {m['sentences_per_s']:,.0f} sentences/s, "
                      f"{m['mentions_per_s']:,.0f} mentions/s, "
                      f"maxrss {m['maxrss_mb']:.0f} MB, tree {m['peak_tree_rss_mb']:.0f} MB, "
                      f"CPU/wall {m['cpu_per_wall']:.2f}, SDK worker CPU s {[w['cpu_s'] for w in m['worker_processes']]}, "
                      f"other processes {m['other_load_cores']:.2f} cores",
                      flush=True)
                runs.setdefault(mode, []).append(m)
        for mode, ms in runs.items():
            results[str(n)][mode] = median_run(ms)

    same_output = {}
    for n in sizes:
        a = os.path.join(workdir, f"out-{n}-plain")
        same_output[str(n)] = {"(a) vs (b)": compare_outputs(a, os.path.join(workdir, f"out-{n}-beam")),
                               "(a) vs (c)": compare_outputs(a, os.path.join(workdir, f"out-{n}-beam_mp2")),
                               "(a) vs (d)": compare_counts(results[str(n)]["plain"]["counts"],
                                                            results[str(n)]["plain_x2"]["counts"])}
    big = max(sizes)
    parquet = {f"N={big:,}, {MODE_LABELS[m]}": parquet_layout(os.path.join(workdir, f"out-{big}-{m}"))
               for m in ("beam", "beam_mp2")}

    profile = None
    if not args.no_profile:
        n = min(sizes)
        prof = os.path.join(workdir, f"plain-{n}.prof")
        cmd = [_python(), "-m", "benchmarks.bench", "plain", "--input", os.path.join(workdir, f"corpus-{n}"),
               "--output", os.path.join(workdir, f"out-{n}-plain-profiled"), "--model", model, "--actors", actors,
               "--profile", prof, "--stance-stages"]
        m = measured(cmd, os.path.join(logs, f"plain-{n}-profiled.log"))
        if m["returncode"] != 0:
            raise RuntimeError(f"profiled run failed; see {m['log']}")
        with open(prof + ".stages.json") as f:
            stages = json.load(f)
        profile = {"n": n, "file": _rel(prof), "wall_s": m["wall_s"],
                   "summary": profile_summary(prof), "stance_stages": stages}
        bprof = os.path.join(workdir, f"beam-{n}.prof")
        cmd = [_python(), "-m", "cProfile", "-o", bprof, "-m", "pipeline", "run", "--input",
               os.path.join(workdir, f"corpus-{n}"), "--output", os.path.join(workdir, f"out-{n}-beam-profiled"),
               "--model", model, "--actors", actors]
        m = measured(cmd, os.path.join(logs, f"beam-{n}-profiled.log"))
        if m["returncode"] != 0:
            raise RuntimeError(f"profiled Beam run failed; see {m['log']}")
        profile["beam"] = {"file": _rel(bprof), "wall_s": m["wall_s"], "summary": beam_profile_summary(bprof)}

    code_after = code_state()
    changed = sorted(f for f in set(code_before["pipeline_py"]) | set(code_after["pipeline_py"])
                     if code_before["pipeline_py"].get(f) != code_after["pipeline_py"].get(f))
    manifest_path = os.path.join(workdir, f"out-{big}-beam", "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            model_info["model_version"] = json.load(f)["model"]["model_version"]
    counts = results[str(big)].get("plain", {}).get("counts", {})
    notes = []
    if changed:
        notes.append(f"**Code changed while the benchmark ran** (other engineers' edits): {', '.join(changed)}; "
                     "runs before and after the change are not strictly comparable.")
    loads = [x.get("other_load_cores", 0) for r in results.values() for x in r.values()]
    if loads and max(loads) > 0.2:
        notes.append(f"**The machine was shared**: other processes kept {min(loads):.2f}-{max(loads):.2f} cores busy "
                     "during the runs (column *other load*). Throughput is understated, most of all for (c), "
                     "which needs both cores; rerun `make bench` on an idle machine for numbers to hold "
                     "anyone to.")
    report = {
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
                    "cpu_model": _cpu_model(), "python": platform.python_version(),
                    "apache_beam": metadata.version("apache-beam"), "platform": platform.platform()},
        "corpus": {"seed": args.seed, "sentences_per_article_drawn": SENTENCES_PER_ARTICLE, "pool": provenance,
                   "sizes": {str(k): v for k, v in corpora.items()},
                   "description": (
                       f"{provenance['pool_sentences']:,} distinct team-written sentences "
                       f"({provenance['sample_sentences']} from datasets/sample/, {provenance['train_sentences']:,} from "
                       f"datasets/stance/train.jsonl), drawn {SENTENCES_PER_ARTICLE} per article in shuffled order "
                       f"(seed {args.seed}), 1-4 sentences per paragraph, {len(sources)} sources, {DAYS} days from "
                       f"{START_DATE}, {args.files} JSON Lines files per corpus"
                       + (f"; at N={big:,} the splitter finds {counts['sentences'] / max(counts['articles_analysed'], 1):.1f} "
                          f"sentences per article and {counts['mentions'] / max(counts['sentences'], 1):.2f} "
                          "sentence-actor mentions per sentence" if counts else "")
                       + " (the sample corpus: about 20 sentences per article, 0.45 sentences with a mention).")},
        "repeats": args.repeats,
        "results": results,
        "plain_steps": {n: r["plain"]["steps_s"] for n, r in results.items() if "plain" in r},
        "targets": targets(results, sizes, model=kind),
        "same_output": same_output,
        "parquet": parquet,
        "profile": profile,
        "bench_seconds": round(time.perf_counter() - started, 1),
        "model": model_info,
        "code": {"before": code_before, "changed_during_run": changed},
        "notes": notes + [
            f"The corpus reuses a pool of {provenance['pool_sentences']:,} sentences: at N={big:,} each occurs about "
            f"{big * SENTENCES_PER_ARTICLE / max(provenance['pool_sentences'], 1):.0f} times. Do not judge a cache "
            "keyed on sentence text with this benchmark; it would look far better than on real news.",
            "(b) and (c) run `python -m pipeline run` (the `stance-pipeline run` CLI) unchanged; pipeline/run.py "
            "maps no --runner / DirectRunner to an FnApiRunner instance, which reads --direct_running_mode and "
            "--direct_num_workers from the options in run_pipeline(); the 'SDK worker CPU s' column shows the "
            "worker processes (c) really started and how much CPU each used.",
        ],
    }
    os.makedirs(args.reports, exist_ok=True)
    with open(os.path.join(args.reports, "bench.json"), "w") as f:
        json.dump(report, f, indent=2, default=str)
        f.write("\n")
    md = markdown(report)
    with open(os.path.join(args.reports, "bench.md"), "w") as f:
        f.write(md)
    print()
    for t in report["targets"]:
        print(f"{t['result']:4}  {t['target']}: {t['measured']} (goal {t['goal']}) {t['note']}")
    print(f"\nWrote {os.path.join(args.reports, 'bench.md')} and bench.json in {report['bench_seconds']:.0f} s")
    return 0


def _plain_main(args) -> int:
    from pipeline.defaults import DEFAULT_ACTORS

    actors = args.actors or DEFAULT_ACTORS
    if args.profile:
        prof = cProfile.Profile()
        result = prof.runcall(plain_run, args.input, args.output, actors, args.model, args.config, args.model_threads)
        prof.dump_stats(args.profile)
        if args.stance_stages:
            with open(args.profile + ".stages.json", "w") as f:
                json.dump(stance_stage_timings(args.input[0], args.model, actors), f, indent=2)
    else:
        result = plain_run(args.input, args.output, actors, args.model, args.config, args.model_threads)
    if args.result:
        with open(args.result, "w") as f:
            json.dump(result, f, indent=2)
    else:
        print(json.dumps(result, indent=2))
    return 0


def _pair_main(args) -> int:
    """(d): two ``plain`` processes at once, on the first and the second half of the input's files."""
    from pipeline.read import expand_inputs

    files = expand_inputs([args.input])
    if len(files) < 2:
        raise SystemExit("plain-pair needs an input of at least two files")
    halves = [files[:len(files) // 2], files[len(files) // 2:]]
    procs, results = [], []
    for k, half in enumerate(halves):
        out = os.path.join(args.output, f"half-{k}")
        result = out + ".result.json"
        cmd = [_python(), "-m", "benchmarks.bench", "plain", "--input", *half, "--output", out, "--model", args.model,
               "--result", result, "--model-threads", str(args.model_threads),
               *(["--actors", args.actors] if args.actors else [])]
        procs.append(subprocess.Popen(cmd, cwd=_ROOT))
        results.append(result)
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"plain-pair: a half failed (exit codes {codes})")
    halves_out = []
    for path in results:
        with open(path) as f:
            halves_out.append(json.load(f))
    counts = {k: sum(h["counts"][k] for h in halves_out) for k in halves_out[0]["counts"]}
    # The pair is done when the slower half is: its seconds are the run's.
    slow = max(halves_out, key=lambda h: h["seconds"]["total"])
    combined = {"counts": counts, "seconds": slow["seconds"], "halves": halves_out}
    with open(args.result, "w") as f:
        json.dump(combined, f, indent=2)
    return 0


def main(argv: list[str] | None = None) -> int:
    from pipeline.defaults import DEFAULT_MODEL

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plain-pair"]:
        p = argparse.ArgumentParser(prog="python -m benchmarks.bench plain-pair",
                                    description="(d) only: two plain loops at once, on half the input's files each")
        p.add_argument("--input", required=True, help="a directory or glob of at least two files")
        p.add_argument("--output", required=True)
        p.add_argument("--model", default=DEFAULT_MODEL)
        p.add_argument("--actors", default=None)
        p.add_argument("--result", required=True, help="write summed counts and the slower half's seconds here (JSON)")
        p.add_argument("--model-threads", type=int, default=1, help="ONNX Runtime threads in each half (default: 1)")
        return _pair_main(p.parse_args(argv[1:]))
    if argv[:1] == ["plain"]:
        p = argparse.ArgumentParser(prog="python -m benchmarks.bench plain",
                                    description="(a) only: the plain single-process loop over its inputs")
        p.add_argument("--input", required=True, nargs="+", help="files, globs or directories")
        p.add_argument("--output", required=True)
        p.add_argument("--model", default=DEFAULT_MODEL)
        p.add_argument("--actors", default=None)
        p.add_argument("--config", default=None)
        p.add_argument("--model-threads", type=int, default=1, help="ONNX Runtime threads (default: 1)")
        p.add_argument("--result", default=None, help="write counts and step seconds here (JSON)")
        p.add_argument("--profile", default=None, help="cProfile the run into this file")
        p.add_argument("--stance-stages", action="store_true", help="with --profile: also time the model's stages")
        return _plain_main(p.parse_args(argv[1:]))
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="corpus sizes (articles)")
    p.add_argument("--repeats", type=int, default=3,
                   help="rounds of the four runs per size; each mode's median run is reported (default: %(default)s)")
    p.add_argument("--files", type=int, default=FILES_PER_CORPUS, help="JSON Lines files per corpus")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--workdir", default=DEFAULT_WORKDIR, help="corpora, outputs, logs (default: reports/bench, git-ignored)")
    p.add_argument("--reports", default=DEFAULT_REPORTS, help="where bench.json and bench.md go")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--actors", default=None)
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile run of (a)")
    p.add_argument("--quiet-wait", type=float, default=20, metavar="S",
                   help="before each run, wait up to S s for other processes to go idle (shared machine)")
    return bench(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
