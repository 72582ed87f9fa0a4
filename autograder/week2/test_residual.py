"""Checks for week2/residual.py: the residual block and a small residual network.

Order: the block's output shapes (stride 1 and 2, same and changed channels) -> its shortcut
(identity without parameters when the shapes match, 1x1 conv with the stride + batch norm when
they do not) -> its values (``relu(main(x) + shortcut(x))`` from its own layers) -> gradients ->
``SmallResNet``'s logits -> ``SmallResNet`` against the course's ``Net`` under one training budget.

The comparison trains the reference ``Net`` (from ``solutions/week2/cifar10.py``) and the student's
``SmallResNet`` with the reference's ``train`` on the same CIFAR-10 subset, in the same batch order,
for the same number of steps, and measures both with the kit's test loop;
``docs/calibration/week2-vgg-residual.md`` runs :func:`compare_with_net` on the reference to set
the margin.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import CIFAR10_MEAN, CIFAR10_STD, VGG_MEAN, VGG_STD, TensorBatches
from autograder.expect import (
    CheckFailure, call_student, expect_dtype, expect_gradients_reach, expect_shape, expect_tensor,
    expect_tensor_like, expect_type, fail,
)
from autograder.failures import describe
from autograder.learning import cifar10_subset, measure_accuracy, reference_cifar10

SHORTCUT_HINT = ("when stride != 1 or in_channels != out_channels, x and the main path's output have different "
                 "shapes: make the shortcut nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride) "
                 "followed by nn.BatchNorm2d(out_channels), so the two can be added.")


# ---------------------------------------------------------------- helpers


def _block_call(c_in: int, c_out: int, stride: int) -> str:
    return f"ResidualBlock({c_in}, {c_out}, stride={stride})"


def _block(student, submission, c_in: int, c_out: int, stride: int) -> nn.Module:
    what = _block_call(c_in, c_out, stride)
    block = call_student(submission, what, student.ResidualBlock, c_in, c_out, stride=stride)
    return expect_type(block, nn.Module, what)


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def _size_mismatch(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, RuntimeError) and ("must match the size" in text or "size of tensor" in text)


def _forward_block(submission, block: nn.Module, x: torch.Tensor, c_in: int, c_out: int, stride: int):
    """``block(x)``, turning "shortcut of the wrong shape" into a message that says so."""
    what = f"{_block_call(c_in, c_out, stride)} on a {_shape_text(x.shape)} input"
    try:
        return block(x)
    except (CheckFailure, NotImplementedError):
        raise
    except Exception as error:
        if not _size_mismatch(error):
            fail(f"{what}: {describe(error, submission.folder)}")
        main = (x.shape[0], c_out, math.ceil(x.shape[2] / stride), math.ceil(x.shape[3] / stride))
        shortcut = getattr(block, "shortcut", None)
        got = None
        if isinstance(shortcut, nn.Module):
            try:
                with torch.no_grad():
                    got = tuple(shortcut(x).shape)
            except Exception:  # the shortcut itself is broken; the message below still holds
                got = None
        shortcut_text = f"the shortcut gives {_shape_text(got)}" if got is not None else "the shortcut does not"
        fail(f"{what}: adding the shortcut to the main path failed: the main path gives {_shape_text(main)} "
             f"but {shortcut_text} (PyTorch: {str(error).splitlines()[0]})", SHORTCUT_HINT)


def _failing_block(error: BaseException, block_class) -> nn.Module | None:
    """The innermost ``block_class`` instance whose ``forward`` was running when ``error`` was raised."""
    found, tb = None, error.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(block_class, type) and isinstance(owner, block_class):
            found = owner
        tb = tb.tb_next
    return found


def _forward_model(student, submission, model: nn.Module, x: torch.Tensor, what: str):
    """``model(x)`` for a network built from ResidualBlocks; a block's shortcut of the wrong shape is named."""
    try:
        return model(x)
    except (CheckFailure, NotImplementedError):
        raise
    except Exception as error:
        block = _failing_block(error, getattr(student, "ResidualBlock", None)) if _size_mismatch(error) else None
        conv = getattr(block, "conv1", None)
        if isinstance(conv, nn.Conv2d):
            call = _block_call(conv.in_channels, conv.out_channels, conv.stride[0])
            fail(f"{what}: adding the shortcut to the main path failed in its {call} "
                 f"(PyTorch: {str(error).splitlines()[0]})", SHORTCUT_HINT)
        fail(f"{what}: {describe(error, submission.folder)}")


def _configurations() -> list[tuple[int, int, int]]:
    """(in_channels, out_channels, stride): same shape, more channels, stride 2, both; random sizes."""
    c = int(torch.randint(2, 7, ()).item())
    wider = c + int(torch.randint(1, 6, ()).item())
    return [(c, c, 1), (c, wider, 1), (c, c, 2), (c, wider, 2)]


