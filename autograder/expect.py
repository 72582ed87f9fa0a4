"""Assertion helpers for checks: type, then dtype and device, then shape, then values.

Every helper raises :class:`CheckFailure` with one short message of the form
"<what> gave X, expected Y", plus a hint where there is one. ``what`` names
the student's call as the student wrote it, e.g. ``"matvec(m, v)"`` (code, shown
as is in every language), or is a message (``_("your model's accuracy")``).
Messages and hints are :mod:`autograder.i18n` messages, rendered in the reader's
language when they are shown.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Iterable

import torch

from autograder.i18n import Said, _, join


class CheckFailure(Said, AssertionError):
    """A check failed; ``message`` (an :mod:`autograder.i18n` message) is written for the student."""


class Pending(Said, Exception):
    """A check that cannot be decided here (a handout has no answer key, no recorded value for this):
    its points are pending until ``dlkit grade``; the message says what was checked."""


def pending(message) -> None:
    """End the current check as pending: ``message`` tells the student what happens to its points."""
    raise Pending(message)


def with_hint(message, hint=None):
    """``message``, then ``hint`` on its own line."""
    return join([message, _("Hint: {hint}", hint=hint) if hint else ""], "\n")


def fail(message, hint=None) -> None:
    """Fail the current check with ``message`` (and an optional hint): messages of :mod:`autograder.i18n`."""
    raise CheckFailure(with_hint(message, hint))


def _with_article(name: str):
    """``name`` (a type's name, code) with its English article, as a message."""
    return _("an {type}", type=name) if name[:1].lower() in "aeiou" else _("a {type}", type=name)


def _type_name(value: Any) -> str:
    from autograder.probe.client import remote_type_name

    return remote_type_name(value)


def _got_type(value: Any):
    if value is None:
        return _("None (did you forget a return statement?)")
    return _with_article(_type_name(value))


def expect_type(value: Any, kind: type | tuple[type, ...], what, hint=None) -> Any:
    """``value`` is an instance of ``kind`` (a plain value that came back from the worker); returns it."""
    if not isinstance(value, kind):
        kinds = [_with_article(k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,))]
        expected = kinds[0]
        for other in kinds[1:]:
            expected = _("{first} or {second}", first=expected, second=other)
        fail(_("{what} gave {got}, expected {expected}", what=what, got=_got_type(value), expected=expected), hint)
    return value


def expect_model(value: Any, what, hint=None):
    """``value`` is a model (an ``nn.Module``) that stays in the worker; returns its ``Remote``."""
    from autograder.probe.client import Remote

    if not (isinstance(value, Remote) and value.is_model):
        fail(_("{what} gave {got}, expected an nn.Module", what=what, got=_got_type(value)), hint)
    return value


def expect_tensor(value: Any, what, hint=None) -> torch.Tensor:
    """``value`` is a ``torch.Tensor``; returns it."""
    return expect_type(value, torch.Tensor, what, hint)


def expect_dtype(tensor: torch.Tensor, dtype: torch.dtype, what, hint=None) -> None:
    """``tensor.dtype == dtype``."""
    if tensor.dtype != dtype:
        fail(_("{what} gave dtype {got}, expected {expected}", what=what, got=str(tensor.dtype),
               expected=str(dtype)), hint)


def expect_device(tensor: torch.Tensor, device: torch.device | str, what, hint=None) -> None:
    """``tensor`` lives on ``device`` (type only: ``cuda`` matches ``cuda:0``)."""
    expected = torch.device(device).type
    if tensor.device.type != expected:
        fail(_("{what} gave a tensor on {got}, expected it on {expected}", what=what, got=tensor.device.type,
               expected=expected), hint)


def expect_shape(tensor: torch.Tensor, shape: Iterable[int], what, hint=None) -> None:
    """``tensor.shape == shape``."""
    shape = tuple(shape)
    if tuple(tensor.shape) != shape:
        fail(_("{what} gave shape {got}, expected {expected}", what=what, got=str(tuple(tensor.shape)),
               expected=str(shape)), hint)


def _first_mismatch(actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float, what):
    """The failure message naming the first value that differs and how many do."""
    close = torch.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=False)
    bad = (~close).nonzero()
    index = tuple(bad[0].tolist())
    values = dict(what=what, got=f"{actual[index].item():.6g}", expected=f"{expected[index].item():.6g}",
                  n=bad.shape[0], total=actual.numel())
    if index:
        return _("{what} gave {got} at index {index} (expected {expected}; {n} of {total} values differ)",
                 index=str(list(index)), **values)
    return _("{what} gave {got} (expected {expected}; {n} of {total} values differ)", **values)


def expect_close(
    actual: torch.Tensor,
    expected: torch.Tensor,
    what,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    hint=None,
) -> None:
    """Values agree within ``atol + rtol * |expected|`` (shapes must already match)."""
    actual = actual.detach().to("cpu", torch.float64)
    expected = expected.detach().to("cpu", torch.float64)
    if torch.isnan(actual).any() and not torch.isnan(expected).any():
        fail(_("{what} gave nan values, expected finite numbers", what=what), hint)
    if not torch.allclose(actual, expected, atol=atol, rtol=rtol):
        fail(_first_mismatch(actual, expected, atol, rtol, what), hint)


def expect_tensor_like(
    actual: Any,
    expected: torch.Tensor,
    what,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    hint=None,
) -> torch.Tensor:
    """Type, dtype, device, shape, then values, in that order; returns ``actual``."""
    actual = expect_tensor(actual, what, hint)
    expect_dtype(actual, expected.dtype, what, hint)
    expect_device(actual, expected.device, what, hint)
    expect_shape(actual, expected.shape, what, hint)
    if expected.dtype.is_floating_point:
        expect_close(actual, expected, what, atol, rtol, hint)
    elif not torch.equal(actual.cpu(), expected.cpu()):
        fail(_first_mismatch(actual.double(), expected.double(), 0.0, 0.0, what), hint)
    return actual


