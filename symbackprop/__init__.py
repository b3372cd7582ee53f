"""symbackprop: backpropagation derived symbolically, as notes, verdicts and gradient code.

The pipeline is ``spec -> model -> derive -> {render, verify, codegen}``::

    from symbackprop import Network, derive, check
    net = Network.parse("2,3,1", "relu,sigmoid", "cross_entropy")
    d = derive(net)          # data: steps, factors, BP1-BP4; shows as LaTeX in Jupyter
    check(net).agree         # derived == sympy.diff == backprop == finite differences

Modules are named apart from the functions they export (``derivation.derive``,
``gradcheck.check``, ``verifier.verify``) so an import never shadows a function.  Names are
imported lazily so that ``import symbackprop`` (and ``symbackprop --help``) stay fast.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "Network": "spec",
    "SymbackpropError": "errors",
    "FormulaError": "errors",
    "derive": "derivation",
    "Derivation": "derivation",
    "check": "gradcheck",
    "latex": "printing",
    "ACTIVATIONS": ("activations", "REGISTRY"),
    "COSTS": ("costs", "REGISTRY"),
    "write_notes": "render",
    "render_notes": "render",
    "verify": "verifier",
    "grade_file": "verifier",
    "compile": "codegen",
    "write_module": "codegen",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'symbackprop' has no attribute {name!r}")
    import importlib

    target = _EXPORTS[name]
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value
