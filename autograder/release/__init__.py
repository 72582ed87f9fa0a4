"""Student release generation: ``solutions/<week>/`` -> ``assignments/<week>/``, one source of truth.

* :mod:`~autograder.release.markers`: solution markers in ``.py`` modules (nbgrader's rule,
  checked strictly), planted code (``### RELEASE AS:``).
* :mod:`~autograder.release.notebooks`: notebooks through nbgrader's ``generate_assignment``,
  test-cell points, deterministic output.
* :mod:`~autograder.release.generate`: the pipeline, leak check, comparison and atomic swap.
* :mod:`~autograder.release.cli`: ``dlkit release WEEK|all [--check]``.
"""
