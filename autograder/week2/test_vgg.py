"""Checks for week2/vgg.py: the lab's VGG with its two bugs fixed, ``flattened_size`` and the transforms.

Order: ``VGG()`` builds (the lab's first bug: an undefined ``cfg``) -> its output shape (the second:
a classifier sized for 2048 features where a 32x32 image leaves 512) -> parameters against the
reference -> outputs equal to the reference's with the reference's weights -> gradients ->
``flattened_size`` -> the transforms -> learning under the profile's budget.

Reference values come from the ``oracle`` fixture (:mod:`autograder.oracle`): the lab's VGG is never
built here. Its weights for the value checks are :func:`course_weights`, made from a small pool of
drawn values, so a handout replays them from a few kilobytes; the reference's outputs and sampled
gradients for those weights are recorded. Only learning uses the lab's architecture as a mirror of the
student's weights, where there is one; in a handout it takes the worker's loss and accuracy.

A construction or forward failure caused by one of the lab's bugs is reported as that bug, with
numbers taken from the student's own model, never as PyTorch's raw error.

Learning: on the CPU (quick profile) the VGG must overfit one small fixed batch of CIFAR-10
images in a few Adam steps; on a GPU (full profile) it trains the course's 10 epochs and must reach
the course's test accuracy. ``docs/calibration/week2-vgg-residual.md`` runs
``dlkit.oracles.week2.vgg.overfit_batch`` on the reference to set the quick budget.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import VGG_MEAN, VGG_STD, TensorBatches
from autograder.expect import (
    CheckFailure, call_student, expect_at_least, expect_dtype, expect_equal, expect_gradients_reach, expect_model,
    expect_shape, expect_tensor, expect_tensor_like, expect_type, fail,
)
from autograder.failures import describe
from autograder.i18n import _, join
from autograder.learning import cifar10_subset, measure_accuracy
from autograder.models import (accuracy_there, gradients, load_reference_weights, load_strictly, spec_of, state_of,
                               train_there)
from autograder.probe import modules
from autograder.probe.client import Remote, StudentRaised

VGG_PARAMETERS = 9_231_114
FLATTEN_HINT = _("the classifier's in_features must equal the number of values the features give per image "
                  "(flattened_size(model.features) computes it). In the lab's configuration, 5 max-pools take a "
                  "32x32 image down to 1x1, so the last conv's 512 channels leave 512 x 1 x 1 values.")
POOL = 8191
"""How many drawn values a check's VGG weights are made of (a prime: no short period within a layer)."""
SAMPLES = 128
"""Gradient entries compared per parameter (with its gradient's norm)."""


# ---------------------------------------------------------------- helpers


def _class_source(student, name: str) -> str:
    """The text of the student's class ``name``, read from their file (never run here)."""
    try:
        source = student.path.read_text(encoding="utf-8", errors="replace")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError, AttributeError):
        return ""
    found = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name]
    return (ast.get_source_segment(source, found[-1]) or "") if found else ""


def name_error_message(error: StudentRaised, student):
    """What the undefined name is, where it is used, and (when the class stores it) where it lives.

    Built from the error itself: the name, the student's line that used it, the function it
    was in, and whether the class assigns ``self.<name>`` somewhere.
    """
    name = error.info.get("name")
    if not name:
        match = re.search(r"name '([^']+)' is not defined", error.message)
        name = match.group(1) if match else "?"
    frame = error.frames[-1] if error.frames else None
    expression = (frame.get("source") or "").strip() if frame else ""
    assignment = re.match(r"^[\w.\[\]]+\s*=(?!=)\s*(.+)$", expression)
    if assignment:
        expression = assignment.group(1)
    expression = re.sub(r"^self\.", "", expression)
    function = frame.get("name") if frame else None
    if expression:
        message = _("VGG() failed: `{expression}` uses a name `{name}` that is not defined in {function}",
                    expression=expression, name=name, function=function)
    elif frame:
        message = _("VGG() failed: the name `{name}` is used but is not defined in {function}", name=name,
                    function=function)
    else:
        message = _("VGG() failed: the name `{name}` is used but is not defined", name=name)
    if re.search(rf"self\.{re.escape(name)}\s*=(?!=)", _class_source(student, "VGG")):
        stored = _("the configuration") if name == "cfg" else f"`{name}`"
        message = _("{message} — {stored} is stored on the instance as self.{name}", message=message,
                    stored=stored, name=name)
    if frame:
        message = _("{message}\n  at {file}, line {line}", message=message, file=frame.get("file"),
                    line=frame.get("line"))
    return message


