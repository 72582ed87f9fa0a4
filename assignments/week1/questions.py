"""Week 1, exercise 3: the report's questions, in code and in words.

Three functions show answers in code (softmax, why activations matter,
vanishing gradients). Then each of the six questions has a multiple-choice
answer, scored by the autograder, and a written answer, which the autograder
does not score: your instructor reads and grades the written answers by hand.
Keep the names: the autograder imports them.
"""

import torch
from torch import nn


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(x) / exp(x).sum(dim)``, computed so that large inputs do not overflow.

    ``exp(1000.)`` is ``inf`` in floating point, and ``inf / inf`` is ``nan``.
    Softmax does not change when the same number is subtracted from every
    entry along ``dim``: subtract the largest one first.

    Args:
        x: a tensor of any shape, floating point.
        dim: the dimension along which the outputs sum to 1.

    Returns:
        A tensor of ``x``'s shape and dtype, positive, summing to 1 along ``dim``.
        Written with torch operations only, so autograd can differentiate it.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return result


def collapse_linear(model: nn.Sequential) -> nn.Linear:
    """One ``nn.Linear`` computing the same function as a stack of ``Linear`` layers.

    Layer ``i`` computes ``W_i x + b_i``; two of them in a row compute
    ``W_2 (W_1 x + b_1) + b_2 = (W_2 W_1) x + (W_2 b_1 + b_2)``. With no
    activation in between, any number of layers is one linear map: this is why
    a network needs activation functions.

    Args:
        model: ``nn.Sequential`` of ``nn.Linear`` layers only, each with a bias,
            sizes chained ``d_0 -> d_1 -> ... -> d_k``. It is not modified.

    Returns:
        ``nn.Linear(d_0, d_k)`` whose output equals ``model``'s for every input
        (up to float rounding), in the model's dtype and on its device.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return result


WIDTH, BATCH = 32, 64
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def gradient_norms(depth: int, activation: str, seed: int) -> list[float]:
    """How large the loss's gradient is at each layer of a deep network, first layer first.

    The experiment, step by step (the autograder's thresholds were measured on it):

    1. ``torch.manual_seed(seed)``.
    2. Build ``depth`` layers ``nn.Linear(32, 32)``, first to last. Right after
       creating each, set its weight with
       ``nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")`` (He
       initialisation) and its bias to zero (``nn.init.zeros_``).
    3. The network: the layers in order, with ``activation`` (``"sigmoid"``:
       ``nn.Sigmoid``, ``"relu"``: ``nn.ReLU``) after every layer but the last.
    4. Draw one batch ``x = torch.randn(64, 32)``, compute
       ``loss = network(x).sum()`` and call ``loss.backward()``.

    Returns:
        ``depth`` Python floats: ``layer.weight.grad.norm().item()`` for each
        layer, the first layer's first.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    # YOUR CODE HERE
    raise NotImplementedError()
    return result


# Multiple-choice answers: set each to one letter, e.g. "b". Scored by the autograder.

# Q1. What made AlexNet (2012) beat LeNet?
#   a) It was the first convolutional network to be trained with backpropagation.
#   b) It had fewer parameters than LeNet, so it overfitted less.
#   c) A much deeper and wider CNN with ReLU activations, dropout and data augmentation,
#      trained on GPUs on ImageNet's 1.2 million labelled images.
#   d) It used sigmoid activations, whose smooth gradients train faster than LeNet's tanh.
ANSWER_ALEXNET = None

# Q2. What do activation functions do in a neural network?
#   a) They turn the outputs into probabilities that sum to 1.
#   b) They make the network non-linear: without them, stacked Linear layers are one linear
#      map (see collapse_linear) and can only draw straight decision boundaries.
#   c) They reduce the number of parameters a layer needs.
#   d) They normalise each layer's inputs to zero mean and unit variance.
ANSWER_ACTIVATIONS = None

# Q3. What is the vanishing-gradient problem?
#   a) Gradients grow without bound in deep networks, so training diverges.
#   b) The learning rate decays to zero before training finishes.
#   c) The loss reaches zero, so there is nothing left to learn.
#   d) Backpropagation multiplies by every layer's derivative on the way back; when those
#      factors are below 1 (a sigmoid's slope is at most 1/4), the early layers' gradients
#      shrink exponentially with depth and those layers barely learn (see gradient_norms).
ANSWER_VANISHING_GRADIENT = None

# Q4. Is a wider or a deeper network better?
#   a) Wider, always: one wide enough hidden layer can approximate any function.
#   b) Deeper, always: more layers always give higher accuracy.
#   c) Neither always: depth composes features and often needs fewer parameters for the same
#      function, but is harder to optimise (vanishing gradients, without residual connections
#      or normalisation); width is easier to train but grows the parameter count quickly.
#      Which is better depends on the task and budget, and is found by experiment.
#   d) Neither: only the number of parameters matters, not how they are arranged.
ANSWER_WIDTH_VS_DEPTH = None

# Q5. Why use softmax at a classifier's output?
#   a) It turns arbitrary scores (logits) into a probability distribution over the classes:
#      positive, summing to 1, keeping the order of the scores, and differentiable, which
#      pairs with the cross-entropy loss.
#   b) It is the activation that makes the hidden layers non-linear.
#   c) It stops the network from overfitting.
#   d) It makes the output scores integers, one per class.
ANSWER_SOFTMAX = None

# Q6. Which is more effective, SGD or Adam?
#   a) Adam always beats SGD: it adapts the step size of every parameter.
#   b) SGD always beats Adam: Adam's models never generalise as well.
#   c) Neither always: Adam often converges faster with little tuning (on the spiral, SGD at
#      lr 1e-3 barely moves in 1000 steps while Adam reaches 0.95), while SGD with momentum
#      and a tuned learning rate schedule often matches or beats it, e.g. on image
#      classification. It depends on the problem and on the tuning.
#   d) They are the same algorithm with different default learning rates.
ANSWER_SGD_VS_ADAM = None


# Written answers, in your own words, a short paragraph each: graded by hand, not by the
# autograder.

ANSWER_Q1 = """YOUR ANSWER HERE"""

ANSWER_Q2 = """YOUR ANSWER HERE"""

ANSWER_Q3 = """YOUR ANSWER HERE"""

ANSWER_Q4 = """YOUR ANSWER HERE"""

ANSWER_Q5 = """YOUR ANSWER HERE"""

ANSWER_Q6 = """YOUR ANSWER HERE"""
