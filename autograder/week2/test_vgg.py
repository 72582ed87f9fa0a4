"""Checks for week2/vgg.py: the lab's VGG with its two bugs fixed, ``flattened_size`` and the transforms.

Order: ``VGG()`` builds (the lab's first bug: an undefined ``cfg``) -> its output shape (the second:
a classifier sized for 2048 features where a 32x32 image leaves 512) -> parameters against the
reference -> outputs equal to the reference's with the reference's weights -> gradients ->
``flattened_size`` -> the transforms -> learning under the profile's budget.

A construction or forward failure caused by one of the lab's bugs is reported as that bug, with
numbers taken from the student's own model, never as PyTorch's raw error.

Learning: on the CPU (quick profile) the VGG must overfit one small fixed batch of CIFAR-10
images in a few Adam steps; on a GPU (full profile) it trains the course's 10 epochs and must reach
the course's test accuracy. ``docs/calibration/week2-vgg-residual.md`` runs :func:`overfit_batch`
on the reference to set the quick budget.
"""

from __future__ import annotations

import inspect
import re
import traceback
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision import transforms

from autograder.acceleration import training_precision
from autograder.batches import VGG_MEAN, VGG_STD, TensorBatches
from autograder.expect import (
    CheckFailure, call_student, expect_at_least, expect_dtype, expect_equal, expect_gradients_reach, expect_shape,
    expect_tensor, expect_tensor_like, expect_type, fail,
)
from autograder.failures import describe
from autograder.learning import cifar10_subset, measure_accuracy, reference_cifar10

VGG_PARAMETERS = 9_231_114
FLATTEN_HINT = ("the classifier's in_features must equal the number of values the features give per image "
                "(flattened_size(model.features) computes it). In the lab's configuration, 5 max-pools take a "
                "32x32 image down to 1x1, so the last conv's 512 channels leave 512 x 1 x 1 values.")


# ---------------------------------------------------------------- helpers


def _student_frames(error: BaseException, folder: Path) -> list[traceback.FrameSummary]:
    root = folder.resolve()
    return [f for f in traceback.extract_tb(error.__traceback__)
            if Path(f.filename).is_absolute() and Path(f.filename).resolve().is_relative_to(root)]


def _undefined_name(error: NameError) -> str | None:
    name = getattr(error, "name", None)
    if name:
        return name
    match = re.search(r"name '([^']+)' is not defined", str(error))
    return match.group(1) if match else None


def name_error_message(error: NameError, student, submission) -> str:
    """What the undefined name is, where it is used, and (when the class stores it) where it lives.

    Built from the error itself: the name, the student's line that used it, the function it
    was in, and whether the class assigns ``self.<name>`` somewhere.
    """
    name = _undefined_name(error) or "?"
    frames = _student_frames(error, submission.folder)
    frame = frames[-1] if frames else None
    expression = (frame.line or "").strip() if frame else ""
    assignment = re.match(r"^[\w.\[\]]+\s*=(?!=)\s*(.+)$", expression)
    if assignment:
        expression = assignment.group(1)
    expression = re.sub(r"^self\.", "", expression)
    used = f"`{expression}` uses a name `{name}`" if expression else f"the name `{name}` is used but is"
    where = f" in {frame.name}" if frame else ""
    message = f"VGG() failed: {used} that is not defined{where}"
    try:
        source = inspect.getsource(student.VGG)
    except (OSError, TypeError):
        source = ""
    if re.search(rf"self\.{re.escape(name)}\s*=(?!=)", source):
        what = "the configuration" if name == "cfg" else f"`{name}`"
        message += f" — {what} is stored on the instance as self.{name}"
    if frame:
        message += f"\n  at {Path(frame.filename).name}, line {frame.lineno}"
    return message


def _vgg(student, submission, device="cpu") -> nn.Module:
    """``VGG()``, with the lab's undefined-name bug explained."""
    try:
        model = student.VGG()
    except (CheckFailure, NotImplementedError):
        raise
    except NameError as error:
        fail(name_error_message(error, student, submission),
             "inside a method, a value stored with self.name = ... is read back as self.name.")
    except Exception as error:  # the student's code may raise anything
        fail(f"VGG() failed: {describe(error, submission.folder)}")
    return expect_type(model, nn.Module, "VGG()").to(device)


def features_per_image(module: nn.Module, input_shape=(3, 32, 32)) -> int | None:
    """The kit's own dummy pass: how many numbers per image ``module`` outputs (None if it fails)."""
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return int(module(torch.zeros(1, *input_shape, device=device))[0].numel())
    except Exception:
        return None
    finally:
        module.train(was_training)


