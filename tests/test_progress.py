"""Progress lines: their text from fake counters and a fake clock, the counters read from Beam's
metric results, and the CLI end to end (lines on stderr while it runs, none with -q, the summary
either way)."""

import json
import re
from types import SimpleNamespace

import pytest
from apache_beam.metrics.execution import MetricKey, MetricResult
from apache_beam.metrics.metricbase import MetricName

from pipeline.cli import main
from pipeline.progress import Counts, ProgressReporter, counts_from


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def counter(step, name, attempted, committed=None, namespace="stance"):
    return MetricResult(MetricKey(step, MetricName(namespace, name)), committed, attempted)


def test_counts_sum_over_steps_and_prefer_attempted_values():
    results = [counter("ReadArticles/Parse", "articles_read", 70), counter("Other/Parse", "articles_read", 5),
               counter("Predict", "articles_analysed", 64, committed=60), counter("Predict", "sentences", 999),
               counter("X", "articles_read", 1000, namespace="elsewhere"),
               counter("Y", "articles_analysed", None, committed=3)]
    assert counts_from(results) == Counts(read=75, analysed=67)
    assert counts_from([counter("Predict", "sentences", 9)]) is None  # nothing reported yet


def test_line_with_counts_and_rate():
    clock = FakeClock()
    reporter = ProgressReporter(lambda: Counts(1240, 1152), clock=clock)
    clock.now += 12
    assert reporter.line() == "progress: 1,240 articles read, 1,152 analysed (96 articles/s), 12 s elapsed"


def test_line_degrades_to_state_and_elapsed_when_the_runner_reports_no_counts():
    clock = FakeClock()

    def failing():
        raise RuntimeError("metrics not supported")

    reporter = ProgressReporter(failing, state=lambda: "RUNNING", clock=clock)
    clock.now += 30
    assert reporter.line() == ("progress: job RUNNING, 30 s elapsed (no counts reported yet: some runners "
                               "report them only at the end)")
    reporter.state = failing
    assert reporter.line().startswith("progress: 30 s elapsed (no counts")


def test_reporter_writes_at_a_steady_pace_until_stopped():
    import io
    import time

    out = io.StringIO()
    reporter = ProgressReporter(lambda: Counts(1, 1), out=out, interval=0.05).start()
    time.sleep(0.4)
    reporter.stop()
    n = len(out.getvalue().splitlines())
    time.sleep(0.15)
    assert 3 <= n == len(out.getvalue().splitlines())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("progress")
    rows = [{"id": f"a{i}", "text": "Ankara and Moscow agreed on a truce. Damascus objected."} for i in range(40)]
    (d / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def test_cli_reports_progress_on_stderr_and_keeps_the_summary(corpus, model_path, tmp_path, capsys):
    assert main(["run", "--input", str(corpus), "--output", str(tmp_path / "o"), "--model", model_path,
                 "--progress_interval", "0.2"]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("progress: ")]
    assert lines, captured.err[-2000:]
    pattern = re.compile(r"progress: (\d[\d,]* articles read, \d[\d,]* analysed \(\d[\d,]* articles/s\), "
                         r"\d[\d,]* s elapsed$|\d[\d,]* s elapsed \(no counts reported yet)")
    assert all(pattern.match(line) for line in lines), lines
    assert captured.out.startswith("Analysed 40 articles")
    assert "progress:" not in captured.out


def test_quiet_silences_progress_not_the_result(corpus, model_path, tmp_path, capsys):
    assert main(["-q", "run", "--input", str(corpus), "--output", str(tmp_path / "o"), "--model", model_path,
                 "--progress_interval", "0.2"]) == 0
    captured = capsys.readouterr()
    assert "progress:" not in captured.err and captured.out == ""
    assert (tmp_path / "o" / "_SUCCESS").exists()


def test_progress_interval_must_be_positive(corpus, model_path, tmp_path, capsys):
    assert main(["run", "--input", str(corpus), "--output", str(tmp_path / "o"), "--model", model_path,
                 "--progress_interval", "0"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "Error: --progress_interval must be a positive number of seconds, got 0"


def test_the_in_process_runner_reports_counters_while_a_bundle_runs():
    """The hook into FnApiRunner's progress requests works with this Beam version: counts arrive
    while the (single) bundle is still running, not only at the end."""
    import time

    import apache_beam as beam
    from apache_beam.metrics import Metrics
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from pipeline.progress import FnRunnerProgress, fn_runner_progress

    seen = []

    class SlowFn(beam.DoFn):
        def __init__(self):
            self._read = Metrics.counter("stance", "articles_read")

        def process(self, x):
            self._read.inc()
            time.sleep(0.1)
            yield x

    sink = FnRunnerProgress()
    p = beam.Pipeline(runner=FnApiRunner(progress_request_frequency=0.1),
                      options=PipelineOptions(["--direct_running_mode=multi_threading"]))
    _ = p | beam.Create(range(15)) | beam.ParDo(SlowFn())
    import threading

    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            seen.append(sink.counts())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with fn_runner_progress(sink):
            p.run().wait_until_finish()
    finally:
        done.set()
        sampler.join()
    assert sink.counts() is not None and 0 < sink.counts().read <= 15
    assert any(c is not None and 0 < c.read < 15 for c in seen)  # while the bundle ran
