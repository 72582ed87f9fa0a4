"""Checks for week2/residual.py: the residual block and a small residual network.

Order: the block's output shapes (stride 1 and 2, same and changed channels) -> its shortcut
(identity without parameters when the shapes match, 1x1 conv with the stride + batch norm when
they do not) -> its values (``relu(main(x) + shortcut(x))`` from its own layers) -> gradients ->
``SmallResNet``'s logits -> ``SmallResNet`` against the course's ``Net`` under one training budget.

The comparison trains the student's ``SmallResNet`` in the worker with the course's loop (driven from
here, one step at a time) on a CIFAR-10 subset, in a fixed batch order, for a fixed number of steps;
the worker returns its scores for the test images, whose labels never leave this process. The
course's ``Net``, trained by the reference's ``train`` on the same subset, in the same order, for the
same steps, is the oracle's (``dlkit.oracles.week2.residual.net_accuracy``: live in the kit, its
accuracy recorded for the check's seed in a student's handout, where the full profile is left
pending); ``docs/calibration/week2-vgg-residual.md`` runs both on the reference to set the margin.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder.acceleration import training_precision
from autograder.batches import VGG_MEAN, VGG_STD, TensorBatches, subset
from autograder.data import cifar10_tensors
from autograder.expect import (
    call_student, expect_dtype, expect_gradients_reach, expect_model, expect_shape, expect_tensor,
    expect_tensor_like, fail,
)
from autograder.failures import describe
from autograder.i18n import _, n_
from autograder.models import accuracy_there, gradients, local_copy, spec_of, state_of, train_there
from autograder.probe import modules
from autograder.probe.client import Remote, StudentRaised

SHORTCUT_HINT = _("when stride != 1 or in_channels != out_channels, x and the main path's output have different "
                   "shapes: make the shortcut nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride) "
                   "followed by nn.BatchNorm2d(out_channels), so the two can be added.")
RELEASED_LAYERS_HINT = _("keep the layers the released __init__ creates.")


# ---------------------------------------------------------------- helpers


def _block_call(c_in: int, c_out: int, stride: int) -> str:
    return f"ResidualBlock({c_in}, {c_out}, stride={stride})"


def _block(student, c_in: int, c_out: int, stride: int) -> Remote:
    what = _block_call(c_in, c_out, stride)
    return expect_model(call_student(what, student.ResidualBlock, c_in, c_out, stride=stride), what)


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def _on_input(call: str, shape, dtype: str = ""):
    """``"<call> on a (N, C, H, W) input"`` (``"on a float64 ... input"`` with ``dtype``), as a message."""
    if dtype == "float64":
        return _("{model} on a float64 {shape} input", model=call, shape=_shape_text(shape))
    return _("{model} on a {shape} input", model=call, shape=_shape_text(shape))


def _on_batch(model: str, shape):
    """``"<model> on a (N, C, H, W) batch"``, as a message."""
    return _("{model} on a {shape} batch", model=model, shape=_shape_text(shape))


def _size_mismatch(error: StudentRaised) -> bool:
    text = error.message
    return error.type_name == "RuntimeError" and ("must match the size" in text or "size of tensor" in text)


def _forward_block(block: Remote, x: torch.Tensor, c_in: int, c_out: int, stride: int):
    """``block(x)``, turning "shortcut of the wrong shape" into a message that says so."""
    what = _on_input(_block_call(c_in, c_out, stride), x.shape)
    try:
        return block(x)
    except StudentRaised as error:
        if error.not_implemented or error.timed_out:
            raise
        if not _size_mismatch(error):
            fail(_("{what}: {error}", what=what, error=describe(error)))
        main = (x.shape[0], c_out, math.ceil(x.shape[2] / stride), math.ceil(x.shape[3] / stride))
        shortcut = block.get("shortcut")
        got = None
        if isinstance(shortcut, Remote) and shortcut.is_model:
            try:
                out = shortcut(x)
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else None
            except StudentRaised:  # the shortcut itself is broken; the message below still holds
                got = None
        pytorch = error.message.splitlines()[0]
        if got is not None:
            fail(_("{what}: adding the shortcut to the main path failed: the main path gives {main} but the shortcut "
                   "gives {shortcut} (PyTorch: {error})", what=what, main=_shape_text(main), shortcut=_shape_text(got),
                   error=pytorch), SHORTCUT_HINT)
        fail(_("{what}: adding the shortcut to the main path failed: the main path gives {main} but the shortcut "
               "does not (PyTorch: {error})", what=what, main=_shape_text(main), error=pytorch), SHORTCUT_HINT)


def _failing_block(error: StudentRaised) -> Remote | None:
    """The innermost ``ResidualBlock`` whose ``forward`` was running when ``error`` was raised."""
    found = None
    for frame in error.frames:
        owner = frame.get("self")
        if isinstance(owner, Remote) and owner.kind.get("name") == "ResidualBlock":
            found = owner
    return found


def _forward_model(model: Remote, x: torch.Tensor, what):
    """``model(x)`` for a network built from ResidualBlocks; a block's shortcut of the wrong shape is named."""
    try:
        return model(x)
    except StudentRaised as error:
        if error.not_implemented or error.timed_out:
            raise
        block = _failing_block(error) if _size_mismatch(error) else None
        conv = spec_of(block.conv1, "conv1") if isinstance(block, Remote) and block.get("conv1") is not None else None
        if conv is not None and modules.layer_class(conv) is nn.Conv2d:
            args = conv["args"]
            call = _block_call(args["in_channels"], args["out_channels"], args["stride"][0])
            fail(_("{what}: adding the shortcut to the main path failed in its {call} (PyTorch: {error})", what=what,
                   call=call, error=error.message.splitlines()[0]), SHORTCUT_HINT)
        fail(_("{what}: {error}", what=what, error=describe(error)))


