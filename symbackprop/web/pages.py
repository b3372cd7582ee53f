"""The HTML pages: student (/), notes (/notes), code (/codegen), teacher (/grade).

Pages are rendered on the server from the same cached results the API serves; the formula box,
the verdict and the grading call the JSON API from ``static/*.js``.  The network comes from the
query string, so every page for a network has a URL to share.
"""

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import SymbackpropError
from ..regularisers import REGISTRY as REGULARISERS
from . import tasks
from .limits import (BATCH_SECONDS, MAX_CLASS_FILE, MAX_CLASS_LINES, MAX_DEPTH, MAX_FIELD, VERIFY_SECONDS)
from .schemas import network_params
from .service import cached, module_filename, network_of, network_query, strength_text
from .views import pygments_css, render

pages = APIRouter(include_in_schema=False)

QueryText = Annotated[Optional[str], Query(max_length=MAX_FIELD)]

PRESETS = [  # label, sizes, activation, cost, regulariser ("" for none), λ
    ("Lectures: chain 1-1-1-1", "1,1,1,1", "sigmoid", "quadratic", "", ""),
    ("Lectures: 3-3-2", "3,3,2", "sigmoid", "quadratic", "", ""),
    ("4-4-4-2 relu/tanh/sigmoid, cross-entropy", "4,4,4,2", "relu,tanh,sigmoid", "cross_entropy", "", ""),
    ("Digits 64-32-10, cross-entropy", "64,32,10", "relu,sigmoid", "cross_entropy", "", ""),
    ("Nielsen ch. 3: 784-30-10 softmax, log-likelihood, L2 λ=5", "784,30,10", "sigmoid,softmax", "log_likelihood",
     "l2", "5"),
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

WEIGHT_WITH_PENALTY = {  # Nielsen's ∂C/∂w = ∂C₀/∂w + (λ/n) penalty'(w), for a regularised network
    ("l2", True): r"\frac{\partial C}{\partial w^{(L)}} = a^{(L-1)} \delta^{(L)} + \frac{\lambda}{n} w^{(L)}",
    ("l2", False): r"\frac{\partial C}{\partial w^{(l)}_{jk}} = a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{n} w^{(l)}_{jk}",
    ("l1", True): r"\frac{\partial C}{\partial w^{(L)}} = a^{(L-1)} \delta^{(L)} + \frac{\lambda}{n} \operatorname{sgn}(w^{(L)})",
    ("l1", False): r"\frac{\partial C}{\partial w^{(l)}_{jk}} = a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{n} "
                   r"\operatorname{sgn}(w^{(l)}_{jk})",
}


def _examples(network):
    """The example formulas under the box: in the network's indices, with its λ term when regularised."""
    one = network is None or network.one_neuron_per_layer
    examples = EXAMPLES_ONE_NEURON if one else EXAMPLES_SEVERAL
    for name, _ in network.regularisation if network else ():
        examples = examples + [(f"a weight with {name.upper()}", WEIGHT_WITH_PENALTY[name, one])]
    return examples


def form_params(network: Annotated[dict, Depends(network_params)], regulariser: QueryText = None,
                lam: Annotated[Optional[str], Query(alias="lambda", max_length=MAX_FIELD)] = None):
    """The URL's network, and the form's regulariser choice and λ when the form was sent."""
    return {**network, "regulariser": regulariser, "lambda": lam}


FormParams = Annotated[dict, Depends(form_params)]


def _strengths(fields):
    """{"l2": λ} from the form's choice and λ, else from the URL's l2=λ / l1=λ."""
    choice = fields["regulariser"]
    if choice is None:
        return {name: fields[name] for name in REGULARISERS}
    if choice in ("", "none"):
        return {}
    if choice not in REGULARISERS:
        raise SymbackpropError(f"choose the regularisation among none, {', '.join(REGULARISERS)}")
    lam = (fields["lambda"] or "").strip()
    if not lam:
        raise SymbackpropError(f"give λ for {choice.upper()} regularisation, a number above 0 (e.g. 0.1), "
                               "or choose none")
    return {choice: lam}


def _choose(fields):
    """(network, form values, error message): the page shows the form with the error when bad."""
    sent = {name: fields[name] for name in REGULARISERS if fields[name]}
    choice, lam = next(iter(sent.items()), ("", ""))
    form = {"sizes": fields["sizes"] or "", "activation": fields["activation"] or "", "cost": fields["cost"] or "",
            "regulariser": choice if fields["regulariser"] is None else fields["regulariser"],
            "lambda": lam if fields["regulariser"] is None else fields["lambda"] or ""}
    try:
        network = network_of({"sizes": form["sizes"], "activation": form["activation"], "cost": form["cost"],
                              **_strengths(fields)})
        return network, form, None
    except SymbackpropError as e:
        return None, form, str(e)


def _moved(request, network, fields):
    """A sent form names the network by its choice and λ; the page's own URL says l2=λ (a link to share)."""
    if network is None or fields["regulariser"] is None:
        return None
    return RedirectResponse(f"{request.url.path}?{network_query(network)}", status_code=303)


def _page(request, template, network, form, error, **context):
    from ..activations import REGISTRY as ACTIVATIONS
    from ..costs import REGISTRY as COSTS

    if network is not None:
        choice, lam = next(iter(network.regularisation), ("", None))
        form = {"sizes": ",".join(map(str, network.sizes)),
                "activation": network.activations[0] if network.uniform_activation else ",".join(network.activations),
                "cost": network.cost, "regulariser": choice, "lambda": strength_text(lam) if lam else ""}
    html = render(template, request=request, network=network, form=form, error=error, presets=PRESETS,
                  activations=list(ACTIVATIONS), costs=list(COSTS), regularisers=REGULARISERS, max_depth=MAX_DEPTH,
                  query=network_query(network) if network else "", **context)
    return HTMLResponse(html, status_code=400 if error else 200)


@pages.get("/", response_class=HTMLResponse)
async def student(request: Request, fields: FormParams):
    network, form, error = _choose(fields)
    if moved := _moved(request, network, fields):
        return moved
    derivation = None
    if network is not None:
        derivation = await cached(request.app, "derivation-page", network, tasks.derivation_html)
    return _page(request, "student.html.j2", network, form, error, derivation=derivation, examples=_examples(network),
                 verify_seconds=VERIFY_SECONDS)


@pages.get("/notes", response_class=HTMLResponse)
async def notes(request: Request, fields: FormParams):
    network, form, error = _choose(fields)
    if moved := _moved(request, network, fields):
        return moved
    body = stem = None
    if network is not None:
        folder, stem = await request.app.state.notes.build(network)
        body = (folder / "page.html").read_text(encoding="utf-8")
    return _page(request, "notes.html.j2", network, form, error, notes=body, stem=stem)


@pages.get("/codegen", response_class=HTMLResponse)
async def codegen(request: Request, fields: FormParams):
    network, form, error = _choose(fields)
    if moved := _moved(request, network, fields):
        return moved
    module = filename = None
    if network is not None:
        module = await cached(request.app, "module", network, tasks.module_source)
        filename = module_filename(network)
    return _page(request, "codegen.html.j2", network, form, error, module=module, filename=filename)


@pages.get("/grade", response_class=HTMLResponse)
async def grade(request: Request, fields: FormParams):
    network, form, error = _choose(fields)
    if moved := _moved(request, network, fields):
        return moved
    return _page(request, "grade.html.j2", network, form, error, max_kib=MAX_CLASS_FILE // 1024,
                 size_limit=f"{MAX_CLASS_FILE / 2**20:g} MiB" if MAX_CLASS_FILE >= 2**20 else f"{MAX_CLASS_FILE // 1024} KiB",
                 max_lines=MAX_CLASS_LINES, batch_seconds=BATCH_SECONDS, verify_seconds=VERIFY_SECONDS)


@pages.get("/pygments.css")
async def code_style():
    return Response(pygments_css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})
