"""RunInference against the DoFn it replaced, for the stance step (issue 14: "adopt it unless it
measures worse than the current DoFn.setup step").

    .venv/bin/python experiments/runinference/compare.py --input DIR [--model PATH] [--rounds 3]

Builds the same job twice on the in-process runner (read -> split -> find actors -> sentiment ->
stance -> count), once with ``ClassifyStance`` (Beam's ``RunInference`` and our ``StanceModelHandler``)
and once with the ``DoFn`` the project used before (``BatchElements`` then a ``DoFn`` that loads the
model in ``setup``, copied here from commit 4b1d0ef), interleaved over several rounds; prints each
round's wall seconds and the medians. Both must label the same mentions the same way.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

sys.path.insert(0, ".")
from pipeline.actors import load_actors  # noqa: E402
from pipeline.analyze import AddSentiment, ClassifyStance, FindMentions, SplitSentences, add_stances  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.defaults import DEFAULT_ACTORS, DEFAULT_MODEL  # noqa: E402
from pipeline.read import ReadArticles, expand_inputs  # noqa: E402


class _StanceFn(beam.DoFn):
    """The stance step before RunInference (commit 4b1d0ef, progress logging left out)."""

    def __init__(self, model_path: str, threads: int):
        self._model_path, self._threads = model_path, threads

    def setup(self):
        from pipeline.stance.model import load_model

        self._model = load_model(self._model_path, self._threads)
        gc.freeze()

    def process(self, batch):
        yield from add_stances(batch, self._model)


class DoFnStance(beam.PTransform):
    def __init__(self, model_path: str, batch_size: int, threads: int):
        super().__init__()
        self._args = model_path, batch_size, threads

    def expand(self, analysed):
        path, size, threads = self._args
        return (analysed | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
                | "Predict" >> beam.ParDo(_StanceFn(path, threads)))


def labels(aa):
    return [(aa.article.id, s.index, actor, st.label, round(st.p_favor, 6))
            for s in aa.sentences for actor, st in s.stances]


def _dump(rows, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(sorted(rows), f)


def one_run(kind: str, files, actors, config, model: str, threads: int) -> tuple[float, list]:
    out = os.path.join(tempfile.mkdtemp(prefix="ri-compare-"), "labels.json")
    started = time.perf_counter()
    with beam.Pipeline(runner=FnApiRunner(), options=PipelineOptions([])) as p:
        read, _ = p | ReadArticles(files, config)
        split, _ = read | SplitSentences(config.limits.max_sentence_chars)
        mentions, _ = split | FindMentions(actors)
        scored, _ = mentions | AddSentiment()
        if kind == "runinference":
            classified, _ = scored | ClassifyStance(model, config.batch_size, threads)
        else:
            classified = scored | DoFnStance(model, config.batch_size, threads)
        _ = classified | beam.FlatMap(labels) | beam.combiners.ToList() | beam.Map(_dump, out)
    seconds = time.perf_counter() - started
    with open(out, encoding="utf-8") as f:
        found = [tuple(r) for r in json.load(f)]
    shutil.rmtree(os.path.dirname(out), ignore_errors=True)
    return seconds, found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", nargs="+", required=True)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files, actors, config = expand_inputs(args.input), load_actors(DEFAULT_ACTORS), load_config(None)
    times: dict[str, list[float]] = {"runinference": [], "dofn": []}
    results = {}
    for r in range(args.rounds):
        for kind in (("runinference", "dofn") if r % 2 == 0 else ("dofn", "runinference")):
            seconds, found = one_run(kind, files, actors, config, args.model, args.threads)
            times[kind].append(seconds)
            results[kind] = found
            print(f"round {r + 1} {kind:>12}: {seconds:6.1f} s, {len(found)} mentions", flush=True)
    same = results["runinference"] == results["dofn"] and len(results["dofn"]) > 0
    for kind, t in times.items():
        print(f"{kind:>12}: median {statistics.median(t):.1f} s over {len(t)} rounds")
    print(f"ratio RunInference / DoFn: {statistics.median(times['runinference']) / statistics.median(times['dofn']):.3f}; "
          f"same labels and probabilities: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
