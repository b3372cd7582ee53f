r"""Teachers' controls: hints, no partials left, the question asked, and grading a class.

The command line is run as a real process (exit codes, files); the library for the rest.
"""

import csv
import io
import json
import re

from conftest import run_cli
from symbackprop.spec import Network
from symbackprop.verifier import verify

WRONG = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)"
RIGHT = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"
PARTIALS = (r"\frac{\partial C_0}{\partial w^{(L)}} = \frac{\partial z^{(L)}}{\partial w^{(L)}} "
            r"\frac{\partial a^{(L)}}{\partial z^{(L)}} \frac{\partial C_0}{\partial a^{(L)}}")


def test_a_hint_says_what_is_wrong_without_the_answer():
    full, hinted = verify(WRONG), verify(WRONG, hint=True)
    assert full.expected and not hinted.expected
    assert "expected" not in hinted.text() and "σ'" in hinted.text()  # the diagnosis names σ'
    assert [d["code"] for d in hinted.diagnosis] == [d["code"] for d in full.diagnosis]
    result = run_cli("verify", "--hint", "--json", WRONG)
    assert result.returncode == 1 and json.loads(result.stdout)["expected"] == ""


def test_partials_left_are_not_an_answer_when_forbidden():
    assert verify(PARTIALS).equivalent
    refused = verify(PARTIALS, forbid_partials=True)
    assert not refused.equivalent and refused.diagnosis[0]["code"] == "not_an_answer"
    assert verify(RIGHT, forbid_partials=True).equivalent
    result = run_cli("verify", "--forbid-partials", PARTIALS)
    assert result.returncode == 1 and "still holds a derivative" in result.stdout


def test_an_answer_to_another_question_is_marked():
    bias = r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)"
    other = verify(bias, question=r"\frac{\partial C_0}{\partial w^{(L)}}")
    assert not other.equivalent and other.diagnosis[0]["code"] == "other_question"
    # the same question written another way: C for C_0, the layer by number, other index letters
    same = verify(r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j", Network.parse("3,4,2"),
                  question=r"\frac{\partial C}{\partial w^{(2)}_{pq}}")
    assert same.equivalent, same.text()


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_batch_lines_with_their_own_networks_questions_and_errors(tmp_path):
    rows = [
        {"id": "ann", "formula": RIGHT},
        {"id": "bob", "formula": r"\frac{\partial C_0}{\partial b^{(L)}_j} = \delta^{(L)}_j", "sizes": "3,4,2"},
        {"id": "cid", "formula": r"\frac{\partial C_0}{\partial b^{(L)} = ", "sizes": "2,2"},
        {"id": "dee", "formula": r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)",
         "question": r"\frac{\partial C_0}{\partial w^{(L)}}"},
        {"id": "eve", "formula": WRONG},
    ]
    out = tmp_path / "new" / "folder" / "results.jsonl"  # a folder that does not exist yet
    result = run_cli("verify", "--batch", str(_write(tmp_path / "class.jsonl", rows)), "-o", str(out), "--summary")
    assert result.returncode == 0, result.stderr
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in results] == ["ann", "bob", "cid", "dee", "eve"]
    verdicts = {r["id"]: r["verdict"] for r in results}
    # bob: sizes of depth 2 with the default network's depth 3, and no activation given
    assert verdicts == {"ann": "equivalent", "bob": "equivalent", "cid": "error", "dee": "not_equivalent",
                        "eve": "not_equivalent"}
    assert results[2]["formula"] == rows[2]["formula"]  # an error line echoes its formula
    assert results[3]["question"] == rows[3]["question"]
    counts = dict(re.findall(r"^  (\w+) +(\d+)$", result.stdout, re.M))
    assert counts == {"sigma_for_sigma_prime": "1", "other_question": "1"}


def test_batch_csv_in_and_out(tmp_path):
    class_csv = tmp_path / "class.csv"
    class_csv.write_text('id,formula,sizes\nann,"' + RIGHT + '",\nbob,"' + WRONG + '",\n')
    out = tmp_path / "results.csv"
    result = run_cli("verify", "--batch", str(class_csv), "-o", str(out), "--hint")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["id"], r["verdict"]) for r in rows] == [("ann", "equivalent"), ("bob", "not_equivalent")]
    assert rows[1]["diagnosis"] == "sigma_for_sigma_prime" and rows[1]["expected"] == ""  # --hint: no answer


DECAYED = r"\frac{\partial C}{\partial w^{(l)}_{jk}} = a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{n} "
UNPENALISED = r"\frac{\partial C}{\partial w^{(l)}_{jk}} = a^{(l-1)}_k \delta^{(l)}_j"


def test_batch_lines_keep_the_class_regulariser_or_name_their_own(tmp_path):
    """A chapter-3 class: the batch's --l2 holds for a line with its own sizes too; a line may name
    its own regulariser ("l1": 0.2), or none ("l2": null), in JSON lines and as CSV columns."""
    rows = [
        {"id": "ann", "formula": DECAYED + "w^{(l)}_{jk}"},
        {"id": "bob", "formula": DECAYED + "w^{(l)}_{jk}", "sizes": "3,3,2"},
        {"id": "cid", "formula": UNPENALISED, "sizes": "3,3,2"},  # the penalty's term missing
        {"id": "dee", "formula": DECAYED + r"\operatorname{sgn}(w^{(l)}_{jk})", "l1": 0.2},
        {"id": "eve", "formula": UNPENALISED, "l2": None},
        {"id": "fay", "formula": UNPENALISED, "l2": "abc"},
    ]
    out = tmp_path / "results.jsonl"
    result = run_cli("verify", "--sizes", "3,4,2", "--l2", "0.1", "--batch", str(_write(tmp_path / "class.jsonl", rows)),
                     "-o", str(out))
    assert result.returncode == 0, result.stderr
    results = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert {k: r["verdict"] for k, r in results.items()} == {
        "ann": "equivalent", "bob": "equivalent", "cid": "not_equivalent", "dee": "equivalent", "eve": "equivalent",
        "fay": "error"}
    assert "λ as a number" in results["fay"]["error"]
    class_csv = tmp_path / "class.csv"
    class_csv.write_text('id,formula,l1\nann,"' + DECAYED + r'\mathrm{sgn}(w^{(l)}_{jk})' + '",0.3\nbob,"' + DECAYED
                         + 'w^{(l)}_{jk}",0.3\n')
    out = tmp_path / "results.csv"
    assert run_cli("verify", "--sizes", "3,4,2", "--batch", str(class_csv), "-o", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["id"], r["verdict"]) for r in rows] == [("ann", "equivalent"), ("bob", "not_equivalent")]


def test_batch_options_only_with_batch():
    result = run_cli("verify", "--summary", RIGHT)
    assert result.returncode == 2 and "--summary is for --batch" in result.stderr
    assert run_cli("verify", "--time-limit", "0", RIGHT).returncode == 2
