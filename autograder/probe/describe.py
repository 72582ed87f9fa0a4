"""Objects a check looks into, as plain data: a torchvision transform, a matplotlib Axes.

The worker describes; the grading process decides from the description, and from values it
computes itself (the regions of a contour plot must agree with the model's own predictions).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _floats(values: Any) -> list[float]:
    import torch

    return [float(v) for v in torch.as_tensor(values, dtype=torch.float64).flatten().tolist()]


def describe_transform(transform: Any) -> dict:
    """``{"class": "Normalize", "module": ..., "args": {...}, "children": [...]}`` for a transform,
    a ``Compose`` or an ``nn.Sequential`` of transforms."""
    from torch import nn
    from torchvision import transforms

    kind = type(transform)
    spec: dict[str, Any] = {"class": kind.__qualname__, "module": kind.__module__, "args": {}, "children": []}
    inner = getattr(transform, "transforms", None)
    if inner is None and isinstance(transform, nn.Sequential):
        inner = list(transform.children())
    if isinstance(inner, (list, tuple)):
        spec["children"] = [describe_transform(t) for t in inner]
    if isinstance(transform, transforms.Normalize):
        spec["args"] = {"mean": _floats(transform.mean), "std": _floats(transform.std)}
    elif isinstance(transform, transforms.RandomCrop):
        padding = transform.padding
        spec["args"] = {"size": [int(n) for n in transform.size],
                        "padding": padding if isinstance(padding, (int, type(None))) else [int(n) for n in padding]}
    elif isinstance(transform, transforms.RandomHorizontalFlip):
        spec["args"] = {"p": float(transform.p)}
    return spec


def describe_axes(ax: Any) -> dict:
    """What is drawn on a matplotlib ``Axes``: its collections (filled contours with their levels
    and region outlines, scatter points with their positions), limits and aspect."""
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.contour import ContourSet

    if not isinstance(ax, Axes):
        raise TypeError(f"{type(ax).__qualname__} is not a matplotlib Axes")
    collections = []
    for index, collection in enumerate(ax.collections):
        entry: dict[str, Any] = {"index": index, "zorder": float(collection.get_zorder()),
                                 "alpha": None if collection.get_alpha() is None else float(collection.get_alpha())}
        if isinstance(collection, ContourSet):
            entry.update(kind="contour", filled=bool(collection.filled),
                         levels=[float(v) for v in collection.levels],
                         paths=[[np.asarray(p.vertices, dtype=np.float64),
                                 np.asarray(p.codes if p.codes is not None else [], dtype=np.uint8)]
                                for p in collection.get_paths()])
        elif isinstance(collection, PathCollection):
            offsets = np.ma.getdata(collection.get_offsets())
            entry.update(kind="scatter", offsets=np.asarray(offsets, dtype=np.float64).reshape(-1, 2))
        else:
            entry.update(kind=type(collection).__qualname__)
        collections.append(entry)
    aspect = ax.get_aspect()
    return {"collections": collections, "xlim": [float(v) for v in ax.get_xlim()],
            "ylim": [float(v) for v in ax.get_ylim()], "aspect": aspect if isinstance(aspect, str) else float(aspect)}


def describe_gradients(module: Any) -> dict:
    """``{name: grad or None}`` for every trainable parameter of an ``nn.Module``, in order."""
    from torch import nn

    if not isinstance(module, nn.Module):
        raise TypeError(f"{type(module).__qualname__} is not an nn.Module")
    return {name: None if p.grad is None else p.grad.detach().clone()
            for name, p in module.named_parameters() if p.requires_grad}


DESCRIBERS: dict[str, Callable[[Any], Any]] = {"transform": describe_transform, "axes": describe_axes,
                                               "gradients": describe_gradients}
"""``describe`` request kind -> describer (models have their own, :func:`.modules.describe`)."""