def classifier_mismatch_message(model: nn.Module, error: RuntimeError, x: torch.Tensor) -> str | None:
    """For a "mat1 and mat2 shapes cannot be multiplied" error: what the classifier expects and what it gets."""
    text = str(error)
    if "mat1 and mat2 shapes cannot be multiplied" not in text:
        return None
    classifier = getattr(model, "classifier", None)
    expects = classifier.in_features if isinstance(classifier, nn.Linear) else None
    features = getattr(model, "features", None)
    gives = features_per_image(features, tuple(x.shape[1:])) if isinstance(features, nn.Module) else None
    shapes = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", text)
    if shapes:  # fall back on PyTorch's own numbers for whatever the model lacks
        gives = gives if gives is not None else int(shapes.group(2))
        expects = expects if expects is not None else int(shapes.group(3))
    size = f"{x.shape[2]}x{x.shape[3]}"
    return (f"your classifier expects {expects} features but the feature extractor gives {gives} "
            f"for a {size} input")


def _forward(model: nn.Module, x: torch.Tensor, submission, what: str):
    """``model(x)``, with the lab's classifier-size bug explained."""
    try:
        return model(x)
    except (CheckFailure, NotImplementedError):
        raise
    except Exception as error:  # the student's code may raise anything
        message = classifier_mismatch_message(model, error, x) if isinstance(error, RuntimeError) else None
        if message:
            fail(f"{what} failed: {message}", FLATTEN_HINT)
        fail(f"{what}: {describe(error, submission.folder)}")


def _working_vgg(student, submission, device="cpu") -> nn.Module:
    """``VGG()`` that builds and runs on a (2, 3, 32, 32) batch; either bug fails here with its message."""
    model = _vgg(student, submission, device)
    _forward(model, torch.randn(2, 3, 32, 32, device=device), submission, "VGG() on a (2, 3, 32, 32) batch")
    return model


