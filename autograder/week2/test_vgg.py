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

import ast
import re

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision import transforms

from autograder.acceleration import training_precision
from autograder.batches import VGG_MEAN, VGG_STD, TensorBatches
from autograder.expect import (
    call_student, expect_at_least, expect_dtype, expect_equal, expect_gradients_reach, expect_model, expect_shape,
    expect_tensor, expect_tensor_like, expect_type, fail,
)
from autograder.failures import describe
from autograder.learning import cifar10_subset, measure_accuracy, reference_cifar10
from autograder.models import (expect_gradients_match_reference, gradients, load_strictly, spec_of, state_of,
                               train_there)
from autograder.probe import modules
from autograder.probe.client import MISSING, Remote, StudentRaised

VGG_PARAMETERS = 9_231_114
FLATTEN_HINT = ("the classifier's in_features must equal the number of values the features give per image "
                "(flattened_size(model.features) computes it). In the lab's configuration, 5 max-pools take a "
                "32x32 image down to 1x1, so the last conv's 512 channels leave 512 x 1 x 1 values.")


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


def name_error_message(error: StudentRaised, student) -> str:
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
    used = f"`{expression}` uses a name `{name}`" if expression else f"the name `{name}` is used but is"
    where = f" in {frame.get('name')}" if frame else ""
    message = f"VGG() failed: {used} that is not defined{where}"
    if re.search(rf"self\.{re.escape(name)}\s*=(?!=)", _class_source(student, "VGG")):
        what = "the configuration" if name == "cfg" else f"`{name}`"
        message += f" — {what} is stored on the instance as self.{name}"
    if frame:
        message += f"\n  at {frame.get('file')}, line {frame.get('line')}"
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
                 "inside a method, a value stored with self.name = ... is read back as self.name.")
        fail(f"VGG() failed: {describe(error)}")
    return expect_model(model, "VGG()").to(str(device))


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


def _local_layers(model: Remote, name: str) -> nn.Module | None:
    """The student's ``model.<name>`` rebuilt here when it is made of ``torch.nn`` layers only, else None."""
    part = model.get(name)
    if not (isinstance(part, Remote) and part.is_model):
        return None
    try:
        return modules.build(part.describe("module"), state_of(part))
    except (modules.NotRebuildable, RuntimeError, ValueError):
        return None


def classifier_mismatch_message(model: Remote, error: StudentRaised, x: torch.Tensor) -> str | None:
    """For a "mat1 and mat2 shapes cannot be multiplied" error: what the classifier expects and what it gets."""
    text = error.message
    if "mat1 and mat2 shapes cannot be multiplied" not in text:
        return None
    classifier = _local_layers(model, "classifier")
    expects = classifier.in_features if isinstance(classifier, nn.Linear) else None
    features = _local_layers(model, "features")
    gives = features_per_image(features, tuple(x.shape[1:])) if features is not None else None
    shapes = re.search(r"\((\d+)x(\d+) and (\d+)x(\d+)\)", text)
    if shapes:  # fall back on PyTorch's own numbers for whatever the model lacks
        gives = gives if gives is not None else int(shapes.group(2))
        expects = expects if expects is not None else int(shapes.group(3))
    size = f"{x.shape[2]}x{x.shape[3]}"
    return (f"your classifier expects {expects} features but the feature extractor gives {gives} "
            f"for a {size} input")


def _forward(model: Remote, x: torch.Tensor, what: str):
    """``model(x)`` in the worker, with the lab's classifier-size bug explained."""
    try:
        return model(x)
    except StudentRaised as error:
        if error.not_implemented or error.timed_out:
            raise
        message = classifier_mismatch_message(model, error, x) if error.type_name == "RuntimeError" else None
        if message:
            fail(f"{what} failed: {message}", FLATTEN_HINT)
        fail(f"{what}: {describe(error)}")


def _working_vgg(student, device="cpu") -> Remote:
    """``VGG()`` that builds and runs on a (2, 3, 32, 32) batch; either bug fails here with its message."""
    model = _vgg(student, device)
    _forward(model, torch.randn(2, 3, 32, 32, device=device), "VGG() on a (2, 3, 32, 32) batch")
    return model


def _random_image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)


def _steps(spec: dict) -> list[dict]:
    """The transforms inside a described transform (a Compose, nn.Sequential or one transform), flattened."""
    if not spec["children"]:
        return [spec]
    return [step for child in spec["children"] for step in _steps(child)]


def _course_steps(transform) -> list[dict]:
    """The course's transform, described as the worker describes the student's."""
    from autograder.probe.describe import describe_transform

    return _steps(describe_transform(transform))


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