def _configurations() -> list[tuple[int, int, int]]:
    """(in_channels, out_channels, stride): same shape, more channels, stride 2, both; random sizes."""
    c = int(torch.randint(2, 7, ()).item())
    wider = c + int(torch.randint(1, 6, ()).item())
    return [(c, c, 1), (c, wider, 1), (c, c, 2), (c, wider, 2)]


def _child(spec: dict, name: str) -> dict | None:
    return next((child for child_name, child in spec["children"] if child_name == name), None)


def _shortcut(spec: dict, call: str) -> dict:
    """The described block's ``shortcut``."""
    shortcut = _child(spec, "shortcut")
    if shortcut is None:
        fail(_("{call} has no module named `shortcut`, expected self.shortcut to hold the shortcut path", call=call),
             _("keep the attribute name shortcut: nn.Identity() when the shapes match, 1x1 conv + batch norm "
               "when they do not."))
    return shortcut


def _projection_layers(shortcut: dict) -> tuple[list[dict], list[dict]]:
    """The Conv2d and BatchNorm2d layers inside a described shortcut, with their dotted names."""
    layers = modules.modules(shortcut)
    convs = [(name, s) for name, s in layers if modules.layer_class(s) is nn.Conv2d]
    norms = [(name, s) for name, s in layers if modules.layer_class(s) is nn.BatchNorm2d]
    return convs, norms


def _small_resnet(student, *args) -> Remote:
    what = f"SmallResNet({', '.join(map(str, args))})"
    return expect_model(call_student(what, student.SmallResNet, *args), what)


def describe_budget(budget: dict):
    return n_("{n} epoch over the same {train_images:,} training images (batch {batch_size}, Adam lr {lr}), tested on "
              "{test_images:,} images",
              "{n} epochs over the same {train_images:,} training images (batch {batch_size}, Adam lr {lr}), tested "
              "on {test_images:,} images", budget["epochs"], train_images=budget["train_images"],
              batch_size=budget["batch_size"], lr=budget["lr"], test_images=budget["test_images"])


