"""Checks for week2/cifar10.py: the LeNet-style ``Net``, its transforms, the training and test loops,
and what it learns.

Order: names -> output (type, shape, logits) -> parameters against the course's -> outputs equal to
the reference's with the reference's weights -> gradients -> transforms -> train / evaluate /
per_class_accuracy against the reference's -> learning under the profile's budget.

Every value of the reference comes from the ``oracle`` fixture (``dlkit.oracles.week2.cifar10`` in the
kit, recorded values in a handout), for inputs the checks draw through it. The learning check trains
the student's ``Net`` with the student's ``train`` on uint8 tensors batched by
``autograder.batches.TensorBatches``; the test accuracy of the trained weights is measured in the
course's ``Net`` (the oracle's mirror) in the kit, and by the worker in a handout.
``scripts/calibrate_week2.py`` runs :func:`train_and_test` on the reference to calibrate the threshold.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import CIFAR10_MEAN, CIFAR10_STD, TensorBatches, subset
from autograder.data import CIFAR10_CLASSES, cifar10_tensors
from autograder.expect import (
    call_student, expect_at_least, expect_dtype, expect_equal, expect_gradients_reach, expect_model, expect_shape,
    expect_tensor, expect_tensor_like, expect_type, expect_written, fail,
)
from autograder.i18n import _, n_
from autograder.models import (accuracy_there, expect_gradients_match_reference, gradients, load_reference_weights,
                               spec_of, state_of)
from autograder.probe import modules
from autograder.probe.client import Remote

NAMES = ("Net", "train_transform", "test_transform", "train", "evaluate", "per_class_accuracy")
NET_PARAMETERS = 62006


# ---------------------------------------------------------------- helpers


def _as_float(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    expect_type(value, float, what)
    return float(value)


def _net(student, device) -> Remote:
    """The student's ``Net()`` in the worker, on ``device``."""
    model = expect_model(call_student("Net()", student.Net), "Net()")
    return call_student("Net()", model.to, device)


