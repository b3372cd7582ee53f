"""examples/train_digits.py: the generated gradients train a real network on scikit-learn's digits."""

import re
import subprocess
import sys

import pytest

import symbackprop as sb
from conftest import ROOT

pytest.importorskip("sklearn")


def test_train_digits_with_the_written_module(tmp_path):
    path = sb.write_module(sb.Network.parse("64,32,10", "relu,sigmoid", "cross_entropy"), tmp_path / "digits_grad.py")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"), "--module", str(path),
                             "--epochs", "40"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"gradients: {path}" in out
    losses = [float(x) for x in re.findall(r"training loss (\d+\.\d+)", out)]
    assert len(losses) >= 4 and losses[-1] < losses[0] / 10  # the loss falls
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))
    accuracy = float(re.search(r"^test accuracy (\d+\.\d+)%", out, re.M).group(1))
    assert accuracy >= 90


def test_train_digits_with_momentum_and_he_initialisation():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"), "--module", "none.py",
                             "--epochs", "30", "--momentum", "0.9", "--rate", "0.02", "--init", "he"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "SGD with momentum 0.9" in result.stdout and "he initialisation" in result.stdout
    accuracy = float(re.search(r"^test accuracy (\d+\.\d+)%", result.stdout, re.M).group(1))
    assert accuracy >= 90
