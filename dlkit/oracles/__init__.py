"""The reference's side of the checks: one module per exercise (``dlkit.oracles.<week>.<exercise>``)
whose functions compute, from the reference solution, the values a check compares a student's with.

Checks reach them only through their ``oracle`` fixture (:mod:`autograder.oracle`): live here, and
recorded at release time for a student's handout, which holds neither these modules nor ``solutions/``.
Everything that would solve an exercise (a correct training loop, the course's model) lives here, not
in the checks.
"""
