"""Network validation: every invalid network is one clear line and exit 2."""

import pytest

from symbackprop.errors import SymbackpropError
from symbackprop.spec import Network

from conftest import run_cli

BAD_NETWORKS = {
    "empty sizes": (["--sizes", ""], "empty"),
    "one layer": (["--sizes", "3"], "at least 2"),
    "zero width": (["--sizes", "2,0,1"], "layer 1 has 0 neurons"),
    "negative width": (["--sizes", "2,-1"], "layer 1 has -1 neurons"),
    "not a number": (["--sizes", "2,a,1"], "'a' is not a whole number"),
    "fraction": (["--sizes", "1.5,2"], "'1.5' is not a whole number"),
    "double comma": (["--sizes", "2,,1"], "empty entry"),
    "absurd width": (["--sizes", "99999999999,1"], "the limit is 65536"),
    "absurd depth": (["--sizes", ",".join(["1"] * 600)], "the limit is 512"),
    "too many parameters": (["--sizes", "60000,60000,60000"], "parameters; the limit"),
    "activation count": (["--sizes", "2,2,2", "--activation", "relu,relu,relu"],
                         "--activation lists 3 names but sizes 2,2,2 has 2 weight layers"),
    "unknown activation": (["--activation", "sigmod"], "did you mean 'sigmoid'"),
    "empty activation name": (["--sizes", "1,1,1", "--activation", "relu,"], "empty activation name"),
    "unknown cost": (["--cost", "hinge"], "unknown cost 'hinge'"),
    "cross-entropy on relu output": (["--activation", "relu", "--cost", "cross_entropy"],
                                     "use sigmoid on the last layer"),
    "negative first width": (["--sizes", "-1,2"], "layer 0 has -1 neurons"),
    "arabic-indic digits": (["--sizes", "٣,٤"], "'٣' is not a whole number of neurons written with the digits 0-9"),
    "fullwidth digits": (["--sizes", "２,３"], "written with the digits 0-9"),
    "thousands of digits": (["--sizes", "9" * 5000 + ",1"], "5000-digit number of neurons; the limit is 65536"),
    "control character": (["--activation", "sig\x07moid"], "unknown activation 'sigU+0007moid'"),
    "sizes without value": (["--sizes", "--cost", "quadratic"], "--sizes needs a value"),
}


@pytest.mark.parametrize("args,message", BAD_NETWORKS.values(), ids=BAD_NETWORKS.keys())
def test_bad_network_is_one_line_and_exit_2(args, message):
    result = run_cli("derive", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args,message", list(BAD_NETWORKS.values())[:6], ids=list(BAD_NETWORKS)[:6])
def test_check_rejects_bad_networks_too(args, message):
    result = run_cli("check", *args)
    assert result.returncode == 2 and message in result.stderr


def test_defaults_are_the_lectures_network():
    net = Network.parse()
    assert net.sizes == (1, 1, 1, 1)
    assert net.activations == ("sigmoid",) * 3
    assert net.cost == "quadratic"
    assert net.depth == 3 and net.one_neuron_per_layer


def test_parse_accepts_spaces_case_and_aliases():
    net = Network.parse(" 784, 256 ,10", "ReLU, logistic", "CE")
    assert net.sizes == (784, 256, 10)
    assert net.activations == ("relu", "sigmoid")
    assert net.cost == "cross_entropy"
    assert net.num_parameters == 784 * 256 + 256 + 256 * 10 + 10


def test_one_activation_name_applies_to_every_layer():
    assert Network.parse("2,3,4,1", "tanh").activations == ("tanh",) * 3


def test_errors_are_value_errors_with_the_message():
    with pytest.raises(SymbackpropError, match="layer 2 has 0 neurons") as info:
        Network.parse("1,1,0")
    assert isinstance(info.value, ValueError)