def _vgg(student, device="cpu") -> Remote:
    """``VGG()`` in the worker, with the lab's undefined-name bug explained."""
    try:
        model = student.VGG()
    except StudentRaised as error:
        if error.not_implemented or error.timed_out:
            raise
        if error.type_name == "NameError":
            fail(name_error_message(error, student),
                 _("inside a method, a value stored with self.name = ... is read back as self.name."))
        fail(_("VGG() failed: {error}", error=describe(error)))
    return expect_model(model, "VGG()").to(str(device))


def _local_layers(model: Remote, name: str) -> nn.Module | None:
    """The student's ``model.<name>`` rebuilt here when it is made of ``torch.nn`` layers only, else None."""
    part = model.get(name)
    if not (isinstance(part, Remote) and part.is_model):
        return None
    try:
        return modules.build(part.describe("module"), state_of(part))
    except (modules.NotRebuildable, RuntimeError, ValueError):
        return None


def classifier_mismatch_message(model: Remote, error: StudentRaised, x: torch.Tensor):
    """For a "mat1 and mat2 shapes cannot be multiplied" error: what the classifier expects and what it gets."""
    text = error.message
    if "mat1 and mat2 shapes cannot be multiplied" not in text:
        return None
    classifier = _local_layers(model, "classifier")
    expects = classifier.in_features if isinstance(classifier, nn.Linear) else None
    features, gives = _local_layers(model, "features"), None
    if features is not None:  # a throw-away copy: its mode and statistics need no restoring
        try:
            with torch.no_grad():
                gives = features.cpu().eval()(x[:1].cpu()).numel()
        except (RuntimeError, ValueError):
            gives = None
    shapes = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", text)
    if shapes:  # fall back on PyTorch's own numbers for whatever the model lacks
        gives = gives if gives is not None else int(shapes.group(2))
        expects = expects if expects is not None else int(shapes.group(3))
    return _("your classifier expects {expects} features but the feature extractor gives {gives} for a {size} input",
             expects=str(expects), gives=str(gives), size=f"{x.shape[2]}x{x.shape[3]}")


def _forward(model: Remote, x: torch.Tensor, what):
    """``model(x)`` in the worker, with the lab's classifier-size bug explained."""
    try:
        return model(x)
    except StudentRaised as error:
        if error.not_implemented or error.timed_out:
            raise
        message = classifier_mismatch_message(model, error, x) if error.type_name == "RuntimeError" else None
        if message:
            fail(_("{what} failed: {message}", what=what, message=message), FLATTEN_HINT)
        fail(_("{what}: {error}", what=what, error=describe(error)))


def _working_vgg(student, device="cpu") -> Remote:
    """``VGG()`` that builds and runs on a (2, 3, 32, 32) batch; either bug fails here with its message."""
    model = _vgg(student, device)
    _forward(model, torch.randn(2, 3, 32, 32, device=device), _on_batch("VGG()", (2, 3, 32, 32)))
    return model


def _on_batch(model: str, shape: tuple[int, ...]):
    """``"<model> on a (N, C, H, W) batch"``, as a message."""
    return _("{model} on a {shape} batch", model=model, shape=str(tuple(shape)))


def _random_image() -> torch.Tensor:
    """A random 32x32 RGB image: (32, 32, 3) uint8."""
    return torch.randint(0, 256, (32, 32, 3), dtype=torch.uint8)


def _pool() -> torch.Tensor:
    return torch.randn(POOL)


def course_weights(pool: torch.Tensor, state_shapes: dict) -> dict[str, torch.Tensor]:
    """A ``state_dict`` for the lab's VGG made from ``pool`` (``POOL`` values) by arithmetic alone, so
    the same pool gives the same weights with any PyTorch.

    ``state_shapes`` maps each key to ``(shape, dtype)`` (``"float32"``; a counter's ``"int64"`` is
    zero). Each tensor takes pool values in a stride through the pool: conv and linear weights scaled
    to He's standard deviation sqrt(2 / fan_in), batch norm's scales near 1, biases small, and the
    running means in [-0.5, 0.5] and variances in [0.5, 2], away from 0 and 1 so eval mode tests them.
    """
    state = {}
    for i, (key, (shape, dtype)) in enumerate(state_shapes.items()):
        shape = tuple(shape)
        if dtype != "float32":
            state[key] = torch.zeros(shape, dtype=getattr(torch, dtype))
            continue
        n = math.prod(shape)
        values = pool[(torch.arange(n) * 7919 + 104_729 * i) % len(pool)].reshape(shape)
        unit = (values / 3).clamp(-1.0, 1.0)
        kind = key.rsplit(".", 1)[-1]
        if kind == "running_var":
            values = 1.25 + 0.75 * unit
        elif kind == "running_mean":
            values = 0.5 * unit
        elif len(shape) > 1:
            values = values * math.sqrt(2 * shape[0] / n)
        elif kind == "weight":
            values = 1 + 0.1 * values
        else:
            values = 0.1 * values
        state[key] = values.contiguous()
    return state


