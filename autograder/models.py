"""Models that cross between the worker and the checks: a student's model judged here.

A student's model lives in the worker (a :class:`~autograder.probe.client.Remote`). Checks judge
it by what can be computed here, never by what the worker says of it:

- :func:`local_copy`: a model made only of ``torch.nn`` layers, rebuilt here layer for layer
  with the weights it has in the worker (the spiral's ``nn.Sequential``), so the kit can train
  and measure it itself;
- :func:`load_strictly`: a student's trained weights loaded into the reference architecture,
  where a missing or misshaped layer is the student's failure, named;
- :func:`gradients`: the gradients the student's model computes for a loss, to compare with the
  reference's for the same weights and inputs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from autograder.expect import expect_model, fail
from autograder.i18n import _, join
from autograder.probe import modules
from autograder.probe.client import Remote, WorkerClient


def spec_of(model: Remote, what, hint=None) -> dict:
    """The worker's description of the student's model (see :mod:`autograder.probe.modules`)."""
    return expect_model(model, what, hint).describe("module")


def state_of(model: Remote) -> dict[str, torch.Tensor]:
    """The student's model's ``state_dict()``, fetched by value."""
    return dict(model.state_dict())


def local_copy(model: Remote, what, hint=None, probe: torch.Tensor | None = None) -> nn.Module:
    """The student's model rebuilt here from ``torch.nn`` layers, with the weights and mode it has in the worker.

    The layers come from the worker's description of the model, a claim; with ``probe`` (an input the
    model takes) the claim is checked against what the model computes: the worker's output for
    ``probe`` must be the rebuilt model's, so a verdict on the copy is a verdict on the student's model.
    """
    spec = spec_of(model, what, hint)
    try:
        copy = modules.build(spec, state_of(model))
    except modules.NotRebuildable as error:
        kind = error.class_name.rsplit(".", 1)[-1]
        fail(_("{what} is not built from torch.nn layers only: its {path} is a {type}", what=what, path=error.path,
               type=kind) if error.path else
             _("{what} is not built from torch.nn layers only: it is a {type}", what=what, type=kind),
             hint or _("build the model from torch.nn layers (nn.Sequential, nn.Linear, nn.ReLU, ...)."))
    if probe is not None:
        from autograder.expect import call_student

        theirs = call_student(_("{what} on a {shape} input", what=what, shape=str(tuple(probe.shape))), model, probe)
        with torch.no_grad():
            ours = copy(probe.to(next(copy.parameters(), probe).device))
        if not (isinstance(theirs, torch.Tensor) and theirs.shape == ours.shape
                and torch.allclose(theirs.to(ours.device, ours.dtype), ours, atol=1e-5, rtol=1e-4)):
            fail(_("{what} computes something other than the torch.nn layers it holds (its output differs from "
                   "theirs, run in order)", what=what),
                 hint or _("build the model from torch.nn layers, with no other code in its forward()."))
    return copy


def load_reference_weights(model: Remote, state: dict[str, torch.Tensor], what, hint) -> None:
    """Load the reference's ``state`` into the student's ``model`` in the worker, failing the check with
    PyTorch's own reasons (missing and unexpected keys, shape mismatches) and ``hint``."""
    from autograder.expect import fail
    from autograder.probe.client import StudentRaised

    try:
        model.load_state_dict(state)
    except StudentRaised as error:
        details = "; ".join(line.strip() for line in error.message.splitlines()[1:] if line.strip())
        fail(_("loading the reference's weights into {what} failed: {details}", what=what,
               details=details or error.message), hint)


