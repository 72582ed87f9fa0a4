"""Checks for week1/questions.py.

The written answers (``ANSWER_Q1`` ... ``ANSWER_Q6``) are not checked here:
instructors grade them by hand.
"""

import math

import torch
from torch import nn

from autograder.expect import expect_at_least, expect_choice, expect_equal, expect_tensor_like, expect_type, fail
from autograder.i18n import _
from autograder.models import local_copy, spec_of, state_of
from autograder.probe import modules

CHOICES = ("a", "b", "c", "d")


def _random_shape() -> tuple[int, ...]:
    ndim = int(torch.randint(1, 4, ()).item())
    return tuple(int(n) for n in torch.randint(2, 7, (ndim,)))


# --- softmax ---------------------------------------------------------------------------------

def test_softmax_matches_torch(student):
    for dim in (-1, 0):
        x = torch.randn(_random_shape(), dtype=torch.float64) * 3
        call = f"softmax(x, dim={dim})"
        expect_tensor_like(student.softmax(x, dim=dim), torch.softmax(x, dim=dim),
                           _("{call} for x of shape {shape}", call=call, shape=str(tuple(x.shape))),
                           atol=1e-12, rtol=1e-10,
                           hint=_("exp of each entry divided by the sum of the exps along dim (keepdim=True)."))


def test_softmax_large_inputs(student):
    x = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1000.0, -999.0]], dtype=torch.float64)
    expect_tensor_like(student.softmax(x, dim=-1), torch.softmax(x, dim=-1),
                       _("{call} for x = {x}", call="softmax(x)", x="[[1000, 999, 998], [-1000, -1000, -999]]"),
                       atol=1e-12, rtol=1e-10,
                       hint=_("exp(1000) overflows to inf and inf / inf is nan; subtract each row's maximum "
                              "(x.amax(dim, keepdim=True)) before exp: softmax does not change."))


def test_softmax_gradcheck(student, worker):
    x = torch.randn(3, 5, dtype=torch.float64)
    upstream = torch.randn(3, 5, dtype=torch.float64)
    torch_there = worker.module("torch")
    x_there = torch_there.Tensor.requires_grad_.keep(x, True)   # a leaf in the worker, to read its .grad
    output = student.softmax.keep(x_there, dim=-1)
    if output.kind.get("name") != "Tensor":
        expect_type(output, torch.Tensor, "softmax(x, dim=-1)")
    if not output.requires_grad:
        fail(_("{call} gave a tensor with no gradient, expected autograd to reach x", call="softmax(x, dim=-1)"),
             hint=_("use torch operations only: no .item(), .numpy(), .detach() or torch.no_grad()."))
    torch_there.sum.keep(torch_there.mul.keep(output, upstream)).backward()
    gradient = x_there.grad
    y = torch.softmax(x, dim=-1)
    expected = y * (upstream - (upstream * y).sum(dim=-1, keepdim=True))   # softmax's vector-Jacobian product
    if not isinstance(gradient, torch.Tensor) or not torch.allclose(gradient, expected, atol=1e-10, rtol=1e-8):
        fail(_("softmax's gradient, from autograd through your code, differs from softmax's true gradient "
               "(float64)"),
             hint=_("avoid in-place changes of x and of tensors autograd needs (write y = x - m, not x -= m)."))


# --- collapse_linear -------------------------------------------------------------------------

