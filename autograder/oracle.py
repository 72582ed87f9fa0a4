"""What a check learns from the reference solution: the live reference in the kit, recorded values
in a student's handout. One check code path, two oracles.

A check never imports the reference. It asks its ``oracle`` fixture:

- ``oracle.draw(key, make)``: an input the check draws itself (seeded random tensors, a seed, a
  model's initial weights). Live: ``make()``. In the handout: the value recorded at release time, so
  another PyTorch version or device sees the very same input.
- ``oracle.expect(key, "exercise.function", *args, **kwargs)``: a value of the reference solution,
  computed by ``dlkit.oracles.<week>.<exercise>.<function>(*args, **kwargs)`` on the instructors' side. Its arguments are the
  check's drawn inputs and constants, never a student's values. In the handout: the recorded value.
- ``oracle.mirror("exercise.function", *args)``: the reference's code applied to a student's own
  values, here: the course's architecture (an ``nn.Module``) to hold their weights and recompute what
  the worker reports, the lab's training loop run on their model. ``None`` in the handout, where the
  check takes the student's process at its word instead (``oracle.live`` says which): locally a
  student can only fool themselves, and ``dlkit grade`` always has the live reference.
- ``oracle.answer(name)``: a multiple-choice key's letter; ``None`` in the handout, where the answer
  is only checked for form and its points are pending until ``dlkit grade``.

Values are keyed by ``(check id, key)``: a key is unique within its check. Recorded values live in
``autograder/recorded/<week>/<exercise>.pt`` (nested dicts, lists, tuples, numbers, strings and
tensors, loaded with ``torch.load(weights_only=True)``, which runs no code); what they were recorded
from is kept on the instructors' side (:mod:`dlkit.release.record`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from autograder.i18n import Said, _

RECORDED_ROOT = Path(__file__).resolve().parent / "recorded"


class NotRecorded(Said, Exception):
    """The handout has no recorded value for what a check asked: it can only be graded after submission;
    ``message`` is an :mod:`autograder.i18n` message."""


def _to_device(value: Any, device) -> Any:
    """``value`` with every tensor in it moved to ``device`` (``None``: left where it is)."""
    import torch

    if device is None:
        return value
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    return value


def _detached(value: Any) -> Any:
    """``value`` as it is stored: tensors detached, on the CPU, contiguous, owning their memory."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").contiguous().clone()
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_detached(v) for v in value)
    return value


class Oracle:
    """The reference's side of one check (``check_id``, e.g. ``"week2/mnist/names"``)."""

    live = False

    def __init__(self, check_id: str):
        self.check_id = check_id

    def draw(self, key: str, make: Callable[[], Any], device=None) -> Any:
        raise NotImplementedError

    def expect(self, key: str, name: str, *args, device=None, **kwargs) -> Any:
        raise NotImplementedError

    def mirror(self, name: str, *args, **kwargs):
        return None

    def answer(self, name: str) -> str | None:
        return None


class RecordedOracle(Oracle):
    """The handout's oracle: values recorded from the reference at release time."""

    def __init__(self, check_id: str, values: dict[str, Any]):
        super().__init__(check_id)
        self.values = values

    def _get(self, key: str, device) -> Any:
        if key not in self.values:
            raise NotRecorded(_("{check}: no recorded value {key}", check=self.check_id, key=repr(key)))
        return _to_device(self.values[key], device)

    def draw(self, key: str, make: Callable[[], Any], device=None) -> Any:
        return self._get(f"draw:{key}", device)

    def expect(self, key: str, name: str, *args, device=None, **kwargs) -> Any:
        return self._get(f"expect:{key}", device)


class LiveOracle(Oracle):
    """The kit's oracle: the reference solution itself, through ``dlkit.oracles.<week>``; with
    ``record`` (a dict), every value it gives is also stored there for the handout."""

    live = True

    def __init__(self, check_id: str, record: dict[str, Any] | None = None):
        super().__init__(check_id)
        self.week = check_id.split("/")[0]
        self.record = record

    def _function(self, name: str):
        import importlib

        exercise, _dot, function = name.rpartition(".")
        return getattr(importlib.import_module(f"dlkit.oracles.{self.week}.{exercise}"), function)

    def _keep(self, key: str, value: Any) -> Any:
        if self.record is not None:
            stored = _detached(value)
            if key in self.record and not _same(self.record[key], stored):
                raise ValueError(f"{self.check_id}: oracle key {key!r} asked twice with different values; "
                                 "give each value its own key")
            self.record[key] = stored
        return value

    def draw(self, key: str, make: Callable[[], Any], device=None) -> Any:
        return _to_device(self._keep(f"draw:{key}", make()), device)

    def expect(self, key: str, name: str, *args, device=None, **kwargs) -> Any:
        return _to_device(self._keep(f"expect:{key}", self._function(name)(*args, **kwargs)), device)

    def mirror(self, name: str, *args, **kwargs):
        return self._function(name)(*args, **kwargs)

    def answer(self, name: str) -> str | None:
        from dlkit.keys import answer

        return answer(self.week, name)


def _same(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and \
            a.dtype == b.dtype and bool(torch.equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)  # nan == nan here


def live_reference_available() -> bool:
    """The instructors' side sits beside this package, with the reference solutions: the kit, not a
    handout (a handout next to an installed kit must not borrow the kit's reference)."""
    try:
        import dlkit
        from dlkit.reference import REFERENCE_ROOT
    except ImportError:
        return False
    beside = Path(dlkit.__file__).resolve().parent.parent == Path(__file__).resolve().parent.parent
    return beside and REFERENCE_ROOT.is_dir()


def recorded_path(week: str, exercise: str) -> Path:
    """Where the values recorded for one exercise's checks live (``.json`` beside it: their provenance)."""
    return RECORDED_ROOT / week / f"{exercise}.pt"


def load_recorded(week: str) -> dict[str, dict[str, Any]]:
    """Check id -> key -> value, as recorded for ``week``'s exercises; ``{}`` when nothing was recorded."""
    import torch

    values: dict[str, dict[str, Any]] = {}
    for path in sorted((RECORDED_ROOT / week).glob("*.pt")):
        values.update(torch.load(path, map_location="cpu", weights_only=True))
    return values
