"""Checks for week2/mnist.py: the two models, pixel permutation, the training and test loops, and
what the models learn.

Order: names -> outputs (type, shape, log-probabilities) -> parameters against the course's ->
outputs equal to the reference's with the reference's weights -> gradients -> permute_pixels ->
train_epoch / evaluate against the reference's -> learning under the profile's budget.

What the reference computes comes from the ``oracle`` fixture (``dlkit/oracles/week2/mnist.py``),
for inputs the checks draw. The learning checks train the student's models with the student's
``train_epoch`` on uint8 tensors batched by ``autograder.batches.TensorBatches``, and measure test
accuracy in the course's architecture holding the student's trained weights (in a handout, where
there is none, in the student's own model). ``scripts/calibrate_week2.py`` runs
:func:`train_and_test` on the reference to calibrate the thresholds in ``exercises.toml``.
"""

from __future__ import annotations

import functools
import math
import numbers

import torch
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import MNIST_MEAN, MNIST_STD, TensorBatches, subset
from autograder.data import mnist_tensors
from autograder.expect import (
    call_student, expect_at_least, expect_dtype, expect_equal, expect_gradients_reach, expect_model,
    expect_shape, expect_tensor, expect_tensor_like, expect_type, expect_written, fail,
)
from autograder.i18n import _
from autograder.learning import measure_accuracy
from autograder.models import (
    accuracy_there, expect_gradients_match_reference, gradients, load_reference_weights, load_strictly, spec_of,
    state_of,
)
from autograder.probe import modules
from autograder.probe.client import Remote

NAMES = ("FC2Layer", "CNN", "count_parameters", "permute_pixels", "train_epoch", "evaluate")
COURSE_FC = (784, 8, 10)        # FC2Layer(input_size, n_hidden, output_size)
COURSE_CNN = (784, 6, 10)       # CNN(input_size, n_feature, output_size)
COURSE = {"fc": ("FC2Layer", COURSE_FC), "cnn": ("CNN", COURSE_CNN)}
COURSE_COUNTS = {"FC2Layer": 6442, "CNN": 6422}
OTHER_CNN_SIZES = ((1024, 4, 7), (400, 3, 5))   # 32x32 and 20x20 images: no hard-coded 96 or 10
PIXELS = 784


# ---------------------------------------------------------------- helpers


def _signature(name: str, args: tuple) -> str:
    return f"{name}({', '.join(map(str, args))})"


def _build(student, name: str, args: tuple, device) -> Remote:
    """The student's ``name(*args)``, in the worker, on ``device``."""
    what = _signature(name, args)
    model = expect_model(call_student(what, getattr(student, name), *args), what)
    return call_student(what, model.to, device)


def _load_reference_weights(model: Remote, state: dict[str, torch.Tensor], what: str) -> None:
    load_reference_weights(model, state, what, _("keep the course's layer names and sizes, so that the course's "
                                                 "state_dict loads into your model."))


def _expect_log_probabilities(out, n: int, classes: int, what: str) -> None:
    out = expect_tensor(out, what)
    expect_dtype(out, torch.float32, what)
    expect_shape(out, (n, classes), what)
    sums = out.detach().double().exp().sum(dim=1)
    if torch.allclose(out.detach().double().sum(dim=1), torch.ones(n, dtype=torch.float64), atol=1e-4) \
            and (out >= 0).all():
        fail(_("{what} gave probabilities (each row sums to 1), expected log-probabilities", what=what),
             _("end with LogSoftmax(dim=1) / F.log_softmax(x, dim=1): nll_loss expects log-probabilities."))
    if not torch.allclose(sums, torch.ones(n, dtype=torch.float64), atol=1e-4):
        fail(_("{what} gave rows whose exp() sums to {total}, expected log-probabilities "
               "(exp() of each row sums to 1)", what=what, total=f"{sums[0].item():.4g}"),
             _("end with LogSoftmax(dim=1) / F.log_softmax(x, dim=1) over the class dimension."))


