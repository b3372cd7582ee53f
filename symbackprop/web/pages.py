"""The HTML pages: student (/), notes (/notes), code (/codegen), teacher (/grade).

Pages are rendered on the server from the same cached results the API serves; the formula box,
the verdict and the grading call the JSON API from ``static/*.js``.  The network comes from the
query string, so every page for a network has a URL to share.
"""

from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..errors import SymbackpropError
from . import tasks
from .limits import (BATCH_SECONDS, MAX_CLASS_FILE, MAX_CLASS_LINES, MAX_DEPTH, MAX_FIELD, VERIFY_SECONDS)
from .service import cached, module_filename, network_of, network_query
from .views import pygments_css, render

pages = APIRouter(include_in_schema=False)

QueryText = Annotated[Optional[str], Query(max_length=MAX_FIELD)]

PRESETS = [
    ("Lectures: chain 1-1-1-1", "1,1,1,1", "sigmoid", "quadratic"),
    ("Lectures: 3-3-2", "3,3,2", "sigmoid", "quadratic"),
    ("4-4-4-2 relu/tanh/sigmoid, cross-entropy", "4,4,4,2", "relu,tanh,sigmoid", "cross_entropy"),
    ("Digits 64-32-10, cross-entropy", "64,32,10", "relu,sigmoid", "cross_entropy"),
]

EXAMPLES_ONE_NEURON = [
    ("the chain rule for the last weight", r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"),
    ("the same with σ for σ'", r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma(z^{(L)}) 2(a^{(L)} - y)"),
    ("the bias", r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)"),
]
EXAMPLES_SEVERAL = [
    ("a weight of the last layer", r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)"),
    ("BP2 with indices", r"\delta^l_j = \sum_k w^{l+1}_{kj} \delta^{l+1}_k \sigma'(z^l_j)"),
    ("BP2 in matrix form", r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)"),
]


def _choose(sizes, activation, cost):
    """(network, form values, error message): the page shows the form with the error when bad."""
    form = {"sizes": sizes or "", "activation": activation or "", "cost": cost or ""}
    try:
        return network_of(form), form, None
    except SymbackpropError as e:
        return None, form, str(e)


def _page(request, template, network, form, error, **context):
    from ..activations import REGISTRY as ACTIVATIONS
    from ..costs import REGISTRY as COSTS

    if network is not None:
        form = {"sizes": ",".join(map(str, network.sizes)),
                "activation": network.activations[0] if network.uniform_activation else ",".join(network.activations),
                "cost": network.cost}
    html = render(template, request=request, network=network, form=form, error=error, presets=PRESETS,
                  activations=list(ACTIVATIONS), costs=list(COSTS), max_depth=MAX_DEPTH,
                  query=network_query(network) if network else "", **context)
    return HTMLResponse(html, status_code=400 if error else 200)


@pages.get("/", response_class=HTMLResponse)
async def student(request: Request, sizes: QueryText = None, activation: QueryText = None, cost: QueryText = None):
    network, form, error = _choose(sizes, activation, cost)
    derivation = None
    if network is not None:
        derivation = await cached(request.app, "derivation-page", network, tasks.derivation_html)
    examples = EXAMPLES_ONE_NEURON if network is None or network.one_neuron_per_layer else EXAMPLES_SEVERAL
    return _page(request, "student.html.j2", network, form, error, derivation=derivation, examples=examples,
                 verify_seconds=VERIFY_SECONDS)


@pages.get("/notes", response_class=HTMLResponse)
async def notes(request: Request, sizes: QueryText = None, activation: QueryText = None, cost: QueryText = None):
    network, form, error = _choose(sizes, activation, cost)
    body = stem = None
    if network is not None:
        folder, stem = await request.app.state.notes.build(network)
        body = (folder / "page.html").read_text(encoding="utf-8")
    return _page(request, "notes.html.j2", network, form, error, notes=body, stem=stem)


@pages.get("/codegen", response_class=HTMLResponse)
async def codegen(request: Request, sizes: QueryText = None, activation: QueryText = None, cost: QueryText = None):
    network, form, error = _choose(sizes, activation, cost)
    module = filename = None
    if network is not None:
        module = await cached(request.app, "module", network, tasks.module_source)
        filename = module_filename(network)
    return _page(request, "codegen.html.j2", network, form, error, module=module, filename=filename)


@pages.get("/grade", response_class=HTMLResponse)
async def grade(request: Request, sizes: QueryText = None, activation: QueryText = None, cost: QueryText = None):
    network, form, error = _choose(sizes, activation, cost)
    return _page(request, "grade.html.j2", network, form, error, max_kib=MAX_CLASS_FILE // 1024,
                 size_limit=f"{MAX_CLASS_FILE / 2**20:g} MiB" if MAX_CLASS_FILE >= 2**20 else f"{MAX_CLASS_FILE // 1024} KiB",
                 max_lines=MAX_CLASS_LINES, batch_seconds=BATCH_SECONDS, verify_seconds=VERIFY_SECONDS)


@pages.get("/pygments.css")
async def code_style():
    return Response(pygments_css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})
