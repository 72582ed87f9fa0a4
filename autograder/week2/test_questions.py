"""Checks for week2/questions.py.

The functions are compared with PyTorch itself on random sizes (seeded by the plugin):
``iterations_per_epoch`` with ``len(DataLoader)``, ``conv_output_size`` with an actual
``nn.Conv2d``, ``linear_as_conv1x1`` with the ``nn.Linear`` applied at every pixel (float64),
``epoch_orders`` with the orders a real ``DataLoader`` over a seeded generator yields (through the
``oracle``: computed on the instructors' side, recorded in a student's handout).

The written answers (``ANSWER_Q1`` ... ``ANSWER_Q8``) are not checked here: instructors grade them
by hand.
"""

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader

from autograder.expect import expect_choice, expect_equal, expect_tensor_like, expect_type, fail
from autograder.i18n import _, n_
from autograder.models import local_copy, spec_of, state_of
from autograder.probe import modules

CHOICES = ("a", "b", "c", "d")


def _randint(low: int, high: int) -> int:
    """A random int in [low, high), from the check's seeded global generator."""
    return int(torch.randint(low, high, ()).item())


def _orders(student, n: int, shuffle: bool, epochs: int, seed: int) -> list[list[int]]:
    call = f"epoch_orders({n}, shuffle={shuffle}, epochs={epochs}, seed={seed})"
    orders = expect_type(student.epoch_orders(n, shuffle, epochs=epochs, seed=seed), list, call)
    expect_equal(len(orders), epochs, f"len({call})", _("one list of indices per epoch."))
    result = []
    for k, order in enumerate(orders):
        if isinstance(order, torch.Tensor):
            order = order.tolist()
        expect_type(order, list, f"{call}[{k}]")
        if sorted(int(i) for i in order) != list(range(n)):
            fail(n_("{call} holds {n} index, expected each of 0 .. {last} exactly once",
                    "{call} holds {n} indices, expected each of 0 .. {last} exactly once", len(order),
                    call=f"{call}[{k}]", last=n - 1),
                 _("an epoch visits every sample once, whatever shuffle is."))
        result.append([int(i) for i in order])
    return result


# --- iterations_per_epoch --------------------------------------------------------------------

def test_iterations_per_epoch(student):
    cases = [(50000, 64, False), (10000, 1000, False), (60000, 64, True)]
    cases += [(_randint(1, 500), _randint(1, 70), bool(_randint(0, 2))) for _ in range(20)]
    for n, batch_size, drop_last in cases:
        expected = len(DataLoader(range(n), batch_size=batch_size, drop_last=drop_last))
        call = f"iterations_per_epoch({n}, {batch_size}, drop_last={drop_last})"
        got = student.iterations_per_epoch(n, batch_size, drop_last=drop_last)
        expect_type(got, int, call, _("return a Python int (math.ceil or //)."))
        expect_equal(got, expected, call,
                     _("the last, smaller batch counts too, unless drop_last=True skips it.")
                     if not drop_last else _("with drop_last=True the last, smaller batch is skipped."))


# --- conv_output_size ------------------------------------------------------------------------

def test_conv_output_size_matches_conv2d(student):
    cases = [(32, 5, 0, 1), (28, 5, 0, 1), (32, 3, 1, 1), (32, 2, 0, 2), (32, 3, 1, 2)]
    for _case in range(20):
        kernel, stride = _randint(1, 8), _randint(1, 4)
        padding = _randint(0, kernel // 2 + 1)
        size = _randint(max(1, kernel - 2 * padding), 40)
        cases.append((size, kernel, padding, stride))
    for size, kernel, padding, stride in cases:
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, bias=False)
        with torch.no_grad():
            expected = conv(torch.zeros(1, 1, size, size)).shape[-1]
        call = f"conv_output_size({size}, kernel={kernel}, padding={padding}, stride={stride})"
        got = student.conv_output_size(size, kernel, padding=padding, stride=stride)
        expect_type(got, int, call, _("return a Python int: use // for the division."))
        expect_equal(got, expected, call,
                     _("(size + 2 * padding - kernel) // stride + 1: positions where the whole window fits."))


# --- linear_as_conv1x1 -----------------------------------------------------------------------

def test_linear_as_conv1x1(student, worker):
    for bias in (True, False):
        c_in, c_out = _randint(2, 9), _randint(2, 9)
        linear = nn.Linear(c_in, c_out, bias=bias, dtype=torch.float64)
        before = copy.deepcopy(linear.state_dict())
        call = f"linear_as_conv1x1(nn.Linear({c_in}, {c_out}, bias={bias}))"
        there = worker.build(linear)
        result = student.linear_as_conv1x1(there)
        hint = _("return an nn.Conv2d with kernel_size=1.")
        spec = spec_of(result, call, hint)
        if modules.layer_class(spec) is not nn.Conv2d:
            fail(_("{call} gave a {type}, expected an nn.Conv2d", call=call, type=modules.short_class(spec)), hint)
        conv = local_copy(result, call, probe=torch.randn(2, c_in, 3, 3, dtype=torch.float64))
        expect_equal((conv.in_channels, conv.out_channels, conv.kernel_size), (c_in, c_out, (1, 1)),
                     _("{call}'s (in_channels, out_channels, kernel_size)", call=call))
        expect_equal(conv.bias is not None, bias, _("{call} has a bias", call=call),
                     _("give the conv a bias exactly when the linear layer has one."))
        x = torch.randn(_randint(1, 4), c_in, _randint(1, 7), _randint(1, 7), dtype=torch.float64)
        with torch.no_grad():
            expected = linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)   # (N, C_out, H, W)
            out = conv(x)
        expect_tensor_like(out, expected, _("{call} applied to a float64 {shape} input", call=call,
                                            shape=str(tuple(x.shape))), atol=1e-12,
                           rtol=1e-10, hint=_("the conv's weight is the linear weight viewed as (C_out, C_in, 1, 1)."))
        after = state_of(there)
        for key, value in before.items():
            if not torch.equal(after[key], value):
                fail(_("{call} changed the linear layer's {key}, expected it left as it was", call=call, key=key))


