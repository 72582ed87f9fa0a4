"""Feedback plots made from a student's own code: the code runs in a worker, the drawing here.

Each plot is registered for one exercise and gets the student's module (a
:class:`~autograder.submission.StudentModule` in a fresh worker); it is time-boxed, and any
failure only means the feedback has no plot (the event says why). Add a plot by writing
``def plot(student, worker, path, profile)`` returning its title (an :mod:`autograder.i18n` message,
drawn with :func:`autograder.plot_text.label`) and listing it in :data:`PLOTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from autograder.failures import describe
from autograder.i18n import _
from autograder.plot_text import label
from autograder.probe.client import WorkerClient
from autograder.spec import exercise_spec, load_spec
from autograder.submission import Submission
from autograder.timeout import CheckClock

MESH_STEP = 0.02
"""Grid step of the decision-region plot over [-1.1, 1.1]^2 (the course plots at 0.01)."""


def spiral_decision_regions(student, worker: WorkerClient, path: Path, profile: str):
    """Train the student's ``relu_model`` with their ``train`` on their ``make_spiral`` data (in the
    worker); draw its regions here from the scores it gives on a grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    steps = int(exercise_spec("week1", "spiral").budget(profile).get("steps", 1000))
    X, Y = student.make_spiral()
    if not (isinstance(X, torch.Tensor) and isinstance(Y, torch.Tensor)):
        raise TypeError(str(_("make_spiral() did not give two tensors")))
    worker.module("torch").manual_seed(0)
    model = student.relu_model()
    student.train(model, X, Y, optimizer="adam", steps=steps)
    axis = torch.arange(-1.1, 1.1 + MESH_STEP, MESH_STEP)
    xx, yy = torch.meshgrid(axis, axis, indexing="xy")
    grid_scores = model(torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1))
    regions = grid_scores.argmax(dim=1).reshape(xx.shape)
    accuracy = (model(X).argmax(dim=1) == Y).float().mean().item()
    title = _("your relu_model after {steps} Adam steps: training accuracy {accuracy:.3f}", steps=steps,
              accuracy=accuracy)
    text = label(title)  # before the figure: its texts take their font when it is made
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=80)
    try:
        ax.contourf(xx.numpy(), yy.numpy(), regions.numpy(), alpha=0.3, cmap="brg")
        ax.scatter(X[:, 0].numpy(), X[:, 1].numpy(), c=Y.numpy(), s=3, cmap="brg")
        ax.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), aspect="equal")
        ax.axhline(0, color="0.5", lw=0.5)
        ax.axvline(0, color="0.5", lw=0.5)
        ax.set_title(text, fontsize=8)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return title


PLOTS: dict[tuple[str, str], Callable] = {
    ("week1", "spiral"): spiral_decision_regions,
}
"""(week, exercise) -> plot function."""


def make_plots(week: str, submission_root: Path, out_dir: Path, profile: str, seconds: float, launcher,
               describe_death) -> list[dict]:
    """Run every plot registered for ``week``, each with a fresh worker from ``launcher(folder)``: one
    event each, ``{"file", "title"}`` or ``{"exercise", "error"}``."""
    events = []
    exercises = load_spec().get(week, {})
    for (plot_week, exercise), plot in PLOTS.items():
        if plot_week != week or exercise not in exercises:
            continue
        path = Path(out_dir) / f"{exercise}.png"
        folder = Path(submission_root) / week
        client = WorkerClient(lambda: launcher(folder), describe_death)
        try:
            with CheckClock(seconds, _("the {exercise} plot", exercise=exercise)).running():
                module = Submission(client, submission_root, week).load(exercise)
                title = plot(module, client, path, profile)
            events.append({"exercise": exercise, "file": path.name, "title": title})
        except BaseException as error:  # noqa: BLE001 - a plot is optional: say why there is none
            if isinstance(error, KeyboardInterrupt):
                raise
            path.unlink(missing_ok=True)
            events.append({"exercise": exercise, "error": describe(error)})
        finally:
            client.close()
    return events
