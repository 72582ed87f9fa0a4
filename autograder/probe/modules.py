"""``torch.nn`` modules as plain data, and back: how a model crosses between the two processes.

A *spec* describes a module tree: for each module its class and, for the layers listed in
:data:`LAYERS` (``torch.nn``'s own), the constructor arguments that rebuild it exactly; for any
other class (a student's ``FC2Layer``) only its children, its parameters' and buffers' shapes, and
``builtin: false``. Together with a ``state_dict`` a spec of built-in layers rebuilds the very
module (:func:`build`); a spec with other classes rebuilds a *skeleton*, a module with the same
named parameters and buffers and no ``forward`` (enough for what only looks at parameters).

Spec: ``{"class": str, "builtin": bool, "args": {...}, "children": [[name, spec], ...],
"parameters": [[name, shape, requires_grad], ...], "buffers": [[name, shape], ...],
"training": bool}`` (``parameters`` and ``buffers`` are the module's own, not its children's).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from autograder.i18n import _, render

LAYERS: dict[str, tuple[str, ...]] = {
    "Linear": ("in_features", "out_features", "bias"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
               "padding_mode"),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "ReLU": ("inplace",),
    "LeakyReLU": ("negative_slope", "inplace"),
    "Sigmoid": (),
    "Tanh": (),
    "Identity": (),
    "Flatten": ("start_dim", "end_dim"),
    "Dropout": ("p", "inplace"),
    "LogSoftmax": ("dim",),
    "Softmax": ("dim",),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AdaptiveAvgPool2d": ("output_size",),
    "Sequential": (),
}
"""``torch.nn`` classes rebuilt from their arguments, and the attributes that hold those arguments."""


def _class_name(module: nn.Module) -> str:
    kind = type(module)
    return f"{kind.__module__}.{kind.__qualname__}"


def is_layer(module: nn.Module) -> bool:
    """``module`` is exactly one of :data:`LAYERS` (not a subclass)."""
    kind = type(module)
    return kind.__name__ in LAYERS and getattr(nn, kind.__name__, None) is kind


def _argument(module: nn.Module, name: str) -> Any:
    value = getattr(module, name)
    if name == "bias":  # the attribute holds the tensor; the constructor takes a flag
        return value is not None
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def describe(module: nn.Module) -> dict:
    """The spec of ``module`` (see the module docstring)."""
    builtin = is_layer(module)
    spec = {"class": _class_name(module), "builtin": builtin,
            "args": {name: _argument(module, name) for name in LAYERS[type(module).__name__]} if builtin else {},
            "children": [[name, describe(child)] for name, child in module.named_children()],
            "parameters": [[name, list(p.shape), bool(p.requires_grad)]
                           for name, p in module.named_parameters(recurse=False)],
            "buffers": [[name, list(b.shape)] for name, b in module.named_buffers(recurse=False)],
            "training": bool(module.training)}
    return spec


class NotRebuildable(ValueError):
    """A spec holds a class that is not one of :data:`LAYERS`: ``path`` says where."""

    def __init__(self, path: str, class_name: str):
        super().__init__(path, class_name)  # the constructor's own arguments: a pickled copy is rebuilt from them
        self.path = path
        self.class_name = class_name
        kind = class_name.rsplit(".", 1)[-1]
        self.message = _("{path} is a {type}", path=path, type=kind) if path else _("the model is a {type}", type=kind)

    def __str__(self) -> str:
        return render(self.message)


def _tuple_args(args: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}


MAX_ELEMENTS = 500_000_000
"""Parameters and buffers a rebuilt module may hold in all (VGG holds 9.2 million)."""


def _elements(spec: dict) -> int:
    own = sum(_product(shape) for _, shape, *_ in [*spec["parameters"], *spec["buffers"]])
    return own + sum(_elements(child) for _, child in spec["children"])


def _product(shape) -> int:
    count = 1
    for n in shape:
        count *= int(n)
    return count


def layer_class(spec: dict) -> type[nn.Module] | None:
    """The ``torch.nn`` class a spec names, if it is one of :data:`LAYERS` exactly."""
    name = spec["class"].rsplit(".", 1)[-1]
    kind = getattr(nn, name, None) if name in LAYERS else None
    if spec.get("builtin") is True and kind is not None and spec["class"] == f"{kind.__module__}.{kind.__qualname__}":
        return kind
    return None


def build(spec: dict, state: dict[str, torch.Tensor] | None = None, skeleton: bool = False,
          path: str = "") -> nn.Module:
    """The module ``spec`` describes, with ``state`` loaded (strictly) when given.

    Classes outside :data:`LAYERS` raise :class:`NotRebuildable`, or with ``skeleton`` become an
    empty ``nn.Module`` holding the same parameters and buffers. A spec may come from the worker, so
    only the arguments :data:`LAYERS` lists are used, and no more than :data:`MAX_ELEMENTS` values.
    """
    if not path and _elements(spec) > MAX_ELEMENTS:
        raise ValueError(_("the model holds more than {n} parameter values", n=format(MAX_ELEMENTS, ",")))
    kind = layer_class(spec)
    if kind is nn.Sequential:
        module: nn.Module = nn.Sequential()
        for child_name, child in spec["children"]:
            module.add_module(child_name, build(child, None, skeleton, f"{path}.{child_name}" if path else child_name))
    elif kind is not None:
        args = {name: spec["args"][name] for name in LAYERS[kind.__name__] if name in spec["args"]}
        module = kind(**_tuple_args(args))
    elif skeleton:
        module = nn.Module()
        for child_name, child in spec["children"]:
            module.add_module(child_name, build(child, None, skeleton, f"{path}.{child_name}" if path else child_name))
        for param_name, shape, requires_grad in spec["parameters"]:
            module.register_parameter(param_name, nn.Parameter(torch.zeros(shape), requires_grad=requires_grad))
        for buffer_name, shape in spec["buffers"]:
            module.register_buffer(buffer_name, torch.zeros(shape))
    else:
        raise NotRebuildable(path, spec["class"])
    module.train(bool(spec.get("training", True)))
    if state is not None:
        floating = {value.dtype for value in state.values() if value.is_floating_point()}
        if len(floating) == 1:  # a float64 copy stays float64
            module.to(floating.pop())
        module.load_state_dict(state)
    return module


def parameter_shapes(spec: dict, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """``named_parameters()``'s names and shapes, from a spec."""
    shapes = {f"{prefix}{name}": tuple(shape) for name, shape, _ in spec["parameters"]}
    for child_name, child in spec["children"]:
        shapes.update(parameter_shapes(child, f"{prefix}{child_name}."))
    return shapes


def modules(spec: dict, prefix: str = "") -> list[tuple[str, dict]]:
    """``named_modules()`` of a spec: (dotted name, spec), the root first."""
    found = [(prefix.rstrip("."), spec)]
    for child_name, child in spec["children"]:
        found += modules(child, f"{prefix}{child_name}.")
    return found


def short_class(spec: dict) -> str:
    """``Linear``, ``FC2Layer``: the class name without its module."""
    return spec["class"].rsplit(".", 1)[-1]
