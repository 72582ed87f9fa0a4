"""Checks for week1/spiral.py.

The data, training and accuracy the model checks use are the reference's (through the ``oracle``:
live in the kit, recorded in a student's handout), so each check scores one function: a bug in
``make_spiral`` or ``train`` does not also cost the points of ``relu_model``.

The student's functions run in the worker; what they return is judged here. A model the student
builds is rebuilt here from its ``torch.nn`` layers and weights (``autograder.models.local_copy``)
and trained by the kit; a model the kit hands to the student's ``train`` comes back as weights,
compared with the kit's own training of the same start.
"""

import copy
import math

import matplotlib

matplotlib.use("Agg")  # the kit draws off-screen

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.path import Path  # noqa: E402
from torch import nn  # noqa: E402

from autograder.expect import (  # noqa: E402
    expect_at_least, expect_dtype, expect_equal, expect_shape, expect_tensor_like, expect_type,
    expect_written, fail,
)
from autograder.i18n import _, n_  # noqa: E402
from autograder.models import local_copy, spec_of, state_of  # noqa: E402
from autograder.probe import modules  # noqa: E402
from autograder.probe.client import StudentRaised, remote_type_name  # noqa: E402

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}
"""The ``optimizer`` names ``train`` takes, and the torch.optim classes they stand for."""
SPIRAL_HINT = _("call torch.manual_seed(seed) first, then for each class in order draw one "
                "torch.randn(n_per_class) for its angles, as the docstring's formula does.")
NONLINEARITY_HINT = _("with no activation between them, two Linear layers compose into one linear map, "
                      "whose decision regions are separated by straight lines.")


def course_data(oracle, key: str = "course_data") -> tuple[torch.Tensor, torch.Tensor]:
    """The course's spiral (X float32 (3000, 2), Y int64 (3000,)), from the reference."""
    return oracle.expect(key, "spiral.course_data")


def small_data(oracle) -> tuple[torch.Tensor, torch.Tensor]:
    """Every tenth point of the course's data: 300 points, 100 per class."""
    X, Y = course_data(oracle)
    return X[::10].clone(), Y[::10].clone()


def small_model(oracle, key: str = "start") -> nn.Sequential:
    """Linear(2, 16) -> ReLU -> Linear(16, 3) with initial weights drawn by the check (and recorded)."""
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    model.load_state_dict(oracle.draw(key, model.state_dict))
    return model


def _layer(spec: dict) -> str:
    if modules.short_class(spec) == "Linear":
        return f"Linear({spec['args'].get('in_features')}, {spec['args'].get('out_features')})"
    return modules.short_class(spec)


def _expect_layers(model, expected: str, what: str, hint=None) -> None:
    sequential_hint = _("build it with nn.Sequential(...), layers in order.")
    spec = spec_of(model, what, hint=sequential_hint)
    if modules.layer_class(spec) is not nn.Sequential:
        fail(_("{what} gave a {type}, expected an nn.Sequential", what=what, type=modules.short_class(spec)),
             hint=sequential_hint)
    got = " -> ".join(_layer(child) for _name, child in spec["children"])
    if got != expected:
        fail(_("{what} has layers {got}, expected {expected}", what=what, got=got or _("no layers"),
               expected=expected), hint)
    local_copy(model, what, probe=torch.randn(5, spec["children"][0][1]["args"]["in_features"]))  # claim vs values


# --- make_spiral -----------------------------------------------------------------------------

def test_make_spiral_shapes(student, oracle):
    n, c = oracle.draw("sizes", lambda: (int(torch.randint(5, 20, ()).item()), int(torch.randint(2, 6, ()).item())))
    call = f"make_spiral(n_per_class={n}, n_classes={c}, seed=0)"
    result = student.make_spiral(n_per_class=n, n_classes=c, seed=0)
    expect_type(result, tuple, call, hint=_("return the pair (X, Y)."))
    expect_equal(len(result), 2, f"len({call})")
    X, Y = result
    _expected_X, expected_Y = oracle.expect("points", "spiral.lab_spiral", n, c, seed=0)
    expect_type(X, torch.Tensor, f"{call}[0]")
    expect_dtype(X, torch.float32, f"{call}[0]")
    expect_shape(X, (n * c, 2), f"{call}[0]", hint=_("one row (x, y) per point, every class's points in turn."))
    expect_tensor_like(Y, expected_Y, f"{call}[1]",
                       hint=_("the labels are int64 (torch.long), class 0's points first, then class 1's, ..."))


