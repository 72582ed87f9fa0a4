"""Week 2, exercise 5: the report's questions, in code and in words.

Four functions show answers in code: how many steps an epoch has, how a
convolution changes the size of a feature map, why a 1x1 convolution is a
fully connected layer applied at every pixel, and what ``shuffle`` changes in
a ``DataLoader``. Then each of the eight questions has a multiple-choice
answer, scored by the autograder, and a written answer, which the autograder
does not score: your instructor reads and grades the written answers by hand.
Keep the names: the autograder imports them.
"""

import math

import torch
from torch import nn
from torch.utils.data import DataLoader


def iterations_per_epoch(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches (optimizer steps) one epoch over ``n_samples`` samples has.

    The same number as ``len(DataLoader(dataset, batch_size, drop_last=drop_last))``:
    the last batch is smaller when ``batch_size`` does not divide ``n_samples``,
    and is skipped with ``drop_last=True``. For example CIFAR-10's 50,000
    training images at batch 64: 782 steps (781 full batches and one of 16).
    """
    ### BEGIN SOLUTION
    if drop_last:
        result = n_samples // batch_size
    else:
        result = math.ceil(n_samples / batch_size)
    ### END SOLUTION
    return result


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Height (or width) of the output of a convolution or pooling layer.

    ``size`` is the input's height (or width); a ``kernel x kernel`` window
    slides over the input padded with ``padding`` on each side, ``stride``
    pixels at a time, and there is one output per position where the window
    fits entirely. For example the lab's first ``Conv2d(3, 6, 5)`` on 32x32
    images gives 28, and ``MaxPool2d(2, 2)`` then gives 14.
    """
    ### BEGIN SOLUTION
    result = (size + 2 * padding - kernel) // stride + 1
    ### END SOLUTION
    return result


def linear_as_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    """A 1x1 convolution that applies ``linear`` to the channel vector of every pixel (question 4).

    For an input ``x`` of shape (N, C_in, H, W), the result's output at pixel
    (h, w) equals ``linear(x[:, :, h, w])``, for every pixel.

    Args:
        linear: ``nn.Linear(C_in, C_out)``, with or without a bias. It is not modified.

    Returns:
        ``nn.Conv2d(C_in, C_out, kernel_size=1)`` (with a bias exactly when
        ``linear`` has one) holding a copy of ``linear``'s weights, in its
        dtype and on its device.
    """
    ### BEGIN SOLUTION
    out_features, in_features = linear.weight.shape
    has_bias = linear.bias is not None
    result = nn.Conv2d(in_features, out_features, kernel_size=1, bias=has_bias,
                       device=linear.weight.device, dtype=linear.weight.dtype)
    with torch.no_grad():
        result.weight.copy_(linear.weight.view(out_features, in_features, 1, 1))  # (C_out, C_in, 1, 1)
        if has_bias:
            result.bias.copy_(linear.bias)
    ### END SOLUTION
    return result


def epoch_orders(n: int, shuffle: bool, epochs: int = 2, seed: int = 0) -> list[list[int]]:
    """The order in which a ``DataLoader`` yields the samples of a data set, epoch by epoch (question 1).

    Build a ``DataLoader`` over the indices ``range(n)`` with ``shuffle=shuffle``
    and ``generator=torch.Generator().manual_seed(seed)``, iterate over it
    ``epochs`` times and record the indices it yields in each epoch. (Any batch
    size gives the same order.)

    Returns:
        ``epochs`` lists of Python ints, each a permutation of ``0 .. n-1``.
    """
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(range(n), batch_size=16, shuffle=shuffle, generator=generator)
    result = [[int(i) for batch in loader for i in batch] for _ in range(epochs)]
    ### END SOLUTION
    return result


# Multiple-choice answers: set each to one letter, e.g. "b". Scored by the autograder.

# Q1. What difference does the value of `shuffle` in a DataLoader make?
#   a) Passing an integer, e.g. `shuffle=42`, shuffles with seed 42, so the order is reproducible.
#   b) `shuffle=True` shuffles the samples once, when the DataLoader is created; every epoch then
#      uses that same order.
#   c) `shuffle=True` draws a new random order of the samples at the start of every epoch, so the
#      batches differ from epoch to epoch; `shuffle=False` yields the samples in the data set's
#      order every epoch (as test loaders usually do). A reproducible shuffled order comes from a
#      seeded generator: `DataLoader(..., shuffle=True, generator=torch.Generator().manual_seed(0))`.
#   d) With `shuffle=True` the DataLoader samples with replacement: some samples appear twice in an
#      epoch and others not at all.
ANSWER_SHUFFLE = "c"  ### RELEASE AS: ANSWER_SHUFFLE = None

# Q2. What difference do the different `transform` values make?
#   a) `ToTensor()` turns a PIL image (H, W, C, 0..255) into a float tensor (C, H, W) in [0, 1],
#      `Normalize(mean, std)` shifts and scales each channel; the training transform's
#      `RandomCrop(32, padding=4)` and `RandomHorizontalFlip()` are data augmentation: each epoch
#      sees slightly different versions of every image, which reduces overfitting. The test
#      transform keeps only the last two, so test images are deterministic and scaled as in training.
#   b) The augmentations add the cropped and flipped copies to the data set, so an epoch has several
#      times as many images.
#   c) The test transform should also crop and flip at random, so that test images look like
#      training images.
#   d) `Normalize` makes the model train faster, so it is only needed in the training transform.
ANSWER_TRANSFORMS = "a"  ### RELEASE AS: ANSWER_TRANSFORMS = None

# Q3. What is the difference between an epoch and a batch?
#   a) An epoch is one update of the weights; a batch is one pass over the whole training set.
#   b) They are the same thing for a DataLoader with shuffle=True.
#   c) An epoch is always 1,000 iterations, whatever the size of the data set.
#   d) A batch is the group of samples used for one gradient step; an epoch is one pass over the
#      whole training set, made of ceil(N / batch_size) batches (see iterations_per_epoch:
#      782 steps for CIFAR-10 at batch 64).
ANSWER_EPOCH_VS_BATCH = "d"  ### RELEASE AS: ANSWER_EPOCH_VS_BATCH = None

# Q4. How does a 1x1 convolution differ from a fully connected layer, and what is it for?
#   a) A 1x1 convolution does nothing useful: it multiplies every pixel by a single number.
#   b) A 1x1 convolution is a fully connected layer from C_in to C_out channels applied at every
#      pixel, with the same weights at every position (see linear_as_conv1x1). It mixes channels
#      without looking at neighbouring pixels, keeps the height and width, works on any image
#      size, and is used to change the number of channels cheaply (bottlenecks, the projection
#      shortcut of a residual block).
#   c) A 1x1 convolution and a fully connected layer over the flattened image are the same
#      operation with the same number of parameters.
#   d) A 1x1 convolution halves the height and width of the feature map, like a pooling layer.
ANSWER_CONV1X1 = "b"  ### RELEASE AS: ANSWER_CONV1X1 = None

# Q5. Why does residual learning improve accuracy?
#   a) A residual block only has to learn the change F(x) that it adds to its input x, so a block
#      that is not needed can stay close to the identity; the shortcut carries the signal forward
#      and the gradient backward unchanged through the addition. Very deep networks then train
#      well instead of getting worse with depth, so the extra depth turns into accuracy.
#   b) Shortcuts add many parameters, and more parameters always give higher accuracy.
#   c) Shortcuts let the network skip its convolutions, so it computes less and cannot overfit.
#   d) Residual connections replace the activation functions, which removes vanishing gradients.
ANSWER_RESIDUAL = "a"  ### RELEASE AS: ANSWER_RESIDUAL = None

# Q6. How does the lab's CIFAR-10 network differ from LeCun's 1989 LeNet?
#   a) They are the same network; only the number of output classes differs.
#   b) The 1989 network had no convolutions, only fully connected layers; the lab's Net introduced
#      weight sharing.
#   c) The lab's Net reads 32x32 colour images (3 input channels) and uses ReLU activations,
#      max-pooling, three fully connected layers, a softmax cross-entropy loss and Adam; the 1989
#      network read 16x16 grey digits, used sigmoid-like (tanh) units, shrank its feature maps with
#      strided convolutions instead of pooling, had a few thousand free parameters, and was
#      trained by plain gradient descent on a squared-error loss.
#   d) The 1989 LeNet already used ReLU and max-pooling; the lab's Net only adds colour.
ANSWER_LENET = "c"  ### RELEASE AS: ANSWER_LENET = None

# Q7. Convolutions shrink the feature map; how can residual learning still be applied?
#   a) It cannot: residual learning needs every layer to keep the same height, width and channels,
#      so residual networks use no strides and no pooling.
#   b) Flatten the input and the output to vectors and add their first entries, as many as the
#      shorter one has.
#   c) Only add the shortcut in the first block of the network, before any convolution.
#   d) Where a block changes the shape (a stride, or more channels), its shortcut becomes a
#      projection: a 1x1 convolution with the same stride (plus batch norm) maps the input to the
#      output's shape, so the two can still be added; elsewhere the shortcut stays the identity.
ANSWER_RESIDUAL_SHAPES = "d"  ### RELEASE AS: ANSWER_RESIDUAL_SHAPES = None

# Q8. What else could raise the accuracy?
#   a) Switch the optimiser to Adam: Adam always beats SGD.
#   b) A better architecture for the same budget (batch norm, residual blocks, more channels
#      where they are cheap: SmallResNet beats Net with the same data and steps), data
#      augmentation, and with more budget, longer training with a learning-rate schedule and
#      weight decay; each change judged on held-out data, not on the training set.
#   c) Measure the accuracy on the training images instead: the number is higher.
#   d) Add more fully connected layers: every extra layer raises the accuracy.
ANSWER_IMPROVE = "b"  ### RELEASE AS: ANSWER_IMPROVE = None


# Written answers, in your own words, a short paragraph each: graded by hand, not by the
# autograder.

ANSWER_Q1 = """shuffle is a boolean. With shuffle=True the DataLoader draws a new random permutation of the samples at the start of every epoch, so each epoch's batches are different mixtures of classes; this keeps the gradient steps from following a fixed pattern (for a data set stored class by class, an unshuffled loader would show the model one class for many steps in a row). With shuffle=False every epoch yields the samples in the data set's order, which is what a test loader wants: the order does not change the accuracy. A reproducible shuffled order does not come from passing a number as shuffle (any non-zero number just means True) but from a seeded generator, DataLoader(..., shuffle=True, generator=torch.Generator().manual_seed(0)), or from seeding PyTorch's global random state before iterating. epoch_orders shows it: the same order in every epoch without shuffling, a new one each epoch with it, and the same sequence of orders again for the same seed."""  ### RELEASE AS: ANSWER_Q1 = """YOUR ANSWER HERE"""

ANSWER_Q2 = """The transform prepares each image as it is loaded. ToTensor converts a PIL image with values 0..255 in (H, W, C) order into a float tensor in [0, 1] in (C, H, W) order; Normalize subtracts a per-channel mean and divides by a per-channel standard deviation, so the inputs are centred and of unit scale, which makes training better conditioned. The VGG lab's training transform adds RandomCrop(32, padding=4) and RandomHorizontalFlip: data augmentation, a new random shift and mirror of every image in every epoch. The model never sees exactly the same image twice, which reduces overfitting and raises test accuracy. The test transform keeps only ToTensor and Normalize: test images must be scaled exactly as the training images were, and must not be random, so that the measured accuracy is repeatable."""  ### RELEASE AS: ANSWER_Q2 = """YOUR ANSWER HERE"""

ANSWER_Q3 = """A batch is the set of samples the model sees in one forward and backward pass: the loss is averaged over the batch and the optimizer takes one step. An epoch is one pass over the whole training set, so it contains ceil(N / batch_size) batches (iterations_per_epoch): 50,000 CIFAR-10 images at batch 64 make 782 steps, the last batch holding only 16 images unless drop_last is set. Training for 10 epochs therefore means 7,820 updates. The batch size trades the noise of each gradient estimate against the number of updates per epoch and the memory one step needs."""  ### RELEASE AS: ANSWER_Q3 = """YOUR ANSWER HERE"""

ANSWER_Q4 = """A fully connected layer connects every input value to every output, so on an image it needs in_features = C x H x W and fixes the image size. A 1x1 convolution applies one small fully connected layer, from C_in to C_out channels, to the channel vector of each pixel separately, with the same weights at every position (linear_as_conv1x1 builds it from an nn.Linear and gives identical outputs at every pixel). It mixes information across channels but not across neighbouring pixels, keeps the height and width, works for any image size and has only C_in x C_out weights. It is used to reduce or increase the number of channels cheaply (bottleneck blocks, Inception), to add non-linearity between convolutions (network in network), to replace the final fully connected layers (fully convolutional networks), and as the projection shortcut of a residual block."""  ### RELEASE AS: ANSWER_Q4 = """YOUR ANSWER HERE"""

ANSWER_Q5 = """Plain networks get worse, even on the training set, when they are made very deep: the extra layers make optimisation harder (the degradation problem), partly because gradients shrink as they pass back through many layers. A residual block computes x + F(x): it only has to learn the change F to its input, and if a block is not useful its weights can stay small and it passes its input through almost unchanged. The addition also gives the gradient a direct path back to earlier layers. So deep residual networks train as easily as shallow ones, and the added depth turns into higher accuracy; with batch norm, the small residual network here learns faster per step than the lab's Net."""  ### RELEASE AS: ANSWER_Q5 = """YOUR ANSWER HERE"""

ANSWER_Q6 = """LeCun's 1989 network read 16x16 grey images of handwritten digits. Its hidden layers were convolutional with shared weights, but they shrank the feature maps with a stride of 2 instead of separate pooling layers, connected each map to only some of the previous maps, used sigmoid-like (scaled tanh) units, and ended in a small fully connected layer; it had about 10,000 free parameters and was trained by plain gradient descent on a squared-error loss. The lab's Net follows the later LeNet-5 layout adapted to CIFAR-10: 32x32 colour input with 3 channels, two 5x5 convolutions with 6 and 16 channels each followed by ReLU and 2x2 max-pooling, three fully connected layers (400-120-84-10, 62,006 parameters), a softmax cross-entropy loss and the Adam optimizer."""  ### RELEASE AS: ANSWER_Q6 = """YOUR ANSWER HERE"""

ANSWER_Q7 = """The addition x + F(x) needs x and F(x) to have the same shape. Inside a stage the convolutions use padding 1 and stride 1, so the shape is kept and the shortcut is the identity, with no parameters. Where a block halves the height and width (stride 2 in its first convolution) or changes the number of channels, the shortcut becomes a projection: a 1x1 convolution with the same stride, followed by batch norm, maps the input to the output's shape (ResidualBlock does this). The 1x1 convolution is cheap, and since there are only a few such blocks, almost all shortcuts remain identities."""  ### RELEASE AS: ANSWER_Q7 = """YOUR ANSWER HERE"""

ANSWER_Q8 = """Better architectures first: batch normalisation and residual blocks let a small network learn much faster per step (SmallResNet beats Net with the same data and number of steps), and VGG reaches about 84% where Net stays at 63%. Data augmentation (random crops and flips, or stronger ones such as cutout) reduces overfitting. Training longer with a learning-rate schedule (step or cosine decay, or warm-up), weight decay, dropout in large fully connected layers, label smoothing, and averaging the predictions of several models or of flipped test images all help further. Each change should be judged on a validation set, not on the training images or the test set; and neither optimiser is always best: a well-tuned SGD with momentum often matches or beats Adam on image classification."""  ### RELEASE AS: ANSWER_Q8 = """YOUR ANSWER HERE"""