def _as_float(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    expect_type(value, float, what)
    return float(value)


def _random_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images (n, 28, 28) with random int64 labels (n,)."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (n,), generator=generator)
    return images, labels


def _draw_data(oracle, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_random_data`, drawn through the oracle (the handout replays the very same images)."""
    return oracle.draw("data", lambda: _random_data(n, seed))


def _batches_here(images: torch.Tensor, labels: torch.Tensor, batch_size: int, device) -> TensorBatches:
    """Images and labels batched and normalised as MNIST, in a fixed order, here."""
    return TensorBatches(images, labels, batch_size, MNIST_MEAN, MNIST_STD, device=device)


def _batches_there(worker, images: torch.Tensor, labels: torch.Tensor, batch_size: int, device, **options) -> Remote:
    """The same batches as ``TensorBatches(images, labels, ...)`` here, made in the worker (the loader a loop gets)."""
    loader = worker.module("autograder.batches").TensorBatches
    return loader(images, labels, batch_size, MNIST_MEAN, MNIST_STD, device=str(device), **options)


def _small_classifier() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1))


def _linear_classifier() -> nn.Module:
    """What the instruments compute when nothing marks them: log_softmax of the linear map of the pixels
    (layer ``1`` holds their ``linear``'s weights)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, 10), nn.LogSoftmax(dim=1))


def _instrument(worker, kind: str, device, linear: dict[str, torch.Tensor] | None = None, **kwargs) -> Remote:
    """A kit model from :mod:`autograder.probe.instruments` in the worker, its linear layer holding
    ``linear`` (a ``Linear(784, 10)`` state_dict) when given."""
    made = getattr(worker.module("autograder.probe.instruments"), kind)(PIXELS, **kwargs)
    if linear is not None:
        made.linear.load_state_dict(linear)
    return made.to(str(device))


def _inverse(perm: torch.Tensor) -> torch.Tensor:
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel(), device=perm.device)
    return inverse


# ---------------------------------------------------------------- learning under a budget


@functools.lru_cache(maxsize=8)
def _split(train: bool, n: int, pool: int, seed: int, root) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = mnist_tensors(train, root)
    if pool:
        images, labels = images[:pool], labels[:pool]
    return subset(images, labels, n, seed)


def budget_perm(budget: dict) -> torch.Tensor:
    """The experiment's one pixel permutation, shared by training and testing."""
    return torch.randperm(PIXELS, generator=torch.Generator().manual_seed(budget["seed"] + 1))


def describe_budget(budget: dict):
    """The training and testing ``budget`` in words (a message)."""
    values = {"train": f"{budget['train_images']:,}", "batch": budget["batch_size"], "lr": budget["lr"],
              "momentum": budget["momentum"], "test": f"{budget['test_images']:,}"}
    if budget["epochs"] == 1:
        return _("one pass over {train} training images (batch {batch}, SGD lr {lr} momentum {momentum}), "
                 "tested on {test} images", **values)
    return _("{epochs} passes over {train} training images (batch {batch}, SGD lr {lr} momentum {momentum}), "
             "tested on {test} images", epochs=budget["epochs"], **values)


def _permuted_by(module, batches, perm: torch.Tensor | None):
    """``batches`` with ``module.permute_pixels(images, perm)`` applied to each (unchanged when ``perm`` is None)."""
    if perm is None:
        return batches
    return [(module.permute_pixels(images, perm), labels) for images, labels in batches]


def train_and_test(worker, module, mirror, kind: str, permuted: bool, budget: dict, device, root=None) -> float:
    """Train a fresh ``FC2Layer`` (``kind="fc"``) or ``CNN`` (``"cnn"``) from ``module`` with its
    ``train_epoch`` under ``budget``, with or without the budget's pixel permutation, and return its
    test accuracy. Seeded by ``budget["seed"]`` alone.

    ``worker`` is the worker holding ``module`` (a student's module): the model trains there, and its
    trained weights are tested here in ``mirror``, the course's architecture (permuting its inputs
    when ``permuted``); without a mirror (a handout), the model is tested there, on test images
    permuted by the module's own ``permute_pixels``. With ``worker=None``, ``module`` is a module of
    this process (the reference, for calibration), trained and tested here, on test images permuted
    by its own ``permute_pixels``; ``mirror`` is not used.
    """
    available = mnist_tensors(True, root)[0].shape[0]
    if available < budget.get("require_train_images", 0):
        fail(_("this profile trains on the full MNIST training set ({needed} images), but the data root holds "
               "{available}; its thresholds hold only for the full set",
               needed=f"{budget['require_train_images']:,}", available=f"{available:,}"),
             _("run with --profile quick, or point --data-root at a complete copy of MNIST."))
    seed = budget["seed"]
    train_x, train_y = _split(True, budget["train_images"], budget.get("train_pool", 0), seed, root)
    test_x, test_y = _split(False, budget["test_images"], 0, seed, root)
    test = _batches_here(test_x, test_y, budget["test_batch_size"], device)
    perm = budget_perm(budget).to(device) if permuted else None
    name, args = COURSE[kind]
    if worker is None:  # this process's own module: the reference, trained as the student's would be
        torch.manual_seed(seed)
        model = getattr(module, name)(*args).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=budget["lr"], momentum=budget["momentum"])
        batches = TensorBatches(train_x, train_y, budget["batch_size"], MNIST_MEAN, MNIST_STD,
                                shuffle=True, seed=seed, device=device)
        for _epoch in range(budget["epochs"]):
            module.train_epoch(model, batches, optimizer, device, perm)
        return measure_accuracy(model, _permuted_by(module, test, perm))
    torch_there = worker.module("torch")
    torch_there.manual_seed(seed)
    model = _build(module, name, args, device)
    optimizer = torch_there.optim.SGD(model.parameters(), lr=budget["lr"], momentum=budget["momentum"])
    batches = _batches_there(worker, train_x, train_y, budget["batch_size"], device, shuffle=True, seed=seed)
    for _epoch in range(budget["epochs"]):
        module.train_epoch(model, batches, optimizer, device, perm)
    if mirror is None:
        return accuracy_there(worker, model, _permuted_by(module, test, perm))
    return measure_accuracy(load_strictly(mirror.to(device), state_of(model), _("your {name}", name=name)), test)


_ACCURACIES: dict[tuple, float] = {}


def _accuracy(student, worker, oracle, kind: str, permuted: bool, exercise, profile: str, device, root) -> float:
    """``train_and_test`` for the student, run once per pytest run and shared by the learning checks."""
    name, args = COURSE[kind]
    expect_written(student, name, "train_epoch")
    budget = exercise.budget(profile)
    key = (str(student.path), kind, permuted, profile, str(device), str(root), oracle.live)
    if key not in _ACCURACIES:
        what = (_("training your {name} on permuted pixels", name=name) if permuted
                else _("training your {name}", name=name))
        mirror = oracle.mirror("mnist.course_model", name, args, budget_perm(budget) if permuted else None)
        with training_precision(torch.device(device), profile):
            _ACCURACIES[key] = call_student(what, train_and_test, worker, student, mirror, kind, permuted, budget,
                                            device, root)
    return _ACCURACIES[key]


# ---------------------------------------------------------------- checks


def test_names(student):
    found = {name: student.get(name) for name in NAMES}
    missing = [name for name, value in found.items() if not (isinstance(value, Remote) and value.kind.get("callable"))]
    if missing:
        fail(_("{file} does not define {missing}; expected all of {names}", file="mnist.py",
               missing=", ".join(missing), names=", ".join(NAMES)),
             _("keep the names and signatures of the released file."))


def test_fc2layer_log_probabilities(student, device):
    for args, shape in ((COURSE_FC, (5, 1, 28, 28)), ((100, 7, 3), (4, 1, 10, 10))):
        model = _build(student, "FC2Layer", args, device)
        what = _("{model} on a {shape} batch", model=_signature("FC2Layer", args), shape=str(shape))
        out = call_student(what, model, torch.randn(shape, device=device),
                           hint=_("flatten each image to input_size values: x.view(x.shape[0], -1)."))
        _expect_log_probabilities(out, shape[0], args[2], what)


def test_cnn_log_probabilities(student, device):
    model = _build(student, "CNN", COURSE_CNN, device)
    what = _("{model} on a {shape} batch", model=_signature("CNN", COURSE_CNN), shape="(5, 1, 28, 28)")
    out = call_student(what, model, torch.randn(5, 1, 28, 28, device=device))
    _expect_log_probabilities(out, 5, 10, what)


def _course_spec(oracle, name: str, args: tuple) -> dict:
    """The spec of the course's ``name(*args)`` (:mod:`autograder.probe.modules`): its parameters' names and shapes."""
    return oracle.expect(f"spec/{name}", "mnist.course_spec", name, args)


def test_count_parameters(student, worker, oracle):
    def a(model: str):
        return _("count_parameters(a {model})", model=model)

    def reference(model: str):
        return _("count_parameters(the reference {model})", model=model)

    cases = [
        (nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2)), 58, a("Sequential(Linear(5, 7), ReLU(), Linear(7, 2))")),
        (nn.Conv2d(3, 4, 3), 112, a("Conv2d(3, 4, 3)")),
        (modules.build(_course_spec(oracle, "FC2Layer", COURSE_FC), skeleton=True), 6442,
         reference("FC2Layer(784, 8, 10)")),
        (modules.build(_course_spec(oracle, "CNN", COURSE_CNN), skeleton=True), 6422, reference("CNN(784, 6, 10)")),
    ]
    for model, expected, call in cases:
        there = worker.build(model, skeleton=True)   # the same parameters, in modules of their own
        got = call_student(call, student.count_parameters, there)
        expect_equal(got, expected, call, hint=_("add up p.numel() over model.parameters(): weights and biases alike."))


def _expect_gradients_as_course(worker, oracle, model: Remote, name: str, args: tuple, x, labels, what: str, hint: str,
                                **options) -> None:
    """The student's gradients for ``nll_loss(model(x), labels)`` are the course's model's with the same
    weights (kit only: a handout has no course model to hold them)."""
    mirror = oracle.mirror("mnist.course_model", name, args)
    if mirror is not None:
        expect_gradients_match_reference(worker, model, mirror.to(x.device), x, labels, "nll_loss", what, hint, **options)


def test_parameters_match_course(student, worker, oracle, device):
    for name, args in COURSE.values():
        what = _signature(name, args)
        model = _build(student, name, args, device)
        expected = modules.parameter_shapes(_course_spec(oracle, name, args))
        got = modules.parameter_shapes(spec_of(model, what))
        if set(got) != set(expected):
            fail(_("{what} has parameters {got}, expected {expected}", what=what, got=str(sorted(got)),
                   expected=str(sorted(expected))),
                 _("use the course's layer names: {names}.",
                   names="self.network = nn.Sequential(...)" if name == "FC2Layer" else "conv1, conv2, fc1, fc2"))
        for key, shape in expected.items():
            expect_equal(got[key], shape, _("the shape of {model}'s {key}", model=what, key=key))
        expect_equal(sum(math.prod(shape) for shape in got.values()), COURSE_COUNTS[name],
                     _("the number of parameters of {model}", model=what))
        # the parameters the worker describes, held to what the model computes with them
        x, labels = torch.randn(8, 1, 28, 28, device=device), torch.randint(0, 10, (8,), device=device)
        _expect_gradients_as_course(worker, oracle, model, name, args, x, labels, what,
                                    _("each parameter must play its part of the course's model."), unless_it_fails=True)


def _expect_matches_reference(student, oracle, name, args, side, device):
    what = _signature(name, args)
    x = oracle.draw(f"x/{side}", lambda: torch.randn(6, 1, side, side))
    reference = oracle.expect(f"reference/{side}", "mnist.outputs", name, args, x, on=str(device), device=device)
    mine = _build(student, name, args, device)
    _load_reference_weights(mine, reference["state"], what)
    call = _("{model} with the reference's weights, on a {shape} batch", model=what, shape=f"(6, 1, {side}, {side})")
    out = call_student(call, mine, x.to(device),
                       hint=_("compute the flattened size from input_size and n_feature (or use x.flatten(1)); "
                              "6*4*4 = 96 holds only for 28x28 images with 6 features.") if name == "CNN" else None)
    expect_tensor_like(out, reference["output"], call, atol=1e-5, rtol=1e-4)


def test_fc2layer_matches_reference(student, oracle, device):
    _expect_matches_reference(student, oracle, "FC2Layer", COURSE_FC, 28, device)


def test_cnn_matches_reference(student, oracle, device):
    _expect_matches_reference(student, oracle, "CNN", COURSE_CNN, 28, device)


def test_cnn_other_sizes(student, oracle, device):
    for args in OTHER_CNN_SIZES:
        side = int(round(args[0] ** 0.5))
        _expect_matches_reference(student, oracle, "CNN", args, side, device)


def test_gradients_reach_every_parameter(student, worker, oracle, device):
    for name, args in COURSE.values():
        model = _build(student, name, args, device)
        what = _signature(name, args)
        x, labels = torch.randn(16, 1, 28, 28, device=device), torch.randint(0, 10, (16,), device=device)
        got = gradients(worker, model, x, labels, "nll_loss", what)
        expect_gradients_reach(got, what)
        _expect_gradients_as_course(worker, oracle, model, name, args, x, labels, what,
                                    _("is every layer used in forward() as the course's model uses it, with nothing "
                                      "detached?"), got=got)


def test_permute_pixels(student, worker, oracle):
    images = oracle.draw("images", lambda: torch.randn(5, 1, 28, 28))
    perm = oracle.draw("perm", lambda: torch.randperm(PIXELS))
    expected = oracle.expect("permuted", "mnist.permute_pixels", images, perm)
    inverted = oracle.expect("permuted/inverse", "mnist.permute_pixels", images, _inverse(perm))
    clone = worker.module("torch").Tensor.clone
    images_there = clone.keep(images)   # kept in the worker, to see afterwards whether it was changed
    call = "permute_pixels(images, perm)"
    out = call_student(call, student.permute_pixels, images_there, perm)
    out = expect_tensor(out, call)
    if out.shape == expected.shape and torch.equal(out, inverted):
        fail(_("{call} applied the inverse permutation: pixel j went to position perm[j]", call=call),
             _("expected out.view(N, -1)[:, j] == images.view(N, -1)[:, perm[j]]: index with perm, "
               "images.view(N, -1)[:, perm]."))
    expect_tensor_like(out, expected, call, atol=0, rtol=0,
                       hint=_("index the flattened pixels with perm: images.view(N, -1)[:, perm], then reshape."))
    if not torch.equal(clone(images_there), images):
        fail(_("{call} changed the images it was given, expected it to leave them alone", call=call))


def _expect_saw(seen: list, call: str, batches, expected_batches, permuted: bool) -> None:
    """A loop fed the model every batch of ``expected_batches`` (``seen``: what the model got):
    ``batches`` permuted when ``permuted``, else ``batches`` themselves."""
    originals = [images.cpu() for images, _ in batches]
    expected = [images.cpu() for images, _ in expected_batches]
    if len(seen) != len(expected):
        fail(_("{call} ran the model on {got} batches, expected {expected} "
               "(one forward pass per batch of the loader)", call=call, got=len(seen), expected=len(expected)))
    for i, (got, want, original) in enumerate(zip(seen, expected, originals), start=1):
        if got.shape != want.shape:
            fail(_("{call} gave the model a batch of shape {got}, expected {expected}", call=call,
                   got=str(tuple(got.shape)), expected=str(tuple(want.shape))))
        if torch.equal(got, want):
            continue
        if not permuted:
            fail(_("{call} with perm=None changed batch {i} before the model saw it, expected the images unchanged",
                   call=call, i=i))
        if torch.equal(got, original):
            fail(_("{call}: batch {i} reached the model without its pixels permuted, "
                   "expected permute_pixels(images, perm)", call=call, i=i))
        same_pixels = torch.equal(got.flatten(1).sort(dim=1).values, want.flatten(1).sort(dim=1).values)
        if same_pixels:
            fail(_("{call}: batch {i} reached the model with its pixels in an order other than perm "
                   "(batches 1 to {last} were right)", call=call, i=i, last=i - 1) if i > 1 else
                 _("{call}: batch {i} reached the model with its pixels in an order other than perm", call=call, i=i),
                 _("apply the same `perm` argument to every batch; do not draw a new permutation inside the loop."))
        fail(_("{call}: batch {i} reached the model as different images than permute_pixels(images, perm)",
               call=call, i=i))


def _expect_permutes_every_batch(oracle, run, seed: int, device) -> None:
    """``run(call, loader, perm)`` runs a loop of the student's on a kit model in the worker that records
    its inputs, and returns them; the loop must feed it every batch of the loader (96 drawn images,
    batch 32), untouched with ``perm=None`` and permuted with a drawn ``perm``."""
    images, labels = _draw_data(oracle, 96, seed)
    perm = oracle.draw("perm", lambda: torch.randperm(PIXELS))
    permuted = oracle.expect("permuted", "mnist.permute_pixels", images, perm)
    batches = list(_batches_here(images, labels, 32, device))
    for p, expected in ((None, batches), (perm, _batches_here(permuted, labels, 32, device))):
        _expect_saw(*run(images, labels, p), batches, expected, p is not None)


def test_train_epoch_permutes_every_batch(student, worker, oracle, device):
    def run(images, labels, perm):
        recorder = _instrument(worker, "InputRecorder", device)
        optimizer = worker.module("torch").optim.SGD(recorder.parameters(), lr=0.01)
        call = "train_epoch(model, loader, optimizer, device" + (", perm)" if perm is not None else ")")
        call_student(call, student.train_epoch, recorder, _batches_there(worker, images, labels, 32, device),
                     optimizer, device, perm)
        return recorder.seen, call

    _expect_permutes_every_batch(oracle, run, 1, device)


def test_evaluate_permutes_every_batch(student, worker, oracle, device):
    def run(images, labels, perm):
        recorder = _instrument(worker, "InputRecorder", device)
        call = "evaluate(model, loader, device" + (", perm)" if perm is not None else ")")
        call_student(call, student.evaluate, recorder, _batches_there(worker, images, labels, 32, device), device, perm)
        return recorder.seen, call

    _expect_permutes_every_batch(oracle, run, 2, device)


def test_train_epoch_matches_reference(student, worker, oracle, device):
    spec = modules.describe(_small_classifier())
    initial = oracle.draw("initial", lambda: _small_classifier().state_dict())
    images, labels = _draw_data(oracle, 128, 3)

    def after(key: str, **options) -> dict:
        """The reference's epoch from ``initial``: ``{"loss": float, "state": state_dict}``."""
        return oracle.expect(key, "mnist.train_epoch", spec, initial, images, labels, 32, lr=0.01, momentum=0.5,
                             on=str(device), device=device, **options)

    there = worker.build(modules.build(spec, initial).to(device))
    optimizer = worker.module("torch").optim.SGD(there.parameters(), lr=0.01, momentum=0.5)
    call = "train_epoch(model, loader, optimizer, device)"
    result = call_student(call, student.train_epoch, there, _batches_there(worker, images, labels, 32, device),
                          optimizer, device)
    loss = _as_float(result, call)
    state = state_of(there)
    expected, accumulated = after("after"), after("after/without_zero_grad", zero_grad=False)

    def same(a: dict, b: dict) -> bool:
        return all(torch.allclose(a[k].to(b[k].device), b[k], atol=1e-6, rtol=1e-5) for k in b)

    if not same(state, expected["state"]):
        if same(state, {k: v.to(device) for k, v in initial.items()}):
            fail(_("{call} left the model's parameters unchanged, expected one SGD step per batch", call=call),
                 _("call loss.backward() and then optimizer.step() for every batch."))
        if same(state, accumulated["state"]):
            fail(_("{call} let gradients accumulate from batch to batch: the parameters match a loop "
                   "without optimizer.zero_grad()", call=call),
                 _("call optimizer.zero_grad() before loss.backward() in every iteration."))
        fail(_("{call} left the model's parameters different from those after a correct epoch "
               "(for every batch: zero_grad, nll_loss on the model's output, backward, step)", call=call))
    expected_loss = expected["loss"]
    if not abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)):
        fail(_("{call} returned {got}, expected {expected}, the mean of the batch losses", call=call,
               got=f"{loss:.6g}", expected=f"{expected_loss:.6g}"),
             _("collect loss.item() for every batch and return their mean."))


def _evaluate_result(result, call: str) -> tuple[float, float]:
    result = expect_type(result, tuple, call)
    if len(result) != 2:
        fail(_("{call} gave a tuple of {count} values, expected (mean loss per sample, accuracy)", call=call,
               count=len(result)))
    return _as_float(result[0], f"{call}[0]"), _as_float(result[1], f"{call}[1]")


def _spread_classifier() -> dict[str, torch.Tensor]:
    """A :func:`_small_classifier`'s state_dict with spread-out predictions, so accuracy is informative."""
    model = _small_classifier()
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=0.2)
    return model.state_dict()


def test_evaluate_loss_and_accuracy(student, worker, oracle, device):
    spec = modules.describe(_small_classifier())
    state = oracle.draw("model", _spread_classifier)
    images, labels = _draw_data(oracle, 150, 4)
    call = "evaluate(model, loader, device)"
    model = worker.build(modules.build(spec, state).to(device))
    result = call_student(call, student.evaluate, model, _batches_there(worker, images, labels, 64, device), device)
    loss, accuracy = _evaluate_result(result, call)
    expected = oracle.expect("expected", "mnist.evaluate", spec, state, images, labels, 64, on=str(device))
    expected_loss, expected_accuracy, mean_of_means = expected["loss"], expected["accuracy"], expected["mean_of_batch_means"]
    if abs(accuracy - 100 * expected_accuracy) < 1e-6 and expected_accuracy > 0:
        fail(_("{call} gave accuracy {got}, a percentage; expected a fraction in [0, 1]: {expected}", call=call,
               got=f"{accuracy:.4g}", expected=f"{expected_accuracy:.4g}"))
    if not abs(accuracy - expected_accuracy) < 1e-9:
        fail(_("{call} gave accuracy {got}, expected {expected} "
               "(correct predictions / images; the last batch has 22 images)", call=call, got=f"{accuracy:.6g}",
               expected=f"{expected_accuracy:.6g}"),
             _("count output.argmax(dim=1) == labels over every batch and divide by the number of images."))
    if abs(loss - mean_of_means) < 1e-6 * max(1.0, abs(mean_of_means)) and abs(mean_of_means - expected_loss) > 1e-4:
        fail(_("{call} gave mean loss {got}, the mean of the batch means; expected {expected}, "
               "the summed loss divided by the number of images (the last batch has 22 images, not 64)", call=call,
               got=f"{loss:.6g}", expected=f"{expected_loss:.6g}"),
             _("add up nll_loss(output, labels, reduction='sum') and divide by the number of images."))
    if not abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)):
        fail(_("{call} gave mean loss {got}, expected {expected} "
               "(nll_loss summed over every image, divided by the number of images)", call=call,
               got=f"{loss:.6g}", expected=f"{expected_loss:.6g}"))


def _instrument_loss(oracle, linear: dict[str, torch.Tensor], images, labels, device) -> float:
    """The reference ``evaluate``'s mean loss of :func:`_linear_classifier` holding ``linear`` (batch 32)."""
    spec = modules.describe(_linear_classifier())
    state = {f"1.{key}": value for key, value in linear.items()}
    return oracle.expect("expected", "mnist.evaluate", spec, state, images, labels, 32, on=str(device))["loss"]


def test_evaluate_uses_eval_mode(student, worker, oracle, device):
    linear = oracle.draw("linear", lambda: nn.Linear(PIXELS, 10).state_dict())
    images, labels = _draw_data(oracle, 64, 5)
    recorder = _instrument(worker, "InputRecorder", device, linear, dropout=0.5)
    recorder.train()
    call = "evaluate(model, loader, device)"
    result = call_student(call, student.evaluate, recorder, _batches_there(worker, images, labels, 32, device), device)
    if not recorder.seen:
        fail(_("{call} never ran the model, expected one forward pass per batch", call=call))
    loss, _accuracy = _evaluate_result(result, call)
    expected_loss = _instrument_loss(oracle, linear, images, labels, device)
    if not abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)):
        fail(_("{call} ran the model in training mode: dropout stays active and batch norm keeps updating its "
               "statistics, so test results are noisy and wrong (mean loss {got}; in eval mode {expected})",
               call=call, got=f"{loss:.6g}", expected=f"{expected_loss:.6g}"),
             _("call model.eval() before the test loop."))


def test_evaluate_without_gradients(student, worker, oracle, device):
    linear = oracle.draw("linear", lambda: nn.Linear(PIXELS, 10).state_dict())
    images, labels = _draw_data(oracle, 64, 5)
    shift = torch.zeros(10, device=device)
    shift[0] = 50.0  # while autograd records, every image is "class 0" with a far larger loss
    marker = _instrument(worker, "GradModeMarker", device, linear, shift=shift)
    call = "evaluate(model, loader, device)"
    result = call_student(call, student.evaluate, marker, _batches_there(worker, images, labels, 32, device), device)
    loss, _accuracy = _evaluate_result(result, call)
    expected_loss = _instrument_loss(oracle, linear, images, labels, device)
    if not abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)):
        fail(_("{call} ran the model with gradient tracking on: every batch builds an autograd graph that is never "
               "used (memory and time wasted)", call=call), _("put the test loop inside `with torch.no_grad():`."))


def test_fc_accuracy(student, worker, oracle, exercise, profile, device, data_root):
    threshold = exercise.threshold("fc_accuracy", profile)
    accuracy = _accuracy(student, worker, oracle, "fc", False, exercise, profile, device, data_root)
    expect_at_least(accuracy, threshold, _("the test accuracy of your {model} after {budget},",
                                           model="FC2Layer(784, 8, 10)", budget=describe_budget(exercise.budget(profile))))


def test_cnn_accuracy(student, worker, oracle, exercise, profile, device, data_root):
    threshold = exercise.threshold("cnn_accuracy", profile)
    accuracy = _accuracy(student, worker, oracle, "cnn", False, exercise, profile, device, data_root)
    expect_at_least(accuracy, threshold, _("the test accuracy of your {model} after {budget},",
                                           model="CNN(784, 6, 10)", budget=describe_budget(exercise.budget(profile))))


def _expect_both_learned(fc: float, cnn: float, exercise, profile: str) -> None:
    """A comparison of two models means something only when both learned (passed their accuracy floor)."""
    fc_floor, cnn_floor = exercise.threshold("fc_accuracy", profile), exercise.threshold("cnn_accuracy", profile)
    if fc < fc_floor or cnn < cnn_floor:
        fail(_("your FC2Layer reached test accuracy {fc} (needs {fc_floor}) and your CNN {cnn} (needs "
               "{cnn_floor}): a model that did not learn cannot support this comparison", fc=f"{fc:.3f}",
               fc_floor=f"{fc_floor:.3f}", cnn=f"{cnn:.3f}", cnn_floor=f"{cnn_floor:.3f}"),
             _("fix fc_accuracy and cnn_accuracy first."))


def test_cnn_beats_fc(student, worker, oracle, exercise, profile, device, data_root):
    margin = exercise.threshold("cnn_minus_fc", profile)
    fc = _accuracy(student, worker, oracle, "fc", False, exercise, profile, device, data_root)
    cnn = _accuracy(student, worker, oracle, "cnn", False, exercise, profile, device, data_root)
    _expect_both_learned(fc, cnn, exercise, profile)
    if not cnn - fc >= margin:
        fail(_("your CNN's test accuracy {cnn} minus your FC2Layer's {fc} was {difference}, expected "
               "at least {margin}: with the same parameter budget the CNN should win on images", cnn=f"{cnn:.3f}",
               fc=f"{fc:.3f}", difference=f"{cnn - fc:.3f}", margin=f"{margin:.3f}"))


def test_permutation_hurts_cnn_more(student, worker, oracle, exercise, profile, device, data_root):
    args = (student, worker, oracle)
    fc, cnn = (_accuracy(*args, kind, False, exercise, profile, device, data_root) for kind in ("fc", "cnn"))
    _expect_both_learned(fc, cnn, exercise, profile)
    fc_perm, cnn_perm = (_accuracy(*args, kind, True, exercise, profile, device, data_root) for kind in ("fc", "cnn"))
    fc_drop, cnn_drop = fc - fc_perm, cnn - cnn_perm
    fc_limit = exercise.threshold("fc_drop_at_most", profile)
    if not fc_drop <= fc_limit:
        fail(_("permuting the pixels cost your FC2Layer {drop} accuracy ({before} -> {after}), expected "
               "at most {limit}: a fully connected net does not care about pixel order when every image "
               "uses the same permutation", drop=f"{fc_drop:.3f}", before=f"{fc:.3f}", after=f"{fc_perm:.3f}",
               limit=f"{fc_limit:.3f}"),
             _("train and test with the same `perm` for every batch."))
    gap = exercise.threshold("cnn_drop_minus_fc_drop", profile)
    if not cnn_drop - fc_drop >= gap:
        fail(_("permuting the pixels cost your CNN {cnn_drop} ({cnn} -> {cnn_perm}) and your FC2Layer "
               "{fc_drop} ({fc} -> {fc_perm}); expected the CNN to lose at least {gap} more: "
               "convolutions rely on neighbouring pixels, which the permutation scatters",
               cnn_drop=f"{cnn_drop:.3f}", cnn=f"{cnn:.3f}", cnn_perm=f"{cnn_perm:.3f}", fc_drop=f"{fc_drop:.3f}",
               fc=f"{fc:.3f}", fc_perm=f"{fc_perm:.3f}", gap=f"{gap:.3f}"))
