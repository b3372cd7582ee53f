"""verify on the command line: exit codes, text and --json output, --batch grading, run.sh's example."""

import json
from types import SimpleNamespace

import pytest

from symbackprop.cli import main

from symbackprop.spec import Network
from symbackprop.verifier import grade_file, verify
from symbackprop.verifier.batch import grade_lines

LECTURE = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"
WRONG = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)"
INDEXED = r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)"


@pytest.fixture
def run(capsys):
    """The CLI in-process (fast); the subprocess ``cli`` fixture is kept for a few end-to-end checks."""
    def call(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)
    return call


def test_run_sh_example_is_equivalent(cli):
    out = cli("verify", LECTURE)
    assert out.returncode == 0, out.stderr
    assert "EQUIVALENT" in out.stdout and "NOT" not in out.stdout.splitlines()[0]
    assert r"a^{(L-1)} \sigma'(z^{(L)})" in out.stdout


def test_not_equivalent_text(run):
    out = run("verify", WRONG)
    assert out.returncode == 1
    for part in ("NOT EQUIVALENT", "read as:", "expected:", "counterexample:", "your right-hand side",
                 "true value", "diagnosis:", "σ'"):
        assert part in out.stdout, part


def test_json_fields(cli):
    out = cli("verify", "--json", WRONG)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["verdict"] == "not_equivalent"
    assert {"parsed", "expected", "counterexample", "diagnosis"} <= set(data)
    assert data["diagnosis"][0]["code"] == "sigma_for_sigma_prime"
    ce = data["counterexample"]
    assert isinstance(ce["student"], float) and isinstance(ce["true"], float) and ce["values"]
    assert data["expected"].startswith(r"\frac{\partial C_{0}}{\partial w^{(L)}}")


def test_json_equivalent_with_network(run):
    out = run("verify", "--sizes", "3,4,2", "--activation", "relu,sigmoid", "--json", INDEXED)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["verdict"] == "equivalent" and data["counterexample"] is None and data["diagnosis"] == []
    assert data["network"]["sizes"] == [3, 4, 2]


@pytest.mark.parametrize("formula,words", [
    ("", "empty"),
    (r"\frac{\partial C}{\partial w} = (a", "ends too early"),
    (r"\frac{\partial C}{\partial w} = a^{(L)}_{x}", "is not a neuron index"),
    (r"\input{secret}", "not math"),
    ("print(open('x').read())", "program code"),
    (r"\frac{\partial C_0}{\partial w^{(4)}} = 1", "out of range"),
], ids=["empty", "unparsable", "bad-index", "tex-input", "code", "range"])
def test_bad_input_exit_2_one_line(run, formula, words):
    out = run("verify", formula)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in out.stderr


def test_verify_needs_formula_or_batch(run, tmp_path):
    assert run("verify").returncode == 2
    (tmp_path / "a.jsonl").write_text("")
    assert run("verify", "--batch", str(tmp_path / "a.jsonl"), LECTURE).returncode == 2
    assert run("verify", "-o", str(tmp_path / "r.jsonl"), LECTURE).returncode == 2
    assert run("verify", "--batch", str(tmp_path / "missing.jsonl")).returncode == 2


def _write(path, entries):
    lines = [e if isinstance(e, str) else json.dumps(e) for e in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_batch_file(cli, tmp_path):
    src, dst = tmp_path / "class.jsonl", tmp_path / "results.jsonl"
    _write(src, [{"id": "ann", "formula": LECTURE}, {"id": "bob", "formula": WRONG}, "this is not json",
                 {"id": 4, "formula": INDEXED, "sizes": "3,4,2", "activation": "tanh", "cost": "half_quadratic"},
                 {"id": "eve", "formula": r"\write18{ls}"}, {"id": "no-formula"}, "",
                 {"id": "bad-net", "formula": LECTURE, "sizes": "1,x"}])
    out = cli("verify", "--batch", str(src), "-o", str(dst))
    assert out.returncode == 0, out.stderr
    assert "graded 7 formulas: 1 equivalent, 2 not equivalent, 4 errors" in out.stdout
    results = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [r["id"] for r in results] == ["ann", "bob", None, 4, "eve", "no-formula", "bad-net"]
    assert [r["verdict"] for r in results] == ["equivalent", "not_equivalent", "error", "not_equivalent", "error",
                                               "error", "error"]
    assert results[3]["diagnosis"][0]["code"] == "constant_factor"  # the 2 with the ½ cost
    assert all("error" in r for r in results if r["verdict"] == "error")


def test_batch_to_stdout_summary_on_stderr(run, tmp_path):
    src = tmp_path / "class.jsonl"
    _write(src, [{"id": 1, "formula": LECTURE}])
    out = run("verify", "--batch", str(src))
    assert out.returncode == 0
    assert json.loads(out.stdout)["id"] == 1
    assert "graded 1 formulas" in out.stderr


def test_batch_in_parallel_keeps_order(tmp_path):
    entries = [{"id": i, "formula": LECTURE if i % 3 else WRONG} for i in range(24)] + ["{broken"]
    src, dst = tmp_path / "big.jsonl", tmp_path / "out.jsonl"
    _write(src, entries)
    summary = grade_file(str(src), str(dst), workers=2)
    results = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [r["id"] for r in results] == list(range(24)) + [None]
    assert [r["verdict"] for r in results[:24]] == ["not_equivalent" if i % 3 == 0 else "equivalent"
                                                    for i in range(24)]
    assert summary.workers == 2 and summary.total == 25 and summary.errors == 1
    assert "formulas/s" in summary.text()


def test_grade_lines_in_process_matches_verify():
    results, workers = grade_lines([json.dumps({"id": "x", "formula": WRONG})], Network.parse())
    assert workers == 1
    assert results[0]["diagnosis"] == verify(WRONG).to_dict()["diagnosis"]


def test_api_export():
    import symbackprop as sb

    assert sb.verify(LECTURE).equivalent
    assert callable(sb.grade_file)
