"""oclinit for a whole torch model: every parameter by its state_dict name, with the numbers `oclinit model` writes for
that name (the stream is the name's, oclinit_tensor_stream), by rules like a spec's or PyTorch's own defaults.

    >>> import oclinit.torch
    >>> oclinit.torch.init_module(model, seed=7)                                    # what PyTorch starts from
    >>> oclinit.torch.init_module(model, seed=7, rules=[("*.bias", "zeros", {}),
    ...                                                 ("*", "kaiming-normal", {"nonlinearity": "relu"})])
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import torch

from . import _library, init_

Rule = Tuple[str, str, Dict[str, Any]]

_CONVOLUTIONS = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d,
                 torch.nn.ConvTranspose3d)
_NORMS = (torch.nn.LayerNorm, torch.nn.GroupNorm, torch.nn.modules.batchnorm._NormBase)


def _default(module: torch.nn.Module, parameter: str, name: str) -> Tuple[str, Dict[str, Any]]:
    """What the module's reset_parameters draws for this parameter, as an oclinit scheme."""
    if isinstance(module, torch.nn.Linear) or isinstance(module, _CONVOLUTIONS):
        scheme = "pytorch-default-linear" if isinstance(module, torch.nn.Linear) else "pytorch-default-conv"
        if parameter == "weight":
            return scheme, {}
        if parameter == "bias":  # uniform(-1/sqrt(fan_in), ...) with the weight's fan_in
            weight = module.weight
            return scheme, {"fan_in": int(weight.shape[1]) * int(weight[0, 0].numel())}
    if isinstance(module, torch.nn.Embedding) and parameter == "weight":
        return "normal", {}
    if isinstance(module, _NORMS) and parameter in ("weight", "bias"):
        return ("ones" if parameter == "weight" else "zeros"), {}
    raise _library.invalid(f"oclinit.torch.init_module: {name} ({type(module).__name__}.{parameter}): no default "
                           "scheme for this module; give a rule that matches it")


def _rules(rules: Optional[Sequence[Rule]]) -> List[Rule]:
    """rules checked for their form: a typo there would otherwise leave PyTorch's own init in place unnoticed."""
    if rules is None:
        return []
    if isinstance(rules, (str, bytes, Mapping)):
        raise TypeError(f"oclinit.torch.init_module: rules must be a list of (glob, scheme, options), got {rules!r}")
    checked = []
    for i, rule in enumerate(rules):
        if not (isinstance(rule, (tuple, list)) and len(rule) == 3 and isinstance(rule[0], str)
                and isinstance(rule[1], str) and isinstance(rule[2], Mapping)):
            raise TypeError(f"oclinit.torch.init_module: rules[{i}] must be (glob, scheme, options), e.g. "
                            f"(\"*.bias\", \"zeros\", {{}}), got {rule!r}")
        checked.append((rule[0], rule[1], dict(rule[2])))
    return checked


def init_module(module: torch.nn.Module, *, seed: int = 0, rules: Optional[Sequence[Rule]] = None,
                device: Optional[str] = None) -> torch.nn.Module:
    """Initializes every parameter of module in place and returns it.

    Each parameter is named as in module.state_dict() (a parameter shared by several modules, such as tied
    embeddings, is made once, under its first name) and its stream is its name's, so it holds the numbers that
    `oclinit model` writes for a tensor of that name, shape and scheme with the same seed, on any device.

    rules: (glob, scheme, options) in order, as a spec's rules: the first glob (fnmatch) that matches the name
        chooses the scheme and its options (the keywords of oclinit.init). Without a match: what PyTorch's
        reset_parameters draws (Linear and ConvNd: pytorch-default-linear/-conv for weight and bias; Embedding:
        normal(0, 1) with its padding row zeroed; LayerNorm, GroupNorm, BatchNorm: ones and zeros); another
        module's parameter without a rule is refused (ValueError). A rule not of that form is refused (TypeError),
        and one that matches no parameter draws a warning.
    device: where the numbers are made (None: as the CLI chooses; "cpu": the host C path); parameters must be
        contiguous float32 CPU tensors.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"oclinit.torch.init_module: a torch.nn.Module is needed, got {type(module).__name__}")
    checked = _rules(rules)
    used = [False] * len(checked)
    seen = set()
    example = None  # a parameter's name, for the warning below
    with torch.no_grad():
        for module_name, child in module.named_modules():
            for parameter, tensor in child.named_parameters(recurse=False):
                if id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                name = f"{module_name}.{parameter}" if module_name else parameter
                example = example or name
                index = next((i for i, r in enumerate(checked) if fnmatch.fnmatchcase(name, r[0])), None)
                if index is not None:
                    used[index] = True
                scheme, options = checked[index][1:] if index is not None else _default(child, parameter, name)
                init_(tensor, scheme, seed=seed, name=name, device=device, **options)
                if index is None and isinstance(child, torch.nn.Embedding) and child.padding_idx is not None:
                    tensor[child.padding_idx].zero_()
    for (glob, _, _), hit in zip(checked, used):
        if not hit:  # as `oclinit model` warns of a spec's rule that matches no tensor
            warnings.warn(f"oclinit.torch.init_module: rule {glob!r} matches no parameter (names are "
                          f"state_dict's, such as {example!r})", stacklevel=2)
    return module


__all__: Iterable[str] = ["init_module"]