def _random_data(n: int, seed: int, classes: int = 10, side: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images (n, 3, side, side) and labels below ``classes`` (n,)."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, side, side), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, classes, (n,), generator=generator)
    return images, labels


def _blocky(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, 16, 16) -> (N, 3, 32, 32), each pixel a 2x2 block: random images a quarter the size to record."""
    return images.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def _batches_there(worker, images: torch.Tensor, labels: torch.Tensor, batch_size: int, device) -> Remote:
    """``TensorBatches(images, labels, ...)`` made in the worker: the loader a student's loop gets."""
    loader = worker.module("autograder.batches").TensorBatches
    return loader(images, labels, batch_size, CIFAR10_MEAN, CIFAR10_STD, device=str(device))


def _small_classifier() -> nn.Module:
    """A tiny logit model, fast enough to train step by step in a check."""
    return nn.Sequential(nn.Conv2d(3, 4, 5, stride=3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 10))


def _seeded_state(seed: int) -> dict[str, torch.Tensor]:
    """The weights of :func:`_small_classifier` made after ``torch.manual_seed(seed)``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _small_classifier().state_dict()


def _small_classifier_holding(state: dict[str, torch.Tensor], device) -> nn.Module:
    model = _small_classifier()
    model.load_state_dict(state)
    return model.to(device)


def _random_image(seed: int) -> np.ndarray:
    """A 32x32 RGB image, (32, 32, 3) uint8, as a PIL image would hold it."""
    return np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)


def _image_there(worker, pixels: np.ndarray) -> Remote:
    """The PIL image of ``pixels``, made in the worker (what a transform is applied to)."""
    return worker.module("PIL.Image").fromarray(pixels)


def _normalizations(spec: dict) -> list[dict]:
    """Every ``Normalize`` inside a described transform (a Compose, nn.Sequential or a single transform)."""
    own = [spec] if spec["class"] == "Normalize" and spec["module"].startswith("torchvision.") else []
    return own + [n for child in spec["children"] for n in _normalizations(child)]


def _constants(normalize: dict) -> tuple[tuple[float, ...], tuple[float, ...]]:
    def as_tuple(values):
        return tuple(round(v, 6) for v in (values * 3 if len(values) == 1 else values))
    return as_tuple(normalize["args"]["mean"]), as_tuple(normalize["args"]["std"])


def _same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    """The same parameter names, and values within float32 training noise."""
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and torch.allclose(a[k].to(b[k].device, b[k].dtype), b[k], atol=1e-6, rtol=1e-5)
        for k in a)


# ---------------------------------------------------------------- learning under a budget


def describe_budget(budget: dict):
    """The training and testing ``budget`` in words (a message)."""
    return n_("{n} epoch over {train} training images (batch {batch}, Adam lr {lr}), tested on {test} images",
              "{n} epochs over {train} training images (batch {batch}, Adam lr {lr}), tested on {test} images",
              budget["epochs"], train=f"{budget['train_images']:,}", batch=budget["batch_size"], lr=budget["lr"],
              test=f"{budget['test_images']:,}")


def train_and_test(worker, module, oracle, budget: dict, device, root=None) -> float:
    """Train a fresh ``Net`` from ``module`` with its ``train`` under ``budget``; return its test
    accuracy, in [0, 1]. Seeded by ``budget["seed"]`` alone.

    With ``worker``, ``module`` is the student's module in it: the training runs there. The trained
    weights come back here and are measured in the course's ``Net`` by the reference's ``evaluate``
    (``oracle.mirror``); in a handout (no mirror) the worker's scores for the test images give the
    accuracy (:func:`autograder.models.accuracy_there`). With ``worker=None`` it is a module of this
    process (the reference, for calibration), measured by its own ``evaluate``; ``oracle`` is unused.
    """
    seed = budget["seed"]
    train_x, train_y = subset(*cifar10_tensors(True, root), budget["train_images"], seed)
    test_x, test_y = subset(*cifar10_tensors(False, root), budget["test_images"], seed)
    test = TensorBatches(test_x, test_y, budget["test_batch_size"], CIFAR10_MEAN, CIFAR10_STD, device=device)
    if worker is None:
        torch.manual_seed(seed)
        model = module.Net().to(device)
        batches = TensorBatches(train_x, train_y, budget["batch_size"], CIFAR10_MEAN, CIFAR10_STD,
                                shuffle=True, seed=seed, device=device)
        module.train(model, batches, budget["epochs"], device, budget["lr"])
        return module.evaluate(model, test, device)
    worker.module("torch").manual_seed(seed)
    model = _net(module, device)
    loader = worker.module("autograder.batches").TensorBatches
    batches = loader(train_x, train_y, budget["batch_size"], CIFAR10_MEAN, CIFAR10_STD, shuffle=True, seed=seed,
                     device=str(device))
    module.train(model, batches, budget["epochs"], device, budget["lr"])
    if oracle.live:
        return oracle.mirror("cifar10.net_accuracy", state_of(model), test, device, _("your {name}", name="Net"))
    return accuracy_there(worker, model, test)


# ---------------------------------------------------------------- checks


def test_names(student):
    found = {name: student.get(name) for name in NAMES}
    missing = [name for name, value in found.items() if not (isinstance(value, Remote) and value.kind.get("callable"))]
    if missing:
        fail(_("{file} does not define {missing}; expected all of {names}", file="cifar10.py",
               missing=", ".join(missing), names=", ".join(NAMES)),
             _("keep the names and signatures of the released file."))


def test_net_logits(student, device):
    model = _net(student, device)
    what = _("{model} on a {shape} batch", model="Net()", shape="(5, 3, 32, 32)")
    out = expect_tensor(call_student(what, model, torch.randn(5, 3, 32, 32, device=device)), what)
    expect_dtype(out, torch.float32, what)
    expect_shape(out, (5, 10), what)
    sums = out.detach().double().exp().sum(dim=1)
    if torch.allclose(sums, torch.ones_like(sums), atol=1e-4) or torch.allclose(
            out.detach().double().sum(dim=1), torch.ones_like(sums), atol=1e-4):
        fail(_("{what} gave normalised (log-)probabilities, expected raw logits", what=what),
             _("end with fc3 and no softmax: CrossEntropyLoss applies log_softmax itself."))


def test_net_parameters_match_course(student, worker, oracle, device):
    model = _net(student, device)
    got = modules.parameter_shapes(spec_of(model, "Net()"))
    expected = {key: tuple(shape) for key, shape in oracle.expect("shapes", "cifar10.parameter_shapes").items()}
    if set(got) != set(expected):
        fail(_("{what} has parameters {got}, expected {expected}", what="Net()", got=str(sorted(got)),
               expected=str(sorted(expected))),
             _("use the tutorial's layer names: conv1, pool, conv2, fc1, fc2, fc3."))
    for key, shape in expected.items():
        expect_equal(got[key], shape, _("the shape of {model}'s {key}", model="Net()", key=key))
    expect_equal(sum(math.prod(shape) for shape in got.values()), NET_PARAMETERS,
                 _("the number of parameters of {model}", model="Net()"))
    mirror = oracle.mirror("cifar10.net", device)
    if mirror is None:   # a handout: the names and shapes are all it checks here
        return
    x, labels = torch.randn(8, 3, 32, 32, device=device), torch.randint(0, 10, (8,), device=device)
    expect_gradients_match_reference(worker, model, mirror, x, labels, "cross_entropy", "Net()",
                                     _("each parameter must play its part of the tutorial's Net."), unless_it_fails=True)


def test_net_matches_reference(student, oracle, device):
    weights = oracle.expect("weights", "cifar10.initial_state", 0, device=device)
    mine = _net(student, device)
    load_reference_weights(mine, weights, "Net()", _("keep the tutorial's layer names and sizes."))
    x = oracle.draw("x", lambda: torch.randn(6, 3, 32, 32), device=device)
    call = _("{model} with the reference's weights, on a {shape} batch", model="Net()", shape="(6, 3, 32, 32)")
    out = call_student(call, mine, x)
    expected = oracle.expect("logits", "cifar10.logits", weights, x, device=device)
    if isinstance(out, torch.Tensor) and out.shape == expected.shape and out.dtype == expected.dtype:
        shift = (out.detach() - expected).double()
        if shift.abs().max() > 1e-3 and (shift - shift[:, :1]).abs().max() < 1e-4:
            fail(_("{call} gave the reference's logits minus a constant per row: log_softmax (or a similar "
                   "normalisation) was applied; expected raw logits", call=call),
                 _("return fc3's output as it is: CrossEntropyLoss applies log_softmax itself."))
    expect_tensor_like(out, expected, call, atol=1e-5, rtol=1e-4)


def test_gradients_reach_every_parameter(student, worker, oracle, device):
    model = _net(student, device)
    x, labels = torch.randn(16, 3, 32, 32, device=device), torch.randint(0, 10, (16,), device=device)
    got = gradients(worker, model, x, labels, "cross_entropy", "Net()")
    expect_gradients_reach(got, "Net()")
    mirror = oracle.mirror("cifar10.net", device)
    if mirror is not None:   # a handout checks that the gradients reach, not their values
        expect_gradients_match_reference(worker, model, mirror, x, labels, "cross_entropy", "Net()",
                                         _("is every layer used in forward() as the course's Net uses it?"), got=got)


def test_train_transform_follows_course(student, worker, oracle):
    pixels = oracle.draw("pixels", lambda: torch.from_numpy(_random_image(0)))
    transform = call_student("train_transform()", student.train_transform)
    out = call_student("train_transform()(image)", transform, _image_there(worker, pixels.numpy()))
    expect_tensor_like(out, oracle.expect("transformed", "cifar10.train_transformed", pixels),
                       _("{call} applied to a 32x32 RGB PIL image", call="train_transform()"),
                       atol=1e-6, hint=_("ToTensor() then Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))."))


def _described(transform, what: str) -> dict:
    if not isinstance(transform, Remote):
        fail(_("{call} gave {got}, expected a transform (transforms.Compose([...]))", call=what, got=repr(transform)))
    return transform.describe("transform")


def _implied_normalization(out: torch.Tensor, pixels: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The (mean, std) per channel with which ``ToTensor()`` + ``Normalize(mean, std)`` turns ``pixels``
    (H, W, 3 uint8) into ``out`` (3, H, W), read off the values; ``None`` when ``out`` is not such a map."""
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (3, *pixels.shape[:2]):
        return None
    means, stds = [], []
    for c in range(3):
        x = torch.as_tensor(pixels[..., c], dtype=torch.float64).flatten() / 255
        y = out[c].double().flatten()
        design = torch.stack([x, torch.ones_like(x)], dim=1)
        (scale, shift), *_rest = torch.linalg.lstsq(design, y.unsqueeze(1)).solution.flatten(), None
        if scale.abs() < 1e-9 or not torch.allclose(design @ torch.stack([scale, shift]), y, atol=1e-4):
            return None
        means.append(round(float(-shift / scale), 6))
        stds.append(round(float(1 / scale), 6))
    return tuple(means), tuple(stds)


def _same(a: tuple[tuple[float, ...], tuple[float, ...]], b: tuple[tuple[float, ...], tuple[float, ...]]) -> bool:
    """The same normalisation constants, to four decimals (read off float32 values, they carry rounding)."""
    return all(abs(x - y) < 1e-4 for got, want in zip(a, b) for x, y in zip(got, want))


def test_test_normalisation_matches_training(student, worker):
    train_t = call_student("train_transform()", student.train_transform)
    test_t = call_student("test_transform()", student.test_transform)
    train_n = _normalizations(_described(train_t, "train_transform()"))
    test_n = _normalizations(_described(test_t, "test_transform()"))
    pixels = _random_image(1)
    image = _image_there(worker, pixels)
    out = expect_tensor(call_student("test_transform()(image)", test_t, image), "test_transform()(image)")
    worker.module("torch").manual_seed(0)
    train_out = call_student("train_transform()(image)", train_t, image)
    # What the transforms compute outranks what the worker says they hold: the constants are read off the
    # values whenever the transforms are ToTensor + Normalize maps (no augmentation), else taken as described.
    implied_train, implied_test = _implied_normalization(train_out, pixels), _implied_normalization(out, pixels)
    train_constants = implied_train or (_constants(train_n[-1]) if train_n else None)
    test_constants = implied_test or (_constants(test_n[-1]) if test_n else None)
    hint = _("normalise test images with the same Normalize(mean, std) as training images.")
    identity = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    if train_constants and not _same(train_constants, identity) and (test_constants is None
                                                                     or _same(test_constants, identity)):
        fail(_("test_transform() has no Normalize, but train_transform() normalises with mean "
               "{mean}, std {std}: the model would see test images "
               "on a different scale than it was trained on", mean=str(train_constants[0]),
               std=str(train_constants[1])), hint)
    if train_constants and test_constants and not _same(train_constants, test_constants):
        (train_mean, train_std), (test_mean, test_std) = train_constants, test_constants
        fail(_("test_transform() normalises with mean {test_mean}, std {test_std}, but train_transform() with "
               "mean {train_mean}, std {train_std}: the model would see test images on a different scale than "
               "it was trained on", test_mean=str(test_mean), test_std=str(test_std), train_mean=str(train_mean),
               train_std=str(train_std)), hint)
    if not torch.equal(out, call_student("test_transform()(image)", test_t, image)):
        fail(_("test_transform() gave different results for the same image, expected a deterministic transform"),
             _("keep random augmentation out of the test transform."))
    if train_constants is None:
        train_out = expect_tensor(train_out, "train_transform()(image)")
        if train_out.shape == out.shape and not torch.allclose(train_out, out, atol=1e-6):
            fail(_("test_transform() and train_transform() turn the same image into different values "
                   "(means {test} and {train}), expected the same scaling", test=f"{out.mean().item():.4g}",
                   train=f"{train_out.mean().item():.4g}"), hint)


def test_train_matches_reference(student, worker, oracle, device):
    epochs, lr = 2, 2e-3                 # not the default lr: the argument must be used
    initial_state = oracle.draw("initial", lambda: _seeded_state(0))
    images, labels = oracle.draw("data", lambda: _random_data(96, 3))
    initial = _small_classifier_holding(initial_state, device)
    there = worker.build(initial)
    call = f"train(model, loader, epochs={epochs}, device, lr={lr})"
    result = call_student(call, student.train, there, _batches_there(worker, images, labels, 32, device), epochs,
                          device, lr)
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    result = expect_type(result, (list, tuple), call)
    if len(result) != epochs:
        fail(_("{call} returned {got} losses, expected {expected}, one mean loss per epoch", call=call,
               got=len(result), expected=epochs))
    losses = [_as_float(value, f"{call}[{i}]") for i, value in enumerate(result)]
    trained = state_of(there)
    expected = oracle.expect("outcomes", "cifar10.train_outcomes", initial, images, labels, 32, epochs, lr,
                             device=device)
    if not _same_state(trained, expected["state"]):
        if _same_state(trained, initial.state_dict()):
            fail(_("{call} left the model's parameters unchanged, expected an Adam step per batch", call=call))
        if _same_state(trained, expected["nll_loss"]):
            fail(_("{call} trained with nll_loss on Net's logits: nll_loss expects log-probabilities, so it "
                   "just pushes the right class's raw score up without bound", call=call),
                 _("use nn.CrossEntropyLoss() (it applies log_softmax to the logits itself)."))
        if _same_state(trained, expected["no_zero_grad"]):
            fail(_("{call} let gradients accumulate from batch to batch: the parameters match a loop "
                   "without optimizer.zero_grad()", call=call),
                 _("call optimizer.zero_grad() before loss.backward() in every iteration."))
        if _same_state(trained, expected["default_lr"]):
            fail(_("{call} trained with lr 0.001, expected the lr argument ({lr})", call=call, lr=lr),
                 _("pass lr to torch.optim.Adam(model.parameters(), lr=lr)."))
        fail(_("{call} left the model's parameters different from those after a correct run "
               "(Adam(lr); for every batch: zero_grad, CrossEntropyLoss on the logits, backward, step)", call=call))
    for i, (got, want) in enumerate(zip(losses, expected["losses"])):
        if not abs(got - want) <= 1e-5 * max(1.0, abs(want)):
            fail(_("{call} returned {got} for epoch {epoch}, expected {expected}, the mean of that epoch's "
                   "batch losses", call=call, got=f"{got:.6g}", epoch=i + 1, expected=f"{want:.6g}"),
                 _("collect loss.item() for every batch and return one mean per epoch."))


def test_evaluate_accuracy(student, worker, oracle, device):
    model = _small_classifier_holding(oracle.draw("model", lambda: _seeded_state(1)), device)
    images, labels = oracle.draw("data", lambda: _random_data(150, 4, side=16))
    images = _blocky(images)
    call = "evaluate(model, loader, device)"
    accuracy = _as_float(call_student(call, student.evaluate, worker.build(model),
                                      _batches_there(worker, images, labels, 64, device), device), call)
    expected = oracle.expect("accuracy", "cifar10.accuracy", model, images, labels, 64)
    if abs(accuracy - 100 * expected) < 1e-6 and expected > 0:
        fail(_("{call} gave {got}, a percentage; expected a fraction in [0, 1]: {expected}", call=call,
               got=f"{accuracy:.4g}", expected=f"{expected:.4g}"))
    if not abs(accuracy - expected) < 1e-9:
        fail(_("{call} gave {got}, expected {expected} (correct predictions / images; "
               "the last batch has 22 images)", call=call, got=f"{accuracy:.6g}", expected=f"{expected:.6g}"),
             _("count output.argmax(dim=1) == labels over every batch and divide by the number of images."))


def _instrument(worker, kind: str, device, **kwargs) -> tuple[Remote, nn.Linear]:
    """A kit model (:mod:`autograder.probe.instruments`) giving logits, in the worker; and here the
    linear layer with its weights (what it computes when nothing marks it)."""
    linear = nn.Linear(3 * 32 * 32, 10).to(device)
    made = getattr(worker.module("autograder.probe.instruments"), kind)(3 * 32 * 32, log_probabilities=False, **kwargs)
    made.linear.load_state_dict(linear.state_dict())
    return made.to(str(device)), linear


def _own_predictions(linear: nn.Linear, n: int, seed: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images labelled with what ``linear`` predicts for them: a correct test loop scores exactly 1.0."""
    images, _labels = _random_data(n, seed)
    with torch.no_grad():
        (x, _zeros), = TensorBatches(images, torch.zeros(n, dtype=torch.int64), n, CIFAR10_MEAN, CIFAR10_STD, device=device)
        labels = linear(x.flatten(1)).argmax(dim=1).cpu()
    return images, labels


def test_evaluate_eval_mode_without_gradients(student, worker, device):
    call = "evaluate(model, loader, device)"
    recorder, linear = _instrument(worker, "InputRecorder", device, dropout=0.5)
    recorder.train()
    accuracy = _as_float(call_student(call, student.evaluate, recorder,
                                      _batches_there(worker, *_own_predictions(linear, 64, 5, device), 32, device),
                                      device), call)
    if not recorder.seen:
        fail(_("{call} never ran the model, expected one forward pass per batch", call=call))
    if accuracy != 1.0:
        fail(_("{call} ran the model in training mode: dropout stays active and batch norm keeps updating its "
               "statistics (accuracy {accuracy} on images it classifies perfectly in eval mode)", call=call,
               accuracy=f"{accuracy:.4g}"),
             _("call model.eval() before the test loop."))
    shift = torch.zeros(10, device=device)
    shift[0] = 50.0  # while autograd records, every image is "class 0"
    marker, linear = _instrument(worker, "GradModeMarker", device, shift=shift)
    accuracy = _as_float(call_student(call, student.evaluate, marker,
                                      _batches_there(worker, *_own_predictions(linear, 64, 6, device), 32, device),
                                      device), call)
    if accuracy != 1.0:
        fail(_("{call} ran the model with gradient tracking on: every batch builds an autograd graph that is never "
               "used", call=call), _("put the test loop inside `with torch.no_grad():`."))


def _bias_free_state(seed: int) -> dict[str, torch.Tensor]:
    """:func:`_seeded_state` with the last layer's bias zero."""
    state = _seeded_state(seed)
    state["3.bias"].zero_()
    return state


def test_per_class_accuracy(student, worker, oracle, device):
    model = _small_classifier_holding(oracle.draw("model", lambda: _bias_free_state(2)), device)
    # Labels 0..8 only: 'truck' has no images and must be reported as 0.0.
    images, labels = oracle.draw("data", lambda: _random_data(400, 6, classes=9, side=16))
    images = _blocky(images)
    call = "per_class_accuracy(model, loader, device)"
    result = call_student(call, student.per_class_accuracy, worker.build(model),
                          _batches_there(worker, images, labels, 64, device), device)
    result = expect_type(result, dict, call)
    if list(result) != list(CIFAR10_CLASSES):
        fail(_("{call} gave keys {got}, expected CIFAR-10's class names in label order: {expected}", call=call,
               got=str(list(result)), expected=str(list(CIFAR10_CLASSES))),
             _("use CIFAR10_CLASSES from autograder.data for the keys."))
    expected = oracle.expect("accuracies", "cifar10.per_class", model, images, labels, 64)
    for name in CIFAR10_CLASSES:
        got = _as_float(result[name], f"{call}[{name!r}]")
        if not abs(got - expected[name]) < 1e-6:
            values = {"call": f"{call}[{name!r}]", "got": f"{got:.6g}", "expected": f"{expected[name]:.6g}"}
            fail(_("{call} was {got}, expected {expected} ('truck' has no images in this loader)", **values)
                 if name == CIFAR10_CLASSES[-1] else _("{call} was {got}, expected {expected}", **values),
                 _("for each class: correct predictions among that class's images / that class's images."))


def test_net_accuracy(student, worker, oracle, exercise, profile, device, data_root):
    expect_written(student, "Net", "train")
    budget = exercise.budget(profile)
    threshold = exercise.threshold("net_accuracy", profile)
    with training_precision(device, profile):
        accuracy = call_student(_("training your {name}", name="Net"), train_and_test, worker, student, oracle,
                                budget, device, data_root)
    expect_at_least(accuracy, threshold, _("the test accuracy of your {model} after {budget},", model="Net",
                                           budget=describe_budget(budget)))
