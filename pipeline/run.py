"""The main job: news articles in, Parquet evidence and aggregates out.

    stance-pipeline run --input datasets/sample --output out

Read -> split sentences -> find actors -> sentiment -> stance -> aggregate -> write, each a named
transform. Unknown arguments are Beam pipeline options and pass through unchanged, so the same job
runs on Dataflow, Flink or Spark (e.g. ``--runner=PortableRunner --job_endpoint=...``). Without
``--runner``, or with ``--runner=DirectRunner``, the job runs on Beam's in-process Python runner
(FnApiRunner), which is what the DirectRunner falls back to anyway: it never tries to download the
Prism runner binary.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import os
import time
import uuid
from importlib import metadata

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipeline import __version__
from pipeline.actors import load_actors, presets
from pipeline.aggregate import (ActorAggregates, DailyAggregates, DropDuplicateIds, article_location,
                                article_rows, dead_letter_row, mention_rows, run_counts)
from pipeline.analyze import AnalyseArticles
from pipeline.config import RunConfig, load_config
from pipeline.defaults import DEFAULT_ACTORS, DEFAULT_MODEL
from pipeline.errors import UsageError
from pipeline.progress import (DEFAULT_INTERVAL, FnRunnerProgress, ProgressReporter, counts_from, fn_runner_progress,
                               live_counters, result_state)
from pipeline.read import ReadArticles, expand_inputs
from pipeline.stance.header import ModelHeader, is_encoder_model, read_header
from pipeline.write import (WriteCounts, WriteTable, check_output_dir, clear_stale_staging, file_hash,
                            publish, read_counts, staging_dir, table_stats)

_LOG = logging.getLogger(__name__)
IN_PROCESS_RUNNERS = (None, "DirectRunner", "direct", "FnApiRunner")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", required=True, metavar="PATH_OR_GLOB",
                        help="input files, globs or directories (JSON Lines, CSV, Parquet, .txt; .gz allowed)")
    parser.add_argument("--output", required=True, metavar="DIR",
                        help="output directory; a re-run replaces its tables")
    parser.add_argument("--actors", default=DEFAULT_ACTORS, metavar="FILE_OR_PRESET",
                        help=f"actors YAML, or a preset in configs/actors/ by name: {', '.join(presets())} "
                             "(default: %(default)s)")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="run settings YAML: column names, limits, duplicate policy (see configs/pipeline.yaml)")
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="PATH",
                        help="stance model: the ONNX model's directory (default: %(default)s, the distilled "
                             "encoder), the linear model's file (models/stance.skops from 'make train': about "
                             "ten times faster, less accurate) or a torch encoder's directory")
    parser.add_argument("--model_threads", type=int, default=0, metavar="N",
                        help="threads each worker process gives the ONNX model; 0 (the default): all cores "
                             "for the in-process runner in one process, otherwise 1 (a worker per core)")
    parser.add_argument("--progress_interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                        help="seconds between progress lines on stderr (default: %(default)s; -q turns them off)")
    parser.add_argument("--mention_shards", type=int, default=0, metavar="N",
                        help="files in mentions/; 0 (the default) lets the runner decide, one file per "
                             "worker bundle, which keeps memory flat: a fixed number groups all rows first")


def build(p: beam.Pipeline, files, actors, config: RunConfig, model_path: str, staging: str,
          mention_shards: int = 0, model_threads: int | None = None) -> None:
    """Composes the job on pipeline ``p``."""
    read, read_dead = p | "ReadArticles" >> ReadArticles(files, config)
    dead = [read_dead]
    articles = read
    if config.duplicates == "first":
        # Ids from a second read of the same files: the articles then stream from the read into the
        # analysis instead of waiting, all of them, for a grouping (see DropDuplicateIds).
        ids, _ = p | "ReadIds" >> ReadArticles(files, config, counted=False)
        locations = ids | "Locate" >> beam.Map(article_location)
        articles, dup_dead = read | "DropDuplicateIds" >> DropDuplicateIds(locations, config.limits.max_raw_chars)
        dead.append(dup_dead)
    analysed, failed = articles | "AnalyseArticles" >> AnalyseArticles(
        actors, model_path, config.limits.max_sentence_chars, config.batch_size, model_threads)
    dead = (*dead, failed) | "AllDeadLetters" >> beam.Flatten()

    (analysed | "MentionRows" >> beam.FlatMap(mention_rows)
     | "WriteMentions" >> WriteTable("mentions", staging, mention_shards))
    (analysed | "ArticleRows" >> beam.FlatMap(article_rows) | "WriteArticles" >> WriteTable("articles", staging, num_shards=0))
    (analysed | "DailyAggregates" >> DailyAggregates() | "WriteDaily" >> WriteTable("daily", staging))
    (analysed | "ActorAggregates" >> ActorAggregates(actors) | "WriteActors" >> WriteTable("actors", staging))
    (dead | "ErrorRows" >> beam.Map(dead_letter_row) | "WriteErrors" >> WriteTable("errors", staging))
    (run_counts(read, read_dead, analysed, dead) | "WriteCounts" >> WriteCounts(staging))


def run(args: argparse.Namespace, beam_args: list[str]) -> dict:
    """Runs the job and publishes its result; returns the manifest."""
    started = datetime.datetime.now(datetime.timezone.utc)
    # Cheap checks first, then the model: a typo fails at once, and any bad file before any work.
    interval = None if getattr(args, "quiet", False) else getattr(args, "progress_interval", DEFAULT_INTERVAL)
    if interval is not None and interval <= 0:
        raise UsageError(f"--progress_interval must be a positive number of seconds, got {interval:g}")
    actors = load_actors(args.actors)
    config = load_config(args.config)
    check_output_dir(args.output)
    files = expand_inputs(args.input)
    model = model_identity(args.model)
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    if "://" not in args.output and not FileSystems.exists(args.output):
        FileSystems.mkdirs(args.output)
    clear_stale_staging(args.output)
    staging = staging_dir(args.output, run_id)

    options = PipelineOptions(beam_args)
    runner_name = options.view_as(StandardOptions).runner
    runner = None
    if runner_name in IN_PROCESS_RUNNERS:
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner

        # Its workers then answer progress requests while a bundle runs (see pipeline/progress.py).
        runner = FnApiRunner(progress_request_frequency=interval and min(interval, 2.0))
        if interval and not any(a.startswith("--direct_running_mode") for a in beam_args):
            # In the default in_memory mode the runner calls its worker directly and only asks for
            # progress once a bundle is done; with multi_threading the one worker thread talks to it
            # over loopback gRPC and answers while it works. Same output, no measurable cost (a
            # 1,000-article run took 15.5-20.1 s either way on this shared machine).
            options.view_as(DirectOptions).direct_running_mode = "multi_threading"
        runner_name = "FnApiRunner (in-process DirectRunner)"
    threads = getattr(args, "model_threads", 0)
    if threads < 0:
        raise UsageError(f"--model_threads must be 0 (automatic) or more, got {threads}")
    if not threads:
        one_process = (runner is not None and options.view_as(DirectOptions).direct_running_mode != "multi_processing")
        threads = (os.cpu_count() or 1) if one_process else 1
    _LOG.info("run %s: %d input files -> %s on %s", run_id, len(files), args.output, runner_name)
    t0 = time.perf_counter()
    p = beam.Pipeline(runner=runner, options=options)
    build(p, files, actors, config, args.model, staging, args.mention_shards, threads)
    run_and_wait(p, interval)
    _LOG.info("pipeline finished in %.1f s; publishing", time.perf_counter() - t0)

    manifest = {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "inputs": {"arguments": list(args.input), "files": files},
        "counts": read_counts(staging),
        "tables": table_stats(staging),
        "actors_file": args.actors,
        "actors": [a.id for a in actors],
        "config_hash": _config_hash(actors, config),
        "config": json.loads(json.dumps(config, default=lambda o: vars(o))),
        "model": {"path": args.model, "model_version": model.model_version,
                  "training_data_hash": model.training_data_hash, "file_sha256": file_hash(args.model)},
        "runner": runner_name,
        "packages": _package_versions(),
    }
    publish(args.output, staging, manifest)
    return manifest


def run_and_wait(p: beam.Pipeline, progress_interval: float | None) -> None:
    """Runs ``p`` to the end; with an interval, writes progress lines to stderr meanwhile: from the
    job's metrics where the runner reports them while it runs, else its state and the time elapsed."""
    if progress_interval is None:
        p.run().wait_until_finish()
        return
    in_process = FnRunnerProgress()
    reporter = ProgressReporter(in_process.counts, interval=progress_interval).start()
    try:
        with fn_runner_progress(in_process):
            result = p.run()  # the in-process runner returns when the job is done, any other at once
        reporter.counts = lambda: counts_from(live_counters(result))
        reporter.state = lambda: result_state(result)
        result.wait_until_finish()
    finally:
        reporter.stop()


def model_identity(path: str) -> ModelHeader:
    """The model's version and training data hash, checked before any work. The workers load the
    model; for a model file the driver only reads its header (no scikit-learn in the driver), while
    the encoder model is loaded in full: its runs are slow, and the full check costs them little."""
    if is_encoder_model(path):
        from pipeline.stance.model import load_model

        model = load_model(path)
        return ModelHeader(model.model_version, model.training_data_hash)
    return read_header(path)


def _config_hash(actors, config: RunConfig) -> str:
    payload = json.dumps({"actors": [vars(a) for a in actors], "config": config}, sort_keys=True,
                         default=lambda o: vars(o) if hasattr(o, "__dict__") else list(o))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _package_versions() -> dict:
    out = {"stance-pipeline": __version__}
    for name in ("apache-beam", "scikit-learn", "vaderSentiment", "pyarrow", "sentencex", "skops", "numpy", "PyYAML"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    import platform

    out["python"] = platform.python_version()
    return out