def _expect_course_transform(worker, name: str, function, course: transforms.Compose) -> None:
    call = f"{name}()"
    transform = call_student(call, function)
    if not isinstance(transform, Remote):
        fail(f"{call} gave {transform!r}, expected a transform (transforms.Compose([...]))")
    steps, expected = _steps(transform.describe("transform")), _course_steps(course)
    shown = "[" + ", ".join(_show(s) for s in steps) + "]"
    wanted = "[" + ", ".join(_show(s) for s in expected) + "]"
    if [(s["module"], s["class"]) for s in steps] != [(s["module"], s["class"]) for s in expected]:
        fail(f"{call} is {shown}, expected {wanted}", "the course's VGG transforms, in that order.")
    for got, want in zip(steps, expected):
        if _show(got) != _show(want):
            fail(f"{call} has {_show(got)}, expected {_show(want)}",
                 "RandomCrop(32, padding=4); Normalize with VGG's mean (0.4914, 0.4822, 0.4465) and std "
                 "(0.2023, 0.1994, 0.2010).")
    torch_there, pil_there = worker.module("torch"), worker.module("PIL.Image")
    for seed in range(4):  # same random draws -> same image, whatever the implementation
        pixels = _random_image(seed)
        torch_there.manual_seed(seed)
        out = call_student(f"{call}(image)", transform, pil_there.fromarray(pixels))
        torch.manual_seed(seed)
        expect_tensor_like(out, course(Image.fromarray(pixels)),
                           f"{call} applied to a 32x32 RGB PIL image (torch seed {seed})", atol=1e-6)


