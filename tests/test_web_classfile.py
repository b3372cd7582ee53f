"""verifier.classfile: reading class files (JSON lines, CSV) and writing results (CSV, JSON lines)."""

import csv
import io
import json

import pytest

from symbackprop.errors import SymbackpropError
from symbackprop.verifier import classfile

FORMULA = r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j)"


@pytest.mark.parametrize("name, text, expected", [
    ("class.csv", "{", "csv"), ("class.jsonl", "id,formula", "jsonl"), ("CLASS.NDJSON", "", "jsonl"),
    (None, '  {"id": 1}', "jsonl"), (None, "id,formula\n", "csv"), ("answers.txt", "id,formula", "csv"),
], ids=["csv-name", "jsonl-name", "ndjson", "json-content", "csv-content", "unknown-name"])
def test_detect_format(name, text, expected):
    assert classfile.detect_format(name, text) == expected


def test_jsonl_lines_keep_their_numbers_and_questions():
    text = '{"id": "ann", "formula": "x", "question": "dC/dw"}\n\n   \nnot json\n{"id": 3, "formula": "y"}\n'
    answers = classfile.read_jsonl(text)
    assert [a.line for a in answers] == [1, 4, 5]
    assert [a.question for a in answers] == ["dC/dw", None, None]
    assert answers[1].json_line == "not json"  # graded as an error, never dropped


def test_csv_rows_become_the_json_lines_they_stand_for():
    text = 'id,question,formula,sizes\nann,dC/dw,"' + FORMULA + '","3,4,2"\nbob,,x,\n'
    answers = classfile.read_csv(text)
    assert [a.line for a in answers] == [2, 3]
    assert json.loads(answers[0].json_line) == {"id": "ann", "question": "dC/dw", "formula": FORMULA, "sizes": "3,4,2"}
    assert json.loads(answers[1].json_line) == {"id": "bob", "formula": "x"}  # empty cells: the default network
    assert answers[0].question == "dC/dw" and answers[1].question is None


def test_csv_header_is_case_insensitive_and_may_start_with_a_bom():
    answers = classfile.read_csv("\ufeffID,Formula\n7,x\n")
    assert json.loads(answers[0].json_line) == {"id": "7", "formula": "x"}


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("name,formula\nann,x\n", "unknown column 'name'"),
    ("id,sizes\nann,3\n", "no 'formula' column"),
    ("formula\nx\n", "no 'id' column"),
], ids=["empty", "unknown-column", "no-formula", "no-id"])
def test_bad_csv_is_one_clear_error(text, message):
    with pytest.raises(SymbackpropError, match=message):
        classfile.read_csv(text)


def test_a_row_with_too_many_cells_is_an_error_result_not_a_stop():
    answers = classfile.read_csv("id,formula\nann,a_{j,k} = 1\nbob,x\n")
    assert answers[0].error and "double quotes" in answers[0].error
    assert answers[1].error is None
    result = classfile.error_result(answers[0])
    assert result == {"id": "ann", "verdict": "error", "error": answers[0].error, "line": 2, "formula": "a_{j"}


def test_unknown_format_is_refused():
    with pytest.raises(SymbackpropError, match="unknown class file format"):
        classfile.read_class_file("x", "xlsx")


def test_with_answer_sets_line_and_passes_the_question_through():
    answer = classfile.read_jsonl('\n{"id": 1, "formula": "x", "question": "dC/db"}')[0]
    assert classfile.with_answer({"id": 1, "line": 1, "verdict": "equivalent"}, answer) == {
        "id": 1, "line": 2, "verdict": "equivalent", "question": "dC/db", "formula": "x"}
    assert classfile.with_answer({"formula": "y"}, answer)["formula"] == "y"  # the grader's own wins


RESULTS = [
    {"id": "ann", "line": 1, "formula": "x", "verdict": "not_equivalent", "parsed": "x", "expected": "y",
     "diagnosis": [{"code": "flipped_sign", "message": "the sign"}, {"code": "missing_factor", "message": "σ'"}]},
    {"id": "=HYPERLINK(\"http://x\")", "line": 2, "formula": "-a", "verdict": "error", "error": "bad"},
    {"id": "cat", "line": 3, "formula": "z", "verdict": "not_equivalent", "diagnosis": [{"code": "flipped_sign", "message": "m"}]},
]


def test_results_csv_has_one_row_per_answer_and_guards_spreadsheet_formulas():
    rows = list(csv.DictReader(io.StringIO(classfile.results_csv(RESULTS))))
    assert list(rows[0]) == list(classfile.RESULT_COLUMNS)
    assert [r["id"] for r in rows] == ["ann", "'=HYPERLINK(\"http://x\")", "cat"]
    assert rows[0]["diagnosis"] == "flipped_sign; missing_factor" and rows[0]["hint"] == "the sign | σ'"
    assert rows[1]["formula"] == "'-a" and rows[1]["error"] == "bad"


def test_results_jsonl_round_trips():
    lines = classfile.results_jsonl(RESULTS).splitlines()
    assert [json.loads(line) for line in lines] == RESULTS


def test_mistake_counts_count_answers_most_frequent_first():
    twice = {"diagnosis": [{"code": "flipped_sign"}, {"code": "flipped_sign"}]}
    assert classfile.mistake_counts(RESULTS + [twice]) == {"flipped_sign": 3, "missing_factor": 1}
