"""Checks for week2/mnist.py: the two models, pixel permutation, the training and test loops, and
what the models learn.

Order: names -> outputs (type, shape, log-probabilities) -> parameters against the course's ->
outputs equal to the reference's with the reference's weights -> gradients -> permute_pixels ->
train_epoch / evaluate against a correct loop -> learning under the profile's budget.

The learning checks train the student's models with the student's ``train_epoch`` and measure
test accuracy with the kit's own loop (below), on uint8 tensors batched by
``autograder.batches.TensorBatches``. ``scripts/calibrate_week2.py`` runs the same functions on
the reference to calibrate the thresholds in ``exercises.toml``.
"""

from __future__ import annotations

import copy
import functools
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import MNIST_MEAN, MNIST_STD, TensorBatches, subset
from autograder.data import mnist_tensors
from autograder.expect import (
    call_student, expect_at_least, expect_dtype, expect_equal, expect_gradients_reach,
    expect_shape, expect_tensor, expect_tensor_like, expect_type, expect_written, fail,
)

NAMES = ("FC2Layer", "CNN", "count_parameters", "permute_pixels", "train_epoch", "evaluate")
COURSE_FC = (784, 8, 10)        # FC2Layer(input_size, n_hidden, output_size)
COURSE_CNN = (784, 6, 10)       # CNN(input_size, n_feature, output_size)
COURSE_COUNTS = {"FC2Layer": 6442, "CNN": 6422}
OTHER_CNN_SIZES = ((1024, 4, 7), (400, 3, 5))   # 32x32 and 20x20 images: no hard-coded 96 or 10
PIXELS = 784


# ---------------------------------------------------------------- helpers


def _signature(name: str, args: tuple) -> str:
    return f"{name}({', '.join(map(str, args))})"


def _build(student, submission, name: str, args: tuple, device) -> nn.Module:
    what = _signature(name, args)
    model = expect_type(call_student(submission, what, getattr(student, name), *args), nn.Module, what)
    return model.to(device)


def _load_reference_weights(model: nn.Module, reference_model: nn.Module, what: str) -> None:
    try:
        model.load_state_dict(reference_model.state_dict())
    except RuntimeError as error:
        details = "; ".join(line.strip() for line in str(error).splitlines()[1:] if line.strip())
        fail(f"loading the reference's weights into {what} failed: {details or error}",
             "keep the course's layer names and sizes, so that the course's state_dict loads into your model.")


def _expect_log_probabilities(out, n: int, classes: int, what: str) -> None:
    out = expect_tensor(out, what)
    expect_dtype(out, torch.float32, what)
    expect_shape(out, (n, classes), what)
    sums = out.detach().double().exp().sum(dim=1)
    if torch.allclose(out.detach().double().sum(dim=1), torch.ones(n, dtype=torch.float64), atol=1e-4) \
            and (out >= 0).all():
        fail(f"{what} gave probabilities (each row sums to 1), expected log-probabilities",
             "end with LogSoftmax(dim=1) / F.log_softmax(x, dim=1): nll_loss expects log-probabilities.")
    if not torch.allclose(sums, torch.ones(n, dtype=torch.float64), atol=1e-4):
        fail(f"{what} gave rows whose exp() sums to {sums[0].item():.4g}, expected log-probabilities "
             "(exp() of each row sums to 1)",
             "end with LogSoftmax(dim=1) / F.log_softmax(x, dim=1) over the class dimension.")


