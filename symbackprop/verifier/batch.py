"""Grading a class: one answer per line (JSON lines) or row (CSV) in, one verdict each out, on every core.

Input lines are ``{"id": ..., "formula": ..., "sizes"/"activation"/"cost"/"l2"/"l1"/"question": optional}``
(CSV: the same names as columns, read by ``classfile``).  Each result echoes ``id``, the line
number and the formula; a line that is not JSON, has no formula, names a bad network or holds a
formula that cannot be read gets ``"verdict": "error"`` with the message, and the batch goes on.
Every line has the verify time limit, so one pathological formula costs its seconds and no more.
Results come back in input order.
"""

import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import regularisers
from ..errors import SymbackpropError
from ..spec import DEFAULT_ACTIVATION, DEFAULT_COST, Network
from . import classfile

NETWORK_KEYS = ("sizes", "activation", "cost", *regularisers.REGISTRY)
"""The keys of a line that name its network (the regularisers by name: "l2": 0.1)."""
from .verdict import verify

PARALLEL_FROM = 8
"""Below this many lines, grading in this process is faster than starting workers."""


@dataclass(frozen=True)
class Options:
    """The teacher's choices for a whole batch (see ``verify``)."""

    hint: bool = False
    forbid_partials: bool = False
    time_limit: float | None = None  # None: timelimit.default()


def _network_for(entry, default):
    """The line's own network; a key it leaves out comes from the batch's network — one activation
    name for every layer when that network has one, else the default activation; the regulariser
    ("l2" or "l1" with its λ) too, unless the line names one."""
    if not any(key in entry for key in NETWORK_KEYS):
        return default
    if "activation" in entry:
        activation = entry["activation"]
    elif "sizes" in entry:
        activation = default.activations[0] if default.uniform_activation else DEFAULT_ACTIVATION
    else:
        activation = ",".join(default.activations)
    named = {name: entry[name] for name in regularisers.REGISTRY if name in entry}  # "l2": null is none
    return Network.parse(entry.get("sizes", ",".join(map(str, default.sizes))), activation,
                         entry.get("cost", default.cost or DEFAULT_COST), **(named or dict(default.regularisation)))


def grade_line(task):
    """One line -> one result dict; never raises."""
    number, line, default, options = task
    result = {"id": None, "line": number}
    try:
        entry = json.loads(line)
        if not isinstance(entry, dict):
            raise SymbackpropError("the line is not a JSON object")
        result["id"] = entry.get("id")
        formula = entry.get("formula")
        if isinstance(formula, str):
            result["formula"] = formula
        else:
            raise SymbackpropError('the line has no "formula" text')
        question = entry.get("question")
        if question is not None:
            result["question"] = question
        verdict = verify(formula, _network_for(entry, default), options.time_limit,
                         question=question or None, forbid_partials=options.forbid_partials, hint=options.hint)
        result.update(verdict.to_dict())
    except json.JSONDecodeError as e:
        result.update({"verdict": "error", "error": f"not valid JSON: {e.msg} (column {e.colno})"})
    except SymbackpropError as e:
        result.update({"verdict": "error", "error": str(e)})
    except RecursionError:
        result.update({"verdict": "error", "error": "the formula is nested too deeply"})
    except Exception as e:  # noqa: BLE001 - one bad line never stops the batch
        result.update({"verdict": "error", "error": f"internal error ({type(e).__name__}: {e}); please report it"})
    return result


@dataclass
class Summary:
    """Counts and speed of one batch; ``text()`` is what the CLI prints."""

    total: int = 0
    equivalent: int = 0
    not_equivalent: int = 0
    errors: int = 0
    seconds: float = 0.0
    workers: int = 1
    output: str = None
    results: list = field(default_factory=list, repr=False)

    @property
    def per_second(self):
        return self.total / self.seconds if self.seconds > 0 else float("inf")

    def text(self):
        where = f"; results in {self.output}" if self.output else ""
        return (f"graded {self.total} formulas: {self.equivalent} equivalent, {self.not_equivalent} not equivalent, "
                f"{self.errors} error{'s' if self.errors != 1 else ''} in {self.seconds:.2f} s "
                f"({self.per_second:.1f} formulas/s on {self.workers} worker{'s' if self.workers != 1 else ''}){where}")

    def mistakes(self):
        """How many answers made each mistake (diagnosis code), most frequent first."""
        return classfile.mistake_counts(self.results)

    def mistakes_text(self):
        counts = self.mistakes()
        if not counts:
            return "no mistakes diagnosed"
        width = max(len(code) for code in counts)
        return "mistakes, by how many answers made them:\n" + "\n".join(
            f"  {code:<{width}}  {count}" for code, count in counts.items())

    def to_dict(self):
        return {"total": self.total, "equivalent": self.equivalent, "not_equivalent": self.not_equivalent,
                "errors": self.errors, "seconds": round(self.seconds, 3), "workers": self.workers}


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def grade_lines(lines, default_network=None, workers=None, options=Options()):
    """Results for the non-blank ``lines``, in order, graded on ``workers`` processes (default: all cores)."""
    default = Network.parse() if default_network is None else default_network
    tasks = [(n, line, default, options) for n, line in enumerate(lines, 1) if line.strip()]
    workers = workers or os.cpu_count() or 1
    if len(tasks) < PARALLEL_FROM or workers == 1:
        return [grade_line(t) for t in tasks], 1
    workers = min(workers, len(tasks))
    with _context().Pool(workers) as pool:
        return list(pool.imap(grade_line, tasks, chunksize=max(1, len(tasks) // (workers * 8)))), workers


def grade_file(path, output=None, default_network=None, workers=None, options=Options()):
    """Grade the class file ``path`` (JSON lines, or CSV by its ending); write the results to
    ``output`` (JSON lines, or CSV when it ends in .csv; its folder is made) or stdout."""
    start = time.monotonic()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SymbackpropError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise SymbackpropError(f"{path} is not UTF-8 text") from None
    answers = classfile.read_class_file(text, classfile.detect_format(str(path), text))
    graded, used = grade_lines([a.json_line for a in answers if a.error is None], default_network, workers, options)
    graded = iter(graded)
    results = [classfile.error_result(a) if a.error else classfile.with_answer(next(graded), a) for a in answers]
    as_csv = output is not None and str(output).lower().endswith(".csv")
    written = classfile.results_csv(results) if as_csv else classfile.results_jsonl(results)
    if output is None:
        sys.stdout.write(written)
        sys.stdout.flush()
    else:
        try:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            Path(output).write_text(written, encoding="utf-8")
        except OSError as e:
            raise SymbackpropError(f"cannot write {output}: {e.strerror}") from None
    verdicts = [r.get("verdict") for r in results]
    return Summary(total=len(results), equivalent=verdicts.count("equivalent"),
                   not_equivalent=verdicts.count("not_equivalent"), errors=verdicts.count("error"),
                   seconds=time.monotonic() - start, workers=used, output=output, results=results)