def test_collapse_linear(student, worker):
    n_layers = int(torch.randint(2, 5, ()).item())
    sizes = [int(n) for n in torch.randint(2, 9, (n_layers + 1,))]
    model = nn.Sequential(*(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    shown = " -> ".join(f"Linear({a}, {b})" for a, b in zip(sizes, sizes[1:]))
    what = f"collapse_linear({shown})"
    remote = worker.build(model)
    single = student.collapse_linear(remote)
    linear_hint = _("return an nn.Linear with the combined weight and bias.")
    spec = spec_of(single, what, hint=linear_hint)
    if modules.layer_class(spec) is not nn.Linear:
        fail(_("{what} gave a {type}, expected an nn.Linear", what=what, type=modules.short_class(spec)),
             hint=linear_hint)
    layer = local_copy(single, what, probe=torch.randn(4, sizes[0]))
    expect_equal((layer.in_features, layer.out_features), (sizes[0], sizes[-1]), f"{what} (in_features, out_features)")
    x = torch.randn(10, sizes[0])
    with torch.no_grad():
        expected, actual = model(x), layer(x)
    expect_tensor_like(actual, expected, _("{what} applied to x", what=what), atol=1e-5, rtol=1e-4,
                       hint=_("W2 (W1 x + b1) + b2 = (W2 @ W1) x + (W2 @ b1 + b2): the later layer's weight "
                              "multiplies from the left."))
    after = state_of(remote)
    for name, value in before.items():
        if not torch.equal(after[name], value):
            fail(_("{what} changed the model's {parameter}, expected the model left as it was", what=what,
                   parameter=name),
                 hint=_("build a new nn.Linear and copy the combined weight and bias into it."))


# --- gradient_norms --------------------------------------------------------------------------

def _expect_documented_norms(norms: list, expected: list[float], call: str) -> None:
    """The norms are those of the experiment the docstring describes, layer by layer."""
    for i, (got, want) in enumerate(zip(norms, expected)):
        if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-12):
            what = f"{call}[{i}]"
            fail(_("{what} was {got:.6g}, expected {expected:.6g}, the norm the docstring's experiment gives for "
                   "layer {layer}", what=what, got=float(got), expected=float(want), layer=i + 1),
                 hint=_("follow the docstring step by step: torch.manual_seed(seed) first, each layer's He "
                        "initialisation and zero bias right after creating it, then one torch.randn(64, 32) batch."))


def test_gradient_norms_per_layer(student, oracle):
    norms = student.gradient_norms(4, "relu", seed=1)
    expect_type(norms, list, "gradient_norms(4, 'relu', seed=1)")
    expect_equal(len(norms), 4, "len(gradient_norms(4, 'relu', seed=1))", hint=_("one norm per Linear layer."))
    kinds = sorted({type(v).__name__ for v in norms if type(v) is not float})
    if kinds:
        fail(_("{call} gave a list holding {types}, expected Python floats", call="gradient_norms(4, 'relu', seed=1)",
               types=", ".join(kinds)),
             hint="layer.weight.grad.norm().item()")
    if not all(v > 0 and math.isfinite(v) for v in norms):
        fail(_("{call} gave {got}, expected positive finite norms", call="gradient_norms(4, 'relu', seed=1)",
               got=str(norms)))
    again = student.gradient_norms(4, "relu", seed=1)
    if again != norms:
        fail(_("{call} gave different norms on a second call, expected the same",
               call="gradient_norms(4, 'relu', seed=1)"),
             hint=_("call torch.manual_seed(seed) before building the layers and drawing x."))
    if student.gradient_norms(4, "relu", seed=2) == norms:
        fail(_("{name} gave the same norms for seeds {first} and {second}, expected different ones",
               name="gradient_norms", first=1, second=2),
             hint=_("seed with the seed argument: torch.manual_seed(seed)."))
    _expect_documented_norms(norms, oracle.expect("norms", "questions.gradient_norms", 4, "relu", seed=1),
                             "gradient_norms(4, 'relu', seed=1)")


def test_gradient_norms_sigmoid_vs_relu(student, oracle, exercise, profile):
    sigmoid_max = exercise.threshold("sigmoid_first_over_last", profile)
    relu_min = exercise.threshold("relu_first_over_last", profile)
    seed = oracle.draw("seed", lambda: int(torch.randint(0, 10_000, ()).item()))
    for activation in ("sigmoid", "relu"):
        call = f"gradient_norms(10, {activation!r}, seed={seed})"
        norms = student.gradient_norms(10, activation, seed=seed)
        expect_type(norms, list, call)
        expect_equal(len(norms), 10, f"len({call})")
        ratio = norms[0] / norms[-1] if norms[-1] else math.inf
        what = _("{call}: the first layer's gradient norm over the last layer's", call=call)
        order_hint = _("return the norms first layer first; build the network as the docstring says.")
        if activation == "sigmoid" and not ratio <= sigmoid_max:
            fail(_("{what} was {got:.3g}, expected at most {threshold:.3g} (sigmoid gradients vanish towards the "
                   "input)", what=what, got=float(ratio), threshold=float(sigmoid_max)), hint=order_hint)
        if activation == "relu":
            expect_at_least(ratio, relu_min, what, fmt=".3g",
                            hint=_("with He initialisation (kaiming_normal_) and zero biases, a ReLU network keeps "
                                   "its gradients' scale; {hint}", hint=order_hint))
        _expect_documented_norms(norms, oracle.expect(f"norms/{activation}", "questions.gradient_norms", 10,
                                                      activation, seed=seed), call)


# --- multiple choice -------------------------------------------------------------------------

def _expect_choice(student, oracle, name: str, hint) -> None:
    expect_choice(student, name, CHOICES, oracle.answer(name), hint)


def test_answer_alexnet(student, oracle):
    _expect_choice(student, oracle, "ANSWER_ALEXNET",
                   _("compare the two networks' size, activations, regularisation, data and hardware."))


def test_answer_activations(student, oracle):
    _expect_choice(student, oracle, "ANSWER_ACTIVATIONS",
                   _("what does collapse_linear show about Linear layers with nothing in between?"))


def test_answer_vanishing_gradient(student, oracle):
    _expect_choice(student, oracle, "ANSWER_VANISHING_GRADIENT",
                   _("look at what gradient_norms returns for 'sigmoid', layer by layer."))


def test_answer_width_vs_depth(student, oracle):
    _expect_choice(student, oracle, "ANSWER_WIDTH_VS_DEPTH",
                   _("think about what makes deep networks hard to train, and what width costs."))


def test_answer_softmax(student, oracle):
    _expect_choice(student, oracle, "ANSWER_SOFTMAX",
                   _("look at what softmax returns: its signs, its sums, its order."))


def test_answer_sgd_vs_adam(student, oracle):
    _expect_choice(student, oracle, "ANSWER_SGD_VS_ADAM",
                   _("the spiral is one experiment: does it settle the question for every problem?"))
