"""The torchvision plugins on fake files written in torchvision's own on-disk formats (offline)."""

from __future__ import annotations

import pickle
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets.cifar
import torchvision.datasets.mnist
from crossclass.data.vision import cifar10, cifar100, fashion_mnist, mnist
from crossclass.errors import UserError


def write_idx(path, array: np.ndarray) -> None:
    """An IDX (ubyte) file: magic 0x0000 08 NDIM, big-endian int32 dims, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_mnist(root, folder: str, rng, per_class=(3, 2)):
    """Uncompressed IDX files under root/<folder>/raw; returns the raw arrays written."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in zip(("train", "t10k"), per_class, strict=True):
        labels = rng.permutation(np.repeat(np.arange(10), n))
        images = rng.integers(0, 256, size=(labels.size, 28, 28), dtype=np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return arrays


def fake_cifar(root, cls, rng, per_class=(2, 1)):
    """CIFAR python pickle batches (+ meta) under torchvision's folder; returns raw arrays."""
    folder = root / cls.base_folder
    folder.mkdir(parents=True)
    classes = 10 if cls is torchvision.datasets.CIFAR10 else 100
    key = "labels" if classes == 10 else "fine_labels"
    arrays = {}
    for split, files, n in (("train", cls.train_list, per_class[0]),
                            ("test", cls.test_list, per_class[1])):
        labels = rng.permutation(np.repeat(np.arange(classes), n * len(files)))
        data = rng.integers(0, 256, size=(labels.size, 3 * 32 * 32), dtype=np.uint8)
        for (name, _md5), rows in zip(files, np.array_split(np.arange(labels.size), len(files)),
                                      strict=True):
            with open(folder / name, "wb") as f:
                pickle.dump({"data": data[rows], key: labels[rows].tolist()}, f)
        arrays[split] = (data.reshape(-1, 3, 32, 32), labels)
    with open(folder / cls.meta["filename"], "wb") as f:
        pickle.dump({cls.meta["key"]: [f"class{c}" for c in range(classes)]}, f)
    return arrays


@pytest.fixture
def no_md5(monkeypatch):
    """Fake CIFAR files cannot match the real md5 sums: check existence only."""
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity",
                        lambda fpath, md5=None: torchvision.datasets.utils.os.path.isfile(fpath))


def expected(images: np.ndarray, train_images: np.ndarray) -> torch.Tensor:
    """(x - mean_c) / std_c with per-channel statistics of the train images, in float64."""
    train = train_images.astype(np.float64)
    axes = (0, 2, 3)
    mean = train.mean(axis=axes, keepdims=True)
    std = train.std(axis=axes, keepdims=True)
    return torch.as_tensor((images.astype(np.float64) - mean) / std)


def check(splits, arrays, train_key, test_key, num_classes, shape):
    (x_tr, y_tr), (x_te, y_te) = arrays[train_key], arrays[test_key]
    x_tr = x_tr.reshape(-1, *shape)
    x_te = x_te.reshape(-1, *shape)
    assert splits.input_shape == shape and splits.num_classes == num_classes
    assert len(splits.class_names) == num_classes
    assert splits.x_train.dtype == torch.float32 and splits.y_train.dtype == torch.int64
    assert torch.equal(splits.y_train, torch.as_tensor(y_tr, dtype=torch.int64))
    assert torch.equal(splits.y_test, torch.as_tensor(y_te, dtype=torch.int64))
    # float32 rounding of values of order 1: 1e-5 absolute
    torch.testing.assert_close(splits.x_train.double(), expected(x_tr, x_tr), rtol=0, atol=1e-5)
    torch.testing.assert_close(splits.x_test.double(), expected(x_te, x_tr), rtol=0, atol=1e-5)
    channel_mean = splits.x_train.double().mean(dim=(0, 2, 3))
    torch.testing.assert_close(channel_mean, torch.zeros(shape[0], dtype=torch.float64),
                               rtol=0, atol=1e-5)


@pytest.mark.parametrize("plugin, folder", [(mnist, "MNIST"), (fashion_mnist, "FashionMNIST")])
def test_mnist_family_reads_idx_files(tmp_path, plugin, folder):
    arrays = fake_mnist(tmp_path, folder, np.random.default_rng(0))
    splits = plugin(tmp_path)
    check(splits, arrays, "train", "t10k", 10, (1, 28, 28))


@pytest.mark.parametrize("plugin, cls, classes", [
    (cifar10, torchvision.datasets.CIFAR10, 10), (cifar100, torchvision.datasets.CIFAR100, 100)])
def test_cifar_reads_pickle_batches(tmp_path, no_md5, plugin, cls, classes):
    arrays = fake_cifar(tmp_path, cls, np.random.default_rng(1))
    splits = plugin(tmp_path)
    check(splits, arrays, "train", "test", classes, (3, 32, 32))
    assert splits.class_names[3] == "class3"


@pytest.mark.parametrize("plugin, name, folder", [
    (mnist, "mnist", "MNIST/raw"), (fashion_mnist, "fashion_mnist", "FashionMNIST/raw"),
    (cifar10, "cifar10", "cifar-10-batches-py"), (cifar100, "cifar100", "cifar-100-python")])
def test_missing_files_name_dataset_and_folder(tmp_path, plugin, name, folder):
    with pytest.raises(UserError) as err:
        plugin(tmp_path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{name}:")
    assert str(tmp_path / folder) in message and "crossclass data fetch" in message


def test_failed_download_is_one_line(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("network unreachable")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(UserError) as err:
        mnist(tmp_path, download=True)
    message = str(err.value)
    assert "\n" not in message and "download into" in message
    assert str(tmp_path / "MNIST" / "raw") in message


@pytest.mark.parametrize("plugin, folder", [(mnist, "MNIST"), (fashion_mnist, "FashionMNIST")])
@pytest.mark.parametrize("file", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
@pytest.mark.parametrize("damage", ["random", "truncate"])
def test_malformed_mnist_file_is_one_line_naming_it(tmp_path, plugin, folder, file, damage):
    fake_mnist(tmp_path, folder, np.random.default_rng(0))
    path = tmp_path / folder / "raw" / file
    size = path.stat().st_size
    rng = np.random.default_rng(1)
    path.write_bytes(rng.bytes(size) if damage == "random" else path.read_bytes()[:size // 2])
    with pytest.raises(UserError) as err:
        plugin(tmp_path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{plugin.__name__}: {path} is malformed")
    assert "delete it and run `crossclass data fetch" in message


@pytest.mark.parametrize("plugin, cls", [(cifar10, torchvision.datasets.CIFAR10),
                                         (cifar100, torchvision.datasets.CIFAR100)])
def test_malformed_cifar_file_is_one_line_naming_it(tmp_path, no_md5, plugin, cls):
    fake_cifar(tmp_path, cls, np.random.default_rng(1))
    path = tmp_path / cls.base_folder / cls.test_list[0][0]
    path.write_bytes(np.random.default_rng(2).bytes(5000))
    with pytest.raises(UserError) as err:
        plugin(tmp_path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{plugin.__name__}: {path} is malformed")