def test_make_spiral_course_points(student, oracle):
    X, Y = student.make_spiral()
    expected_X, expected_Y = course_data(oracle)
    expect_tensor_like(Y, expected_Y, "make_spiral()[1]")
    # Float rounding aside (atol 1e-6 is a few float32 steps), the points must be the lab's;
    # drawing the random numbers in another order moves them by about 0.2 * t.
    expect_tensor_like(X, expected_X, _("{call}, the course's points,", call="make_spiral()[0]"), atol=1e-6, rtol=0,
                       hint=SPIRAL_HINT)


def test_make_spiral_other_seed(student, oracle):
    call = "make_spiral(n_per_class=50, n_classes=4, seed=7)"
    X, Y = student.make_spiral(n_per_class=50, n_classes=4, seed=7)
    expected_X, expected_Y = oracle.expect("points", "spiral.lab_spiral", 50, 4, seed=7)
    expect_tensor_like(Y, expected_Y, f"{call}[1]")
    expect_tensor_like(X, expected_X, f"{call}[0]", atol=1e-6, rtol=0,
                       hint=_("use n_per_class, n_classes and seed rather than the defaults; {hint}",
                              hint=SPIRAL_HINT))


# --- models ----------------------------------------------------------------------------------

def test_linear_model_structure(student):
    _expect_layers(student.linear_model(), "Linear(2, 100) -> Linear(100, 3)", "linear_model()")
    _expect_layers(student.linear_model(d=3, h=7, c=4), "Linear(3, 7) -> Linear(7, 4)",
                   "linear_model(d=3, h=7, c=4)", hint=_("use d, h and c for the layer sizes."))


def test_relu_model_structure(student):
    _expect_layers(student.relu_model(), "Linear(2, 100) -> ReLU -> Linear(100, 3)", "relu_model()",
                   hint=NONLINEARITY_HINT)
    _expect_layers(student.relu_model(d=3, h=7, c=4), "Linear(3, 7) -> ReLU -> Linear(7, 4)",
                   "relu_model(d=3, h=7, c=4)", hint=_("use d, h and c for the layer sizes."))


# --- train and accuracy ----------------------------------------------------------------------

def _trained_copy(start: nn.Module, remote) -> nn.Module:
    """``start`` with the weights the student's ``train`` left in the worker's copy of it."""
    model = copy.deepcopy(start)
    model.load_state_dict(state_of(remote))
    return model


def test_train_returns_losses(student, worker, oracle):
    expect_written(student, "train")
    X, Y = small_data(oracle)
    model = small_model(oracle)
    with torch.no_grad():
        initial = F.cross_entropy(model(X), Y).item()
    call = "train(model, X, Y, optimizer='adam', steps=30, lr=0.01)"
    remote = worker.build(model)
    losses = student.train(remote, X, Y, optimizer="adam", steps=30, lr=0.01)
    expect_type(losses, list, call, hint=_("collect the losses in a list and return it."))
    expect_equal(len(losses), 30, f"len({call})", hint=_("one loss per step."))
    kinds = sorted({type(loss).__name__ for loss in losses if type(loss) is not float})
    if kinds:
        fail(_("{call} gave a list holding {types}, expected Python floats", call=call, types=", ".join(kinds)),
             hint=_("loss.item() turns a one-element tensor into a float (and lets its graph be freed)."))
    if not math.isclose(losses[0], initial, rel_tol=1e-4, abs_tol=1e-6):
        first = f"{call}[0]"
        fail(_("{what} was {got:.6f}, expected the untrained model's loss {expected:.6f}", what=first,
               got=float(losses[0]), expected=initial),
             hint=_("record each loss before optimizer.step() updates the parameters."))
    with torch.no_grad():  # measured here, on the weights train left: not the losses it reported
        final = F.cross_entropy(_trained_copy(model, remote)(X), Y).item()
    if not (losses[-1] < losses[0] and final < initial):
        fail(_("{call} went from loss {initial:.4f} to {final:.4f} (it reported {first:.4f} to {last:.4f}), "
               "expected it to decrease", call=call, initial=initial, final=final, first=float(losses[0]),
               last=float(losses[-1])),
             hint=_("each step: compute the loss, zero the gradients, loss.backward(), optimizer.step(); "
                    "the optimizer must be given model.parameters()."))