def _shortcut(block: nn.Module, call: str) -> nn.Module:
    shortcut = getattr(block, "shortcut", None)
    if not isinstance(shortcut, nn.Module):
        fail(f"{call} has no module named `shortcut`, expected self.shortcut to hold the shortcut path",
             "keep the attribute name shortcut: nn.Identity() when the shapes match, 1x1 conv + batch norm "
             "when they do not.")
    return shortcut


def _projection_layers(shortcut: nn.Module) -> tuple[list[nn.Conv2d], list[nn.BatchNorm2d]]:
    convs = [m for m in shortcut.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in shortcut.modules() if isinstance(m, nn.BatchNorm2d)]
    return convs, norms


def _small_resnet(student, submission, *args) -> nn.Module:
    what = f"SmallResNet({', '.join(map(str, args))})"
    return expect_type(call_student(submission, what, student.SmallResNet, *args), nn.Module, what)


def describe_budget(budget: dict) -> str:
    epochs = budget["epochs"]
    return (f"{epochs} epoch{'s' if epochs != 1 else ''} over the same {budget['train_images']:,} training images "
            f"(batch {budget['batch_size']}, Adam lr {budget['lr']}), tested on {budget['test_images']:,} images")


def compare_with_net(make_model, budget: dict, seed: int, device, root=None, cifar10=None) -> tuple[float, float]:
    """Train ``make_model()`` and the reference ``Net`` under ``budget``; return both test accuracies.

    Both get the same training subset, drawn and shuffled with ``seed``, in the same batch order
    (``drop_last``: every step sees a full batch), the same number of Adam steps with the
    reference's ``train``, and the same test subset. Each model sees the images normalised as in
    the course: ``Net`` with (0.5, 0.5, 0.5), the residual network with VGG's constants.
    ``cifar10`` is the reference ``cifar10`` module (``Net``, ``train``); loaded from ``solutions/``
    when None.
    """
    cifar10 = reference_cifar10() if cifar10 is None else cifar10
    train_x, train_y = cifar10_subset(True, budget["train_images"], seed, root)
    test_x, test_y = cifar10_subset(False, budget["test_images"], seed, root)
    accuracies = []
    for make, (mean, std) in ((make_model, (VGG_MEAN, VGG_STD)), (cifar10.Net, (CIFAR10_MEAN, CIFAR10_STD))):
        torch.manual_seed(seed)
        model = make().to(device)
        batches = TensorBatches(train_x, train_y, budget["batch_size"], mean, std, shuffle=True, seed=seed,
                                device=device, drop_last=True)
        cifar10.train(model, batches, budget["epochs"], device, budget["lr"])
        test = TensorBatches(test_x, test_y, budget["test_batch_size"], mean, std, device=device)
        accuracies.append(measure_accuracy(model, test))
    return accuracies[0], accuracies[1]


# ---------------------------------------------------------------- checks


def test_block_output_shapes(student, submission):
    for c_in, c_out, stride in _configurations():
        n, h, w = int(torch.randint(2, 4, ()).item()), *(int(s) for s in torch.randint(5, 12, (2,)))
        block = _block(student, submission, c_in, c_out, stride)
        x = torch.randn(n, c_in, h, w)
        what = f"{_block_call(c_in, c_out, stride)} on a {_shape_text(x.shape)} input"
        out = expect_tensor(_forward_block(submission, block, x, c_in, c_out, stride), what)
        expect_dtype(out, torch.float32, what)
        expect_shape(out, (n, c_out, math.ceil(h / stride), math.ceil(w / stride)), what,
                     "the first 3x3 conv has stride=stride and padding 1, the second stride 1 and padding 1.")


def test_identity_shortcut_has_no_parameters(student, submission):
    c = int(torch.randint(2, 9, ()).item())
    call = _block_call(c, c, 1)
    block = _block(student, submission, c, c, 1)
    shortcut = _shortcut(block, call)
    parameters = sum(p.numel() for p in shortcut.parameters())
    if parameters:
        fail(f"{call}.shortcut has {parameters} parameters, expected none: input and output have the same "
             "shape, so the shortcut is the identity", "use nn.Identity() (or an empty nn.Sequential()).")
    x = torch.randn(2, c, 6, 6)
    what = f"{call}.shortcut(x)"
    expect_tensor_like(call_student(submission, what, shortcut, x), x, what, atol=0, rtol=0,
                       hint="the identity shortcut returns its input unchanged.")


