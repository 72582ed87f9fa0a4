"""Solution markers in .py modules: clearing, planted code, and loud errors naming file and line."""

import pytest

from dlkit.release.markers import MarkerError, clear_module, code_stub, scan

WHERE = "solutions/week9/example.py"


def module(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def expect_error(text: str, line: int, *fragments: str) -> MarkerError:
    with pytest.raises(MarkerError) as caught:
        clear_module(text, WHERE)
    error = caught.value
    assert (error.where, error.line) == (WHERE, line), str(error)
    assert str(error).startswith(f"{WHERE}, line {line}: ")
    for fragment in fragments:
        assert fragment in str(error)
    return error


# --- clearing -----------------------------------------------------------------------------------

def test_region_becomes_nbgraders_stub_at_its_indentation():
    text = module(
        "def f(x):",
        "    ### BEGIN SOLUTION",
        "    y = x * 2",
        "    ### END SOLUTION",
        "    return y",
    )
    assert clear_module(text, WHERE) == module(
        "def f(x):",
        "    # YOUR CODE HERE",
        "    raise NotImplementedError()",
        "    return y",
    )


def test_stub_text_is_nbgraders_code_cell_stub():
    assert code_stub() == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_nested_indentation_and_several_regions():
    text = module(
        "### BEGIN SOLUTION",
        "TABLE = {1: 2}",
        "### END SOLUTION",
        "class A:",
        "    def g(self):",
        "        if True:",
        "            ### BEGIN SOLUTION",
        "            return 1",
        "            ### END SOLUTION",
    )
    assert clear_module(text, WHERE) == module(
        "# YOUR CODE HERE",
        "raise NotImplementedError()",
        "class A:",
        "    def g(self):",
        "        if True:",
        "            # YOUR CODE HERE",
        "            raise NotImplementedError()",
    )


def test_release_as_replaces_the_line_at_its_indentation():
    text = module(
        "class VGG:",
        "    def __init__(self):",
        "        self.classifier = nn.Linear(512, 10)  ### RELEASE AS: self.classifier = nn.Linear(2048, 10)",
        "WIDTH = 1  ### RELEASE AS: WIDTH = 2",
        "    ### RELEASE AS: planted_only_in_release()",
    )
    assert clear_module(text, WHERE) == module(
        "class VGG:",
        "    def __init__(self):",
        "        self.classifier = nn.Linear(2048, 10)",
        "WIDTH = 2",
        "    planted_only_in_release()",
    )


def test_text_without_markers_is_unchanged():
    text = module("x = 1", "# a comment about the solution", "# Begin with the end in mind", "## Solution")
    assert clear_module(text, WHERE) == text


def test_solution_lines_are_the_region_bodies_and_reference_side_of_release_as():
    text = module("a = 1  ### RELEASE AS: a = 2", "### BEGIN SOLUTION", "b = 3", "### END SOLUTION")
    regions = scan(text, WHERE)
    assert regions.solution_lines(text.split("\n")) == [(1, "a = 1"), (3, "b = 3")]


# --- errors: one test per case, each naming file and line ----------------------------------------

def test_begin_without_end():
    expect_error(module("x = 1", "### BEGIN SOLUTION", "y = 2"), 2, "no end solution statement found")


def test_end_without_begin():
    expect_error(module("x = 1", "### END SOLUTION"), 2, "### END SOLUTION without a ### BEGIN SOLUTION")


def test_nested_begin():
    expect_error(module("### BEGIN SOLUTION", "a = 1", "### BEGIN SOLUTION", "### END SOLUTION"), 3,
                 "encountered nested begin solution statements", "line 1")


def test_misspelled_marker_soluton():
    expect_error(module("def f():", "    ### BEGIN SOLUTON", "    return 1", "    ### END SOLUTION"), 2,
                 "misspelled marker", "'### BEGIN SOLUTION'")


def test_two_hashes():
    expect_error(module("## BEGIN SOLUTION", "a = 1", "### END SOLUTION"), 1,
                 "not exactly '### BEGIN SOLUTION'")


def test_lower_case_marker():
    expect_error(module("### BEGIN SOLUTION", "a = 1", "### end solution"), 3,
                 "misspelled marker", "'### END SOLUTION'")


def test_marker_after_code_on_the_same_line():
    expect_error(module("a = 1  ### BEGIN SOLUTION", "### END SOLUTION"), 1, "on a line of its own")


def test_release_as_with_empty_code():
    expect_error(module("x = 1", "y = 2  ### RELEASE AS:   "), 2, "RELEASE AS: with empty code")


def test_misspelled_release_as():
    expect_error(module("y = 2  ## RELEASE AS: y = 3"), 1, "RELEASE AS:")
    expect_error(module("y = 2  ### RELEASE AS y = 3"), 1, "misspelled marker")


def test_release_as_inside_a_region():
    expect_error(module("### BEGIN SOLUTION", "a = 1  ### RELEASE AS: a = 2", "### END SOLUTION"), 2,
                 "inside the solution region opened at line 1")


def test_hidden_tests_are_not_for_modules():
    expect_error(module("### BEGIN HIDDEN TESTS", "assert f()", "### END HIDDEN TESTS"), 1,
                 "only allowed in a notebook's autograder test cell")


def test_error_shows_the_offending_line():
    error = expect_error(module("x = 1", "   ### BEGIN SOLUTON"), 2)
    assert str(error).endswith("\n    ### BEGIN SOLUTON")
