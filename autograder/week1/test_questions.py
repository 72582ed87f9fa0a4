"""Checks for week1/questions.py.

The written answers (``ANSWER_Q1`` ... ``ANSWER_Q6``) are not checked here:
instructors grade them by hand.
"""

import math

import torch
from torch import nn

from autograder.expect import expect_choice, expect_equal, expect_tensor_like, expect_type, fail

CHOICES = ("a", "b", "c", "d")
# sha256 of "dlkit/week1/<NAME>=<letter>", first 16 hex digits: the right letters are not
# written out here (with four choices this keeps honest students honest, nothing more).
RIGHT_ANSWERS = {
    "ANSWER_ALEXNET": "e50062abab8855d5",
    "ANSWER_ACTIVATIONS": "9e651d8ac81a0d8a",
    "ANSWER_VANISHING_GRADIENT": "35b5bced6951cce7",
    "ANSWER_WIDTH_VS_DEPTH": "c86d6992a2d076a1",
    "ANSWER_SOFTMAX": "991569661037d19e",
    "ANSWER_SGD_VS_ADAM": "2968a194b76e5f59",
}


def _random_shape() -> tuple[int, ...]:
    ndim = int(torch.randint(1, 4, ()).item())
    return tuple(int(n) for n in torch.randint(2, 7, (ndim,)))


# --- softmax ---------------------------------------------------------------------------------

def test_softmax_matches_torch(student):
    for dim in (-1, 0):
        x = torch.randn(_random_shape(), dtype=torch.float64) * 3
        expect_tensor_like(student.softmax(x, dim=dim), torch.softmax(x, dim=dim),
                           f"softmax(x, dim={dim}) for x of shape {tuple(x.shape)}", atol=1e-12, rtol=1e-10,
                           hint="exp of each entry divided by the sum of the exps along dim (keepdim=True).")


def test_softmax_large_inputs(student):
    x = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1000.0, -999.0]], dtype=torch.float64)
    expect_tensor_like(student.softmax(x, dim=-1), torch.softmax(x, dim=-1),
                       "softmax(x) for x = [[1000, 999, 998], [-1000, -1000, -999]]", atol=1e-12, rtol=1e-10,
                       hint="exp(1000) overflows to inf and inf / inf is nan; subtract each row's maximum "
                            "(x.amax(dim, keepdim=True)) before exp: softmax does not change.")


def test_softmax_gradcheck(student):
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    output = student.softmax(x, dim=-1)
    expect_type(output, torch.Tensor, "softmax(x, dim=-1)")
    if not output.requires_grad:
        fail("softmax(x, dim=-1) gave a tensor with no gradient, expected autograd to reach x",
             hint="use torch operations only: no .item(), .numpy(), .detach() or torch.no_grad().")
    if not torch.autograd.gradcheck(lambda t: student.softmax(t, dim=-1), (x,), raise_exception=False):
        fail("softmax's gradient, from autograd through your code, differs from the numerical gradient "
             "(central differences, float64)",
             hint="avoid in-place changes of x and of tensors autograd needs (write y = x - m, not x -= m).")


# --- collapse_linear -------------------------------------------------------------------------