def course_batches(budget: dict, seed: int, device, mean, std, root=None) -> tuple[TensorBatches, TensorBatches]:
    """The comparison's training batches (``budget["train_images"]`` images drawn and shuffled with
    ``seed``, ``drop_last``: every step sees a full batch) and test batches (``budget["test_images"]``),
    normalised with ``mean``, ``std``: float32 (B, 3, 32, 32) images, int64 (B,) labels on ``device``."""
    train_x, train_y = subset(*cifar10_tensors(True, root), budget["train_images"], seed)
    test_x, test_y = subset(*cifar10_tensors(False, root), budget["test_images"], seed)
    batches = TensorBatches(train_x, train_y, budget["batch_size"], mean, std, shuffle=True, seed=seed,
                            device=device, drop_last=True)
    return batches, TensorBatches(test_x, test_y, budget["test_batch_size"], mean, std, device=device)


def small_resnet_accuracy(worker, make_model: Remote, budget: dict, seed: int, device, root=None) -> float:
    """The student's ``make_model()`` (their ``SmallResNet`` class in ``worker``), initialised after
    ``torch.manual_seed(seed)`` there and trained there under ``budget`` on :func:`course_batches`
    normalised with VGG's constants (:func:`autograder.models.train_there`); its test accuracy as the
    worker's scores give it (:func:`autograder.models.accuracy_there`)."""
    worker.module("torch").manual_seed(seed)
    model = expect_model(make_model(), "SmallResNet()").to(str(device))
    batches, test = course_batches(budget, seed, device, VGG_MEAN, VGG_STD, root)
    train_there(worker, model, batches, budget["epochs"], budget["lr"])
    return accuracy_there(worker, model, test)


# ---------------------------------------------------------------- checks


def test_block_output_shapes(student):
    for c_in, c_out, stride in _configurations():
        n, h, w = int(torch.randint(2, 4, ()).item()), *(int(s) for s in torch.randint(5, 12, (2,)))
        block = _block(student, c_in, c_out, stride)
        x = torch.randn(n, c_in, h, w)
        what = _on_input(_block_call(c_in, c_out, stride), x.shape)
        out = expect_tensor(_forward_block(block, x, c_in, c_out, stride), what)
        expect_dtype(out, torch.float32, what)
        expect_shape(out, (n, c_out, math.ceil(h / stride), math.ceil(w / stride)), what,
                     _("the first 3x3 conv has stride=stride and padding 1, the second stride 1 and padding 1."))


def test_identity_shortcut_has_no_parameters(student):
    c = int(torch.randint(2, 9, ()).item())
    call = _block_call(c, c, 1)
    block = _block(student, c, c, 1)
    shortcut = _shortcut(spec_of(block, call), call)
    parameters = sum(math.prod(shape) for shape in modules.parameter_shapes(shortcut).values())
    if parameters:
        fail(n_("{call}.shortcut has {n} parameter, expected none: input and output have the same shape, so the "
                "shortcut is the identity",
                "{call}.shortcut has {n} parameters, expected none: input and output have the same shape, so the "
                "shortcut is the identity", parameters, call=call),
             _("use nn.Identity() (or an empty nn.Sequential())."))
    x = torch.randn(2, c, 6, 6)
    what = f"{call}.shortcut(x)"
    expect_tensor_like(call_student(what, block.shortcut, x), x, what, atol=0, rtol=0,
                       hint=_("the identity shortcut returns its input unchanged."))
    if modules.layer_class(shortcut) is not None:  # the description of its (no) parameters, held to what it computes
        local_copy(block.shortcut, f"{call}.shortcut", probe=x)


def _conv_text(conv: dict) -> str:
    args = conv["args"]
    return (f"Conv2d({args['in_channels']}, {args['out_channels']}, kernel_size={tuple(args['kernel_size'])}, "
            f"stride={tuple(args['stride'])})")