def _largest_difference(model: nn.Module, expected: nn.Module) -> tuple[str, float] | None:
    """(name, largest absolute difference) of the first parameter that differs, or None."""
    for (name, p), q in zip(model.named_parameters(), expected.parameters()):
        if not torch.allclose(p.detach(), q.detach(), atol=1e-5, rtol=1e-4):
            return name, (p.detach() - q.detach()).abs().max().item()
    return None


def test_train_follows_optimizer(student, worker, oracle):
    expect_written(student, "train")
    X, Y = small_data(oracle)
    settings = {"sgd": dict(lr=0.5, weight_decay=0.01), "adam": dict(lr=0.01, weight_decay=0.01)}
    for optimizer, kwargs in settings.items():
        name = OPTIMIZERS[optimizer]
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        start = small_model(oracle, f"start/{optimizer}")
        for steps in (1, 10):
            expected = copy.deepcopy(start)
            expected.load_state_dict(oracle.expect(f"trained/{optimizer}/{steps}", "spiral.trained_state",
                                                   start.state_dict(), X, Y, optimizer, steps, **kwargs))
            remote = worker.build(start)
            student.train(remote, X, Y, optimizer=optimizer, steps=steps, **kwargs)
            difference = _largest_difference(_trained_copy(start, remote), expected)
            if difference is None:
                continue
            call = f"train(model, X, Y, optimizer={optimizer!r}, steps={steps}, {args})"
            if steps == 1:
                hint = _("update with torch.optim.{name}(model.parameters(), lr=lr, weight_decay=weight_decay) "
                         "on the mean cross-entropy over all of X (nn.CrossEntropyLoss()), once per step.", name=name)
            else:
                hint = _("one step matches, ten do not: zero the gradients every step (optimizer.zero_grad()), "
                         "or they add up across steps; and make one optimizer for the whole run.")
            fail(n_("after {call}, the model's {parameter} differs from {n} {name} update by up to {difference:.3g}",
                    "after {call}, the model's {parameter} differs from {n} {name} updates by up to {difference:.3g}",
                    steps, call=call, parameter=difference[0], name=name, difference=difference[1]), hint)


def test_accuracy(student, worker, oracle):
    X, _labels = small_data(oracle)
    model = nn.Linear(2, 3)
    with torch.no_grad():
        Y = model(X).argmax(dim=1)
    wrong = torch.randperm(len(Y))[:75]
    Y[wrong] = (Y[wrong] + 1) % 3  # 75 of 300 labels disagree with the model: accuracy 0.75
    result = student.accuracy(worker.build(model), X, Y)
    expect_type(result, float, "accuracy(model, X, Y)",
                hint=_("return a Python float: .item() turns a one-element tensor into one."))
    if not math.isclose(result, 0.75, abs_tol=1e-6):
        fail(_("{call} gave {got:.6g}, expected 0.75 (225 of 300 points right)", call="accuracy(model, X, Y)",
               got=result),
             hint=_("the fraction of points whose argmax over the model's outputs (dim=1) equals Y."))


# --- the lesson: a linear model cannot separate the spiral, one ReLU layer can -----------------

def _fit_full_batch(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor], steps: int, lr: float) -> float:
    """Train ``model`` on all of ``data`` = (X (N, 2), Y (N,)) at once with Adam(lr, weight decay 1e-5),
    ``steps`` times, and return its accuracy on ``data`` afterwards."""
    inputs, targets = data
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-5)
    for _step in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
    with torch.no_grad():
        return model(inputs).argmax(dim=1).eq(targets).double().mean().item()


def _trained_accuracy(student, oracle, name: str, steps: int, lr: float, device) -> float:
    """The model ``student.<name>()`` built (its layers and its initial weights), rebuilt here and
    trained here as the lab trains it, and its accuracy on the course's spiral."""
    X, Y = (t.to(device) for t in course_data(oracle))
    model = local_copy(getattr(student, name)(), f"{name}()", probe=X[::10].cpu())
    return _fit_full_batch(model.to(device), (X, Y), steps, lr)


