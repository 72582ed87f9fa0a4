"""dlkit's instructors' side: what only course staff have, never shipped to students.

The release (``dlkit.release``: stubs, notebooks and the student handout from ``solutions/``), batch
grading (``dlkit.grading``), the live reference solution (``dlkit.reference``) and the oracles that
compute the checks' expected values from it (``dlkit.oracles``), and the answer keys
(``dlkit.keys``). The students' side is the ``autograder`` package: the checks and the runtime they
need, which the handout copies as it is.
"""

from autograder import __version__  # noqa: F401  one version for both sides