def test_projection_shortcut_when_shape_changes(student):
    for c_in, c_out, stride in _configurations()[1:]:
        call = _block_call(c_in, c_out, stride)
        shortcut = _shortcut(spec_of(_block(student, c_in, c_out, stride), call), call)
        convs, norms = _projection_layers(shortcut)
        expected = _("a 1x1 nn.Conv2d({c_in}, {c_out}, kernel_size=1, stride={stride}) followed by "
                     "nn.BatchNorm2d({c_out})", c_in=c_in, c_out=c_out, stride=stride)
        if not convs:
            fail(_("{call}.shortcut has no Conv2d, expected {expected}: the input's shape differs from the output's",
                   call=call, expected=expected), SHORTCUT_HINT)
        args = convs[0][1]["args"]
        got = (args["in_channels"], args["out_channels"], tuple(args["kernel_size"]), tuple(args["stride"]))
        if len(convs) != 1 or got != (c_in, c_out, (1, 1), (stride, stride)):
            shown = ", ".join(_conv_text(conv) for _, conv in convs)
            fail(_("{call}.shortcut holds {got}, expected {expected}", call=call, got=shown, expected=expected),
                 SHORTCUT_HINT)
        if len(norms) != 1 or norms[0][1]["args"]["num_features"] != c_out:
            fail(n_("{call}.shortcut holds {n} BatchNorm2d layer {sizes}, expected one nn.BatchNorm2d({c_out}) "
                    "after the 1x1 conv",
                    "{call}.shortcut holds {n} BatchNorm2d layers {sizes}, expected one nn.BatchNorm2d({c_out}) "
                    "after the 1x1 conv", len(norms), call=call,
                    sizes=str([norm["args"]["num_features"] for _name, norm in norms]), c_out=c_out), SHORTCUT_HINT)
        try:  # the description, held to what the shortcut computes (when it is torch.nn layers only)
            modules.build(shortcut)
        except modules.NotRebuildable:
            continue
        local_copy(_block(student, c_in, c_out, stride).shortcut, f"{call}.shortcut", probe=torch.randn(2, c_in, 6, 6))


def _layers_here(spec: dict, state: dict, call: str) -> dict[str, nn.Module]:
    """The block's conv1, bn1, conv2, bn2 and its projection (``shortcut``, when it has one) rebuilt here
    from their ``torch.nn`` layers and the block's weights."""
    built = {}
    for name in ("conv1", "bn1", "conv2", "bn2"):
        child = _child(spec, name)
        if child is None:
            continue
        own = {key[len(name) + 1:]: value for key, value in state.items() if key.startswith(f"{name}.")}
        try:
            built[name] = modules.build(child, own)
        except (modules.NotRebuildable, RuntimeError, ValueError):
            fail(_("{call}'s {name} is a {cls}, expected the released torch.nn layer", call=call, name=name,
                   cls=modules.short_class(child)), RELEASED_LAYERS_HINT)
    return built


def _projection_here(shortcut: dict, state: dict, call: str) -> nn.Module:
    convs, norms = _projection_layers(shortcut)
    if len(convs) != 1 or len(norms) != 1:
        fail(_("{call}.shortcut holds {convs} Conv2d and {norms} BatchNorm2d layers, expected one of each", call=call,
               convs=len(convs), norms=len(norms)), SHORTCUT_HINT)
    layers = []
    for name, layer in (convs[0], norms[0]):
        prefix = f"shortcut.{name}." if name else "shortcut."
        layers.append(modules.build(layer, {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}))
    return nn.Sequential(*layers)


def test_block_computes_residual(student):
    for c_in, c_out, stride in _configurations():
        call = _block_call(c_in, c_out, stride)
        block = _block(student, c_in, c_out, stride).double()
        spec = spec_of(block, call)
        missing = [name for name in ("conv1", "bn1", "conv2", "bn2") if _child(spec, name) is None]
        if missing:
            fail(_("{call} has no {names}, expected the released layers conv1, bn1, conv2, bn2", call=call,
                   names=", ".join(missing)), RELEASED_LAYERS_HINT)
        shortcut = _shortcut(spec, call)
        state = state_of(block)  # before the forward pass in training mode moves batch norm's statistics
        layers = _layers_here(spec, state, call)
        x = torch.randn(3, c_in, 7, 7, dtype=torch.float64)
        out = _forward_block(block, x, c_in, c_out, stride)   # train mode: batch statistics
        with torch.no_grad():
            main = layers["bn2"](layers["conv2"](F.relu(layers["bn1"](layers["conv1"](x)))))
            skip = x if c_in == c_out and stride == 1 else _projection_here(shortcut, state, call)(x)
            expected = F.relu(main + skip)
        expect_tensor_like(out, expected, _on_input(call, x.shape, "float64"), atol=1e-10,
                           rtol=1e-8, hint=_("relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): the last "
                                             "ReLU comes after the addition, and bn2 before it."))


