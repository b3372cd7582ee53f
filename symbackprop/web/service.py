"""What the API and the pages share: validated networks, and the library's answers via the workers."""

from ..errors import SymbackpropError
from .limits import DERIVE_SECONDS, MAX_DEPTH


class InputError(SymbackpropError):
    """Bad input from a request, with the column of the problem in a formula when known."""

    def __init__(self, message, position=None, formula=None):
        super().__init__(message)
        self.position = position
        self.formula = formula


def network_of(fields):
    """The validated network of a request's sizes/activation/cost/l2/l1 (an object or a dict)."""
    from ..regularisers import REGISTRY
    from ..spec import Network

    get = fields.get if isinstance(fields, dict) else lambda key: getattr(fields, key, None)
    # "" is an empty form field (none), but 0 must reach Network.parse to be refused
    strengths = {name: None if get(name) == "" else get(name) for name in REGISTRY}
    network = Network.parse(get("sizes") or None, get("activation") or None, get("cost") or None, **strengths)
    if network.depth > MAX_DEPTH:
        raise SymbackpropError(f"this network has {network.depth} weight layers; the web app takes at most "
                               f"{MAX_DEPTH} (the command line takes more)")
    return network


def strength_text(lam):
    """λ as short as it reads back exactly: 5, 0.1, 1e-05 (never 5.0, never rounded like :g alone)."""
    short = f"{lam:g}"
    return short if float(short) == lam else repr(lam)


def unwrap(outcome, formula=None):
    """The value of a task's ("ok", value), or an InputError for ("error", details)."""
    status, value = outcome
    if status == "error":
        raise InputError(value["error"], value.get("position"), formula)
    return value


def network_query(network):
    """The query string that names ``network`` in page and download URLs."""
    from urllib.parse import urlencode

    return urlencode({"sizes": ",".join(map(str, network.sizes)),
                      "activation": network.activations[0] if network.uniform_activation else ",".join(network.activations),
                      "cost": network.cost,
                      **{name: strength_text(lam) for name, lam in network.regularisation}})


async def cached(app, kind, network, task, timeout=DERIVE_SECONDS):
    """A per-network result (derivation, page fragment, module), computed once in a worker."""
    async def compute():
        return unwrap(await app.state.workers.run(task, network, timeout=timeout))
    return await app.state.memo.get((kind, network), compute)


def module_filename(network):
    """The download name of the generated module, from the validated network only."""
    acts = network.activations[0] if network.uniform_activation else "-".join(network.activations)
    extra = "".join(f"_{name}_{strength_text(lam)}" for name, lam in network.regularisation)
    name = f"gradients_{'_'.join(map(str, network.sizes))}_{acts}_{network.cost}{extra}"
    name = name.replace("-", "_").replace(".", "_").replace("+", "_")  # a name Python can import
    return (name if len(name) <= 100 else f"gradients_{network.depth}_layers") + ".py"

