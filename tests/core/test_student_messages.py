"""What a student reads when their file is broken or their code raises."""

import textwrap
import time

import pytest

from autograder.expect import CheckFailure, call_student, expect_tensor_like, fail
from autograder import failures
from autograder.probe.client import StudentRaised
from autograder.submission import StudentCodeError
from autograder.timeout import CheckClock, CheckTimeout, time_limit
from tests.support import student_submission as Submission


def describe(error, **kwargs) -> str:
    """The student's message for ``error``, in English (the tests' language)."""
    return str(failures.describe(error, **kwargs))


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))


def test_missing_file(tmp_path):
    with pytest.raises(StudentCodeError, match=r"spiral.py is missing: expected it at .*week1/spiral.py"):
        Submission(tmp_path, "week1").load("spiral")


def test_syntax_error_names_file_line_and_code(tmp_path):
    _write(tmp_path / "week1", "spiral.py", "def f(:\n    pass\n")
    with pytest.raises(StudentCodeError) as error:
        Submission(tmp_path, "week1").load("spiral")
    message = str(error.value)
    assert message.startswith("spiral.py has a syntax error at line 1 (")
    assert "def f(:" in message


def test_error_at_import_names_line(tmp_path):
    _write(tmp_path / "week1", "spiral.py", "import torch\nx = undefined_name\n")
    with pytest.raises(StudentCodeError, match=r"^importing spiral.py failed at line 2: NameError: .*undefined_name"):
        Submission(tmp_path, "week1").load("spiral")


def test_sys_exit_at_import_is_contained(tmp_path):
    _write(tmp_path / "week1", "spiral.py", "import sys\nsys.exit(3)\n")
    with pytest.raises(StudentCodeError, match=r"^spiral.py stopped the program at import \(sys.exit\(3\) at line 2\)\n"):
        Submission(tmp_path, "week1").load("spiral")


def test_endless_loop_at_import_is_stopped_once_by_the_check_limit(tmp_path):
    _write(tmp_path / "week1", "spiral.py", "import torch\nwhile True:\n    pass\n")
    submission = Submission(tmp_path, "week1")
    with pytest.raises(StudentCodeError) as first, time_limit(0.5, "the check"):
        submission.load("spiral")
    assert str(first.value).startswith("spiral.py was still running at import after 0.5 s, the limit for one check "
                                       "(it was at line 2")
    started = time.monotonic()
    with pytest.raises(StudentCodeError) as again:  # no limit now: a second import would never return
        submission.load("spiral")
    assert time.monotonic() - started < 0.1 and str(again.value) == str(first.value)


def test_check_clock_spends_one_limit_across_phases():
    clock = CheckClock(0.3, "the check")
    with clock.running():
        time.sleep(0.2)
    with pytest.raises(CheckTimeout, match="the check was still running after 0.3 s"), clock.running():
        time.sleep(1)
    assert 0.25 < clock.spent < 0.6
    with pytest.raises(CheckTimeout), clock.running():  # nothing left: fails before running anything
        raise AssertionError("ran with no time left")


def test_failure_is_cached_and_other_files_still_load(tmp_path):
    _write(tmp_path / "week1", "spiral.py", "def f(:\n")
    _write(tmp_path / "week1", "tensor_ops.py", "def g():\n    return 1\n")
    submission = Submission(tmp_path, "week1")
    for _ in range(2):
        with pytest.raises(StudentCodeError):
            submission.load("spiral")
    assert submission.load("tensor_ops").g() == 1


def _raise_from_student(tmp_path, body):
    _write(tmp_path / "week1", "ops.py", body)
    module = Submission(tmp_path, "week1").load("ops")
    try:
        module.f()
    except StudentRaised as error:
        return describe(error)
    raise AssertionError("f() did not raise")


