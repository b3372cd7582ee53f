"""The command line: formats, exit codes, one-line errors."""

import json
import subprocess
import sys

import pytest

from conftest import run_cli


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("derive", "notes", "verify", "codegen", "check"):
        assert command in result.stdout


def test_no_command_is_exit_2():
    assert run_cli().returncode == 2


def test_derive_text_follows_the_lectures():
    result = run_cli("derive")
    assert result.returncode == 0
    out = result.stdout
    assert "∂C_0/∂w^(L) = ∂z^(L)/∂w^(L)·∂a^(L)/∂z^(L)·∂C_0/∂a^(L) = a^(L-1)·σ'(z^(L))·2·(a^(L) - y)" in out
    assert "BP1" in out and "BP4" in out and "sum over paths" in out


def test_derive_latex():
    result = run_cli("derive", "--format", "latex", "--sizes", "2,3,1")
    assert result.returncode == 0
    assert r"\begin{align*}" in result.stdout and r"\odot" in result.stdout
    assert r"w^{(L)}_{jk}" in result.stdout


def test_derive_json_has_the_documented_keys():
    result = run_cli("derive", "--format", "json", "--sizes", "2,2", "--cost", "cross_entropy")
    data = json.loads(result.stdout)
    for key in ("network", "notation", "chain", "indexed", "delta", "bp", "average", "gradient",
                "layers", "activations", "cost"):
        assert key in data
    assert data["cost"]["output_error"] == "a - y"
    assert data["network"]["sizes"] == [2, 2]


@pytest.mark.parametrize("args", [["derive", "--format", "pdf"], ["derive", "--bogus"], ["frobnicate"],
                                  ["check", "--seed", "x"], ["check", "--batch", "0"]])
def test_usage_errors_are_one_line_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_python_dash_m_and_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip()


def _run_in(folder, *args):
    """The CLI run in ``folder``, so that a test can see what it writes there."""
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True, text=True, cwd=folder,
                          timeout=120)


@pytest.mark.parametrize("args,words", [
    (["check", "--seed", "-1"], "--seed -1: the seed is a whole number from 0 up"),
    (["check", "--seed=-7"], "--seed -7"),
    (["derive", "--sizes", "-1,2"], "--sizes '-1,2': layer 0 has -1 neurons"),
    (["derive", "--sizes"], "--sizes needs a value"),
    (["codegen", "-o", ""], "-o is empty: give the module file to write"),
    (["codegen", "-o", "  "], "-o is empty"),
    (["notes", "-o", ""], "-o is empty: give the folder for the notes"),
], ids=["negative-seed", "negative-seed-joined", "negative-width", "sizes-without-value", "codegen-empty-o",
        "codegen-blank-o", "notes-empty-o"])
def test_bad_arguments_are_exit_2_in_the_users_terms(args, words, tmp_path):
    result = _run_in(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "internal error" not in result.stderr and "expected one argument" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written where the user did not say


def test_a_value_starting_with_a_dash_reaches_its_option(tmp_path):
    result = _run_in(tmp_path, "codegen", "--sizes", "2,2", "-o", "-grads.py")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "-grads.py").is_file()