def _random_image(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _steps(transform) -> list:
    """The transforms inside ``transform`` (a Compose, nn.Sequential or one transform), flattened."""
    inner = getattr(transform, "transforms", None)
    if inner is None and isinstance(transform, nn.Sequential):
        inner = list(transform.children())
    if inner is None:
        return [transform]
    return [step for t in inner for step in _steps(t)]


def _show(step) -> str:
    if isinstance(step, transforms.Normalize):
        mean = tuple(round(float(v), 4) for v in torch.as_tensor(step.mean).flatten())
        std = tuple(round(float(v), 4) for v in torch.as_tensor(step.std).flatten())
        return f"Normalize({mean}, {std})"
    if isinstance(step, transforms.RandomCrop):
        return f"RandomCrop({tuple(step.size)}, padding={step.padding})"
    if isinstance(step, transforms.RandomHorizontalFlip):
        return f"RandomHorizontalFlip(p={step.p})"
    return f"{type(step).__name__}()"


def _expect_course_transform(submission, name: str, function, course: transforms.Compose) -> None:
    call = f"{name}()"
    transform = call_student(submission, call, function)
    steps, expected = _steps(transform), _steps(course)
    shown = "[" + ", ".join(_show(s) for s in steps) + "]"
    wanted = "[" + ", ".join(_show(s) for s in expected) + "]"
    if [type(s) for s in steps] != [type(s) for s in expected]:
        fail(f"{call} is {shown}, expected {wanted}", "the course's VGG transforms, in that order.")
    for got, want in zip(steps, expected):
        if _show(got) != _show(want):
            fail(f"{call} has {_show(got)}, expected {_show(want)}",
                 "RandomCrop(32, padding=4); Normalize with VGG's mean (0.4914, 0.4822, 0.4465) and std "
                 "(0.2023, 0.1994, 0.2010).")
    for seed in range(4):  # same random draws -> same image, whatever the implementation
        image = _random_image(seed)
        torch.manual_seed(seed)
        out = call_student(submission, f"{call}(image)", transform, image)
        torch.manual_seed(seed)
        expect_tensor_like(out, course(image), f"{call} applied to a 32x32 RGB PIL image (torch seed {seed})",
                           atol=1e-6)


def overfit_batch(model: nn.Module, budget: dict, seed: int, device, root=None) -> tuple[list[float], float]:
    """Adam steps on one fixed batch of CIFAR-10 training images; (loss at each step, final accuracy).

    The batch is ``budget["images"]`` training images drawn with ``seed``, normalised with VGG's
    constants; ``budget["steps"]`` Adam steps (lr ``budget["lr"]``) on cross-entropy in training
    mode; the returned losses are each taken before its step, and the accuracy is measured on the
    same batch after the last step, still in training mode (batch statistics: a few steps leave
    batch norm's running statistics far behind the weights).
    """
    images, labels = cifar10_subset(True, budget["images"], seed, root)
    x, y = next(iter(TensorBatches(images, labels, budget["images"], VGG_MEAN, VGG_STD, device=device)))
    optimizer = torch.optim.Adam(model.parameters(), lr=budget["lr"])
    model.train()
    losses = []
    for _ in range(budget["steps"]):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    return losses, accuracy


def train_and_test(model: nn.Module, budget: dict, seed: int, device, root=None, cifar10=None) -> float:
    """The course's training: ``budget["epochs"]`` epochs of Adam with the course's augmentation; test accuracy.

    Training images are cropped and flipped as ``train_transform()`` would, shuffled with ``seed``;
    the reference's ``train`` (from ``cifar10``, the reference ``cifar10`` module; loaded from
    ``solutions/`` when None) runs the epochs; the kit's test loop measures accuracy.
    """
    cifar10 = reference_cifar10() if cifar10 is None else cifar10
    train_x, train_y = cifar10_subset(True, budget["train_images"], seed, root)
    test_x, test_y = cifar10_subset(False, budget["test_images"], seed, root)
    batches = TensorBatches(train_x, train_y, budget["batch_size"], VGG_MEAN, VGG_STD, shuffle=True, seed=seed,
                            device=device, augment=True)
    cifar10.train(model, batches, budget["epochs"], device, budget["lr"])
    test = TensorBatches(test_x, test_y, budget["test_batch_size"], VGG_MEAN, VGG_STD, device=device)
    return measure_accuracy(model, test)


def _random_features() -> tuple[nn.Module, tuple[int, int, int]]:
    """A random conv/pool stack and an input shape it accepts."""
    channels = int(torch.randint(1, 4, ()).item())
    size = int(torch.randint(20, 40, ()).item())
    out = int(torch.randint(2, 9, ()).item())
    kernel = int(torch.randint(1, 6, ()).item())
    stride = int(torch.randint(1, 3, ()).item())
    padding = int(torch.randint(0, 3, ()).item())
    layers = nn.Sequential(nn.Conv2d(channels, out, kernel, stride=stride, padding=padding), nn.ReLU(),
                           nn.MaxPool2d(2))
    return layers, (channels, size, size + int(torch.randint(0, 5, ()).item()))


# ---------------------------------------------------------------- checks


def test_constructs(student, submission):
    _vgg(student, submission)


def test_output_shape(student, submission, device):
    model = _vgg(student, submission, device)
    n = int(torch.randint(2, 5, ()).item())
    what = f"VGG() on a ({n}, 3, 32, 32) batch"
    out = expect_tensor(_forward(model, torch.randn(n, 3, 32, 32, device=device), submission, what), what)
    expect_dtype(out, torch.float32, what)
    expect_shape(out, (n, 10), what, "one logit per class: the classifier maps the features to 10 outputs.")


def test_parameters_match_reference(student, submission, reference):
    mine = _vgg(student, submission)
    expected = {key: tuple(p.shape) for key, p in reference.VGG().named_parameters()}
    got = {key: tuple(p.shape) for key, p in mine.named_parameters()}
    if set(got) != set(expected):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        fail(f"VGG() has parameters that differ from the lab's: missing {missing[:4]}, unexpected {extra[:4]}",
             "keep the lab's layers: features (the nn.Sequential from _make_layers) and classifier.")
    for key, shape in expected.items():
        if got[key] != shape:
            fail(f"VGG()'s {key} has shape {got[key]}, expected {shape}",
                 FLATTEN_HINT if key.startswith("classifier") else None)
    expect_equal(sum(p.numel() for p in mine.parameters()), VGG_PARAMETERS, "the number of parameters of VGG()")


def test_matches_reference(student, submission, reference, device):
    reference_model = reference.VGG().to(device)
    with torch.no_grad():  # batch norm statistics away from 0 and 1, so they are tested too
        for module in reference_model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    mine = _working_vgg(student, submission, device)
    try:
        mine.load_state_dict(reference_model.state_dict())
    except RuntimeError as error:
        details = "; ".join(line.strip() for line in str(error).splitlines()[1:] if line.strip())
        fail(f"loading the reference's weights into VGG() failed: {details or error}",
             "keep the lab's layer names: features and classifier.")
    reference_model.eval()
    mine.eval()
    x = torch.randn(3, 3, 32, 32, device=device)
    what = "VGG() in eval mode with the reference's weights, on a (3, 3, 32, 32) batch"
    out = _forward(mine, x, submission, what)
    with torch.no_grad():
        expected = reference_model(x)
    expect_tensor_like(out, expected, what, atol=1e-4, rtol=1e-4)


def test_gradients_reach_every_parameter(student, submission, device):
    model = _vgg(student, submission, device)
    what = "VGG() on a (4, 3, 32, 32) batch"
    out = expect_tensor(_forward(model, torch.randn(4, 3, 32, 32, device=device), submission, what), what)
    F.cross_entropy(out, torch.randint(0, 10, (4,), device=device)).backward()
    expect_gradients_reach(model, "VGG()")


def test_flattened_size(student, submission, reference, device):
    vgg_features = reference.VGG().features.to(device)
    cases = [
        (vgg_features, (3, 32, 32), "the lab's VGG features"),
        (vgg_features, (3, 64, 64), "the lab's VGG features"),
        (nn.Conv2d(1, 4, 5), (1, 28, 28), "nn.Conv2d(1, 4, 5)"),
    ]
    for _ in range(3):
        layers, shape = _random_features()
        cases.append((layers.to(device), shape, repr(layers).replace("\n", "").replace("  ", " ")))
    for module, shape, name in cases:
        call = f"flattened_size({name}, input_shape={shape})"
        expected = features_per_image(module, shape)
        got = call_student(submission, call, student.flattened_size, module, input_shape=shape)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            fail(f"{call} gave a tensor ({got}), expected a Python int", "use int(...) or .numel().")
        expect_type(got, int, call)
        expect_equal(got, expected, call, "run torch.zeros(1, *input_shape) through the module and count the "
                                         "values of one image's output: out[0].numel().")


def test_flattened_size_leaves_features_alone(student, submission, reference):
    features = reference.VGG().features
    features.train()
    before = {key: value.clone() for key, value in features.state_dict().items()}
    call = "flattened_size(VGG().features)"
    call_student(submission, call, student.flattened_size, features)
    if not features.training:
        fail(f"{call} left the module in eval mode, expected it in training mode as it was",
             "remember features.training and restore it with features.train(was_training).")
    changed = [key for key, value in features.state_dict().items() if not torch.equal(value, before[key])]
    if changed:
        fail(f"{call} changed {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}: the dummy input "
             "updated batch norm's running statistics, which the trained model would then use",
             "run the dummy input in eval mode (features.eval(), then restore the mode) and under "
             "torch.no_grad().")


def test_train_transform_follows_course(student, submission):
    course = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                 transforms.ToTensor(), transforms.Normalize(VGG_MEAN, VGG_STD)])
    _expect_course_transform(submission, "train_transform", student.train_transform, course)


