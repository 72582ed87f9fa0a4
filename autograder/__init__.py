"""dlkit: auto-graded assignments for an introductory deep-learning course.

The package holds both the checks students run (``autograder/week*/``) and the
kit's own machinery: the pytest plugin, the data layer, release generation and
batch grading.
"""

__version__ = "0.1.0"