def expect_equal(actual: Any, expected: Any, what, hint=None) -> None:
    """``actual == expected`` for plain Python values."""
    if actual != expected:
        fail(_("{what} gave {got}, expected {expected}", what=what, got=repr(actual), expected=repr(expected)), hint)


def expect_at_least(value: float, threshold: float, what, hint=None, fmt: str = ".3f") -> None:
    """``value >= threshold`` (an accuracy, say)."""
    if not value >= threshold:
        fail(_("{what} was {got}, expected at least {threshold}", what=what, got=f"{value:{fmt}}",
               threshold=f"{threshold:{fmt}}"), hint)


def expect_gradients_reach(gradients: dict[str, Any], what, hint=None) -> None:
    """After ``backward()``, every trainable parameter has a non-zero gradient: ``gradients`` maps
    each trainable parameter's name to its ``.grad`` (``None`` when it has none), as fetched from
    the worker."""
    missing = [name for name, grad in gradients.items() if grad is None]
    zero = [name for name, grad in gradients.items()
            if isinstance(grad, torch.Tensor) and not grad.abs().sum() > 0]
    if missing:
        fail(_("after loss.backward(), {what} has no gradient for: {names}", what=what, names=", ".join(missing)),
             hint or _("is every layer used in forward(), and is nothing detached or wrapped in torch.no_grad()?"))
    if zero:
        fail(_("after loss.backward(), {what} has an all-zero gradient for: {names}", what=what,
               names=", ".join(zero)), hint)


def call_student(what, function: Callable, *args: Any, hint=None, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, where the student's code runs (in the worker); returns its result.

    What the student's code raised becomes one :class:`CheckFailure` starting with ``what``
    ("what: your code raised ... at file.py, line N"). A :class:`CheckFailure`, code not written
    yet (reported as "not implemented yet: ..."), a worker that ended, the check's time limit and
    the kit's own :class:`~autograder.data.DataError` (a missing data set is not the student's
    bug) pass through unchanged.
    """
    from autograder.data.errors import DataError
    from autograder.failures import describe   # failures imports this module
    from autograder.probe.client import RemoteError

    try:
        return function(*args, **kwargs)
    except RemoteError as error:
        if error.not_implemented or error.timed_out:
            raise
        fail(_("{what}: {error}", what=what, error=describe(error)), hint)
    except (CheckFailure, DataError):
        raise


def _raises_not_implemented(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return getattr(exc, "id", "") == "NotImplementedError"


def is_unwritten(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The function still ends in the release's stub: its body raises ``NotImplementedError`` at
    its top level, with no ``return`` or ``yield`` before that line (whatever the student wrote above it)."""
    for statement in definition.body:
        if _raises_not_implemented(statement):
            return True
        if any(isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) for node in ast.walk(statement)):
            return False
    return False


def unwritten(source: str, name: str) -> list[str]:
    """The qualified names of ``name``'s stubs in ``source``: the top-level function ``name``, or the
    ``__init__`` and ``forward`` of the top-level class ``name`` (the last definition wins, as at
    import). Read from the text, without running it; ``[]`` when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            found = node
    if isinstance(found, ast.ClassDef):
        methods = {m.name: m for m in found.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        return [f"{name}.{m}" for m in ("__init__", "forward") if m in methods and is_unwritten(methods[m])]
    if found is not None and is_unwritten(found):
        return [name]
    return []


def expect_written(module: Any, *names: str) -> None:
    """Each of ``module``'s ``names`` (functions, or classes with their ``__init__`` and ``forward``) is
    written: a check calls this before its data or training, so a stub fails at once with
    "not implemented yet" rather than after a data problem or minutes of work. ``module`` is a
    student's module (its file is read as text here, never run)."""
    from autograder.submission import source_of

    path = source_of(module)
    if path is None:
        return
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for name in names:
        stubs = unwritten(source, name)
        if stubs:
            fail(not_implemented(stubs[0], path.name))


def not_implemented(name: str, filename: str):
    """The message for a function or class still raising the release's ``NotImplementedError``."""
    return _("not implemented yet: {name} in {file}", name=name, file=filename)


def expect_choice(module: Any, name: str, choices: tuple[str, ...], right: str | None, hint) -> None:
    """``module.<name>`` is one of ``choices`` (letters, any case), and it is ``right``; with ``right``
    ``None`` (a handout, which holds no key) the answer is only checked for form and its points are pending."""
    from autograder.probe.client import MISSING
    from autograder.submission import source_of

    allowed = ", ".join(map(repr, choices))
    path = source_of(module)
    filename = path.name if path is not None else "questions.py"
    value = module.get(name)
    if value is MISSING:
        fail(_("{file} has no {name}, expected {name} = one of {allowed}", file=filename, name=name,
               allowed=allowed))
    if value is None:
        fail(_("not implemented yet: {name} in {file} (set it to one of {allowed})", name=name, file=filename,
               allowed=allowed))
    if not isinstance(value, str) or value.strip().lower() not in choices:
        fail(_("{name} is {value}, expected one of {allowed}", name=name, value=repr(value), allowed=allowed))
    if right is None:
        pending(_("answered ({answer}); graded after submission", answer=repr(value.strip().lower())))
    if value.strip().lower() != right:
        fail(_("{name} = {value} is not the right answer", name=name, value=repr(value)), hint=hint)
