"""The JSON API under /api/ (what the pages use too) and the file downloads.

Answers carry the same fields as the command line's ``--json``.  Every computation runs in the
workers with a time limit; bad input is a 4xx with ``{"error": …}`` (see ``app.py``).
"""

import asyncio
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from ..verifier import classfile
from . import tasks
from .limits import (BATCH_SECONDS, MAX_CLASS_LINES, READ_SECONDS, VERIFY_SECONDS)
from .schemas import BatchRequest, FormulaRequest, NetworkFields, VerifyRequest, network_params
from .service import InputError, cached, module_filename, network_of, network_query, unwrap
from .workers import TaskTimeout

api = APIRouter(prefix="/api", tags=["api"])
downloads = APIRouter(tags=["downloads"])

NetworkParams = Annotated[dict, Depends(network_params)]


@api.get("/health", summary="Is the server ready?")
async def health():
    """``{"status": "ok"}`` once the app can serve (its workers are started)."""
    return {"status": "ok"}


@api.post("/derive", summary="The derivation (derive --format json)")
async def derive(body: NetworkFields, request: Request):
    """The data ``symbackprop derive --format json`` prints: sections chain, indexed, delta, bp, layers, activations, cost."""
    return await cached(request.app, "derive", network_of(body), tasks.derivation_data)


@api.post("/read", summary="How a formula is read (the live preview)")
async def read(body: FormulaRequest, request: Request):
    """Parsing only: ``latex`` and ``text`` of how the formula was read, ``notes``, and ``mathml``.

    An unreadable formula is a 400 with ``error`` and ``position`` (0-based column, or null).
    """
    network = network_of(body)
    outcome = await _run(request, tasks.read_formula, body.formula, network, timeout=READ_SECONDS)
    return unwrap(outcome, body.formula)


@api.post("/verify", summary="A verdict on a formula (verify --json)")
async def verify(body: VerifyRequest, request: Request):
    """The object ``symbackprop verify --json`` prints: verdict, formula, parsed, expected,
    counterexample, diagnosis, checked, symbolic, notes, network.  With ``typeset`` also ``mathml``.
    A formula that cannot be read is a 400 with ``error`` and ``position``."""
    network = network_of(body)
    outcome = await _run(request, tasks.verify_formula, body.formula, network, body.typeset, timeout=VERIFY_SECONDS)
    return unwrap(outcome, body.formula)


async def _run(request, fn, *args, timeout):
    try:
        return await request.app.state.workers.run(fn, *args, timeout=timeout)
    except TaskTimeout as e:
        raise TaskTimeout(f"checking this formula {e}; simplify it (fewer or narrower sums)") from None


BATCH_DESCRIPTION = f"""Grade a class file: JSON lines like `verify --batch`, or CSV with the columns id, formula
and optional sizes, activation, cost, question.  The network keys (with `l2` or `l1`) are the default
network of answers that name none.  At most {MAX_CLASS_LINES:,} answers and {BATCH_SECONDS:g} s;
answers not graded in time get an error result.

Answers `summary`, `results` (the `verify --batch` lines in file order, with `question` passed
through), `mistakes` (answers per diagnosis code), `chart` (an SVG bar chart of them), and the
results as `csv` and `jsonl` text."""


@api.post("/batch", summary="Grade a class file (verify --batch)", description=BATCH_DESCRIPTION)
async def batch(body: BatchRequest, request: Request):
    return await grade_class(request.app, body)