def load_strictly(model: nn.Module, state: dict[str, torch.Tensor], what, hint=None) -> nn.Module:
    """``model.load_state_dict(state)`` (strict); a mismatch fails the check naming the layers."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    shapes = [_("{name} {shape} (expected {expected})", name=k, shape=str(tuple(state[k].shape)),
                expected=str(tuple(v.shape)))
              for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or extra or shapes:
        def names(keys: list[str]) -> str:
            return ", ".join(keys[:4]) + (" ..." if len(keys) > 4 else "")

        parts = []
        if missing:
            parts.append(_("missing {names}", names=names(missing)))
        if extra:
            parts.append(_("unexpected {names}", names=names(extra)))
        if shapes:
            parts.append(_("shape of {shapes}", shapes=join(shapes[:3], ", ")))
        fail(_("{what}'s weights do not fit the course's architecture: {problems}", what=what,
               problems=join(parts, "; ")),
             hint or _("keep the course's layer names and sizes, so that its state_dict fits."))
    model.load_state_dict({k: v.to(expected[k].device) for k, v in state.items()})
    return model


def gradients(worker: WorkerClient, model: Remote, x: torch.Tensor, labels: torch.Tensor, loss: str,
              what) -> dict[str, Any]:
    """Run ``loss(model(x), labels).backward()`` in the worker; the gradient of each trainable
    parameter (``None`` where there is none). ``loss`` names a ``torch.nn.functional`` loss."""
    from autograder.expect import call_student

    functional = worker.module("torch.nn.functional")
    out = call_student(what, model.keep, x)
    if out.kind.get("name") not in ("Tensor", "Parameter"):
        fail(_("{what} gave a {type}, expected a tensor", what=what, type=str(out.kind.get("name"))))
    value = call_student(join([f"{loss}(", what, ", labels)"]), getattr(functional, loss).keep, out, labels)
    call_student(_("{loss}(...).backward() through {what}", loss=loss, what=what), value.backward)
    return model.describe("gradients")


def train_there(worker: WorkerClient, model: Remote, batches, epochs: int, lr: float) -> None:
    """Train the student's ``model`` in the worker as the course does (Adam(lr), cross-entropy, every
    batch: zero_grad, backward, step) on ``batches`` made here. The loop runs here; each step's
    forward, backward and update run there, so no training code of the kit's is in the worker."""
    optimizer = worker.module("torch").optim.Adam(model.parameters(), lr=lr)
    zero_grad, step = optimizer.zero_grad, optimizer.step
    cross_entropy = worker.module("torch.nn.functional").cross_entropy
    model.train()
    for _epoch in range(epochs):
        for images, labels in batches:
            zero_grad()
            cross_entropy.keep(model.keep(images), labels).backward()
            step()


def accuracy_there(worker: WorkerClient, model: Remote, batches) -> float:
    """The share of ``batches`` the student's model classifies right, in eval mode without gradients:
    the worker gets the images and returns scores; the labels never leave this process."""
    torch_there = worker.module("torch")
    model.eval()
    correct, seen = 0, 0
    torch_there.set_grad_enabled(False)
    try:
        for images, labels in batches:
            scores = model(images)
            if not isinstance(scores, torch.Tensor) or scores.shape[:1] != labels.shape:
                fail(_("the model gave {type} for a batch of {n} images, expected a (N, classes) tensor of scores",
                       type=type(scores).__name__, n=labels.shape[0]))
            correct += (scores.argmax(dim=1).to(labels.device) == labels).sum().item()
            seen += labels.shape[0]
    finally:
        torch_there.set_grad_enabled(True)
    return correct / seen


def expect_gradients_match_reference(worker: WorkerClient, model: Remote, mirror: nn.Module, x: torch.Tensor,
                                     labels: torch.Tensor, loss: str, what, hint,
                                     got: dict[str, Any] | None = None, unless_it_fails: bool = False):
    """The gradients the student's model computes for ``loss(model(x), labels)`` equal those of
    ``mirror``, the course's architecture holding the student's own weights, for the same input: a
    verdict on what the model computes, not on how the worker describes it. Returns the student's
    gradients; with ``unless_it_fails``, ``None`` when the model's forward or backward raises (other
    checks say so: a check about the parameters then rests on their description)."""
    import torch.nn.functional as F

    from autograder.expect import CheckFailure

    state = state_of(model)
    if got is None:
        try:
            got = gradients(worker, model, x, labels, loss, what)
        except CheckFailure:
            if unless_it_fails:
                return None
            raise
    mirror = load_strictly(mirror, state, what)
    getattr(F, loss)(mirror(x), labels).backward()
    for name, parameter in mirror.named_parameters():
        mine = got.get(name)
        if parameter.grad is None:
            continue
        if not isinstance(mine, torch.Tensor) or mine.shape != parameter.grad.shape or \
                not torch.allclose(mine.to(parameter.grad.device), parameter.grad, atol=1e-5, rtol=1e-3):
            fail(_("after loss.backward(), {what}'s gradient for {name} differs from the course's model's for the "
                   "same weights and input", what=what, name=name), hint)
    return got