def test_relu_accuracy(student, oracle, exercise, profile, device):
    threshold = exercise.threshold("relu_accuracy", profile)
    steps = int(exercise.budget(profile)["steps"])
    accuracy = _trained_accuracy(student, oracle, "relu_model", steps, 1e-3, device)
    expect_at_least(accuracy, threshold,
                    _("{model}'s accuracy on the course's spiral after {steps} full-batch Adam steps (lr 0.001)",
                      model="relu_model()", steps=steps),
                    hint=_("the course's ReLU model reaches about 0.95; {hint}", hint=NONLINEARITY_HINT))


def test_linear_accuracy_ceiling(student, oracle, exercise, profile, device):
    ceiling = exercise.threshold("linear_accuracy_ceiling", profile)
    budget = exercise.budget(profile)
    steps, lr = int(budget["ceiling_steps"]), float(budget["ceiling_lr"])
    accuracy = _trained_accuracy(student, oracle, "linear_model", steps, lr, device)
    if accuracy > ceiling:
        fail(_("{model}'s accuracy on the course's spiral after {steps} full-batch Adam steps (lr {lr:g}) was "
               "{accuracy:.3f}, expected at most {ceiling:.3f}: no linear model separates the spiral's arms",
               model="linear_model()", steps=steps, lr=lr, accuracy=accuracy, ceiling=float(ceiling)),
             hint=_("linear_model() must have no activation: Linear(d, h) -> Linear(h, c)."))


# --- plotting --------------------------------------------------------------------------------

REGION_AGREEMENT = 0.9
"""Share of the data points whose drawn region must be the model's predicted class. Points within a
grid step of a decision boundary can fall on either side; measured on the reference's plots
(docs/calibration/week1.md): 0.97 and more over 20 seeds."""


SCATTER_HINT = _("ax.scatter(X[:, 0], X[:, 1], c=Y) with X and Y moved to the CPU.")
AXES_HINT = _("return the Axes you drew on.")


def _band_of(contour: dict, points: np.ndarray) -> np.ndarray:
    """For each point, the index of the filled band (between levels i and i+1) whose region holds it, or -1."""
    band = np.full(len(points), -1)
    for i, (vertices, codes) in enumerate(contour["paths"]):
        if len(vertices) == 0:
            continue
        path = Path(vertices, codes if len(codes) else None)
        inside = path.contains_points(points) & (band < 0)
        band[inside] = i
    return band


def _regions_agree(contour: dict, model: nn.Module, X: torch.Tensor) -> float:
    """The share of ``X`` whose drawn region's level range holds the class ``model`` predicts there."""
    with torch.no_grad():
        parameter = next(model.parameters())
        predicted = model(X.to(parameter.device)).argmax(dim=1).cpu().numpy()
    levels = contour["levels"]
    band = _band_of(contour, X.numpy().astype(np.float64))
    agree = [0 <= b < len(levels) - 1 and levels[b] - 1e-9 <= c <= levels[b + 1] + 1e-9
             for b, c in zip(band, predicted)]
    return float(np.mean(agree)) if agree else 0.0


