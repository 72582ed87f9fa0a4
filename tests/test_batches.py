"""Tests of autograder.batches: the fast uint8 batch iterator the checks train with."""

import pytest
import torch
from PIL import Image
from torchvision import transforms

from autograder.batches import (
    CIFAR10_MEAN, CIFAR10_STD, CROP_PADDING, MNIST_MEAN, MNIST_STD, VGG_MEAN, VGG_STD, TensorBatches, subset,
)


def _images(n, *shape, seed=0):
    return torch.randint(0, 256, (n, *shape), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_grey_batches_equal_totensor_normalize_bit_for_bit():
    images, labels = _images(10, 28, 28), torch.arange(10)
    expected = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MNIST_MEAN, MNIST_STD)])
    x, y = next(iter(TensorBatches(images, labels, 10, MNIST_MEAN, MNIST_STD)))
    assert x.shape == (10, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.equal(y, labels)
    reference = torch.stack([expected(Image.fromarray(img.numpy())) for img in images])
    assert torch.equal(x, reference)


@pytest.mark.parametrize("mean, std", [(CIFAR10_MEAN, CIFAR10_STD), (VGG_MEAN, VGG_STD)])
def test_rgb_batches_equal_totensor_normalize_bit_for_bit(mean, std):
    images = _images(6, 3, 32, 32)
    expected = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    x, _ = next(iter(TensorBatches(images, torch.zeros(6, dtype=torch.long), 6, mean, std)))
    reference = torch.stack([expected(Image.fromarray(img.permute(1, 2, 0).numpy())) for img in images])
    assert torch.equal(x, reference)


def test_length_and_last_batch():
    images, labels = _images(10, 4, 4), torch.arange(10)
    sizes = [x.shape[0] for x, _ in TensorBatches(images, labels, 4, (0.5,), (0.5,))]
    assert sizes == [4, 4, 2] and len(TensorBatches(images, labels, 4, (0.5,), (0.5,))) == 3
    dropped = TensorBatches(images, labels, 4, (0.5,), (0.5,), drop_last=True)
    assert [x.shape[0] for x, _ in dropped] == [4, 4] and len(dropped) == 2
    assert len(dropped.dataset) == 10


def test_unshuffled_order_is_the_data_order():
    images, labels = _images(7, 2, 2), torch.arange(7)
    seen = torch.cat([y for _, y in TensorBatches(images, labels, 3, (0.5,), (0.5,))])
    assert torch.equal(seen, labels)


def test_shuffle_new_order_each_pass_reproducible_by_seed_and_global_rng_untouched():
    images, labels = _images(50, 2, 2), torch.arange(50)
    state = torch.get_rng_state()
    a = TensorBatches(images, labels, 8, (0.5,), (0.5,), shuffle=True, seed=3)
    b = TensorBatches(images, labels, 8, (0.5,), (0.5,), shuffle=True, seed=3)
    first, second = [torch.cat([y for _, y in loader]) for loader in (a, a)]
    assert not torch.equal(first, second)                       # a new order every pass
    assert torch.equal(torch.sort(first).values, labels)        # each sample once
    assert torch.equal(first, torch.cat([y for _, y in b]))     # same seed, same sequence of orders
    assert torch.equal(second, torch.cat([y for _, y in b]))
    assert torch.equal(state, torch.get_rng_state())


def test_images_follow_their_labels():
    images = torch.arange(20, dtype=torch.uint8).view(20, 1, 1, 1).expand(20, 1, 2, 2).contiguous()
    labels = torch.arange(20)
    for x, y in TensorBatches(images, labels, 6, (0.0,), (1.0,), shuffle=True, seed=1):
        assert torch.equal((x[:, 0, 0, 0] * 255).round().long(), y)


def test_augment_is_a_padded_crop_and_maybe_a_flip_of_each_image():
    images = _images(64, 3, 8, 8, seed=5)
    loader = TensorBatches(images, torch.arange(64), 64, (0.0,) * 3, (1.0,) * 3, augment=True, seed=0)
    x, _ = next(iter(loader))
    x = (x * 255).round().to(torch.uint8)
    p = CROP_PADDING
    padded = torch.nn.functional.pad(images, (p, p, p, p))
    offsets, flips = set(), 0
    for i in range(64):
        matches = [(dy, dx, flip) for dy in range(2 * p + 1) for dx in range(2 * p + 1) for flip in (False, True)
                   if torch.equal(x[i], (lambda c: c.flip(-1) if flip else c)(padded[i, :, dy:dy + 8, dx:dx + 8]))]
        assert matches, f"image {i} is not a padded crop of its source"
        offsets.add(matches[0][:2])
        flips += matches[0][2]
    assert len(offsets) > 10 and 10 < flips < 54                # per-image draws, not one per batch


def test_rejects_bad_inputs():
    with pytest.raises(TypeError, match="uint8"):
        TensorBatches(torch.zeros(2, 4, 4), torch.zeros(2, dtype=torch.long), 1, (0.5,), (0.5,))
    with pytest.raises(ValueError, match="one value per channel"):
        TensorBatches(_images(2, 3, 4, 4), torch.zeros(2, dtype=torch.long), 1, (0.5,), (0.5,))
    with pytest.raises(ValueError, match="labels"):
        TensorBatches(_images(2, 4, 4), torch.zeros(3, dtype=torch.long), 1, (0.5,), (0.5,))


def test_subset_is_stratified_reproducible_and_in_data_order():
    labels = torch.cat([torch.full((600,), 0), torch.full((300,), 1), torch.full((100,), 2)])
    labels = labels[torch.randperm(1000, generator=torch.Generator().manual_seed(0))]
    images = torch.arange(1000).view(1000, 1, 1)
    x, y = subset(images, labels, 100, seed=4)
    assert torch.bincount(y).tolist() == [60, 30, 10]
    assert torch.equal(labels[x.view(-1)], y)                   # images still match their labels
    assert torch.equal(x.view(-1), x.view(-1).sort().values)    # original order kept
    again, _ = subset(images, labels, 100, seed=4)
    other, _ = subset(images, labels, 100, seed=5)
    assert torch.equal(x, again) and not torch.equal(x, other)
    assert subset(images, labels, 5000, seed=0)[0] is images


def test_subset_hands_out_leftover_places():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    _, y = subset(torch.arange(9), labels, 4, seed=0)
    assert y.shape == (4,) and sorted(torch.bincount(y, minlength=3).tolist()) == [1, 1, 2]
