"""nbgrader settings for the dlkit course, read by ``nbgrader ...`` run from the repository root.

``dlkit release`` uses the same settings (``dlkit.release.notebooks.nbgrader_config``) on a
temporary course directory, so what instructors run by hand and what the kit generates agree.

Course directory (``CourseDirectory.root``): ``build/course/`` in the repository (git-ignored),
or the folder named by the environment variable ``DLKIT_NBGRADER_ROOT``::

    build/course/
        gradebook.db                    nbgrader's database: notebooks, cells, students, grades
        source/<week>/                  the week's notebooks (with solutions) and data files, staged
                                        from solutions/<week>/ by `dlkit release <week> --course build/course`;
                                        never its .py modules: autograde copies source files over the
                                        student's, so a reference module there would grade itself
        release/<week>/                 nbgrader's student notebooks (the kit copies them, normalised,
                                        into assignments/<week>/ next to the cleared .py modules)
        submitted/<student>/<week>/     a student's whole week folder: notebooks and .py modules
        autograded/<student>/<week>/    written by `nbgrader autograde <week>`
        feedback/<student>/<week>/      HTML written by `nbgrader generate_feedback <week>`

Grading a week with nbgrader::

    dlkit release week1 --course build/course     # stage source/week1, fill the gradebook
    # copy each student's week1 folder to build/course/submitted/<student>/week1/
    nbgrader autograde week1
    nbgrader generate_feedback week1

Each autograder test cell calls ``autograder.notebook.run_checks(week, exercise)``, which runs the
same checks as ``pytest autograder`` and returns the points earned; nbgrader records that number
as the cell's partial credit (see docs/release.md).

Settings (each with nbgrader's own help under ``nbgrader --help-all``):

* ``CourseDirectory.root``: the course directory above.
* ``CourseDirectory.course_id``: ``dlkit``.
* ``Autograde.exclude_overwriting``: every exercise file of every week in exercises.toml, so
  autograde never replaces a student's module with a source file of the same name.
* ``Execute.timeout``: seconds a cell may run during autograde; a test cell runs an exercise's
  checks, training included.
"""

import os
from pathlib import Path

from dlkit.release.notebooks import nbgrader_config

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.merge(nbgrader_config(Path(os.environ.get("DLKIT_NBGRADER_ROOT", Path(__file__).resolve().parent / "build" / "course"))))
