"""Exercise metadata: points, thresholds and budgets, read from ``exercises.toml``.

The TOML file is the one place where a check's points, an accuracy threshold
or a training budget is declared; checks read them through this module.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SPEC_PATH = Path(__file__).with_name("exercises.toml")
PROFILES = ("quick", "full")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DEFAULT_TIMEOUT_S = {"quick": 120.0, "full": 3600.0}


class SpecError(ValueError):
    """``exercises.toml`` is malformed or names something that does not exist."""


@dataclass(frozen=True)
class CheckSpec:
    """One graded check."""

    week: str
    """Week folder, e.g. ``"week1"``."""
    exercise: str
    """Exercise name, the student file's stem, e.g. ``"spiral"``."""
    name: str
    """Check name: the test function's name without ``test_``."""
    points: float
    """Points awarded when the check passes; zero otherwise."""
    visibility: str = "visible"
    """Gradescope visibility of the check's result."""
    hidden: bool = False
    """Run only by ``dlkit grade``: the check lives in ``dlkit/hidden/<week>/test_<exercise>.py``, on the
    instructors' side, and a student's handout has neither it nor its code (its points are announced)."""

    @property
    def id(self) -> str:
        """Stable identifier, e.g. ``"week1/spiral/relu_accuracy"``."""
        return f"{self.week}/{self.exercise}/{self.name}"


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise: a student file and the checks run on it."""

    week: str
    """Week folder, e.g. ``"week1"``."""
    name: str
    """Exercise name, the student file's stem."""
    file: str
    """Student file name inside the week folder, e.g. ``"spiral.py"``."""
    title: str
    """Human-readable title shown in reports."""
    checks: dict[str, CheckSpec]
    """Checks by name, in declaration order."""
    thresholds: dict[str, Any] = field(default_factory=dict)
    """Threshold name -> number, or ``{quick = .., full = ..}`` per profile."""
    budgets: dict[str, Any] = field(default_factory=dict)
    """Profile name -> budget table (epochs, images, steps ...)."""
    timeout_s: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUT_S))
    """Profile name -> seconds one check of this exercise may run."""

    @property
    def public_checks(self) -> dict[str, CheckSpec]:
        """The checks a student's own run has (all but the hidden ones, which only ``dlkit grade`` runs)."""
        return {name: check for name, check in self.checks.items() if not check.hidden}

    def threshold(self, name: str, profile: str) -> float:
        """The threshold ``name`` under ``profile``."""
        try:
            value = self.thresholds[name]
        except KeyError:
            raise SpecError(f"{self.week}.{self.name}: no threshold named {name!r} in exercises.toml") from None
        if isinstance(value, dict):
            try:
                value = value[profile]
            except KeyError:
                raise SpecError(
                    f"{self.week}.{self.name}.thresholds.{name}: no value for profile {profile!r}"
                ) from None
        return float(value)

    def budget(self, profile: str) -> dict[str, Any]:
        """The training budget under ``profile`` (empty when none is declared)."""
        return dict(self.budgets.get(profile, {}))


def _check_spec(week: str, exercise: str, name: str, raw: Any) -> CheckSpec:
    where = f"exercises.toml [{week}.{exercise}.checks] {name}"
    if isinstance(raw, (int, float)):
        raw = {"points": raw}
    if not isinstance(raw, dict) or "points" not in raw:
        raise SpecError(f"{where}: expected a number of points or {{ points = N }}, got {raw!r}")
    unknown = set(raw) - {"points", "visibility", "hidden"}
    if unknown:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}; allowed: points, visibility, hidden")
    hidden = raw.get("hidden", False)
    if not isinstance(hidden, bool):
        raise SpecError(f"{where}: hidden must be true or false, got {hidden!r}")
    visibility = raw.get("visibility", "after_published" if hidden else "visible")
    if visibility not in VISIBILITIES:
        raise SpecError(f"{where}: visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}")
    points = raw["points"]
    if not isinstance(points, (int, float)) or points < 0:
        raise SpecError(f"{where}: points must be a non-negative number, got {points!r}")
    return CheckSpec(week, exercise, name, float(points), visibility, hidden)


def parse_spec(data: dict[str, Any]) -> dict[str, dict[str, ExerciseSpec]]:
    """Turn the parsed TOML into ``{week: {exercise: ExerciseSpec}}``."""
    weeks: dict[str, dict[str, ExerciseSpec]] = {}
    for week, week_table in data.items():
        exercises = {}
        for name, table in week_table.items():
            if not isinstance(table, dict):
                continue  # week-level scalars such as ``title``
            if "file" not in table:
                raise SpecError(f"exercises.toml [{week}.{name}]: missing 'file'")
            checks = {
                check: _check_spec(week, name, check, raw)
                for check, raw in table.get("checks", {}).items()
            }
            budgets = table.get("budgets", {})
            unknown_profiles = set(budgets) - set(PROFILES)
            if unknown_profiles:
                raise SpecError(
                    f"exercises.toml [{week}.{name}.budgets]: unknown profiles "
                    f"{sorted(unknown_profiles)}; allowed: {', '.join(PROFILES)}"
                )
            timeout = table.get("timeout_s", {})
            if isinstance(timeout, (int, float)):
                timeout = {profile: timeout for profile in PROFILES}
            exercises[name] = ExerciseSpec(
                week=week,
                name=name,
                file=table["file"],
                title=table.get("title", name),
                checks=checks,
                thresholds=table.get("thresholds", {}),
                budgets=budgets,
                timeout_s={**DEFAULT_TIMEOUT_S, **{k: float(v) for k, v in timeout.items()}},
            )
        weeks[week] = exercises
    return weeks


@functools.lru_cache(maxsize=None)
def load_spec(path: Path = SPEC_PATH) -> dict[str, dict[str, ExerciseSpec]]:
    """Read and validate ``exercises.toml`` (cached per path)."""
    with open(path, "rb") as f:
        return parse_spec(tomllib.load(f))


@functools.lru_cache(maxsize=None)
def week_data(week: str, path: Path = SPEC_PATH) -> tuple[str, ...]:
    """The data sets the week's checks read (its ``data = [...]``, e.g. ``("mnist", "cifar10")``), so a
    machine can be checked for them before it grades."""
    with open(path, "rb") as f:
        table = tomllib.load(f).get(week, {})
    data = table.get("data", []) if isinstance(table, dict) else []
    if not isinstance(data, list) or not all(isinstance(name, str) for name in data):
        raise SpecError(f"exercises.toml [{week}]: data must be a list of data set names, got {data!r}")
    return tuple(data)


def exercise_spec(week: str, exercise: str) -> ExerciseSpec:
    """The declared exercise, or a :class:`SpecError` naming what is declared."""
    weeks = load_spec()
    if week not in weeks or exercise not in weeks[week]:
        declared = ", ".join(f"{w}.{e}" for w, es in weeks.items() for e in es)
        raise SpecError(f"exercise {week}.{exercise} is not declared in exercises.toml (declared: {declared})")
    return weeks[week][exercise]


def check_spec(week: str, exercise: str, name: str) -> CheckSpec:
    """The declared check, or a :class:`SpecError`."""
    spec = exercise_spec(week, exercise)
    if name not in spec.checks:
        raise SpecError(
            f"check test_{name} in autograder/{week}/test_{exercise}.py has no points in exercises.toml "
            f"[{week}.{exercise}.checks]"
        )
    return spec.checks[name]