def _one_batch(budget: dict, seed: int, device, root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``budget["images"]`` CIFAR-10 training images drawn with ``seed``, normalised with VGG's constants."""
    images, labels = cifar10_subset(True, budget["images"], seed, root)
    x, y = next(iter(TensorBatches(images, labels, budget["images"], VGG_MEAN, VGG_STD, device=device)))
    return x, y


def batch_loss_and_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Cross-entropy and accuracy of ``model`` on one batch, in training mode (batch statistics: a few
    steps leave batch norm's running statistics far behind the weights)."""
    model.train()
    with torch.no_grad():
        scores = model(x)
        return F.cross_entropy(scores, y).item(), (scores.argmax(dim=1) == y).float().mean().item()


def overfit_batch(model: nn.Module, budget: dict, seed: int, device, root=None) -> tuple[list[float], float]:
    """Adam steps on one fixed batch of CIFAR-10 training images; (loss at each step, final accuracy).

    The batch is ``budget["images"]`` training images drawn with ``seed``, normalised with VGG's
    constants; ``budget["steps"]`` Adam steps (lr ``budget["lr"]``) on cross-entropy in training
    mode; the returned losses are each taken before its step, and the accuracy is measured on the
    same batch after the last step, still in training mode. For a model of this process
    (calibration); a student's VGG is trained in the worker by :func:`overfit_there`.
    """
    x, y = _one_batch(budget, seed, device, root)
    optimizer = torch.optim.Adam(model.parameters(), lr=budget["lr"])
    model.train()
    losses = []
    for _ in range(budget["steps"]):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, batch_loss_and_accuracy(model, x, y)[1]


def overfit_there(worker, model: Remote, reference_vgg: nn.Module, budget: dict, seed: int, device,
                  root=None) -> tuple[float, float, float]:
    """The student's VGG trained in the worker on one batch as :func:`overfit_batch` trains; its weights
    before and after, in the lab's architecture (``reference_vgg``) here, give (loss before, loss after,
    accuracy after) on that batch."""
    x, y = _one_batch(budget, seed, device, root)
    before = load_strictly(reference_vgg, state_of(model), "VGG()")
    initial_loss, _ = batch_loss_and_accuracy(before, x, y)
    train_there(worker, model, [(x, y)] * budget["steps"], 1, budget["lr"])
    after = load_strictly(reference_vgg, state_of(model), "VGG()")
    final_loss, accuracy = batch_loss_and_accuracy(after, x, y)
    return initial_loss, final_loss, accuracy


def _course_batches(budget: dict, seed: int, device, root=None) -> tuple[TensorBatches, TensorBatches]:
    """The course's VGG training and test batches under ``budget``: augmented, shuffled with ``seed``."""
    train_x, train_y = cifar10_subset(True, budget["train_images"], seed, root)
    test_x, test_y = cifar10_subset(False, budget["test_images"], seed, root)
    batches = TensorBatches(train_x, train_y, budget["batch_size"], VGG_MEAN, VGG_STD, shuffle=True, seed=seed,
                            device=device, augment=True)
    return batches, TensorBatches(test_x, test_y, budget["test_batch_size"], VGG_MEAN, VGG_STD, device=device)


def train_and_test(model: nn.Module, budget: dict, seed: int, device, root=None, cifar10=None) -> float:
    """The course's training: ``budget["epochs"]`` epochs of Adam with the course's augmentation; test accuracy.

    Training images are cropped and flipped as ``train_transform()`` would, shuffled with ``seed``;
    the reference's ``train`` (from ``cifar10``, the reference ``cifar10`` module; loaded from
    ``solutions/`` when None) runs the epochs; the kit's test loop measures accuracy. For a model of
    this process (calibration); a student's VGG is trained in the worker by :func:`train_and_test_there`.
    """
    cifar10 = reference_cifar10() if cifar10 is None else cifar10
    batches, test = _course_batches(budget, seed, device, root)
    cifar10.train(model, batches, budget["epochs"], device, budget["lr"])
    return measure_accuracy(model, test)


def train_and_test_there(worker, model: Remote, reference_vgg: nn.Module, budget: dict, seed: int, device,
                         root=None) -> float:
    """:func:`train_and_test` for the student's VGG: trained in the worker, measured here in the lab's architecture."""
    batches, test = _course_batches(budget, seed, device, root)
    train_there(worker, model, batches, budget["epochs"], budget["lr"])
    return measure_accuracy(load_strictly(reference_vgg, state_of(model), "VGG()"), test)


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


def test_constructs(student):
    _vgg(student)


def test_output_shape(student, device):
    model = _vgg(student, device)
    n = int(torch.randint(2, 5, ()).item())
    what = f"VGG() on a ({n}, 3, 32, 32) batch"
    out = expect_tensor(_forward(model, torch.randn(n, 3, 32, 32, device=device), what), what)
    expect_dtype(out, torch.float32, what)
    expect_shape(out, (n, 10), what, "one logit per class: the classifier maps the features to 10 outputs.")


def test_parameters_match_reference(student, worker, reference, device):
    model = _vgg(student, device)
    got = modules.parameter_shapes(spec_of(model, "VGG()"))
    expected = {key: tuple(p.shape) for key, p in reference.VGG().named_parameters()}
    if set(got) != set(expected):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        fail(f"VGG() has parameters that differ from the lab's: missing {missing[:4]}, unexpected {extra[:4]}",
             "keep the lab's layers: features (the nn.Sequential from _make_layers) and classifier.")
    for key, shape in expected.items():
        if got[key] != shape:
            fail(f"VGG()'s {key} has shape {got[key]}, expected {shape}",
                 FLATTEN_HINT if key.startswith("classifier") else None)
    expect_equal(sum(int(np.prod(shape)) for shape in got.values()), VGG_PARAMETERS, "the number of parameters of VGG()")
    x, labels = torch.randn(4, 3, 32, 32, device=device), torch.randint(0, 10, (4,), device=device)
    expect_gradients_match_reference(worker, model, reference.VGG().to(device).train(), x, labels, "cross_entropy",
                                     "VGG()", "each parameter must play its part of the lab's VGG.",
                                     unless_it_fails=True)


def test_matches_reference(student, reference, device):
    reference_model = reference.VGG().to(device)
    with torch.no_grad():  # batch norm statistics away from 0 and 1, so they are tested too
        for module in reference_model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    mine = _working_vgg(student, device)
    try:
        mine.load_state_dict(reference_model.state_dict())
    except StudentRaised as error:
        details = "; ".join(line.strip() for line in error.message.splitlines()[1:] if line.strip())
        fail(f"loading the reference's weights into VGG() failed: {details or error.message}",
             "keep the lab's layer names: features and classifier.")
    reference_model.eval()
    mine.eval()
    x = torch.randn(3, 3, 32, 32, device=device)
    what = "VGG() in eval mode with the reference's weights, on a (3, 3, 32, 32) batch"
    out = _forward(mine, x, what)
    with torch.no_grad():
        expected = reference_model(x)
    expect_tensor_like(out, expected, what, atol=1e-4, rtol=1e-4)


def test_gradients_reach_every_parameter(student, worker, reference, device):
    model = _vgg(student, device)
    what = "VGG() on a (4, 3, 32, 32) batch"
    x, labels = torch.randn(4, 3, 32, 32, device=device), torch.randint(0, 10, (4,), device=device)
    expect_tensor(_forward(model, x, what), what)   # the lab's bugs, explained, before anything else
    got = gradients(worker, model, x, labels, "cross_entropy", "VGG()")
    expect_gradients_reach(got, "VGG()")
    expect_gradients_match_reference(worker, model, reference.VGG().to(device).train(), x, labels, "cross_entropy",
                                     "VGG()", "is every layer used in forward() as the lab's VGG uses it?", got=got)


def test_flattened_size(student, worker, reference, device):
    vgg_features = reference.VGG().features.to(device)
    cases = [
        (vgg_features, (3, 32, 32), "the lab's VGG features"),
        (vgg_features, (3, 64, 64), "the lab's VGG features"),
        (nn.Conv2d(1, 4, 5).to(device), (1, 28, 28), "nn.Conv2d(1, 4, 5)"),
    ]
    for _ in range(3):
        layers, shape = _random_features()
        cases.append((layers.to(device), shape, repr(layers).replace("\n", "").replace("  ", " ")))
    for module, shape, name in cases:
        call = f"flattened_size({name}, input_shape={shape})"
        expected = features_per_image(module, shape)
        got = call_student(call, student.flattened_size, worker.build(module), input_shape=shape)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            fail(f"{call} gave a tensor ({got}), expected a Python int", "use int(...) or .numel().")
        expect_type(got, int, call)
        expect_equal(got, expected, call, "run torch.zeros(1, *input_shape) through the module and count the "
                                         "values of one image's output: out[0].numel().")


def test_flattened_size_leaves_features_alone(student, worker, reference):
    features = reference.VGG().features
    features.train()
    before = {key: value.clone() for key, value in features.state_dict().items()}
    call = "flattened_size(VGG().features)"
    there = worker.build(features)
    call_student(call, student.flattened_size, there)
    if not there.training:
        fail(f"{call} left the module in eval mode, expected it in training mode as it was",
             "remember features.training and restore it with features.train(was_training).")
    after = state_of(there)
    changed = [key for key, value in before.items() if not torch.equal(after[key].cpu(), value)]
    if changed:
        fail(f"{call} changed {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}: the dummy input "
             "updated batch norm's running statistics, which the trained model would then use",
             "run the dummy input in eval mode (features.eval(), then restore the mode) and under "
             "torch.no_grad().")


def test_train_transform_follows_course(student, worker):
    course = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                                 transforms.ToTensor(), transforms.Normalize(VGG_MEAN, VGG_STD)])
    _expect_course_transform(worker, "train_transform", student.train_transform, course)