async def grade_class(app, body):
    from .chart import mistakes_svg

    loop = asyncio.get_running_loop()
    start = loop.time()
    default = network_of(body)
    fmt = body.format or classfile.detect_format(body.filename, body.content)
    answers = classfile.read_class_file(body.content, fmt)
    if not answers:
        raise InputError("the class file has no answers")
    if len(answers) > MAX_CLASS_LINES:
        raise InputError(f"the class file has {len(answers):,} answers; the limit is {MAX_CLASS_LINES:,} "
                         f"per upload, so split it")
    workers = app.state.workers
    turn = asyncio.Semaphore(workers.processes)  # one class at most fills the workers; others interleave
    deadline = start + BATCH_SECONDS

    async def grade(answer):
        if answer.error:
            return classfile.error_result(answer)
        async with turn:
            left = deadline - loop.time()
            if left <= 0:
                return _failed(answer, f"not graded: grading the class file took more than {BATCH_SECONDS:g} s")
            try:
                status, result = await workers.run(tasks.grade_answer, answer.json_line, default,
                                                   timeout=min(VERIFY_SECONDS, left))
            except TaskTimeout as e:
                return _failed(answer, f"checking this answer {e}")
            return classfile.with_answer(result, answer) if status == "ok" else _failed(answer, result["error"])

    results = await asyncio.gather(*(grade(a) for a in answers))
    verdicts = [r.get("verdict") for r in results]
    mistakes = classfile.mistake_counts(results)
    summary = {"total": len(results), "equivalent": verdicts.count("equivalent"),
               "not_equivalent": verdicts.count("not_equivalent"), "errors": verdicts.count("error"),
               "format": fmt, "seconds": round(loop.time() - start, 3), "workers": workers.processes}
    return {"summary": summary, "results": results, "mistakes": mistakes,
            "chart": mistakes_svg(mistakes, len(results)),
            "csv": classfile.results_csv(results), "jsonl": classfile.results_jsonl(results)}


def _failed(answer, message):
    try:
        entry = json.loads(answer.json_line)
    except ValueError:
        entry = {}
    ident = entry.get("id") if isinstance(entry, dict) else None
    return classfile.with_answer({"id": ident, "verdict": "error", "error": message}, answer)


@api.post("/notes", summary="The study notes (notes)")
async def notes(body: NetworkFields, request: Request):
    """The notes' Markdown for the network, and where to download the PDF, .tex and .md."""
    network = network_of(body)
    folder, stem = await request.app.state.notes.build(network)
    query = network_query(network)
    return {"network": network.to_dict(), "stem": stem,
            "markdown": (folder / f"{stem}.md").read_text(encoding="utf-8"),
            "downloads": {ext: f"/download/notes.{ext}?{query}" for ext in ("pdf", "tex", "md")}}


@api.post("/codegen", summary="The gradient module (codegen)")
async def codegen(body: NetworkFields, request: Request):
    """The text of the module ``symbackprop codegen`` writes for the network, and its file name."""
    network = network_of(body)
    module = await cached(request.app, "module", network, tasks.module_source)
    return {"network": network.to_dict(), "filename": module_filename(network), "source": module["source"],
            "download": f"/download/gradients.py?{network_query(network)}"}


MEDIA = {"pdf": "application/pdf", "tex": "application/x-tex", "md": "text/markdown; charset=utf-8"}


@downloads.get("/download/notes.{ext}", summary="Download the notes as PDF, .tex or .md")
async def download_notes(ext: Literal["pdf", "tex", "md"], request: Request, fields: NetworkParams):
    network = network_of(fields)
    folder, stem = await request.app.state.notes.build(network, pdf=ext == "pdf")
    return FileResponse(folder / f"{stem}.{ext}", media_type=MEDIA[ext], filename=f"{stem}.{ext}")


@downloads.get("/download/gradients.py", summary="Download the generated module")
async def download_module(request: Request, fields: NetworkParams):
    network = network_of(fields)
    module = await cached(request.app, "module", network, tasks.module_source)
    name = module_filename(network)
    return Response(module["source"], media_type="text/x-python; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@downloads.get("/notes/figure/{key}/{kind}.svg", summary="A figure of built notes", include_in_schema=False)
async def figure(key: str, kind: str, request: Request):
    folder = request.app.state.notes.folder(key)
    files = sorted(folder.glob(f"*.{kind}.svg")) if folder is not None and kind.isalpha() and kind.islower() else []
    if not files:
        raise _not_found()
    return FileResponse(files[0], media_type="image/svg+xml")


def _not_found():
    from fastapi import HTTPException

    return HTTPException(404, "no such figure; open the notes page again to rebuild it")