def test_collapse_linear(student):
    n_layers = int(torch.randint(2, 5, ()).item())
    sizes = [int(n) for n in torch.randint(2, 9, (n_layers + 1,))]
    model = nn.Sequential(*(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    shown = " -> ".join(f"Linear({a}, {b})" for a, b in zip(sizes, sizes[1:]))
    what = f"collapse_linear({shown})"
    single = student.collapse_linear(model)
    expect_type(single, nn.Linear, what, hint="return an nn.Linear with the combined weight and bias.")
    expect_equal((single.in_features, single.out_features), (sizes[0], sizes[-1]),
                 f"{what} (in_features, out_features)")
    x = torch.randn(10, sizes[0])
    with torch.no_grad():
        expected, actual = model(x), single(x)
    expect_tensor_like(actual, expected, f"{what} applied to x", atol=1e-5, rtol=1e-4,
                       hint="W2 (W1 x + b1) + b2 = (W2 @ W1) x + (W2 @ b1 + b2): the later layer's weight "
                            "multiplies from the left.")
    for name, value in model.state_dict().items():
        if not torch.equal(value, before[name]):
            fail(f"{what} changed the model's {name}, expected the model left as it was",
                 hint="build a new nn.Linear and copy the combined weight and bias into it.")


# --- gradient_norms --------------------------------------------------------------------------

def test_gradient_norms_per_layer(student):
    norms = student.gradient_norms(4, "relu", seed=1)
    expect_type(norms, list, "gradient_norms(4, 'relu', seed=1)")
    expect_equal(len(norms), 4, "len(gradient_norms(4, 'relu', seed=1))", hint="one norm per Linear layer.")
    kinds = sorted({type(v).__name__ for v in norms if type(v) is not float})
    if kinds:
        fail(f"gradient_norms(4, 'relu', seed=1) gave a list holding {', '.join(kinds)}, expected Python floats",
             hint="layer.weight.grad.norm().item()")
    if not all(v > 0 and math.isfinite(v) for v in norms):
        fail(f"gradient_norms(4, 'relu', seed=1) gave {norms}, expected positive finite norms")
    again = student.gradient_norms(4, "relu", seed=1)
    if again != norms:
        fail("gradient_norms(4, 'relu', seed=1) gave different norms on a second call, expected the same",
             hint="call torch.manual_seed(seed) before building the layers and drawing x.")
    if student.gradient_norms(4, "relu", seed=2) == norms:
        fail("gradient_norms gave the same norms for seeds 1 and 2, expected different ones",
             hint="seed with the seed argument: torch.manual_seed(seed).")


def test_gradient_norms_sigmoid_vs_relu(student, exercise, profile):
    sigmoid_max = exercise.threshold("sigmoid_first_over_last", profile)
    relu_min = exercise.threshold("relu_first_over_last", profile)
    seed = int(torch.randint(0, 10_000, ()).item())
    for activation in ("sigmoid", "relu"):
        norms = student.gradient_norms(10, activation, seed=seed)
        expect_type(norms, list, f"gradient_norms(10, {activation!r}, seed={seed})")
        expect_equal(len(norms), 10, f"len(gradient_norms(10, {activation!r}, seed={seed}))")
        ratio = norms[0] / norms[-1]
        what = (f"gradient_norms(10, {activation!r}, seed={seed}): the first layer's gradient norm "
                "over the last layer's")
        order_hint = "return the norms first layer first; build the network as the docstring says."
        if activation == "sigmoid" and not ratio <= sigmoid_max:
            fail(f"{what} was {ratio:.3g}, expected at most {sigmoid_max:.3g} (sigmoid gradients vanish "
                 "towards the input)", hint=order_hint)
        if activation == "relu" and not ratio >= relu_min:
            fail(f"{what} was {ratio:.3g}, expected at least {relu_min:.3g}",
                 hint="with He initialisation (kaiming_normal_) and zero biases, a ReLU network keeps its "
                      "gradients' scale; " + order_hint)


# --- multiple choice -------------------------------------------------------------------------

def _expect_choice(student, name: str, hint: str) -> None:
    expect_choice(student, name, "week1", CHOICES, RIGHT_ANSWERS[name], hint)


def test_answer_alexnet(student):
    _expect_choice(student, "ANSWER_ALEXNET",
                   "compare the two networks' size, activations, regularisation, data and hardware.")


def test_answer_activations(student):
    _expect_choice(student, "ANSWER_ACTIVATIONS",
                   "what does collapse_linear show about Linear layers with nothing in between?")


def test_answer_vanishing_gradient(student):
    _expect_choice(student, "ANSWER_VANISHING_GRADIENT",
                   "look at what gradient_norms returns for 'sigmoid', layer by layer.")


def test_answer_width_vs_depth(student):
    _expect_choice(student, "ANSWER_WIDTH_VS_DEPTH",
                   "think about what makes deep networks hard to train, and what width costs.")


def test_answer_softmax(student):
    _expect_choice(student, "ANSWER_SOFTMAX",
                   "look at what softmax returns: its signs, its sums, its order.")


def test_answer_sgd_vs_adam(student):
    _expect_choice(student, "ANSWER_SGD_VS_ADAM",
                   "the spiral is one experiment: does it settle the question for every problem?")
