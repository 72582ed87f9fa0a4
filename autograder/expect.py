"""Assertion helpers for checks: type, then dtype and device, then shape, then values.

Every helper raises :class:`CheckFailure` with one short message of the form
"<what> gave X, expected Y", plus a hint where there is one. ``what`` names
the student's call as the student wrote it, e.g. ``"matvec(m, v)"``.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Iterable

import torch


class CheckFailure(AssertionError):
    """A check failed; the message is written for the student."""


class Pending(Exception):
    """A check that cannot be decided here (a handout has no answer key, no recorded value for this):
    its points are pending until ``dlkit grade``; the message says what was checked."""


def pending(message: str) -> None:
    """End the current check as pending: ``message`` tells the student what happens to its points."""
    raise Pending(message)


def fail(message: str, hint: str | None = None) -> None:
    """Fail the current check with ``message`` (and an optional hint)."""
    raise CheckFailure(message + (f"\nHint: {hint}" if hint else ""))


def _with_article(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _type_name(value: Any) -> str:
    from autograder.probe.client import remote_type_name

    return remote_type_name(value)


def expect_type(value: Any, kind: type | tuple[type, ...], what: str, hint: str | None = None) -> Any:
    """``value`` is an instance of ``kind`` (a plain value that came back from the worker); returns it."""
    if not isinstance(value, kind):
        names = " or ".join(_with_article(k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)))
        got = "None (did you forget a return statement?)" if value is None else _with_article(_type_name(value))
        fail(f"{what} gave {got}, expected {names}", hint)
    return value


def expect_model(value: Any, what: str, hint: str | None = None):
    """``value`` is a model (an ``nn.Module``) that stays in the worker; returns its ``Remote``."""
    from autograder.probe.client import Remote

    if not (isinstance(value, Remote) and value.is_model):
        got = "None (did you forget a return statement?)" if value is None else _with_article(_type_name(value))
        fail(f"{what} gave {got}, expected an nn.Module", hint)
    return value


def expect_tensor(value: Any, what: str, hint: str | None = None) -> torch.Tensor:
    """``value`` is a ``torch.Tensor``; returns it."""
    return expect_type(value, torch.Tensor, what, hint)


def expect_dtype(tensor: torch.Tensor, dtype: torch.dtype, what: str, hint: str | None = None) -> None:
    """``tensor.dtype == dtype``."""
    if tensor.dtype != dtype:
        fail(f"{what} gave dtype {tensor.dtype}, expected {dtype}", hint)


def expect_device(tensor: torch.Tensor, device: torch.device | str, what: str, hint: str | None = None) -> None:
    """``tensor`` lives on ``device`` (type only: ``cuda`` matches ``cuda:0``)."""
    expected = torch.device(device).type
    if tensor.device.type != expected:
        fail(f"{what} gave a tensor on {tensor.device.type}, expected it on {expected}", hint)


def expect_shape(tensor: torch.Tensor, shape: Iterable[int], what: str, hint: str | None = None) -> None:
    """``tensor.shape == shape``."""
    shape = tuple(shape)
    if tuple(tensor.shape) != shape:
        fail(f"{what} gave shape {tuple(tensor.shape)}, expected {shape}", hint)


def _first_mismatch(actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> str:
    close = torch.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=False)
    bad = (~close).nonzero()
    index = tuple(bad[0].tolist())
    n_bad = bad.shape[0]
    at = f" at index {list(index)}" if index else ""
    return f"{actual[index].item():.6g}{at} (expected {expected[index].item():.6g}; {n_bad} of {actual.numel()} values differ)"


def expect_close(
    actual: torch.Tensor,
    expected: torch.Tensor,
    what: str,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    hint: str | None = None,
) -> None:
    """Values agree within ``atol + rtol * |expected|`` (shapes must already match)."""
    actual = actual.detach().to("cpu", torch.float64)
    expected = expected.detach().to("cpu", torch.float64)
    if torch.isnan(actual).any() and not torch.isnan(expected).any():
        fail(f"{what} gave nan values, expected finite numbers", hint)
    if not torch.allclose(actual, expected, atol=atol, rtol=rtol):
        fail(f"{what} gave {_first_mismatch(actual, expected, atol, rtol)}", hint)


def expect_tensor_like(
    actual: Any,
    expected: torch.Tensor,
    what: str,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    hint: str | None = None,
) -> torch.Tensor:
    """Type, dtype, device, shape, then values, in that order; returns ``actual``."""
    actual = expect_tensor(actual, what, hint)
    expect_dtype(actual, expected.dtype, what, hint)
    expect_device(actual, expected.device, what, hint)
    expect_shape(actual, expected.shape, what, hint)
    if expected.dtype.is_floating_point:
        expect_close(actual, expected, what, atol, rtol, hint)
    elif not torch.equal(actual.cpu(), expected.cpu()):
        fail(f"{what} gave {_first_mismatch(actual.double(), expected.double(), 0.0, 0.0)}", hint)
    return actual


def expect_equal(actual: Any, expected: Any, what: str, hint: str | None = None) -> None:
    """``actual == expected`` for plain Python values."""
    if actual != expected:
        fail(f"{what} gave {actual!r}, expected {expected!r}", hint)


def expect_at_least(value: float, threshold: float, what: str, hint: str | None = None, fmt: str = ".3f") -> None:
    """``value >= threshold`` (an accuracy, say)."""
    if not value >= threshold:
        fail(f"{what} was {value:{fmt}}, expected at least {threshold:{fmt}}", hint)


def expect_gradients_reach(gradients: dict[str, Any], what: str, hint: str | None = None) -> None:
    """After ``backward()``, every trainable parameter has a non-zero gradient: ``gradients`` maps
    each trainable parameter's name to its ``.grad`` (``None`` when it has none), as fetched from
    the worker."""
    missing = [name for name, grad in gradients.items() if grad is None]
    zero = [name for name, grad in gradients.items()
            if isinstance(grad, torch.Tensor) and not grad.abs().sum() > 0]
    if missing:
        fail(f"after loss.backward(), {what} has no gradient for: {', '.join(missing)}",
             hint or "is every layer used in forward(), and is nothing detached or wrapped in torch.no_grad()?")
    if zero:
        fail(f"after loss.backward(), {what} has an all-zero gradient for: {', '.join(zero)}", hint)


def call_student(what: str, function: Callable, *args: Any, hint: str | None = None, **kwargs: Any) -> Any:
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
        fail(f"{what}: {describe(error)}", hint)
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
            fail(f"not implemented yet: {stubs[0]} in {path.name}")


def expect_choice(module: Any, name: str, choices: tuple[str, ...], right: str | None, hint: str) -> None:
    """``module.<name>`` is one of ``choices`` (letters, any case), and it is ``right``; with ``right``
    ``None`` (a handout, which holds no key) the answer is only checked for form and its points are pending."""
    from autograder.probe.client import MISSING
    from autograder.submission import source_of

    allowed = ", ".join(map(repr, choices))
    path = source_of(module)
    filename = path.name if path is not None else "the module"
    value = module.get(name)
    if value is MISSING:
        fail(f"{filename} has no {name}, expected {name} = one of {allowed}")
    if value is None:
        fail(f"not implemented yet: {name} in {filename} (set it to one of {allowed})")
    if not isinstance(value, str) or value.strip().lower() not in choices:
        fail(f"{name} is {value!r}, expected one of {allowed}")
    if right is None:
        pending(f"answered ({value.strip().lower()!r}); graded after submission")
    if value.strip().lower() != right:
        fail(f"{name} = {value!r} is not the right answer", hint=hint)
