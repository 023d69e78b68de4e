"""MNIST, FashionMNIST, CIFAR10 and CIFAR100 through torchvision's own dataset classes.

Files are read from (and, with download=True, fetched into) torchvision's layout under root:
  mnist          root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
  fashion_mnist  root/FashionMNIST/raw/ (same four files)
  cifar10        root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}
  cifar100       root/cifar-100-python/{train, test, meta}
Inputs are (N, 1, 28, 28) or (N, 3, 32, 32), standardised per channel with the mean and std of
the full train split (crossclass.data.normalize); no augmentation.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets import cifar
from torchvision.datasets import mnist as idx

from crossclass.data.base import ArraySplits
from crossclass.data.normalize import channel_stats, standardize
from crossclass.errors import UserError


def _folder(cls: type, root: Path) -> Path:
    """The folder where torchvision keeps (or expects) the files of `cls` under root."""
    if issubclass(cls, datasets.CIFAR10):
        return root / cls.base_folder
    return root / cls.__name__ / "raw"


def _expected_files(cls: type) -> list[str]:
    if issubclass(cls, datasets.CIFAR10):
        return [f for f, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
    return [os.path.splitext(f)[0] for f, _ in cls.resources]


def _bad_file(cls: type, folder: Path, train: bool) -> Path | None:
    """The first file of one split (and CIFAR's meta) that is missing, fails its checksum or
    does not parse; None if all of them read."""
    if issubclass(cls, datasets.CIFAR10):
        files = (cls.train_list if train else cls.test_list) + [
            (cls.meta["filename"], cls.meta["md5"])]
        for name, md5 in files:
            try:
                if not cifar.check_integrity(str(folder / name), md5):
                    return folder / name
                with open(folder / name, "rb") as f:
                    pickle.load(f, encoding="latin1")
            except Exception:  # unpickling garbage raises many types
                return folder / name
        return None
    prefix = "train" if train else "t10k"
    for name, read in ((f"{prefix}-images-idx3-ubyte", idx.read_image_file),
                       (f"{prefix}-labels-idx1-ubyte", idx.read_label_file)):
        try:
            read(str(folder / name))
        except Exception:  # torchvision's IDX parser asserts on malformed bytes
            return folder / name
    return None


def _open(cls: type, name: str, root: Path, download: bool, train: bool):
    """Instantiate torchvision's dataset; a missing or malformed file or a failed download is
    a one-line UserError naming it."""
    folder = _folder(cls, root)
    try:
        return cls(root=str(root), train=train, download=download)
    except Exception as err:  # torchvision raises (and asserts) many types on damaged files
        reason = " ".join(str(err).split()) or type(err).__name__
        if download and isinstance(err, (RuntimeError, OSError)):
            raise UserError(f"{name}: download into {folder} failed ({reason}); place the files "
                            f"{', '.join(_expected_files(cls))} there by hand") from err
        bad = _bad_file(cls, folder, train)
        fetch = f"`crossclass data fetch --dataset {name} --root {root}`"
        if bad is not None and bad.is_file():
            raise UserError(f"{name}: {bad} is malformed ({reason}); delete it and run "
                            f"{fetch}") from err
        if bad is None and not isinstance(err, (RuntimeError, OSError)):
            raise
        raise UserError(f"{name}: data files missing or corrupted in {folder}; run {fetch} or "
                        f"place {', '.join(_expected_files(cls))} there") from err


def _images(data) -> torch.Tensor:
    """torchvision's raw images as uint8 (N, C, H, W): MNIST (N, H, W), CIFAR (N, H, W, 3)."""
    x = torch.as_tensor(np.asarray(data))
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()


def _load(cls: type, name: str, root: Path, download: bool) -> ArraySplits:
    root = Path(root)
    train = _open(cls, name, root, download, train=True)
    test = _open(cls, name, root, download, train=False)
    x_train, x_test = _images(train.data), _images(test.data)
    mean, std = channel_stats(x_train)
    return ArraySplits(
        name=name,
        x_train=standardize(x_train, mean, std),
        y_train=torch.as_tensor(np.asarray(train.targets), dtype=torch.int64),
        x_test=standardize(x_test, mean, std),
        y_test=torch.as_tensor(np.asarray(test.targets), dtype=torch.int64),
        num_classes=len(train.classes),
        class_names=tuple(train.classes),
    )


def mnist(root: Path, download: bool = False) -> ArraySplits:
    """MNIST (LeCun et al.): 60000 / 10000 grey 28x28 digits, C = 10."""
    return _load(datasets.MNIST, "mnist", root, download)


def fashion_mnist(root: Path, download: bool = False) -> ArraySplits:
    """FashionMNIST (Xiao et al.): 60000 / 10000 grey 28x28 clothing images, C = 10."""
    return _load(datasets.FashionMNIST, "fashion_mnist", root, download)


def cifar10(root: Path, download: bool = False) -> ArraySplits:
    """CIFAR10 (Krizhevsky): 50000 / 10000 colour 32x32 images, C = 10."""
    return _load(datasets.CIFAR10, "cifar10", root, download)


def cifar100(root: Path, download: bool = False) -> ArraySplits:
    """CIFAR100 (Krizhevsky), fine labels: 50000 / 10000 colour 32x32 images, C = 100."""
    return _load(datasets.CIFAR100, "cifar100", root, download)