def test_not_implemented_names_function_and_file(tmp_path):
    message = _raise_from_student(tmp_path, "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    assert message == "not implemented yet: f in ops.py"


def test_not_implemented_in_a_method_names_its_class(tmp_path):
    _write(tmp_path / "week1", "ops.py", "class Net:\n    def __init__(self):\n        raise NotImplementedError()\n"
                                         "def f():\n    return Net()\n")
    module = Submission(tmp_path, "week1").load("ops")
    with pytest.raises(StudentRaised) as error:
        module.f()
    assert describe(error.value) == "not implemented yet: Net.__init__ in ops.py"


def test_exception_in_student_code_shows_their_line_only(tmp_path):
    message = _raise_from_student(tmp_path, "import torch\ndef f():\n    return torch.ones(2, 3) @ torch.ones(2, 3)\n")
    assert message.startswith("your code raised RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    assert "ops.py, line 3, in f" in message
    assert "torch.ones(2, 3) @ torch.ones(2, 3)" in message
    assert "site-packages" not in message and "autograder" not in message


def test_call_student_turns_an_exception_into_one_message(tmp_path):
    _write(tmp_path / "week1", "ops.py", "def f(x, scale=1):\n    return scale * x / 0 if x else scale\n"
                                         "def g():\n    raise NotImplementedError()\n")
    module = Submission(tmp_path, "week1").load("ops")
    assert call_student("f(0, scale=3)", module.f, 0, scale=3) == 3
    with pytest.raises(CheckFailure) as error:
        call_student("f(2)", module.f, 2, hint="avoid dividing by zero")
    message = str(error.value)
    assert message.startswith("f(2): your code raised ZeroDivisionError: ")
    assert "ops.py, line 2, in f" in message and message.endswith("\nHint: avoid dividing by zero")
    with pytest.raises(StudentRaised) as unwritten:   # described by the plugin as "not implemented yet"
        call_student("g()", module.g)
    assert describe(unwritten.value) == "not implemented yet: g in ops.py"
    with pytest.raises(CheckFailure, match="^inner$"):
        call_student("h()", fail, "inner")


def test_check_failure_passes_through(tmp_path):
    with pytest.raises(CheckFailure) as error:
        fail("matvec(m, v) gave dtype torch.int64, expected torch.float32", hint="convert v")
    assert describe(error.value) == "matvec(m, v) gave dtype torch.int64, expected torch.float32\nHint: convert v"


@pytest.mark.parametrize(
    "actual, message",
    [
        (None, "f(x) gave None (did you forget a return statement?), expected a Tensor"),
        ([1.0, 2.0], "f(x) gave a list, expected a Tensor"),
        (3, "f(x) gave an int, expected a Tensor"),
        ("int", "f(x) gave dtype torch.int64, expected torch.float32"),
        ("shape", "f(x) gave shape (1, 2), expected (2,)"),
        ("values", "f(x) gave 3 at index [1] (expected 2; 1 of 2 values differ)"),
    ],
)
def test_expectations_check_type_then_dtype_then_shape_then_values(actual, message):
    import torch

    expected = torch.tensor([1.0, 2.0])
    actual = {"int": torch.tensor([1, 2]), "shape": torch.tensor([[1.0, 2.0]]),
              "values": torch.tensor([1.0, 3.0])}.get(actual, actual) if isinstance(actual, str) else actual
    with pytest.raises(CheckFailure) as error:
        expect_tensor_like(actual, expected, "f(x)")
    assert str(error.value) == message


@pytest.mark.parametrize(
    "source, message",
    [
        ("", "questions.py has no ANSWER_X, expected ANSWER_X = one of 'a', 'b'"),
        ("ANSWER_X = None\n", "not implemented yet: ANSWER_X in questions.py (set it to one of 'a', 'b')"),
        ("ANSWER_X = 3\n", "ANSWER_X is 3, expected one of 'a', 'b'"),
        ("ANSWER_X = ' A '\n", "ANSWER_X = ' A ' is not the right answer\nHint: think again"),
    ],
)
def test_multiple_choice_messages(tmp_path, source, message):
    from autograder.expect import expect_choice

    _write(tmp_path / "week1", "questions.py", source)
    module = Submission(tmp_path, "week1").load("questions")
    with pytest.raises(CheckFailure) as error:
        expect_choice(module, "ANSWER_X", ("a", "b"), "b", "think again")
    assert str(error.value) == message


def test_multiple_choice_accepts_the_right_letter_in_any_case(tmp_path):
    from autograder.expect import expect_choice

    _write(tmp_path / "week1", "questions.py", "ANSWER_X = 'B'\n")
    module = Submission(tmp_path, "week1").load("questions")
    expect_choice(module, "ANSWER_X", ("a", "b"), "b", "")


def test_multiple_choice_without_a_key_is_pending_once_well_formed(tmp_path):
    """A handout holds no key: a well-formed answer's points wait for dlkit grade; a malformed one fails."""
    from autograder.expect import Pending, expect_choice

    _write(tmp_path / "week1", "questions.py", "ANSWER_X = 'B'\nANSWER_Y = 'z'\n")
    module = Submission(tmp_path, "week1").load("questions")
    with pytest.raises(Pending, match="answered \\('b'\\); graded after submission"):
        expect_choice(module, "ANSWER_X", ("a", "b"), None, "")
    with pytest.raises(CheckFailure, match="expected one of 'a', 'b'"):
        expect_choice(module, "ANSWER_Y", ("a", "b"), None, "")