def sampled(values: torch.Tensor, k: int) -> torch.Tensor:
    """At most ``k`` entries of ``values``, evenly spread over its flattened order: (min(k, numel),)."""
    flat = values.detach().flatten()
    n = min(k, flat.numel())
    return flat[torch.arange(n, device=flat.device) * flat.numel() // n]


def _drawn_batch(oracle, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 3, 32, 32) random images and (n,) labels, drawn once for the check."""
    return (oracle.draw("x", lambda: torch.randn(n, 3, 32, 32)),
            oracle.draw("labels", lambda: torch.randint(0, 10, (n,))))


def _load_course_weights(model: Remote, state: dict[str, torch.Tensor]) -> None:
    load_reference_weights(model, state, "VGG()", _("keep the lab's layer names: features and classifier."))


def _expect_course_gradients(worker, model: Remote, oracle, shapes: dict, x: torch.Tensor, labels: torch.Tensor,
                             hint, unless_it_fails: bool = False) -> None:
    """With :func:`course_weights` loaded, the student's gradients for ``cross_entropy(model(x), labels)``
    equal the reference's at :data:`SAMPLES` entries of each parameter, and in norm. With
    ``unless_it_fails``, nothing is checked when the model's forward or backward raises (other
    checks say so)."""
    state = course_weights(oracle.draw("pool", _pool), shapes["state"])
    expected = oracle.expect("gradients", "vgg.gradient_samples", state, x, labels, SAMPLES)
    _load_course_weights(model, state)
    model.zero_grad()
    try:
        got = gradients(worker, model, x, labels, "cross_entropy", "VGG()")
    except CheckFailure:
        if unless_it_fails:
            return
        raise
    for name, want in expected.items():
        mine = got.get(name)
        if not (isinstance(mine, torch.Tensor) and tuple(mine.shape) == tuple(shapes["parameters"][name])
                and torch.allclose(sampled(mine, SAMPLES).cpu(), want["values"], atol=1e-5, rtol=1e-3)
                and torch.allclose(mine.norm().cpu(), want["norm"], atol=1e-5, rtol=1e-3)):
            fail(_("after loss.backward(), VGG()'s gradient for {name} differs from the course's model's for the "
                   "same weights and input", name=name), hint)


def _steps(spec: dict) -> list[dict]:
    """The transforms inside a described transform (a Compose, nn.Sequential or one transform), flattened."""
    if not spec["children"]:
        return [spec]
    return [step for child in spec["children"] for step in _steps(child)]


def _show(step: dict) -> str:
    args = step["args"]
    if step["class"] == "Normalize":
        mean = tuple(round(float(v), 4) for v in args["mean"])
        std = tuple(round(float(v), 4) for v in args["std"])
        return f"Normalize({mean}, {std})"
    if step["class"] == "RandomCrop":
        padding = args["padding"]
        return f"RandomCrop({tuple(args['size'])}, padding={tuple(padding) if isinstance(padding, list) else padding})"
    if step["class"] == "RandomHorizontalFlip":
        return f"RandomHorizontalFlip(p={args['p']})"
    return f"{step['class']}()"


def _expect_course_transform(worker, oracle, name: str, function) -> None:
    call = f"{name}()"
    transform = call_student(call, function)
    if not isinstance(transform, Remote):
        fail(_("{call} gave {got}, expected a transform (transforms.Compose([...]))", call=call, got=repr(transform)))
    steps = _steps(transform.describe("transform"))
    expected = _steps(oracle.expect("steps", "vgg.transform_description", name))
    shown = "[" + ", ".join(_show(s) for s in steps) + "]"
    wanted = "[" + ", ".join(_show(s) for s in expected) + "]"
    if [(s["module"], s["class"]) for s in steps] != [(s["module"], s["class"]) for s in expected]:
        fail(_("{call} is {got}, expected {expected}", call=call, got=shown, expected=wanted),
             _("the course's VGG transforms, in that order."))
    for got, want in zip(steps, expected):
        if _show(got) != _show(want):
            fail(_("{call} has {got}, expected {expected}", call=call, got=_show(got), expected=_show(want)),
                 _("RandomCrop(32, padding=4); Normalize with VGG's mean (0.4914, 0.4822, 0.4465) and std "
                   "(0.2023, 0.1994, 0.2010)."))
    torch_there, pil_there = worker.module("torch"), worker.module("PIL.Image")
    for seed in range(4):  # same random draws -> same image, whatever the implementation
        pixels = oracle.draw(f"image/{seed}", _random_image)
        torch_there.manual_seed(seed)
        out = call_student(f"{call}(image)", transform, pil_there.fromarray(pixels.numpy()))
        expect_tensor_like(out, oracle.expect(f"image/{seed}", "vgg.transformed", name, pixels, seed),
                           _("{call} applied to a 32x32 RGB PIL image (torch seed {seed})", call=call, seed=seed),
                           atol=1e-6)


def one_batch(budget: dict, seed: int, device, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``budget["images"]`` CIFAR-10 training images drawn with ``seed``, normalised with VGG's constants."""
    images, labels = cifar10_subset(True, budget["images"], seed, root)
    x, y = next(iter(TensorBatches(images, labels, budget["images"], VGG_MEAN, VGG_STD, device=device)))
    return x, y


