"""Command line: ``stance-pipeline run|train|eval|classify|report`` (``python -m pipeline`` is the same).

A thin layer: it parses arguments and calls ``run``, ``train``, ``evaluate``, ``classify`` and ``write_report``. Mistakes
a user can fix (a missing file, a bad YAML key, a glob that matches nothing) end as one ``Error:``
line and exit code 1; anything else keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings

from pipeline.defaults import (CONFLICT_NEWS_DIR, DEFAULT_CALIBRATION, DEFAULT_ENCODER, DEFAULT_MODEL, DEFAULT_TEST,
                               DEFAULT_TRAIN, LINEAR_MODEL, NEWSMTSC_DIR)
from pipeline.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, like argparse, with our prefix
        self.print_usage(sys.stderr)
        print(f"Error: {message}", file=sys.stderr)
        sys.exit(2)


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stance-pipeline", description=(
        "Measure how the news portrays political actors, sentence by sentence: split articles into "
        "sentences, find actor mentions, classify each sentence's stance toward each actor (favor, "
        "against, neutral), add VADER sentiment, and write Parquet tables."))
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    from pipeline.run import add_run_arguments

    run = sub.add_parser("run", help="run the pipeline over news articles", description=(
        "Run the Beam pipeline. Writes mentions/, articles/, daily/, actors/ and errors/ (Parquet), "
        "manifest.json and _SUCCESS under --output. Any other --flag is a Beam pipeline option "
        "(e.g. --runner, --direct_running_mode=multi_processing --direct_num_workers=2). "
        "Example: stance-pipeline run --input datasets/sample --output out"))
    add_run_arguments(run)

    train = sub.add_parser("train", help="train the stance model", description=(
        "Fit the stance model on labelled sentences and save it. Example: stance-pipeline train "
        "--data datasets/stance/train.jsonl --model models/stance.skops"))
    train.add_argument("--data", nargs="+", default=[DEFAULT_TRAIN], metavar="FILE",
                       help="training data (default: %(default)s)")
    train.add_argument("--format", default="jsonl", choices=["jsonl", "newsmtsc"],
                       help="jsonl: this project's format (datasets/stance/GUIDELINES.md); newsmtsc: NewsMTSC's")
    train.add_argument("--model", default=None, metavar="PATH",
                       help=f"where to save (default: {LINEAR_MODEL}; with --encoder, the directory {DEFAULT_ENCODER})")
    train.add_argument("--C", type=float, default=None, help="inverse regularisation strength of the classifier")
    train.add_argument("--seed", type=int, default=None, help="random seed (default: 0; 42 with --encoder)")
    train.add_argument("--encoder", action="store_true",
                       help="fine-tune the optional encoder model instead (needs the [encoder] extra: "
                            "'make encoder' does both; about 17 min on 2 cores); --model is then a directory")
    train.add_argument("--epochs", type=float, default=None, help="with --encoder: passes over the data (default: 3)")
    train.add_argument("--base", default=None, choices=["minilm", "mpnet"],
                       help="with --encoder: the pretrained encoder to fine-tune (default: minilm; mpnet is the "
                            "teacher's, about 20 min per epoch on 2 cores)")
    train.add_argument("--threads", type=int, default=None, metavar="N",
                       help="with --encoder: torch threads (default: torch's, one per core; on a busy machine "
                            "one thread can be faster, since two wait on each other)")
    train.add_argument("--freeze", type=int, default=None, metavar="N",
                       help="with --encoder: keep the embeddings and the lowest N layers as pretrained (default: 0)")
    train.add_argument("--teacher", default=None, metavar="FILE",
                       help="with --encoder: distil from the teacher's probabilities in FILE (datasets/stance/teacher.jsonl)")
    train.add_argument("--unlabelled", default=None, metavar="FILE",
                       help="with --teacher: unlabelled inputs the student learns from the teacher alone "
                            "(datasets/stance/unlabelled.jsonl)")

    teach = sub.add_parser("teach", help="write a teacher model's probabilities for distillation", description=(
        "Score labelled and unlabelled examples with a fine-tuned encoder (the teacher) and write one line per "
        'input: {"key": ..., "p": [p_favor, p_against, p_neutral]}, which train --encoder --teacher reads. '
        "Example: stance-pipeline teach --model models/stance-teacher --data datasets/stance/train.jsonl "
        "datasets/stance/unlabelled.jsonl --out datasets/stance/teacher.jsonl"))
    teach.add_argument("--model", required=True, metavar="DIR", help="the teacher's model directory")
    teach.add_argument("--data", nargs="+", required=True, metavar="FILE",
                       help="examples in this project's format; a file without labels is read as unlabelled")
    teach.add_argument("--out", required=True, metavar="FILE", help="where to write the probabilities")

    ex = sub.add_parser("export", help="export a fine-tuned encoder to the ONNX model a run serves", description=(
        "Export a torch encoder model directory to ONNX (int8 weights where their labels match fp32's on "
        "the calibration split, else fp32), fit its calibration temperature on the calibration split, and "
        "record the sha256 of the training code and data. Example: stance-pipeline export --model "
        f"{DEFAULT_ENCODER} --out {DEFAULT_MODEL}"))
    ex.add_argument("--model", default=DEFAULT_ENCODER, metavar="DIR", help="torch encoder directory (default: %(default)s)")
    ex.add_argument("--out", default=DEFAULT_MODEL, metavar="DIR", help="ONNX model directory to write (default: %(default)s)")
    ex.add_argument("--calibration", default=DEFAULT_CALIBRATION, metavar="FILE",
                    help="held-out labelled examples for the int8 check and the temperature (default: %(default)s)")

    ev = sub.add_parser("eval", help="evaluate models, write reports/eval.md and eval.json", description=(
        "Score models and baselines on our held-out split and, when present, on conflict-news dev "
        "(../shared/benchmarks/conflict-news, overall and per area) and NewsMTSC (../shared/benchmarks/newsmtsc): "
        "per-class precision, recall and F1, confusion matrices, calibration. Writes reports/eval.md and "
        "reports/eval.json; the targets are checked on the first --model. "
        f"Example: stance-pipeline eval --model {DEFAULT_MODEL} --model {LINEAR_MODEL}"))
    ev.add_argument("--model", action="append", default=None, metavar="PATH",
                    help=f"a model file or directory to score; repeat for several (default: {DEFAULT_MODEL})")
    ev.add_argument("--train", default=DEFAULT_TRAIN, metavar="FILE", help="training split (default: %(default)s)")
    ev.add_argument("--test", default=DEFAULT_TEST, metavar="FILE", help="held-out split (default: %(default)s)")
    ev.add_argument("--conflict-news", default=CONFLICT_NEWS_DIR, metavar="DIR",
                    help="conflict-news directory with dev/mentions.jsonl (skipped if absent)")
    ev.add_argument("--newsmtsc", default=NEWSMTSC_DIR, metavar="DIR",
                    help="NewsMTSC directory with train.jsonl and devtest_mt.jsonl (skipped if absent)")
    ev.add_argument("--reports", default="reports", metavar="DIR", help="output directory (default: %(default)s)")

    cl = sub.add_parser("classify", help="stance toward any target, JSON Lines in and out", description=(
        'Read JSON Lines {"text": "...", "targets": [[start, end], ...]} (character spans of one '
        "target's mentions, end exclusive) and write one line per input line, in order: "
        '{"label": "favor|against|neutral", "p_favor": ..., "p_against": ..., "p_neutral": ...}. '
        'A line that cannot be classified gets {"error": "..."}.'))
    cl.add_argument("--input", default="-", metavar="FILE", help="input file, - for standard input (default)")
    cl.add_argument("--model", default=DEFAULT_MODEL, metavar="PATH",
                    help="model file or directory (default: %(default)s; the linear model: " + LINEAR_MODEL + ")")

    rp = sub.add_parser("report", help="an HTML page with charts and evidence from a finished run", description=(
        "Read the tables of a finished run and write DIR/report/index.html with PNG charts: per actor, "
        "the stance score over time (daily and weekly, with mentions and 95% intervals), sources side by "
        "side, label shares, low-confidence shares (when mentions/ has a confidence column) and the most "
        "confident sentences per label. Example: stance-pipeline report --output out"))
    rp.add_argument("--output", required=True, metavar="DIR", help="the output directory of a finished run")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _setup_logging("-q" in argv or "--quiet" in argv)  # before Beam is imported: it logs at import
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "run":
            return _run(args, extra)
        if args.command == "train":
            return _train(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "teach":
            return _teach(args)
        if args.command == "export":
            return _export(args)
        if args.command == "report":
            return _report(args)
        return _classify(args)
    except UsageError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130


class _BeamNoticeFilter(logging.Filter):
    """Beam logs optional-dependency notices (BigQuery, apitools) at import, some through the root
    logger; they are not the user's to fix. Beam's errors still show."""

    def filter(self, record):
        return record.levelno >= logging.ERROR or "apache_beam" not in record.pathname


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_BeamNoticeFilter())
    logging.getLogger("pipeline").setLevel(logging.WARNING if quiet else logging.INFO)
    warnings.filterwarnings("ignore", module="apache_beam")


def _run(args, beam_args) -> int:
    from pipeline.run import run
    from pipeline.write import RunFailed

    bad = [a for a in beam_args if not a.startswith("--")]
    if bad:
        raise UsageError(f"unexpected argument {bad[0]!r} (Beam options are --name=value)")
    try:
        manifest = run(args, beam_args)
    except RunFailed as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(summary(manifest, args.output))
    return 0


def summary(manifest: dict, output: str) -> str:
    """The per-actor summary printed after a run, read back from the actors table."""
    import pyarrow.parquet as pq

    c = manifest["counts"]
    lines = [f"Analysed {c['articles_analysed']} articles ({c['sentences']} sentences, {c['mentions']} "
             f"sentence-actor mentions); {c['dead_letters']} records in errors/.", ""]
    table = pq.read_table(os.path.join(output, "actors")).to_pylist()
    lines.append(f"{'actor':<16}{'articles':>9}{'mentions':>9}{'favor':>7}{'against':>8}{'neutral':>8}{'score':>8}")
    for r in sorted(table, key=lambda r: -r["mentions"]):
        score = f"{r['stance_score']:+.2f}" if r["stance_score"] is not None else "   -"
        lines.append(f"{r['actor']:<16}{r['articles']:>9}{r['mentions']:>9}{r['favor']:>7}{r['against']:>8}"
                     f"{r['neutral']:>8}{score:>8}")
    lines += ["", f"Tables: {os.path.join(output, '')}{{mentions,articles,daily,actors,errors}}/*.parquet, "
                  f"{os.path.join(output, 'manifest.json')}"]
    return "\n".join(lines)


def _train(args) -> int:
    if args.encoder:
        from pipeline.stance.encoder import train_encoder

        if args.C is not None:
            raise UsageError("--C is a setting of the default model, not of --encoder")
        from pipeline.stance.data import read_unlabelled
        from pipeline.stance.encoder import read_teacher

        if args.unlabelled and not args.teacher:
            raise UsageError("--unlabelled needs --teacher: unlabelled inputs learn from the teacher alone")
        teacher = read_teacher(args.teacher) if args.teacher else None
        unlabelled = [x for x in read_unlabelled(args.unlabelled)] if args.unlabelled else []
        path = args.model or DEFAULT_ENCODER
        model = train_encoder(args.data, path, args.format, threads=args.threads, seed=args.seed, epochs=args.epochs, base=args.base,
                              freeze=args.freeze,
                              unlabelled=unlabelled, teacher=teacher,
                              teacher_version=_teacher_version(args.teacher) if teacher else None)
        print(f"Saved {model.model_version} to {path}")
        return 0
    from pipeline.stance.train import train

    for flag in ("epochs", "base", "threads", "freeze", "teacher", "unlabelled"):
        if getattr(args, flag) is not None:
            raise UsageError(f"--{flag} is a setting of --encoder")
    params = {"seed": 0 if args.seed is None else args.seed}
    if args.C is not None:
        params["C"] = args.C
    path = args.model or LINEAR_MODEL
    model = train(args.data, path, args.format, **params)
    print(f"Saved {model.model_version} to {path}")
    return 0


def _teacher_version(path: str) -> str | None:
    """The teacher's model version, from the header line ``teach`` writes beside the probabilities."""
    meta = path + ".meta.json"
    if os.path.exists(meta):
        with open(meta, encoding="utf-8") as f:
            return json.load(f).get("teacher")
    return None