def test_projection_shortcut_when_shape_changes(student, submission):
    for c_in, c_out, stride in _configurations()[1:]:
        call = _block_call(c_in, c_out, stride)
        shortcut = _shortcut(_block(student, submission, c_in, c_out, stride), call)
        convs, norms = _projection_layers(shortcut)
        expected = (f"a 1x1 nn.Conv2d({c_in}, {c_out}, kernel_size=1, stride={stride}) followed by "
                    f"nn.BatchNorm2d({c_out})")
        if not convs:
            fail(f"{call}.shortcut has no Conv2d, expected {expected}: the input's shape differs from the "
                 "output's", SHORTCUT_HINT)
        conv = convs[0]
        got = (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride)
        if len(convs) != 1 or got != (c_in, c_out, (1, 1), (stride, stride)):
            shown = ", ".join(f"Conv2d({m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, "
                              f"stride={m.stride})" for m in convs)
            fail(f"{call}.shortcut holds {shown}, expected {expected}", SHORTCUT_HINT)
        if len(norms) != 1 or norms[0].num_features != c_out:
            fail(f"{call}.shortcut holds {len(norms)} BatchNorm2d layers "
                 f"{[m.num_features for m in norms]}, expected one nn.BatchNorm2d({c_out}) after the 1x1 conv",
                 SHORTCUT_HINT)


def test_block_computes_residual(student, submission):
    for c_in, c_out, stride in _configurations():
        call = _block_call(c_in, c_out, stride)
        block = _block(student, submission, c_in, c_out, stride).double()
        layers = {name: getattr(block, name, None) for name in ("conv1", "bn1", "conv2", "bn2")}
        missing = [name for name, layer in layers.items() if not isinstance(layer, nn.Module)]
        if missing:
            fail(f"{call} has no {', '.join(missing)}, expected the released layers conv1, bn1, conv2, bn2",
                 "keep the layers the released __init__ creates.")
        shortcut = _shortcut(block, call)
        x = torch.randn(3, c_in, 7, 7, dtype=torch.float64)
        out = _forward_block(submission, block, x, c_in, c_out, stride)   # train mode: batch statistics
        with torch.no_grad():
            main = layers["bn2"](layers["conv2"](F.relu(layers["bn1"](layers["conv1"](x)))))
            if c_in == c_out and stride == 1:
                skip = x
            else:
                convs, norms = _projection_layers(shortcut)
                if len(convs) != 1 or len(norms) != 1:
                    fail(f"{call}.shortcut holds {len(convs)} Conv2d and {len(norms)} BatchNorm2d layers, "
                         "expected one of each", SHORTCUT_HINT)
                skip = norms[0](convs[0](x))
            expected = F.relu(main + skip)
        expect_tensor_like(out, expected, f"{call} on a float64 {_shape_text(x.shape)} input", atol=1e-10,
                           rtol=1e-8, hint="relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): the last "
                                           "ReLU comes after the addition, and bn2 before it.")


def test_gradients_reach_every_parameter(student, submission):
    c = int(torch.randint(2, 6, ()).item())
    block = _block(student, submission, c, 2 * c, 2)
    out = _forward_block(submission, block, torch.randn(4, c, 8, 8), c, 2 * c, 2)
    expect_tensor(out, _block_call(c, 2 * c, 2)).square().mean().backward()
    expect_gradients_reach(block, _block_call(c, 2 * c, 2))
    model = _small_resnet(student, submission)
    what = "SmallResNet() on a (4, 3, 32, 32) batch"
    out = expect_tensor(_forward_model(student, submission, model, torch.randn(4, 3, 32, 32), what), what)
    F.cross_entropy(out, torch.randint(0, 10, (4,))).backward()
    expect_gradients_reach(model, "SmallResNet()")


def test_small_resnet_logits(student, submission, device):
    for args in ((), (7,)):
        model = _small_resnet(student, submission, *args).to(device)
        n = int(torch.randint(2, 6, ()).item())
        what = f"SmallResNet({', '.join(map(str, args))}) on a ({n}, 3, 32, 32) batch"
        out = expect_tensor(_forward_model(student, submission, model, torch.randn(n, 3, 32, 32, device=device),
                                           what), what)
        expect_dtype(out, torch.float32, what)
        expect_shape(out, (n, args[0] if args else 10), what, "end with a Linear layer to num_classes outputs.")
    if not any(isinstance(m, student.ResidualBlock) for m in model.modules()):
        fail("SmallResNet() contains no ResidualBlock, expected a residual network built from your blocks")


def test_small_resnet_beats_net(student, submission, reference_module, exercise, profile, device, data_root):
    budget = exercise.budget(profile)
    margin = exercise.threshold("beats_net_by", profile)
    seed = torch.initial_seed()   # the check's own seed, set by the plugin
    what = "SmallResNet() on a (2, 3, 32, 32) batch"   # errors are reported before any training
    _forward_model(student, submission, _small_resnet(student, submission), torch.randn(2, 3, 32, 32), what)
    with training_precision(device, profile):
        mine, net = call_student(submission, "training your SmallResNet", compare_with_net, student.SmallResNet, budget,
                                 seed, device, data_root, cifar10=reference_module("cifar10"))
    if not mine >= net + margin:
        fail(f"after {describe_budget(budget)}, your SmallResNet's test accuracy was {mine:.3f} and the course's "
             f"Net's {net:.3f}, expected at least {net + margin:.3f} (Net's + {margin:.2f})",
             "batch norm, residual blocks and enough channels let a small network learn faster per step; "
             "shrink the feature map early (a stride or a max-pool) to keep it fast.")