def _scores_in_training_mode(worker, model: Remote, mirror: nn.Module | None, x: torch.Tensor) -> torch.Tensor:
    """The student's VGG's (N, 10) scores for ``x`` in training mode (batch statistics: a few steps leave
    batch norm's running statistics far behind the weights), without gradients: its weights in the lab's
    architecture (``mirror``) here, or the worker's own scores where there is no mirror."""
    if mirror is not None:
        mirror = load_strictly(mirror, state_of(model), "VGG()").train()
        with torch.no_grad():
            return mirror(x)
    torch_there = worker.module("torch")
    model.train()
    torch_there.set_grad_enabled(False)
    try:
        scores = model(x)
    finally:
        torch_there.set_grad_enabled(True)
    if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (x.shape[0], 10):
        fail(_("VGG() gave {type} for a batch of {n} images, expected ({n}, 10) scores", type=type(scores).__name__,
               n=x.shape[0]))
    return scores.to(x.device)


def overfit_there(worker, model: Remote, mirror: nn.Module | None, budget: dict, seed: int, device,
                  root=None) -> tuple[float, float, float]:
    """The student's VGG trained in the worker on one batch as ``dlkit.oracles.week2.vgg.overfit_batch``
    trains (``budget["steps"]`` Adam steps on :func:`one_batch`); its scores before and after (see
    :func:`_scores_in_training_mode`) give (loss before, loss after, accuracy after) on that batch."""
    x, y = one_batch(budget, seed, device, root)
    initial = F.cross_entropy(_scores_in_training_mode(worker, model, mirror, x), y).item()
    train_there(worker, model, [(x, y)] * budget["steps"], 1, budget["lr"])
    scores = _scores_in_training_mode(worker, model, mirror, x)
    return initial, F.cross_entropy(scores, y).item(), (scores.argmax(dim=1) == y).float().mean().item()


def course_batches(budget: dict, seed: int, device, root=None) -> tuple[TensorBatches, TensorBatches]:
    """The course's VGG training and test batches under ``budget``: augmented, shuffled with ``seed``."""
    train_x, train_y = cifar10_subset(True, budget["train_images"], seed, root)
    test_x, test_y = cifar10_subset(False, budget["test_images"], seed, root)
    batches = TensorBatches(train_x, train_y, budget["batch_size"], VGG_MEAN, VGG_STD, shuffle=True, seed=seed,
                            device=device, augment=True)
    return batches, TensorBatches(test_x, test_y, budget["test_batch_size"], VGG_MEAN, VGG_STD, device=device)