def test_gradients_reach_every_parameter(student, worker):
    c = int(torch.randint(2, 6, ()).item())
    call = _block_call(c, 2 * c, 2)
    block = _block(student, c, 2 * c, 2)
    x = torch.randn(4, c, 8, 8)
    _forward_block(block, x, c, 2 * c, 2)   # a shortcut of the wrong shape is explained before anything else
    expect_gradients_reach(_block_gradients(worker, block, x, call), call)
    model = _small_resnet(student)
    what = _on_batch("SmallResNet()", (4, 3, 32, 32))
    images, labels = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    expect_tensor(_forward_model(model, images, what), what)
    expect_gradients_reach(gradients(worker, model, images, labels, "cross_entropy", "SmallResNet()"), "SmallResNet()")


def _block_gradients(worker, block: Remote, x: torch.Tensor, call: str) -> dict:
    """``block(x).square().mean().backward()`` in the worker; the gradients of its parameters."""
    out = call_student(call, block.keep, x)
    if out.kind.get("name") != "Tensor":
        fail(_("{call} gave a {type}, expected a tensor", call=call, type=out.kind.get("name")))
    torch_there = worker.module("torch")
    torch_there.mean.keep(torch_there.square.keep(out)).backward()
    return block.describe("gradients")


def test_small_resnet_logits(student, device):
    for args in ((), (7,)):
        model = _small_resnet(student, *args).to(str(device))
        n = int(torch.randint(2, 6, ()).item())
        what = _on_batch(f"SmallResNet({', '.join(map(str, args))})", (n, 3, 32, 32))
        out = expect_tensor(_forward_model(model, torch.randn(n, 3, 32, 32, device=device), what), what)
        expect_dtype(out, torch.float32, what)
        expect_shape(out, (n, args[0] if args else 10), what, _("end with a Linear layer to num_classes outputs."))
    if not any(modules.short_class(spec) == "ResidualBlock" for _, spec in modules.modules(spec_of(model, "SmallResNet()"))):
        fail(_("SmallResNet() contains no ResidualBlock, expected a residual network built from your blocks"))


def test_small_resnet_beats_net(student, worker, oracle, exercise, profile, device, data_root):
    budget = exercise.budget(profile)
    margin = exercise.threshold("beats_net_by", profile)
    seed = oracle.draw("seed", torch.initial_seed)   # the check's own seed, set by the plugin
    what = _on_batch("SmallResNet()", (2, 3, 32, 32))   # errors are reported before any training
    _forward_model(_small_resnet(student), torch.randn(2, 3, 32, 32), what)
    net = oracle.expect(f"net_accuracy/{profile}", "residual.net_accuracy", budget, seed, str(device), profile,
                        data_root)
    with training_precision(device, profile):
        mine = call_student(_("training your SmallResNet"), small_resnet_accuracy, worker, student.SmallResNet,
                            budget, seed, device, data_root)
    if not mine >= net + margin:
        fail(_("after {budget}, your SmallResNet's test accuracy was {mine:.3f} and the course's Net's {net:.3f}, "
               "expected at least {limit:.3f} (Net's + {margin:.2f})", budget=describe_budget(budget), mine=mine,
               net=net, limit=net + margin, margin=margin),
             _("batch norm, residual blocks and enough channels let a small network learn faster per step; "
               "shrink the feature map early (a stride or a max-pool) to keep it fast."))
