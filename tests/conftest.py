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
