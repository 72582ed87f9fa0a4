"""Week 1, exercise 2: classifying a spiral.

The lab's experiment: three spiral arms in the plane, one class each. A model
made of two ``Linear`` layers cannot separate them; put a ``ReLU`` between the
layers and it can. Keep the names and signatures: the autograder imports them.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn


def make_spiral(n_per_class: int = 1000, n_classes: int = 3, seed: int = 12345) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's spiral data set, without the lab's loop over points.

    Class ``c`` (of ``C = n_classes``) has ``N = n_per_class`` points. For each
    class, in class order:

        t     = linspace(0, 1, N)                                          # radius
        theta = linspace(2*pi/C * c, 2*pi/C * (2 + c), N) + randn(N) * 0.2  # angle, with noise
        point = t * (sin(theta), cos(theta))

    The function first calls ``torch.manual_seed(seed)``, as the lab does, then
    draws the noise with one ``torch.randn(N)`` call per class. With the defaults
    it gives exactly the lab's 3000 points, and a model built right after it
    starts from the same weights as in the lab.

    Returns:
        X: (N * C, 2) float32, the points of class 0 first, then class 1, ...
        Y: (N * C,) int64, the class of each point.
    """
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    t = torch.linspace(0, 1, n_per_class)  # (N,)
    # One linspace and one randn(N) per class, in class order: the lab's random draws.
    theta = torch.stack([
        torch.linspace(2 * math.pi / n_classes * c, 2 * math.pi / n_classes * (2 + c), n_per_class)
        + torch.randn(n_per_class) * 0.2
        for c in range(n_classes)
    ])  # (C, N)
    # sin and cos in float64, rounded to float32 once: what the lab's math.sin / math.cos give.
    theta64 = theta.double()
    direction = torch.stack((theta64.sin(), theta64.cos()), dim=-1).float()  # (C, N, 2)
    X = (t[None, :, None] * direction).reshape(n_classes * n_per_class, 2)  # (C * N, 2)
    Y = torch.arange(n_classes).repeat_interleave(n_per_class)  # (C * N,)
    ### END SOLUTION
    return X, Y


def linear_model(d: int = 2, h: int = 100, c: int = 3) -> nn.Sequential:
    """The lab's linear model: ``Linear(d, h)`` then ``Linear(h, c)``, no activation in between."""
    ### BEGIN SOLUTION
    model = nn.Sequential(nn.Linear(d, h), nn.Linear(h, c))
    ### END SOLUTION
    return model


def relu_model(d: int = 2, h: int = 100, c: int = 3) -> nn.Sequential:
    """The lab's non-linear model: ``Linear(d, h)``, ``ReLU``, ``Linear(h, c)``."""
    ### BEGIN SOLUTION
    model = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, c))
    ### END SOLUTION
    return model


def train(
    model: nn.Module,
    X: torch.Tensor,
    Y: torch.Tensor,
    optimizer: str = "adam",
    steps: int = 1000,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
) -> list[float]:
    """Train ``model`` full-batch on ``(X, Y)`` with ``nn.CrossEntropyLoss``.

    Each of the ``steps`` steps computes the loss on all of ``X``, then updates
    the parameters once with ``torch.optim.SGD`` (``optimizer="sgd"``) or
    ``torch.optim.Adam`` (``optimizer="adam"``), given ``lr`` and
    ``weight_decay``. ``X`` and ``Y`` are on the model's device.

    Returns:
        The ``steps`` losses as Python floats, each taken before its update
        (so the first is the loss of the untrained model).
    """
    ### BEGIN SOLUTION
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    if optimizer not in optimizers:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    opt = optimizers[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        loss = criterion(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    ### END SOLUTION
    return losses


def accuracy(model: nn.Module, X: torch.Tensor, Y: torch.Tensor) -> float:
    """The fraction of points whose predicted class (the argmax of the model's output) is ``Y``.

    Returns:
        A Python float in [0, 1].
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        predicted = model(X).argmax(dim=1)
    result = (predicted == Y).float().mean().item()
    ### END SOLUTION
    return result


def plot_decision_boundary(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, ax=None):
    """Draw the model's decision regions under the data, as the lab's plots do.

    The regions: the model's predicted class (argmax) on a grid of step 0.01
    over [-1.1, 1.1]^2, drawn with ``contourf`` at alpha 0.3. Over them, the
    points of ``X`` coloured by ``Y``. Square axes at -1.1 .. 1.1, with the
    x and y axis lines. The grid goes to the model's device: the model itself
    stays where it is (the lab's helper moved it to the CPU).

    Args:
        model: maps (M, 2) points to (M, classes) scores; on any device.
        X: (N, 2) points; Y: (N,) classes (on any device).
        ax: the matplotlib Axes to draw on; a new figure's when None.

    Returns:
        The Axes drawn on.
    """
    ### BEGIN SOLUTION
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else X.device
    dtype = parameter.dtype if parameter is not None else torch.float32
    ticks = np.arange(-1.1, 1.1, 0.01)
    xx, yy = np.meshgrid(ticks, ticks)  # (G, G) each
    grid = torch.from_numpy(np.stack((xx.ravel(), yy.ravel()), axis=1)).to(device=device, dtype=dtype)  # (G*G, 2)
    with torch.no_grad():
        regions = model(grid).argmax(dim=1).cpu().numpy().reshape(xx.shape)  # (G, G)
    points, classes = X.detach().cpu().numpy(), Y.detach().cpu().numpy()
    n_classes = int(max(classes.max(initial=0), regions.max(initial=0))) + 1
    levels = np.arange(n_classes + 1) - 0.5  # one filled band per class
    ax.contourf(xx, yy, regions, levels=levels, cmap=plt.cm.Spectral, alpha=0.3, zorder=1)
    ax.scatter(points[:, 0], points[:, 1], c=classes, s=20, cmap=plt.cm.Spectral,
               vmin=0, vmax=n_classes - 1, zorder=2)
    ax.axvline(0, color=".15", lw=1, zorder=0)
    ax.axhline(0, color=".15", lw=1, zorder=0)
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    ax.set_aspect("equal")
    ### END SOLUTION
    return ax
