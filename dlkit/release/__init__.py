"""Student release generation: ``solutions/<week>/`` -> ``assignments/<week>/``, one source of truth.

* :mod:`~dlkit.release.markers`: solution markers in ``.py`` modules (nbgrader's rule,
  checked strictly), planted code (``### RELEASE AS:``).
* :mod:`~dlkit.release.notebooks`: notebooks through nbgrader's ``generate_assignment``,
  test-cell points, deterministic output.
* :mod:`~dlkit.release.generate`: the pipeline, leak check, comparison and atomic swap.
* :mod:`~dlkit.release.cli`: ``dlkit release WEEK|all [--check]``.
"""
