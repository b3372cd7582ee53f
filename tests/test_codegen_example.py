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


def _train(*args):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"), *args],
                            capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"^test accuracy (\d+\.\d+)%", result.stdout, re.M).group(1))
    squares = float(re.search(r"^sum of the squared weights (\d+\.\d+)", result.stdout, re.M).group(1))
    return result.stdout, accuracy, squares


def test_train_digits_with_softmax_log_likelihood_and_l2(tmp_path):
    """Nielsen's chapter 3 set-up: a softmax output, the log-likelihood, L2 with n the training-set size
    (96.4% after 100 epochs, 95.8% after these 40, on the 450 test images; 97% without softmax and L2)."""
    net = sb.Network.parse("64,32,10", "relu,softmax", "log_likelihood", l2=5.0)
    path = sb.write_module(net, tmp_path / "digits_softmax.py")
    out, accuracy, squares = _train("--softmax", "--l2", "5", "--module", str(path), "--epochs", "40")
    assert f"gradients: {path}" in out
    assert "relu, softmax, log_likelihood, L2 lambda = 5 (n = 1347)" in out
    losses = [float(x) for x in re.findall(r"training loss (\d+\.\d+)", out)]
    assert len(losses) >= 4 and losses[-1] < losses[0] / 4
    assert accuracy >= 93
    _, plain_accuracy, plain_squares = _train("--softmax", "--module", "none.py", "--epochs", "40")
    assert plain_accuracy >= 93
    assert squares < 0.8 * plain_squares  # weight decay: the same training, smaller weights


def test_train_digits_refuses_a_module_for_another_network(tmp_path):
    path = sb.write_module(sb.Network.parse("64,32,10", "relu,sigmoid", "cross_entropy"), tmp_path / "g.py")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "train_digits.py"), "--softmax", "--l2", "5",
                             "--module", str(path), "--epochs", "1"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode != 0
    assert ("regenerate it with symbackprop codegen --sizes 64,32,10 --activation relu,softmax --cost log_likelihood "
            "--l2 5") in result.stderr