def test_test_transform_follows_course(student, submission):
    course = transforms.Compose([transforms.ToTensor(), transforms.Normalize(VGG_MEAN, VGG_STD)])
    _expect_course_transform(submission, "test_transform", student.test_transform, course)


def test_learns(student, submission, reference_module, exercise, profile, device, data_root):
    budget = exercise.budget(profile)
    seed = torch.initial_seed()   # the check's own seed, set by the plugin
    model = _working_vgg(student, submission, device)
    torch.manual_seed(seed)
    model = _vgg(student, submission, device)
    if profile == "quick":
        losses, accuracy = call_student(submission, "training VGG() on one batch", overfit_batch, model, budget, seed,
                                 device, data_root)
        ratio = exercise.threshold("overfit_loss_ratio", profile)
        what = (f"after {budget['steps']} Adam steps (lr {budget['lr']}) on one batch of {budget['images']} "
                f"CIFAR-10 images, VGG()'s loss")
        if not losses[-1] <= ratio * losses[0]:
            fail(f"{what} went from {losses[0]:.3f} to {losses[-1]:.3f}, expected at most {ratio:g} x "
                 f"{losses[0]:.3f} = {ratio * losses[0]:.3f}",
                 "a VGG that builds and runs but cannot learn: is every layer used in forward(), with "
                 "batch norm and ReLU after each conv?")
        expect_at_least(accuracy, exercise.threshold("overfit_accuracy", profile),
                        f"{what.replace('loss', 'accuracy on that batch')}")
    else:
        with training_precision(device, profile):
            accuracy = call_student(submission, "training VGG()", train_and_test, model, budget, seed, device, data_root,
                                    cifar10=reference_module("cifar10"))
        expect_at_least(accuracy, exercise.threshold("test_accuracy", profile),
                        f"the test accuracy of VGG() after {budget['epochs']} epochs over "
                        f"{budget['train_images']:,} augmented training images (batch {budget['batch_size']}, "
                        f"Adam lr {budget['lr']}), on {budget['test_images']:,} test images,")
