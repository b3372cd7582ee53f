"""The Python API: the same operations as the CLI, importable from `symbackprop`."""

import subprocess
import sys

import pytest

import symbackprop as sb


def test_derive_and_check_from_the_top_level():
    net = sb.Network.parse("2,3,1", "relu,sigmoid", "cross_entropy")
    d = sb.derive(net)
    assert isinstance(d, sb.Derivation)
    assert str(d.output_error) == "a - y"
    assert sb.check(net, batch=1).agree


def test_importing_a_module_never_shadows_a_function():
    import symbackprop.derivation  # noqa: F401  (a module of a similar name)
    import symbackprop.gradcheck  # noqa: F401

    assert callable(sb.derive) and callable(sb.check)


def test_user_errors_raise_the_one_error_type():
    with pytest.raises(sb.SymbackpropError):
        sb.Network.parse("1,x")


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        sb.no_such_thing  # noqa: B018


def test_help_does_not_import_sympy():
    """SymPy takes ~0.4 s to import: `symbackprop --help` must not pay for it."""
    code = ("import sys, symbackprop.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().endswith("False")


def test_registries_are_exported():
    assert "softplus" in sb.ACTIVATIONS and "cross_entropy" in sb.COSTS
