"""Progress of a running job on stderr, from Beam's own metrics, on whatever runner runs it.

    progress: 1,240 articles read, 1,152 analysed (96 articles/s), 12 s elapsed

Two counters feed it: ``stance/articles_read`` (pipeline/read.py) and ``stance/articles_analysed``
(pipeline/analyze.py). Where they come from depends on the runner:

- A runner whose ``run()`` returns while the job runs (Dataflow, Flink, Spark, the portable job
  service) gives a ``PipelineResult``; its metrics are queried every few seconds. Dataflow answers
  while the job runs; Beam's local job service, and the Flink and Spark job servers, answer only once
  it has finished: then the line says so and shows the job's state and the time elapsed.
- The in-process runner (FnApiRunner, also with ``--direct_running_mode=multi_processing``) runs the
  whole job inside ``run()``. It asks its SDK workers for progress while a bundle runs
  (``progress_request_frequency``), and the answers carry the same counters; ``fn_runner_progress``
  collects them.

Counters are "attempted" values: a retried bundle may count twice. They are for watching a run; the
manifest's counts come from the rows actually written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import time
from typing import Callable, Iterable, Optional, TextIO

NAMESPACE = "stance"
READ = "articles_read"
ANALYSED = "articles_analysed"  # counted by the stance step (pipeline/analyze.py)
DEFAULT_INTERVAL = 5.0


@dataclasses.dataclass(frozen=True)
class Counts:
    read: int
    analysed: int


def counts_from(counters: Iterable) -> Optional[Counts]:
    """``MetricResult``s (as from ``MetricResults.query()["counters"]``) -> Counts, summed over
    steps; None when neither counter is among them (the runner reported nothing yet)."""
    totals = {READ: 0, ANALYSED: 0}
    seen = False
    for result in counters:
        metric = result.key.metric
        if metric.namespace != NAMESPACE or metric.name not in totals:
            continue
        value = result.attempted if result.attempted is not None else result.committed
        if value is None:
            continue
        totals[metric.name] += int(value)
        seen = True
    return Counts(totals[READ], totals[ANALYSED]) if seen else None


def live_counters(result) -> list:
    """The job's user counters in namespace ``stance``, asked for now.

    PortableRunner's ``PipelineResult.metrics()`` keeps its first answer for good, so for its results
    the job service is asked directly each time; any other result is asked through ``metrics()``."""
    from apache_beam.metrics.metric import MetricsFilter

    service, job_id = getattr(result, "_job_service", None), getattr(result, "_job_id", None)
    if service is not None and job_id is not None:
        from apache_beam.portability.api import beam_job_api_pb2
        from apache_beam.runners.portability.portable_runner import PortableMetrics

        metrics = PortableMetrics(service.GetJobMetrics(beam_job_api_pb2.GetJobMetricsRequest(job_id=job_id)))
    else:
        metrics = result.metrics()
    return metrics.query(MetricsFilter().with_namespace(NAMESPACE))["counters"]


class FnRunnerProgress:
    """Latest counters of each bundle the in-process runner is running or has run, from the
    progress answers of its SDK workers. Thread-safe: workers answer on the runner's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_bundle: dict[str, Counts] = {}

    def record(self, instruction_id: str, monitoring_infos) -> None:
        from apache_beam.runners.portability.portable_metrics import from_monitoring_infos
        from apache_beam.metrics.execution import MetricResult

        counters = from_monitoring_infos(monitoring_infos, user_metrics_only=True)[0]
        counts = counts_from(MetricResult(key, value, value) for key, value in counters.items())
        if counts is not None:
            with self._lock:
                self._by_bundle[instruction_id] = counts

    def counts(self) -> Optional[Counts]:
        with self._lock:
            if not self._by_bundle:
                return None
            return Counts(sum(c.read for c in self._by_bundle.values()),
                          sum(c.analysed for c in self._by_bundle.values()))


@contextlib.contextmanager
def fn_runner_progress(sink: FnRunnerProgress):
    """While open, the in-process runner's progress answers also go to ``sink``.

    FnApiRunner already asks its workers for progress (given ``progress_request_frequency``) but
    keeps the answers to itself; its ``ProgressRequester`` takes a callback the runner never passes.
    This puts one in, for the duration of a run, and changes nothing else. If a Beam version lacks
    the class, the runner reports nothing and the lines show elapsed time only."""
    try:
        from apache_beam.runners.portability.fn_api_runner import fn_runner
        base = fn_runner.ProgressRequester
    except (ImportError, AttributeError):
        yield
        return

    class _Recording(base):
        def __init__(self, worker_handler, instruction_id, frequency, callback=None):
            def record(progress):
                sink.record(instruction_id, progress.monitoring_infos)
                if callback:
                    callback(progress)
            super().__init__(worker_handler, instruction_id, frequency, callback=record)

    fn_runner.ProgressRequester = _Recording
    try:
        yield
    finally:
        fn_runner.ProgressRequester = base


class ProgressReporter:
    """Writes a progress line to ``out`` every ``interval`` seconds until stopped.

    ``counts`` returns the current Counts or None (nothing reported); ``state`` the job's state for
    the line without counts. Either may raise: the line then goes without that part."""

    def __init__(self, counts: Callable[[], Optional[Counts]], state: Callable[[], Optional[str]] = lambda: None,
                 out: TextIO | None = None, interval: float = DEFAULT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.counts = counts
        self.state = state
        self._out = out
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self) -> str:
        elapsed = self._clock() - self._started
        counts = _ask(self.counts)
        if counts is not None:
            rate = counts.analysed / elapsed if elapsed > 0 else 0.0
            return (f"progress: {counts.read:,} articles read, {counts.analysed:,} analysed "
                    f"({rate:,.0f} articles/s), {elapsed:,.0f} s elapsed")
        state = _ask(self.state)
        state = f"job {state}, " if state else ""
        return f"progress: {state}{elapsed:,.0f} s elapsed (no counts reported yet: some runners report them only at the end)"

    def start(self) -> "ProgressReporter":
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            line = self.line()
            if self._stop.is_set():  # the job finished while the runner was being asked
                return
            out = self._out or sys.stderr
            print(line, file=out, flush=True)


def _ask(fn):
    try:
        return fn()
    except Exception:  # a runner that cannot answer (yet): progress is best effort, never fails a run
        return None


def result_state(result) -> Optional[str]:
    state = result.state
    return str(getattr(state, "name", state)) if state is not None else None