def _as_float(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    expect_type(value, float, what)
    return float(value)


def _random_batches(n: int, batch_size: int, seed: int, device) -> TensorBatches:
    """Random 28x28 uint8 images with random labels, normalised as MNIST, in a fixed order."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (n,), generator=generator)
    return TensorBatches(images, labels, batch_size, MNIST_MEAN, MNIST_STD, device=device)


def _small_classifier() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(dim=1))


class _Recorder(nn.Module):
    """A linear classifier on the pixels that keeps what it was given and how it was run."""

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(PIXELS, 10)
        self.dropout = nn.Dropout(dropout)
        self.seen: list[torch.Tensor] = []
        self.modes: list[tuple[bool, bool]] = []     # (training, grad enabled) per forward call

    def forward(self, x):
        self.seen.append(x.detach().to("cpu", copy=True))
        self.modes.append((self.training, torch.is_grad_enabled()))
        return F.log_softmax(self.linear(self.dropout(x.reshape(x.shape[0], -1))), dim=1)


def _kit_permute(images: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    return images.reshape(images.shape[0], -1)[:, perm.to(images.device)].reshape(images.shape)


def _epoch(model, batches, optimizer, zero_grad: bool = True) -> float:
    """A correct training epoch (``zero_grad=False``: the classic mistake), returning the mean batch loss."""
    model.train()
    losses = []
    for images, labels in batches:
        if zero_grad:
            optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def measure_accuracy(model: nn.Module, batches, perm: torch.Tensor | None = None) -> float:
    """The kit's test loop: accuracy of ``model`` on ``batches``, in eval mode, without gradients."""
    model.eval()
    correct, seen = 0, 0
    with torch.no_grad():
        for images, labels in batches:
            if perm is not None:
                images = _kit_permute(images, perm)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            seen += labels.shape[0]
    return correct / seen


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


def describe_budget(budget: dict) -> str:
    epochs = budget["epochs"]
    passes = "one pass" if epochs == 1 else f"{epochs} passes"
    return (f"{passes} over {budget['train_images']:,} training images (batch {budget['batch_size']}, "
            f"SGD lr {budget['lr']} momentum {budget['momentum']}), tested on {budget['test_images']:,} images")


def train_and_test(module, kind: str, permuted: bool, budget: dict, device, root=None) -> float:
    """Train a fresh ``FC2Layer`` (``kind="fc"``) or ``CNN`` (``"cnn"``) from ``module`` with its
    ``train_epoch`` under ``budget``, with or without the budget's pixel permutation; return its
    test accuracy measured by :func:`measure_accuracy`. Seeded by ``budget["seed"]`` alone.
    """
    available = mnist_tensors(True, root)[0].shape[0]
    if available < budget.get("require_train_images", 0):
        fail(f"this profile trains on the full MNIST training set ({budget['require_train_images']:,} images), "
             f"but the data root holds {available:,}; its thresholds hold only for the full set",
             "run with --profile quick, or point --data-root at a complete copy of MNIST.")
    seed = budget["seed"]
    train_x, train_y = _split(True, budget["train_images"], budget.get("train_pool", 0), seed, root)
    test_x, test_y = _split(False, budget["test_images"], 0, seed, root)
    perm = budget_perm(budget).to(device) if permuted else None
    torch.manual_seed(seed)
    model = (module.FC2Layer(*COURSE_FC) if kind == "fc" else module.CNN(*COURSE_CNN)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=budget["lr"], momentum=budget["momentum"])
    batches = TensorBatches(train_x, train_y, budget["batch_size"], MNIST_MEAN, MNIST_STD,
                            shuffle=True, seed=seed, device=device)
    for _ in range(budget["epochs"]):
        module.train_epoch(model, batches, optimizer, device, perm)
    test = TensorBatches(test_x, test_y, budget["test_batch_size"], MNIST_MEAN, MNIST_STD, device=device)
    return measure_accuracy(model, test, perm)


_ACCURACIES: dict[tuple, float] = {}


def _accuracy(student, submission, kind: str, permuted: bool, exercise, profile: str, device, root) -> float:
    """``train_and_test`` for the student, run once per pytest run and shared by the learning checks."""
    expect_written(student, "FC2Layer" if kind == "fc" else "CNN", "train_epoch")
    budget = exercise.budget(profile)
    key = (id(student), kind, permuted, profile, str(device), str(root))
    if key not in _ACCURACIES:
        what = f"training your {'FC2Layer' if kind == 'fc' else 'CNN'}" + (" on permuted pixels" if permuted else "")
        with training_precision(torch.device(device), profile):
            _ACCURACIES[key] = call_student(submission, what, train_and_test, student, kind, permuted, budget, device, root)
    return _ACCURACIES[key]


# ---------------------------------------------------------------- checks


def test_names(student):
    missing = [name for name in NAMES if not callable(getattr(student, name, None))]
    if missing:
        fail(f"mnist.py does not define {', '.join(missing)}; expected all of {', '.join(NAMES)}",
             "keep the names and signatures of the released file.")


def test_fc2layer_log_probabilities(student, submission, device):
    for args, shape in ((COURSE_FC, (5, 1, 28, 28)), ((100, 7, 3), (4, 1, 10, 10))):
        model = _build(student, submission, "FC2Layer", args, device)
        what = f"{_signature('FC2Layer', args)} on a {shape} batch"
        out = call_student(submission, what, model, torch.randn(shape, device=device),
                    hint="flatten each image to input_size values: x.view(x.shape[0], -1).")
        _expect_log_probabilities(out, shape[0], args[2], what)


def test_cnn_log_probabilities(student, submission, device):
    model = _build(student, submission, "CNN", COURSE_CNN, device)
    what = f"{_signature('CNN', COURSE_CNN)} on a (5, 1, 28, 28) batch"
    out = call_student(submission, what, model, torch.randn(5, 1, 28, 28, device=device))
    _expect_log_probabilities(out, 5, 10, what)


def test_count_parameters(student, submission, reference):
    cases = [
        (nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2)), 58, "a Sequential(Linear(5, 7), ReLU(), Linear(7, 2))"),
        (nn.Conv2d(3, 4, 3), 112, "a Conv2d(3, 4, 3)"),
        (reference.FC2Layer(*COURSE_FC), 6442, "the reference FC2Layer(784, 8, 10)"),
        (reference.CNN(*COURSE_CNN), 6422, "the reference CNN(784, 6, 10)"),
    ]
    for model, expected, label in cases:
        got = call_student(submission, f"count_parameters({label})", student.count_parameters, model)
        expect_equal(got, expected, f"count_parameters({label})",
                     hint="add up p.numel() over model.parameters(): weights and biases alike.")