def _check_drawing(drawing: dict, model: nn.Module, X: torch.Tensor, what: str) -> None:
    n_points = len(X)
    collections = drawing["collections"]
    contours = [c for c in collections if c["kind"] == "contour" and c["filled"]]
    if not contours:
        fail(_("{what} drew no filled contours, expected the decision regions drawn with ax.contourf", what=what),
             hint=_("evaluate the model on a grid over [-1.1, 1.1]^2 and draw its argmax with "
                    "ax.contourf(..., alpha=0.3)."))
    scatters = [c for c in collections if c["kind"] == "scatter" and len(c["offsets"]) == n_points]
    if not scatters:
        fail(_("{what} drew no scatter plot of the {n} points, expected one over the regions", what=what, n=n_points),
             hint=SCATTER_HINT)
    region, points = contours[0], scatters[0]
    if not np.allclose(points["offsets"], X.numpy(), atol=1e-6):
        fail(_("{what} scattered {n} points other than X, expected the points of X", what=what, n=n_points),
             hint=SCATTER_HINT)
    if (region["zorder"], region["index"]) > (points["zorder"], points["index"]):
        fail(_("{what} drew the decision regions over the points, expected the points on top", what=what),
             hint=_("draw the contours first, or give the scatter a higher zorder."))
    alpha = region["alpha"]
    if alpha is None or alpha >= 1:
        fail(_("{what} drew opaque decision regions (alpha {alpha}), expected translucent ones", what=what,
               alpha=str(alpha)),
             hint=_("ax.contourf(..., alpha=0.3), as the lab does."))
    for name, limits in (("x", drawing["xlim"]), ("y", drawing["ylim"])):
        if not (abs(limits[0] + 1.1) < 0.02 and abs(limits[1] - 1.1) < 0.02):
            fail(_("{what} set {axis} limits ({low:.2f}, {high:.2f}), expected (-1.10, 1.10)", what=what, axis=name,
                   low=float(limits[0]), high=float(limits[1])),
                 hint=f"ax.set_{name}lim(-1.1, 1.1).")
    if drawing["aspect"] not in ("equal", 1.0):
        fail(_("{what} gave axes with aspect {aspect}, expected square ones", what=what,
               aspect=repr(drawing["aspect"])),
             hint="ax.set_aspect('equal').")
    agreement = _regions_agree(region, model, X)
    if agreement < REGION_AGREEMENT:
        fail(_("{what} drew regions that match the model's predicted class at {agreement:.0%} of the points, "
               "expected at least {required:.0%}", what=what, agreement=agreement, required=REGION_AGREEMENT),
             hint=_("run the model on a grid of points over [-1.1, 1.1]^2 and draw the argmax of its outputs with "
                    "ax.contourf(xx, yy, classes), the grid's x and y in the same order as the model's input."))


def _drawing(axes, what: str) -> dict:
    try:
        return axes.describe("axes")
    except StudentRaised:
        fail(_("{what} gave a value of type {type}, expected a matplotlib Axes", what=what,
               type=remote_type_name(axes)), hint=AXES_HINT)


def test_plot_decision_boundary(student, worker, oracle, device):
    expect_written(student, "plot_decision_boundary")
    X, Y = small_data(oracle)
    model = small_model(oracle)
    model.load_state_dict(oracle.expect("trained", "spiral.trained_state", model.state_dict(), X, Y, "adam", 50,
                                        lr=0.05))
    model = model.to(device)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    remote = worker.build(model)
    pyplot = worker.module("matplotlib.pyplot")
    try:
        _figure, ax = pyplot.subplots()
        what = "plot_decision_boundary(model, X, Y, ax=ax)"
        returned = student.plot_decision_boundary(remote, X, Y, ax=ax)
        if not ax.same_object(returned):
            if returned is None:
                fail(_("{what} gave None (did you forget a return statement?), expected an Axes", what=what),
                     hint=AXES_HINT)
            if not isinstance(returned, type(ax)) or returned.kind.get("name") != "Axes":
                fail(_("{what} gave a value of type {type}, expected a matplotlib Axes", what=what,
                       type=remote_type_name(returned)), hint=AXES_HINT)
            fail(_("{what} gave a different Axes from the ax it was given, expected it to draw on ax and return it",
                   what=what))
        _check_drawing(_drawing(ax, what), model, X, what)
        what = "plot_decision_boundary(model, X, Y)"
        returned = student.plot_decision_boundary(remote, X, Y)
        if returned is None:
            fail(_("{what} gave None (did you forget a return statement?), expected an Axes", what=what),
                 hint=_("with ax=None, make a figure (plt.subplots()) and return its Axes."))
        _check_drawing(_drawing(returned, what), model, X, what)
    finally:
        pyplot.close("all")
    after = state_of(remote)
    for name, value in before.items():
        if after[name].device.type != device.type:
            fail(_("after {call}, the model's {parameter} is on {got}, expected it left on {expected}",
                   call="plot_decision_boundary(model, X, Y)", parameter=name, got=after[name].device.type,
                   expected=device.type),
                 hint=_("move the grid to the model's device (next(model.parameters()).device), not the model."))
        if not torch.equal(after[name].cpu(), value.cpu()):
            fail(_("{call} changed the model's {parameter}, expected it left as it was",
                   call="plot_decision_boundary(model, X, Y)", parameter=name),
                 hint=_("only evaluate the model, under torch.no_grad()."))
