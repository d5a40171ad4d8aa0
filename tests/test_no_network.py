"""A run touches no network: every socket connection to a non-loopback address is refused and logged.

The guard runs in a fresh interpreter (so nothing imported earlier escapes it) and is itself checked:
the same harness catches a deliberate connection attempt.
"""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

GUARD = r"""
import json, socket, sys, urllib.request
attempts = []
_connect = socket.socket.connect

def _is_local(address):
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/"))

def guarded_connect(self, address):
    if self.family == socket.AF_UNIX or _is_local(address):
        return _connect(self, address)
    attempts.append(repr(address))
    raise OSError("network disabled by test")

def guarded_getaddrinfo(host, *a, **k):
    if host not in (None, "localhost") and not str(host).startswith("127.") and host != "::1":
        attempts.append("getaddrinfo " + str(host))
        raise socket.gaierror("network disabled by test")
    return _getaddrinfo(host, *a, **k)

_getaddrinfo = socket.getaddrinfo
socket.socket.connect = guarded_connect
socket.getaddrinfo = guarded_getaddrinfo
import atexit
atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(attempts)))
args = sys.argv[2:]
if args == ["control"]:
    try:
        urllib.request.urlopen("http://example.com/", timeout=5)
    except Exception:
        pass
    raise SystemExit(0)
from pipeline.cli import main
raise SystemExit(main(args))
"""


def guarded(tmp_path, *args):
    log = tmp_path / "attempts.json"
    proc = subprocess.run([sys.executable, "-c", GUARD, str(log), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": ROOT})
    return proc, json.loads(log.read_text())


def test_the_guard_catches_a_connection(tmp_path):
    proc, attempts = guarded(tmp_path, "control")
    assert proc.returncode == 0 and attempts == ["getaddrinfo example.com"]


def test_run_touches_no_network(tmp_path, model_path):
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": "Ankara and Moscow agreed on a truce."}) + "\n")
    # --runner=DirectRunner is what users type; by itself Beam 2.77 would try to download Prism.
    proc, attempts = guarded(tmp_path, "-q", "run", "--input", str(corpus), "--output", str(tmp_path / "out"),
                             "--model", model_path, "--runner=DirectRunner")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert attempts == []
    assert (tmp_path / "out" / "_SUCCESS").exists()
