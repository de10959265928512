"""oclinit.torch.init_module on a small torch model: PyTorch's default schemes by module, rules like a spec's, the same
numbers `oclinit model --spec` writes for the same names, tied parameters made once, and refusals."""

import json
import math
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import oclinit
import oclinit.torch

CLI = os.environ.get("OCLINIT_CLI") or shutil.which("oclinit")


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(50, 16, padding_idx=1)
        self.conv = torch.nn.Conv1d(16, 8, 3)
        self.norm = torch.nn.LayerNorm(8)
        self.head = torch.nn.Linear(8, 5)


def test_defaults_are_pytorch_reset_parameters():
    model = oclinit.torch.init_module(Small(), seed=3, device="cpu")
    state = model.state_dict()
    weight = oclinit.init((5, 8), "pytorch-default-linear", seed=3, name="head.weight", device="cpu")
    assert np.array_equal(state["head.weight"].numpy(), weight)
    bias = oclinit.init((5,), "pytorch-default-linear", seed=3, name="head.bias", fan_in=8, device="cpu")
    assert np.array_equal(state["head.bias"].numpy(), bias)
    assert state["conv.weight"].abs().max() <= 1 / math.sqrt(16 * 3)
    assert state["conv.bias"].abs().max() <= 1 / math.sqrt(16 * 3) and state["conv.bias"].abs().max() > 0
    embedding = state["embed.weight"]
    assert (embedding[1] == 0).all() and abs(float(embedding[2:].std()) - 1) < 0.1
    assert (state["norm.weight"] == 1).all() and (state["norm.bias"] == 0).all()


def test_the_same_numbers_as_oclinit_model(tmp_path):
    """Each parameter equals the tensor `oclinit model --spec` writes for its name, scheme and seed."""
    rules = [("*.bias", "zeros", {}), ("norm.weight", "ones", {}), ("embed.*", "normal", {"std": 0.02}),
             ("*", "xavier-uniform", {"gain": 1.5})]
    model = oclinit.torch.init_module(Small(), seed=11, rules=rules)
    spec = {"seed": 11, "dtype": "f32",
            "rules": [{"match": "*.bias", "scheme": "zeros"}, {"match": "norm.weight", "scheme": "ones"},
                      {"match": "embed.*", "scheme": "normal", "std": 0.02},
                      {"match": "*", "scheme": "xavier-uniform", "gain": 1.5}],
            "tensors": [{"name": name, "shape": list(p.shape)} for name, p in model.state_dict().items()]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    subprocess.run([CLI, "model", "--spec", str(tmp_path / "spec.json"), "--output", str(tmp_path / "out"), "--quiet"],
                   check=True)
    written = load_file(str(tmp_path / "out" / "model.safetensors"))
    for name, parameter in model.state_dict().items():
        assert torch.equal(written[name], parameter), name


def test_tied_parameters_are_made_once():
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 10, bias=False))
    model[1].weight = model[0].weight
    oclinit.torch.init_module(model, seed=1, device="cpu")
    assert np.array_equal(model[0].weight.detach().numpy(),
                          oclinit.init((10, 4), "normal", seed=1, name="0.weight", device="cpu"))


def test_a_module_without_a_default_needs_a_rule():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.PReLU())
    with pytest.raises(ValueError, match=r"1\.weight \(PReLU\.weight\): no default scheme"):
        oclinit.torch.init_module(model, seed=1)
    oclinit.torch.init_module(model, seed=1, rules=[("1.weight", "constant", {"value": 0.25})])
    assert (model[1].weight == 0.25).all()
    with pytest.raises(ValueError, match="does not apply"):
        oclinit.torch.init_module(model, seed=1, rules=[("*", "normal", {"gain": 2})])


def test_rules_are_checked_and_unmatched_ones_warned_about():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4))
    for rules in ("x", "*.weight", [("*.weight",)], [("*.weight", "zeros")], [("*.weight", "zeros", None)]):
        with pytest.raises(TypeError, match="glob, scheme, options"):
            oclinit.torch.init_module(model, seed=1, rules=rules)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        oclinit.torch.init_module(None, seed=1)
    with pytest.warns(UserWarning, match=r"rule 'weight\.\*' matches no parameter .* such as '0\.weight'"):
        oclinit.torch.init_module(model, seed=1, device="cpu", rules=[("weight.*", "zeros", {}), ("*", "ones", {})])
    assert (model[0].weight == 1).all()