def test_parameters_match_course(student, submission, reference, device):
    for name, args in (("FC2Layer", COURSE_FC), ("CNN", COURSE_CNN)):
        what = _signature(name, args)
        mine = _build(student, submission, name, args, device)
        expected = {key: tuple(p.shape) for key, p in getattr(reference, name)(*args).named_parameters()}
        got = {key: tuple(p.shape) for key, p in mine.named_parameters()}
        if set(got) != set(expected):
            fail(f"{what} has parameters {sorted(got)}, expected {sorted(expected)}",
                 "use the course's layer names: " + ("self.network = nn.Sequential(...)" if name == "FC2Layer"
                                                      else "conv1, conv2, fc1, fc2") + ".")
        for key, shape in expected.items():
            expect_equal(got[key], shape, f"the shape of {what}'s {key}")
        expect_equal(sum(p.numel() for p in mine.parameters()), COURSE_COUNTS[name],
                     f"the number of parameters of {what}")


def _expect_matches_reference(student, submission, reference, name, args, side, device):
    what = _signature(name, args)
    reference_model = getattr(reference, name)(*args).to(device)
    mine = _build(student, submission, name, args, device)
    _load_reference_weights(mine, reference_model, what)
    x = torch.randn(6, 1, side, side, device=device)
    call = f"{what} with the reference's weights, on a (6, 1, {side}, {side}) batch"
    out = call_student(submission, call, mine, x,
                hint="compute the flattened size from input_size and n_feature (or use x.flatten(1)); "
                     "6*4*4 = 96 holds only for 28x28 images with 6 features." if name == "CNN" else None)
    with torch.no_grad():
        expected = reference_model(x)
    expect_tensor_like(out, expected, call, atol=1e-5, rtol=1e-4)


def test_fc2layer_matches_reference(student, submission, reference, device):
    _expect_matches_reference(student, submission, reference, "FC2Layer", COURSE_FC, 28, device)


def test_cnn_matches_reference(student, submission, reference, device):
    _expect_matches_reference(student, submission, reference, "CNN", COURSE_CNN, 28, device)


def test_cnn_other_sizes(student, submission, reference, device):
    for args in OTHER_CNN_SIZES:
        side = int(round(args[0] ** 0.5))
        _expect_matches_reference(student, submission, reference, "CNN", args, side, device)


