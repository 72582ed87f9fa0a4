"""Week 2, exercise 3: VGG on CIFAR-10, with the lab's two bugs to find and fix.

The lab's VGG does not run as published. Constructing it fails, and once that
is fixed, its forward pass fails too. Find both bugs, fix them, and explain in
your report where the classifier's number of input features comes from
(``flattened_size`` below computes it for any feature extractor).

Keep the names ``features`` (the convolutional part, an ``nn.Sequential``) and
``classifier`` (the final ``nn.Linear``): the autograder loads the reference
weights into your model by these names.
"""

import torch
from torch import nn
from torchvision import transforms

VGG_MEAN = (0.4914, 0.4822, 0.4465)
VGG_STD = (0.2023, 0.1994, 0.2010)


class VGG(nn.Module):
    """The lab's VGG: 8 conv layers with batch norm, 5 max-pools, one linear classifier.

    Input (N, 3, 32, 32) normalised images; output (N, 10) logits. Fixed, it
    has 9,231,114 parameters.
    """

    def __init__(self):
        super().__init__()
        # Each number is a 3x3 conv (padding 1) + BatchNorm + ReLU with that many
        # output channels; each 'M' a 2x2 max-pool that halves height and width.
        self.cfg = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']
        self.features = self._make_layers(cfg)
        self.classifier = nn.Linear(2048, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.features(x)             # (N, C, H', W')
        out = out.view(out.size(0), -1)    # (N, C * H' * W')
        out = self.classifier(out)         # (N, 10)
        return out

    def _make_layers(self, cfg: list) -> nn.Sequential:
        layers = []
        in_channels = 3
        for x in cfg:
            if x == 'M':
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1),
                           nn.BatchNorm2d(x),
                           nn.ReLU(inplace=True)]
                in_channels = x
        layers += [nn.AvgPool2d(kernel_size=1, stride=1)]  # as in the lab: a no-op
        return nn.Sequential(*layers)


def flattened_size(features: nn.Module, input_shape: tuple = (3, 32, 32)) -> int:
    """How many numbers per image ``features`` hands to the classifier.

    Find it by running one dummy input of shape ``(1, *input_shape)`` through
    ``features`` (without tracking gradients, and without changing the
    module's train/eval mode or its batch-norm statistics), then counting the
    values of the output.

    Args:
        features: a module taking (N, *input_shape) images.
        input_shape: (C, H, W) of one image.

    Returns:
        the int C' * H' * W' of the output feature map.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return size


def train_transform() -> transforms.Compose:
    """The lab's training transform: random crop with padding 4, random horizontal
    flip, then ``ToTensor`` and ``Normalize`` with ``VGG_MEAN`` / ``VGG_STD``."""
    # YOUR CODE HERE
    raise NotImplementedError()
    return transform


def test_transform() -> transforms.Compose:
    """The lab's test transform: ``ToTensor`` and ``Normalize`` with ``VGG_MEAN`` / ``VGG_STD``."""
    # YOUR CODE HERE
    raise NotImplementedError()
    return transform