# --- epoch_orders ----------------------------------------------------------------------------

def test_epoch_orders_without_shuffle(student):
    n, epochs, seed = _randint(5, 40), _randint(2, 4), _randint(0, 1000)
    orders = _orders(student, n, False, epochs, seed)
    for k, order in enumerate(orders):
        if order != list(range(n)):
            fail(_("{call} starts {got}, expected 0 .. {last} in order",
                   call=f"epoch_orders({n}, shuffle=False, epochs={epochs}, seed={seed})[{k}]", got=str(order[:6]),
                   last=n - 1),
                 _("with shuffle=False a DataLoader keeps the data set's order."))


def test_epoch_orders_with_shuffle(student, oracle):
    n, epochs, seed = oracle.draw("sizes", lambda: (_randint(20, 60), 3, _randint(0, 1000)))
    call = f"epoch_orders({n}, shuffle=True, epochs={epochs}, seed={seed})"
    orders = _orders(student, n, True, epochs, seed)
    if orders[0] == list(range(n)):
        fail(_("{call} is 0 .. {last} in order, expected a shuffled order", call=f"{call}[0]", last=n - 1))
    if len({tuple(order) for order in orders}) < epochs:
        fail(_("{call} repeats the same order in different epochs, expected a new order every epoch", call=call),
             _("a DataLoader with shuffle=True draws a new permutation each time it is iterated over."))
    expected = oracle.expect("orders", "questions.loader_orders", n, True, epochs, seed)
    if orders != expected:
        generator = torch.Generator().manual_seed(seed)
        plain = [torch.randperm(n, generator=generator).tolist() for _ in range(epochs)]
        hint = _("build DataLoader(range(n), shuffle=True, generator=torch.Generator().manual_seed(seed)) and "
                 "iterate over it once per epoch.")
        if orders == plain:
            hint = _("your orders are torch.randperm draws; a DataLoader also draws a seed from its generator "
                     "at the start of every epoch, so its orders differ: record what a real DataLoader yields.")
        k = next(k for k in range(epochs) if orders[k] != expected[k])
        fail(_("{call} starts {got}, expected {expected}, the order a DataLoader with "
               "generator=torch.Generator().manual_seed({seed}) yields", call=f"{call}[{k}]", got=str(orders[k][:6]),
               expected=str(expected[k][:6]), seed=seed), hint)


def test_epoch_orders_reproducible(student):
    n, seed = _randint(20, 60), _randint(0, 1000)
    first = _orders(student, n, True, 2, seed)
    torch.manual_seed(seed + 1)   # the global random state must not matter
    again = _orders(student, n, True, 2, seed)
    if again != first:
        fail(_("{call} gave different orders on a second call, expected the same",
               call=f"epoch_orders({n}, shuffle=True, seed={seed})"),
             _("draw the order from a torch.Generator seeded with seed, not from the global random state."))
    if _orders(student, n, True, 2, seed + 1) == first:
        fail(_("epoch_orders gave the same orders for seeds {seed} and {other}, expected different ones", seed=seed,
               other=seed + 1),
             _("seed the generator with the seed argument."))


# --- multiple choice -------------------------------------------------------------------------

def _expect_choice(student, oracle, name: str, hint) -> None:
    expect_choice(student, name, CHOICES, oracle.answer(name), hint)


def test_answer_shuffle(student, oracle):
    _expect_choice(student, oracle, "ANSWER_SHUFFLE",
                   _("look at what epoch_orders returns with shuffle=False and shuffle=True, and at what makes it "
                     "reproducible."))


def test_answer_transforms(student, oracle):
    _expect_choice(student, oracle, "ANSWER_TRANSFORMS",
                   _("how many images does an epoch have with augmentation, and what must test images look like?"))


def test_answer_epoch_vs_batch(student, oracle):
    _expect_choice(student, oracle, "ANSWER_EPOCH_VS_BATCH", _("see iterations_per_epoch."))


def test_answer_conv1x1(student, oracle):
    _expect_choice(student, oracle, "ANSWER_CONV1X1",
                   _("see linear_as_conv1x1: what does the conv compute at each pixel?"))


def test_answer_residual(student, oracle):
    _expect_choice(student, oracle, "ANSWER_RESIDUAL",
                   _("what does a block have to learn when its output is x + F(x), and where does the gradient go?"))


def test_answer_lenet(student, oracle):
    _expect_choice(student, oracle, "ANSWER_LENET",
                   _("compare inputs, activations, how the maps shrink, the loss and the optimiser."))


def test_answer_residual_shapes(student, oracle):
    _expect_choice(student, oracle, "ANSWER_RESIDUAL_SHAPES",
                   _("see ResidualBlock's shortcut when stride or channels change."))


def test_answer_improve(student, oracle):
    _expect_choice(student, oracle, "ANSWER_IMPROVE",
                   _("the lab already uses Adam; what made SmallResNet beat Net under the same budget?"))
