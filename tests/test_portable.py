"""The real job through Beam's portable job API: submitted with PortableRunner to a local job
service (the path a Flink, Spark or Dataflow job takes: pipeline proto, artifact staging, SDK
workers), it writes the same tables as the in-process runner.

The job service runs in its own process on a free loopback port, stopped even when the test fails.
The submitting CLI runs under tests/test_no_network.py's guard (LOOPBACK: its SDK worker runs there
too), so the test also holds that nothing leaves the machine.
"""

import os
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.schemas import SORT_KEYS, TABLES
from tests.conftest import ROOT
from tests.test_no_network import guarded

SAMPLE = os.path.join(ROOT, "datasets", "sample")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture
def job_endpoint(tmp_path):
    port = free_port()
    log = open(tmp_path / "job_service.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "job_service.log").read_text()[-2000:]
            try:
                socket.create_connection(("localhost", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the job service did not start listening"
                time.sleep(0.2)
        yield f"localhost:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def sorted_rows(out, name):
    rows = pq.read_table(os.path.join(out, name)).to_pylist()
    return sorted(rows, key=lambda r: [(r[k] is None, r[k]) for k in SORT_KEYS[name]])


def test_portable_runner_writes_the_same_tables(job_endpoint, model_path, tmp_path):
    portable, local = tmp_path / "portable", tmp_path / "local"
    proc, attempts = guarded(tmp_path, "run", "--input", SAMPLE, "--output", str(portable), "--model", model_path,
                             "--progress_interval", "1", "--runner=PortableRunner",
                             f"--job_endpoint={job_endpoint}", "--environment_type=LOOPBACK")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert attempts == []
    assert proc.stdout.startswith("Analysed 36 articles")
    assert main(["-q", "run", "--input", SAMPLE, "--output", str(local), "--model", model_path]) == 0

    for name in TABLES:
        assert sorted_rows(portable, name) == sorted_rows(local, name), name
    import json

    manifests = [json.loads((d / "manifest.json").read_text()) for d in (portable, local)]
    assert manifests[0]["counts"] == manifests[1]["counts"]
    assert manifests[0]["runner"] == "PortableRunner"
    # The local job service answers metrics only once a job is done: the lines say what they can.
    progress = [line for line in proc.stderr.splitlines() if line.startswith("progress: ")]
    assert progress and all(" s elapsed" in line for line in progress), proc.stderr[-3000:]
