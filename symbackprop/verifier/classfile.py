"""A class's answers in and graded results out: JSON lines or CSV, for the web app and the CLI.

An answer is ``id``, ``formula`` and optionally ``sizes``, ``activation``, ``cost``, ``l2`` or ``l1``
(the network it is for, when not the class's default; a regulariser by its λ) and ``question`` (the left-hand side the teacher asked
for; passed through to the results).  The grader (``batch.grade_lines``) reads JSON lines, so a
CSV row becomes the JSON line it stands for and both formats grade the same way.  A line that
is not valid JSON stays as it is: grading gives it an error result, and the rest goes on.
"""

import csv
import io
import json
from dataclasses import dataclass

from ..errors import SymbackpropError

COLUMNS = ("id", "formula", "sizes", "activation", "cost", "l2", "l1", "question")
"""The columns a CSV class file may have; id and formula are required."""

RESULT_COLUMNS = ("id", "line", "question", "formula", "verdict", "diagnosis", "hint", "error",
                  "parsed", "expected")
"""The columns of the results CSV, one row per answer in file order."""

_SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Answer:
    """One answer of the class file: where it is, the JSON line to grade, the question asked.

    ``error`` is set when the row cannot be an answer at all (see ``error_result``).
    """

    line: int
    json_line: str
    question: str = None
    error: str = None
    formula: str = None


def detect_format(filename=None, text=""):
    """"csv" or "jsonl": by the file name's ending, else by the first non-blank character."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    first = text.lstrip()[:1]
    return "jsonl" if first in ("{", "") else "csv"


def read_jsonl(text):
    """The non-blank lines of a JSON-lines file, each an answer (bad JSON is graded as an error)."""
    answers = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            answers.append(Answer(number, line, _text(line, "question"), formula=_text(line, "formula")))
    return answers


def _text(line, key):
    """The text under ``key`` of a JSON line, or None."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    value = entry.get(key) if isinstance(entry, dict) else None
    return value if isinstance(value, str) else None


def read_csv(text):
    """The rows of a CSV file with a header naming its columns (id, formula, …) as answers."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise SymbackpropError("the CSV file is empty; its first row must name the columns, e.g. id,formula")
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise SymbackpropError(f"the CSV file has the unknown column '{unknown[0]}'; "
                               f"the columns are {', '.join(COLUMNS)} (id and formula required)")
    for required in ("id", "formula"):
        if required not in names:
            raise SymbackpropError(f"the CSV file has no '{required}' column; its first row must name "
                                   f"the columns, e.g. id,formula")
    answers = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            entry = {name: cell for name, cell in zip(names, row) if cell.strip() or name == "formula"}
            error = None
            if len(row) > len(names):
                error = (f"this row has {len(row)} cells but the header names {len(names)} columns; "
                         f"put a formula with commas in double quotes")
            answers.append(Answer(reader.line_num, json.dumps(entry, ensure_ascii=False), entry.get("question"), error,
                                  entry.get("formula")))
    except csv.Error as e:
        raise SymbackpropError(f"the CSV file cannot be read at line {reader.line_num}: {e}") from None
    return answers


def read_class_file(text, fmt):
    """Answers from a class file in ``fmt`` ("jsonl" or "csv")."""
    if fmt == "csv":
        return read_csv(text)
    if fmt == "jsonl":
        return read_jsonl(text)
    raise SymbackpropError(f"unknown class file format '{fmt}'; use jsonl or csv")


def error_result(answer):
    """The result for an answer that could not be graded at all (``answer.error``)."""
    entry = json.loads(answer.json_line)
    return with_answer({"id": entry.get("id"), "verdict": "error", "error": answer.error}, answer)


def with_answer(result, answer):
    """The grader's result for ``answer``, with the answer's line number, question and formula."""
    result = dict(result, line=answer.line)
    if answer.question is not None:
        result["question"] = answer.question
    if answer.formula is not None:
        result.setdefault("formula", answer.formula)
    return result


def results_jsonl(results):
    """The results as JSON lines, the format of ``verify --batch``."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)


def results_csv(results):
    """The results as CSV with RESULT_COLUMNS; diagnosis codes joined by '; ', hints by ' | '.

    Cells that a spreadsheet would run as a formula (starting with = + - @) get a leading
    apostrophe, the usual guard against CSV injection.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for r in results:
        diagnosis = [d for d in r.get("diagnosis") or [] if isinstance(d, dict)]
        row = {**r, "diagnosis": "; ".join(str(d.get("code", "")) for d in diagnosis),
               "hint": " | ".join(str(d.get("message", "")) for d in diagnosis)}
        writer.writerow([_cell(row.get(column)) for column in RESULT_COLUMNS])
    return out.getvalue()


def _cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_SPREADSHEET_TRIGGERS) else text


def mistake_counts(results):
    """How many answers got each diagnosis code, most frequent first."""
    counts = {}
    for r in results:
        for code in {d.get("code") for d in r.get("diagnosis") or [] if isinstance(d, dict)}:
            if code:
                counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