def train_and_test_there(worker, model: Remote, mirror: nn.Module | None, budget: dict, seed: int, device,
                         root=None) -> float:
    """The student's VGG trained in the worker as the course trains (``dlkit.oracles.week2.vgg.train_and_test``);
    its test accuracy measured here in the lab's architecture (``mirror``), or by the worker where there is none."""
    batches, test = course_batches(budget, seed, device, root)
    train_there(worker, model, batches, budget["epochs"], budget["lr"])
    if mirror is None:
        return accuracy_there(worker, model, test)
    return measure_accuracy(load_strictly(mirror, state_of(model), "VGG()"), test)


def _random_features_args() -> list[int]:
    """A random conv/pool stack's in channels, size, out channels, kernel, stride, padding, extra width."""
    bounds = ((1, 4), (20, 40), (2, 9), (1, 6), (1, 3), (0, 3), (0, 5))
    return [int(torch.randint(low, high, ()).item()) for low, high in bounds]


def _random_features(args: list[int]) -> tuple[nn.Module, tuple[int, int, int]]:
    """The conv/pool stack ``args`` (see :func:`_random_features_args`) describe, and an input shape it accepts."""
    channels, size, out, kernel, stride, padding, extra = args
    layers = nn.Sequential(nn.Conv2d(channels, out, kernel, stride=stride, padding=padding), nn.ReLU(),
                           nn.MaxPool2d(2))
    return layers, (channels, size, size + extra)


# ---------------------------------------------------------------- checks


def test_constructs(student):
    _vgg(student)


def test_output_shape(student, device):
    model = _vgg(student, device)
    n = int(torch.randint(2, 5, ()).item())
    what = _on_batch("VGG()", (n, 3, 32, 32))
    out = expect_tensor(_forward(model, torch.randn(n, 3, 32, 32, device=device), what), what)
    expect_dtype(out, torch.float32, what)
    expect_shape(out, (n, 10), what, _("one logit per class: the classifier maps the features to 10 outputs."))


def test_parameters_match_reference(student, worker, oracle, device):
    model = _vgg(student, device)
    got = modules.parameter_shapes(spec_of(model, "VGG()"))
    shapes = oracle.expect("shapes", "vgg.shapes")
    expected = {key: tuple(shape) for key, shape in shapes["parameters"].items()}
    if set(got) != set(expected):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        fail(_("VGG() has parameters that differ from the lab's: missing {missing}, unexpected {extra}",
               missing=str(missing[:4]), extra=str(extra[:4])),
             _("keep the lab's layers: features (the nn.Sequential from _make_layers) and classifier."))
    for key, shape in expected.items():
        if got[key] != shape:
            fail(_("VGG()'s {key} has shape {got}, expected {expected}", key=key, got=str(got[key]),
                   expected=str(shape)), FLATTEN_HINT if key.startswith("classifier") else None)
    expect_equal(sum(int(np.prod(shape)) for shape in got.values()), VGG_PARAMETERS,
                 _("the number of parameters of VGG()"))
    x, labels = _drawn_batch(oracle, 4)
    _expect_course_gradients(worker, model, oracle, shapes, x.to(device), labels.to(device),
                             _("each parameter must play its part of the lab's VGG."), unless_it_fails=True)


def test_matches_reference(student, oracle, device):
    state = course_weights(oracle.draw("pool", _pool), oracle.expect("shapes", "vgg.shapes")["state"])
    x = oracle.draw("x", lambda: torch.randn(3, 3, 32, 32)).to(device)
    mine = _working_vgg(student, device)
    _load_course_weights(mine, state)
    mine.eval()
    what = _("VGG() in eval mode with the reference's weights, on a {shape} batch", shape=str(tuple(x.shape)))
    out = _forward(mine, x, what)
    expected = oracle.expect("logits", "vgg.eval_logits", state, x, device=device)
    expect_tensor_like(out, expected, what, atol=1e-4, rtol=1e-4)


def test_gradients_reach_every_parameter(student, worker, oracle, device):
    model = _vgg(student, device)
    what = _on_batch("VGG()", (4, 3, 32, 32))
    x, labels = (value.to(device) for value in _drawn_batch(oracle, 4))
    expect_tensor(_forward(model, x, what), what)   # the lab's bugs, explained, before anything else
    expect_gradients_reach(gradients(worker, model, x, labels, "cross_entropy", "VGG()"), "VGG()")
    _expect_course_gradients(worker, model, oracle, oracle.expect("shapes", "vgg.shapes"), x, labels,
                             _("is every layer used in forward() as the lab's VGG uses it?"))