def _teach(args) -> int:
    from pipeline.stance.teach import teach

    n = teach(args.model, args.data, args.out)
    print(f"Wrote the teacher's probabilities for {n} inputs to {args.out}")
    return 0


def _export(args) -> int:
    from pipeline.stance.data import read_examples
    from pipeline.stance.export import export, fingerprint

    held = read_examples(args.calibration)
    meta = export(args.model, args.out, [e.input for e in held], [e.label for e in held],
                  extra_meta={"fingerprint": fingerprint()})
    print(f"Saved {meta['model_version']} ({meta['quantization']}, temperature {meta['temperature']}) to {args.out}")
    return 0


def _eval(args) -> int:
    from pipeline.stance.evaluate import evaluate

    report = evaluate(args.model or [DEFAULT_MODEL], args.train, args.test, args.newsmtsc, args.conflict_news, args.reports)
    print(report["summary"])
    return 0


def _report(args) -> int:
    from pipeline.report import write_report

    path = write_report(args.output)
    if not args.quiet:
        print(f"Wrote {path}")
    return 0


def _classify(args) -> int:
    from pipeline.stance.model import classify_lines, load_model

    model = load_model(args.model)
    if args.input == "-":
        source = sys.stdin
    else:
        try:
            source = open(args.input, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {args.input}: {exc.strerror}") from None
    with source:
        for out in classify_lines(source, model):
            sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