def test_test_transform_follows_course(student, worker):
    course = transforms.Compose([transforms.ToTensor(), transforms.Normalize(VGG_MEAN, VGG_STD)])
    _expect_course_transform(worker, "test_transform", student.test_transform, course)


def test_learns(student, worker, reference, exercise, profile, device, data_root):
    budget = exercise.budget(profile)
    seed = torch.initial_seed()   # the check's own seed, set by the plugin
    _working_vgg(student, device)
    worker.module("torch").manual_seed(seed)
    model = _vgg(student, device)
    if profile == "quick":
        initial, final, accuracy = call_student("training VGG() on one batch", overfit_there, worker, model,
                                                reference.VGG().to(device), budget, seed, device, data_root)
        ratio = exercise.threshold("overfit_loss_ratio", profile)
        what = (f"after {budget['steps']} Adam steps (lr {budget['lr']}) on one batch of {budget['images']} "
                f"CIFAR-10 images, VGG()'s loss")
        if not final <= ratio * initial:
            fail(f"{what} went from {initial:.3f} to {final:.3f}, expected at most {ratio:g} x "
                 f"{initial:.3f} = {ratio * initial:.3f}",
                 "a VGG that builds and runs but cannot learn: is every layer used in forward(), with "
                 "batch norm and ReLU after each conv?")
        expect_at_least(accuracy, exercise.threshold("overfit_accuracy", profile),
                        f"{what.replace('loss', 'accuracy on that batch')}")
    else:
        with training_precision(device, profile):
            accuracy = call_student("training VGG()", train_and_test_there, worker, model, reference.VGG().to(device),
                                    budget, seed, device, data_root)
        expect_at_least(accuracy, exercise.threshold("test_accuracy", profile),
                        f"the test accuracy of VGG() after {budget['epochs']} epochs over "
                        f"{budget['train_images']:,} augmented training images (batch {budget['batch_size']}, "
                        f"Adam lr {budget['lr']}), on {budget['test_images']:,} test images,")
