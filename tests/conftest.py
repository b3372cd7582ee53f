"""Shared helpers for the tests: run the CLI in-process or as a real subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, input=None, timeout=120, env=None):
    """Run ``python -m symbackprop ARGS`` as a subprocess; returns CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True, text=True,
                          input=input, timeout=timeout, cwd=ROOT, env=env or os.environ.copy())


@pytest.fixture
def cli():
    return run_cli


# verify's hard time limit (2 s) is wall-clock time: on a busy 2-core CI machine a formula that takes
# 0.05 s can be stalled past it, and a test would fail for the machine's sake.  The tests run with a
# generous default (subprocesses inherit it); the tests of the limit itself give theirs explicitly, and
# test_verify_reading checks that the default without this variable is 2 s.
os.environ.setdefault("SYMBACKPROP_TIME_LIMIT", "60")
