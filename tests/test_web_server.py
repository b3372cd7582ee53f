"""symbackprop serve as a real uvicorn process on a free localhost port: serves, stops cleanly, clear errors."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT

RIGHT = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"


def start_server(*args):
    """``symbackprop serve --port 0`` (the system picks a free port); returns (process, base URL).

    Its stderr goes to a file (``process.errors``) so that a chatty server never blocks on a full pipe.
    """
    errors = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([sys.executable, "-m", "symbackprop", "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=errors, text=True, cwd=ROOT)
    process.errors = errors
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        process.kill()
        raise AssertionError(f"serve did not start: {line!r} {stderr_of(process)!r}")
    return process, f"http://127.0.0.1:{match.group(1)}"


def stderr_of(process):
    process.errors.seek(0)
    return process.errors.read()


def request(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def server():
    process, base = start_server("--workers", "1")
    yield process, base
    if process.poll() is None:
        process.kill()
        process.wait()


def test_health_and_verify_over_http(server):
    _, base = server
    assert request(base + "/api/health") == (200, {"status": "ok"})
    status, body = request(base + "/api/verify", {"formula": RIGHT, "sizes": "1,1,1,1"})
    assert status == 200 and body["verdict"] == "equivalent"
    status, body = request(base + "/api/verify", {"formula": "<script>alert(1)</script>"})
    assert status == 400 and set(body) <= {"error", "position"}


def test_a_busy_port_is_one_clear_line(server):
    _, base = server
    port = base.rsplit(":", 1)[1]
    out = subprocess.run([sys.executable, "-m", "symbackprop", "serve", "--port", port], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2
    assert out.stderr.startswith(f"symbackprop: error: cannot listen on 127.0.0.1:{port}") and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_sigterm_stops_the_server_and_its_workers(server):
    process, base = server
    request(base + "/api/verify", {"formula": RIGHT})  # the workers are busy once
    descendants = _descendants(process.pid)
    assert len(descendants) >= 2  # the forkserver and the worker
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    err = stderr_of(process)
    assert process.returncode == 0, err
    assert "symbackprop: stopped" in out and "Traceback" not in err
    assert _all_gone(descendants)


def test_ctrl_c_stops_cleanly():
    process, base = start_server("--workers", "1")
    assert request(base + "/api/health")[0] == 200
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    err = stderr_of(process)
    assert process.returncode == 0 and "symbackprop: stopped" in out and "Traceback" not in err


def _descendants(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(p) for p in f.read().split()]
    except OSError:
        return []
    return children + [d for child in children for d in _descendants(child)]


def _all_gone(pids, patience=30.0):
    """True once none of ``pids`` runs (the forkserver notices its parent's exit a moment later)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if not [pid for pid in pids if _alive(pid)]:
            return True
        time.sleep(0.1)
    return False


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


if os.name != "posix":  # pragma: no cover - the signals and /proc above are POSIX
    pytestmark = pytest.mark.skip("POSIX only")
