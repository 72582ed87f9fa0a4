"""Batch grading: ``dlkit grade SUBMISSIONS --week WEEK --out DIR``.

One pipeline, each step its own module:

1. :mod:`.discover` finds the students' submissions (folders, ``.zip`` files or
   nbgrader's ``submitted/`` tree) and copies one into a private folder;
2. :mod:`.isolate` grades that copy in a sandboxed child process (the child's
   side is :mod:`.child`), with time, memory, process and file limits;
3. :mod:`.outcome` is the per-student result and its ``results.json``;
4. :mod:`.feedback`, :mod:`.gradebook` and :mod:`.summary` write the reports;
5. :mod:`.run` runs the whole class in parallel and resumes a killed run;
   :mod:`.progress` shows where it is; :mod:`.cli` is the command.
"""