def test_gradients_reach_every_parameter(student, submission, device):
    for name, args in (("FC2Layer", COURSE_FC), ("CNN", COURSE_CNN)):
        model = _build(student, submission, name, args, device)
        what = _signature(name, args)
        out = call_student(submission, what, model, torch.randn(16, 1, 28, 28, device=device))
        F.nll_loss(out, torch.randint(0, 10, (16,), device=device)).backward()
        expect_gradients_reach(model, what)


def test_permute_pixels(student, submission):
    images = torch.randn(5, 1, 28, 28)
    before = images.clone()
    perm = torch.randperm(PIXELS)
    out = call_student(submission, "permute_pixels(images, perm)", student.permute_pixels, images, perm)
    expected = _kit_permute(before, perm)
    out = expect_tensor(out, "permute_pixels(images, perm)")
    if out.shape == expected.shape and torch.equal(out, _kit_permute(before, _inverse(perm))):
        fail("permute_pixels(images, perm) applied the inverse permutation: pixel j went to position perm[j]",
             "expected out.view(N, -1)[:, j] == images.view(N, -1)[:, perm[j]]: index with perm, "
             "images.view(N, -1)[:, perm].")
    expect_tensor_like(out, expected, "permute_pixels(images, perm)", atol=0, rtol=0,
                       hint="index the flattened pixels with perm: images.view(N, -1)[:, perm], then reshape.")
    if not torch.equal(images, before):
        fail("permute_pixels(images, perm) changed the images it was given, expected it to leave them alone")


def _expect_saw(recorder: _Recorder, batches, perm, call: str) -> None:
    """The recorder saw every batch of ``batches``, permuted by ``perm`` (or untouched when None)."""
    expected = [(images if perm is None else _kit_permute(images, perm)).cpu() for images, _ in batches]
    if len(recorder.seen) != len(expected):
        fail(f"{call} ran the model on {len(recorder.seen)} batches, expected {len(expected)} "
             "(one forward pass per batch of the loader)")
    for i, (seen, want) in enumerate(zip(recorder.seen, expected), start=1):
        if seen.shape != want.shape:
            fail(f"{call} gave the model a batch of shape {tuple(seen.shape)}, expected {tuple(want.shape)}")
        if torch.equal(seen, want):
            continue
        if perm is None:
            fail(f"{call} with perm=None changed batch {i} before the model saw it, expected the images unchanged")
        if torch.equal(seen, _kit_permute(want, _inverse(perm))):
            fail(f"{call}: batch {i} reached the model without its pixels permuted, expected permute_pixels(images, perm)")
        same_pixels = torch.equal(seen.flatten(1).sort(dim=1).values, want.flatten(1).sort(dim=1).values)
        if same_pixels:
            fail(f"{call}: batch {i} reached the model with its pixels in an order other than perm"
                 + (f" (batches 1 to {i - 1} were right)" if i > 1 else ""),
                 "apply the same `perm` argument to every batch; do not draw a new permutation inside the loop.")
        fail(f"{call}: batch {i} reached the model as different images than permute_pixels(images, perm)")


def _inverse(perm: torch.Tensor) -> torch.Tensor:
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel(), device=perm.device)
    return inverse


def test_train_epoch_permutes_every_batch(student, submission, device):
    perm = torch.randperm(PIXELS)
    for p in (None, perm):
        recorder = _Recorder().to(device)
        optimizer = torch.optim.SGD(recorder.parameters(), lr=0.01)
        call = "train_epoch(model, loader, optimizer, device" + (", perm)" if p is not None else ")")
        call_student(submission, call, student.train_epoch, recorder, _random_batches(96, 32, 1, device), optimizer,
              device, p)
        _expect_saw(recorder, _random_batches(96, 32, 1, device), p, call)


def test_evaluate_permutes_every_batch(student, submission, device):
    perm = torch.randperm(PIXELS)
    for p in (None, perm):
        recorder = _Recorder().to(device)
        call = "evaluate(model, loader, device" + (", perm)" if p is not None else ")")
        call_student(submission, call, student.evaluate, recorder, _random_batches(96, 32, 2, device), device, p)
        _expect_saw(recorder, _random_batches(96, 32, 2, device), p, call)