def test_flattened_size(student, worker, oracle, device):
    vgg_features = oracle.expect("features", "vgg.features_spec")
    cases = [
        (vgg_features, (3, 32, 32), _("the lab's VGG features")),
        (vgg_features, (3, 64, 64), _("the lab's VGG features")),
        (modules.describe(nn.Conv2d(1, 4, 5)), (1, 28, 28), "nn.Conv2d(1, 4, 5)"),
    ]
    for i in range(3):
        layers, shape = _random_features(oracle.draw(f"stack/{i}", _random_features_args))
        cases.append((modules.describe(layers), shape, repr(layers).replace("\n", "").replace("  ", " ")))
    for i, (spec, shape, name) in enumerate(cases):
        call = join(["flattened_size(", name, f", input_shape={shape})"])
        expected = oracle.expect(f"size/{i}", "vgg.flattened_size", spec, shape)
        module = modules.build(spec).to(device)
        got = call_student(call, student.flattened_size, worker.build(module), input_shape=shape)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            fail(_("{call} gave a tensor ({got}), expected a Python int", call=call, got=str(got)),
                 _("use int(...) or .numel()."))
        expect_type(got, int, call)
        expect_equal(got, expected, call, _("run torch.zeros(1, *input_shape) through the module and count the "
                                            "values of one image's output: out[0].numel()."))


def test_flattened_size_leaves_features_alone(student, worker, oracle):
    features = modules.build(oracle.expect("features", "vgg.features_spec"))
    features.train()
    before = {key: value.clone() for key, value in features.state_dict().items()}
    call = "flattened_size(VGG().features)"
    there = worker.build(features)
    call_student(call, student.flattened_size, there)
    if not there.training:
        fail(_("{call} left the module in eval mode, expected it in training mode as it was", call=call),
             _("remember features.training and restore it with features.train(was_training)."))
    after = state_of(there)
    changed = [key for key, value in before.items() if not torch.equal(after[key].cpu(), value)]
    if changed:
        fail(_("{call} changed {keys}: the dummy input updated batch norm's running statistics, which the trained "
               "model would then use", call=call, keys=", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")),
             _("run the dummy input in eval mode (features.eval(), then restore the mode) and under "
               "torch.no_grad()."))


def test_train_transform_follows_course(student, worker, oracle):
    _expect_course_transform(worker, oracle, "train_transform", student.train_transform)


def test_test_transform_follows_course(student, worker, oracle):
    _expect_course_transform(worker, oracle, "test_transform", student.test_transform)


def test_learns(student, worker, oracle, exercise, profile, device, data_root):
    budget = exercise.budget(profile)
    seed = torch.initial_seed()   # the check's own seed, set by the plugin
    _working_vgg(student, device)
    worker.module("torch").manual_seed(seed)
    model = _vgg(student, device)
    mirror = oracle.mirror("vgg.course_model", device)
    if profile == "quick":
        initial, final, accuracy = call_student(_("training VGG() on one batch"), overfit_there, worker, model,
                                                mirror, budget, seed, device, data_root)
        ratio = exercise.threshold("overfit_loss_ratio", profile)
        run = dict(steps=budget["steps"], lr=budget["lr"], images=budget["images"])
        if not final <= ratio * initial:
            fail(_("after {steps} Adam steps (lr {lr}) on one batch of {images} CIFAR-10 images, VGG()'s loss went "
                   "from {initial:.3f} to {final:.3f}, expected at most {ratio:g} x {initial:.3f} = {limit:.3f}",
                   initial=initial, final=final, ratio=ratio, limit=ratio * initial, **run),
                 _("a VGG that builds and runs but cannot learn: is every layer used in forward(), with "
                   "batch norm and ReLU after each conv?"))
        expect_at_least(accuracy, exercise.threshold("overfit_accuracy", profile),
                        _("after {steps} Adam steps (lr {lr}) on one batch of {images} CIFAR-10 images, VGG()'s "
                          "accuracy on that batch", **run))
    else:
        with training_precision(device, profile):
            accuracy = call_student(_("training VGG()"), train_and_test_there, worker, model, mirror, budget, seed,
                                    device, data_root)
        expect_at_least(accuracy, exercise.threshold("test_accuracy", profile),
                        _("the test accuracy of VGG() after {epochs} epochs over {train_images:,} augmented "
                          "training images (batch {batch_size}, Adam lr {lr}), on {test_images:,} test images,",
                          epochs=budget["epochs"], train_images=budget["train_images"],
                          batch_size=budget["batch_size"], lr=budget["lr"], test_images=budget["test_images"]))
