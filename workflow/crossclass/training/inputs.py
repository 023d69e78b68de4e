"""The inputs a network plugin expects: a plugin with the attribute `image_size` (the
convolutional nets: 32) gets images adapted by crossclass.data.adapt_inputs; others get the
dataset's inputs unchanged (an MLP flattens them itself)."""

from __future__ import annotations

from collections.abc import Callable

from crossclass.data import ArraySplits, adapt_inputs


def splits_for(net: Callable, splits: ArraySplits) -> ArraySplits:
    """`splits` with both inputs adapted to `net.image_size` when the plugin declares one."""
    size = getattr(net, "image_size", None)
    if size is None:
        return splits
    return ArraySplits(splits.name, adapt_inputs(splits.x_train, size), splits.y_train,
                       adapt_inputs(splits.x_test, size), splits.y_test, splits.num_classes,
                       splits.class_names)