def test_train_epoch_matches_reference(student, submission, device):
    model = _small_classifier().to(device)
    initial = copy.deepcopy(model)

    def run(zero_grad=True):
        twin = copy.deepcopy(initial)
        optimizer = torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.5)
        return _epoch(twin, _random_batches(128, 32, 3, device), optimizer, zero_grad), twin

    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    call = "train_epoch(model, loader, optimizer, device)"
    result = call_student(submission, call, student.train_epoch, model, _random_batches(128, 32, 3, device),
                   optimizer, device)
    loss = _as_float(result, call)
    expected_loss, expected_model = run()

    def same(a, b):
        return all(torch.allclose(p, q, atol=1e-6, rtol=1e-5) for p, q in zip(a.parameters(), b.parameters()))

    if not same(model, expected_model):
        if same(model, initial):
            fail(f"{call} left the model's parameters unchanged, expected one SGD step per batch",
                 "call loss.backward() and then optimizer.step() for every batch.")
        if same(model, run(zero_grad=False)[1]):
            fail(f"{call} let gradients accumulate from batch to batch: the parameters match a loop "
                 "without optimizer.zero_grad()",
                 "call optimizer.zero_grad() before loss.backward() in every iteration.")
        fail(f"{call} left the model's parameters different from those after a correct epoch "
             "(for every batch: zero_grad, nll_loss on the model's output, backward, step)")
    if not abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)):
        fail(f"{call} returned {loss:.6g}, expected {expected_loss:.6g}, the mean of the batch losses",
             "collect loss.item() for every batch and return their mean.")


def test_evaluate_loss_and_accuracy(student, submission, device):
    model = _small_classifier().to(device)
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=0.2)   # spread-out predictions, so accuracy is informative

    def batches():
        return _random_batches(150, 64, 4, device)     # batches of 64, 64 and 22 images

    call = "evaluate(model, loader, device)"
    result = call_student(submission, call, student.evaluate, model, batches(), device)
    result = expect_type(result, tuple, call)
    if len(result) != 2:
        fail(f"{call} gave a tuple of {len(result)} values, expected (mean loss per sample, accuracy)")
    loss, accuracy = _as_float(result[0], f"{call}[0]"), _as_float(result[1], f"{call}[1]")
    total, correct, batch_means = 0.0, 0, []
    model.eval()
    with torch.no_grad():
        for images, labels in batches():
            out = model(images)
            total += F.nll_loss(out, labels, reduction="sum").item()
            batch_means.append(F.nll_loss(out, labels).item())
            correct += (out.argmax(dim=1) == labels).sum().item()
    expected_loss, expected_accuracy = total / 150, correct / 150
    if abs(accuracy - 100 * expected_accuracy) < 1e-6 and expected_accuracy > 0:
        fail(f"{call} gave accuracy {accuracy:.4g}, a percentage; expected a fraction in [0, 1]: {expected_accuracy:.4g}")
    if not abs(accuracy - expected_accuracy) < 1e-9:
        fail(f"{call} gave accuracy {accuracy:.6g}, expected {expected_accuracy:.6g} "
             "(correct predictions / images; the last batch has 22 images)",
             "count output.argmax(dim=1) == labels over every batch and divide by the number of images.")
    mean_of_means = sum(batch_means) / len(batch_means)
    if abs(loss - mean_of_means) < 1e-6 * max(1.0, abs(mean_of_means)) and abs(mean_of_means - expected_loss) > 1e-4:
        fail(f"{call} gave mean loss {loss:.6g}, the mean of the batch means; expected {expected_loss:.6g}, "
             "the summed loss divided by the number of images (the last batch has 22 images, not 64)",
             "add up nll_loss(output, labels, reduction='sum') and divide by the number of images.")
    if not abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)):
        fail(f"{call} gave mean loss {loss:.6g}, expected {expected_loss:.6g} "
             "(nll_loss summed over every image, divided by the number of images)")


def _evaluate_recorder(student, submission, device) -> _Recorder:
    recorder = _Recorder(dropout=0.5).to(device)
    recorder.train()
    call_student(submission, "evaluate(model, loader, device)", student.evaluate, recorder,
          _random_batches(64, 32, 5, device), device)
    if not recorder.modes:
        fail("evaluate(model, loader, device) never ran the model, expected one forward pass per batch")
    return recorder


def test_evaluate_uses_eval_mode(student, submission, device):
    recorder = _evaluate_recorder(student, submission, device)
    if any(training for training, _ in recorder.modes):
        fail("evaluate(model, loader, device) ran the model in training mode: dropout stays active and "
             "batch norm keeps updating its statistics, so test results are noisy and wrong",
             "call model.eval() before the test loop.")


def test_evaluate_without_gradients(student, submission, device):
    recorder = _evaluate_recorder(student, submission, device)
    if any(grad for _, grad in recorder.modes):
        fail("evaluate(model, loader, device) ran the model with gradient tracking on: every batch builds "
             "an autograd graph that is never used (memory and time wasted)",
             "put the test loop inside `with torch.no_grad():`.")


def test_fc_accuracy(student, submission, exercise, profile, device, data_root):
    threshold = exercise.threshold("fc_accuracy", profile)
    accuracy = _accuracy(student, submission, "fc", False, exercise, profile, device, data_root)
    expect_at_least(accuracy, threshold, f"the test accuracy of your FC2Layer(784, 8, 10) after "
                    f"{describe_budget(exercise.budget(profile))},")


def test_cnn_accuracy(student, submission, exercise, profile, device, data_root):
    threshold = exercise.threshold("cnn_accuracy", profile)
    accuracy = _accuracy(student, submission, "cnn", False, exercise, profile, device, data_root)
    expect_at_least(accuracy, threshold, f"the test accuracy of your CNN(784, 6, 10) after "
                    f"{describe_budget(exercise.budget(profile))},")


def _expect_both_learned(fc: float, cnn: float, exercise, profile: str) -> None:
    """A comparison of two models means something only when both learned (passed their accuracy floor)."""
    fc_floor, cnn_floor = exercise.threshold("fc_accuracy", profile), exercise.threshold("cnn_accuracy", profile)
    if fc < fc_floor or cnn < cnn_floor:
        fail(f"your FC2Layer reached test accuracy {fc:.3f} (needs {fc_floor:.3f}) and your CNN {cnn:.3f} (needs "
             f"{cnn_floor:.3f}): a model that did not learn cannot support this comparison",
             "fix fc_accuracy and cnn_accuracy first.")


def test_cnn_beats_fc(student, submission, exercise, profile, device, data_root):
    margin = exercise.threshold("cnn_minus_fc", profile)
    fc = _accuracy(student, submission, "fc", False, exercise, profile, device, data_root)
    cnn = _accuracy(student, submission, "cnn", False, exercise, profile, device, data_root)
    _expect_both_learned(fc, cnn, exercise, profile)
    if not cnn - fc >= margin:
        fail(f"your CNN's test accuracy {cnn:.3f} minus your FC2Layer's {fc:.3f} was {cnn - fc:.3f}, expected "
             f"at least {margin:.3f}: with the same parameter budget the CNN should win on images")


def test_permutation_hurts_cnn_more(student, submission, exercise, profile, device, data_root):
    args = (student, submission)
    fc, cnn = (_accuracy(*args, kind, False, exercise, profile, device, data_root) for kind in ("fc", "cnn"))
    _expect_both_learned(fc, cnn, exercise, profile)
    fc_perm, cnn_perm = (_accuracy(*args, kind, True, exercise, profile, device, data_root) for kind in ("fc", "cnn"))
    fc_drop, cnn_drop = fc - fc_perm, cnn - cnn_perm
    fc_limit = exercise.threshold("fc_drop_at_most", profile)
    if not fc_drop <= fc_limit:
        fail(f"permuting the pixels cost your FC2Layer {fc_drop:.3f} accuracy ({fc:.3f} -> {fc_perm:.3f}), expected "
             f"at most {fc_limit:.3f}: a fully connected net does not care about pixel order when every image "
             "uses the same permutation",
             "train and test with the same `perm` for every batch.")
    gap = exercise.threshold("cnn_drop_minus_fc_drop", profile)
    if not cnn_drop - fc_drop >= gap:
        fail(f"permuting the pixels cost your CNN {cnn_drop:.3f} ({cnn:.3f} -> {cnn_perm:.3f}) and your FC2Layer "
             f"{fc_drop:.3f} ({fc:.3f} -> {fc_perm:.3f}); expected the CNN to lose at least {gap:.3f} more: "
             "convolutions rely on neighbouring pixels, which the permutation scatters")
