"""Checkpoint files: their bytes are a function of their content (a resumed run's equal an
uninterrupted run's), their recorded digest refuses any later change, even one that torch.load
reads without complaint, and no message suggests loading an untrusted pickle."""

import struct
import zipfile

import numpy as np
import pytest
import torch
from crossclass.errors import UserError
from crossclass.training import TrainConfig, fit, load_checkpoint, save_checkpoint
from crossclass.training.checkpoint import content_digest
from test_training import blobs, build

pytestmark = pytest.mark.usefixtures("one_thread")


def state(shared: bool) -> dict:
    """A checkpoint-like state; `shared` reuses one Python object where a resumed run has
    equal but distinct ones (pickle's memo would write them differently)."""
    rate = 0.1 + 0.2
    rates = [rate, rate] if shared else [0.1 + 0.2, float(repr(0.1 + 0.2))]
    name = "x" * 40
    return {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "optimizer": {}, "scheduler": {},
            "rng": {"torch": torch.zeros(4, dtype=torch.uint8)}, "epoch": 3,
            "history": {"lr": rates}, "config": {"a": name, "b": name if shared else "x" * 40},
            "meta": {"net": "mlp", "shape": (1, 2)}}


def test_bytes_depend_on_content_not_on_object_sharing(tmp_path):
    a, b = save_checkpoint(state(True), tmp_path / "a.pt"), save_checkpoint(state(False),
                                                                           tmp_path / "b.pt")
    assert a.read_bytes() == b.read_bytes()
    loaded = load_checkpoint(a)
    assert loaded["history"] == state(True)["history"] and "digest" not in loaded
    assert save_checkpoint(loaded, tmp_path / "c.pt").read_bytes() == a.read_bytes()


def test_content_digest_sees_every_value_dtype_and_shape():
    base = content_digest(state(True))
    changed = [state(True) for _ in range(4)]
    changed[0]["model"]["w"] = changed[0]["model"]["w"].reshape(3, 2)
    changed[1]["model"]["w"] = changed[1]["model"]["w"].double()
    changed[2]["history"]["lr"][1] = 0.3
    changed[3]["epoch"] = 4
    assert len({base, *map(content_digest, changed)}) == 5
    with pytest.raises(TypeError, match="cannot hold"):
        content_digest({"x": object()})


def tensor_offset(path, record: str) -> int:
    """Byte offset of a zip record's data in a checkpoint file (torch pads the local header)."""
    info = zipfile.ZipFile(path).getinfo(record)
    data = path.read_bytes()
    name, extra = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name + extra


def test_a_flipped_weight_byte_is_refused_though_torch_reads_it(tmp_path):
    path = save_checkpoint(state(True), tmp_path / "ck.pt")
    data = bytearray(path.read_bytes())
    record = next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("/data/0"))
    data[tensor_offset(path, record) + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    torch.load(path, weights_only=True)  # the archive still reads
    changed = r"does not match its recorded digest \(changed since it was written\); redo$"
    with pytest.raises(UserError, match=changed):
        load_checkpoint(path, advice="redo")


def test_random_bytes_never_suggest_unsafe_loading(tmp_path):
    path = tmp_path / "random.pt"
    path.write_bytes(np.random.default_rng(0).bytes(16000))
    with pytest.raises(UserError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert "do not decode as a checkpoint" in message and len(message.splitlines()) == 1
    assert "weights_only" not in message and "trust" not in message


def test_checkpoint_without_digest_is_refused(tmp_path):
    legacy = {k: v for k, v in state(True).items()}
    torch.save(legacy, tmp_path / "old.pt")
    with pytest.raises(UserError, match=r"not a crossclass training checkpoint \(missing digest"):
        load_checkpoint(tmp_path / "old.pt")


def test_resumed_run_writes_the_same_bytes(tmp_path, monkeypatch):
    """A run interrupted after epoch 3 and resumed ends with checkpoints byte-identical to an
    uninterrupted run's (object sharing differs between the two)."""
    from crossclass.training import loop

    run = TrainConfig(lr=0.05, epochs=6, batch_size=16, keep=(1, 3), resume_interval=0,
                      device="cpu", progress=False)
    fit(build, blobs(), run, tmp_path / "reference")
    real, calls = loop.train_epoch, []

    def killed_at_4(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "train_epoch", killed_at_4)
    with pytest.raises(KeyboardInterrupt):
        fit(build, blobs(), run, tmp_path / "resumed")
    monkeypatch.setattr(loop, "train_epoch", real)
    assert fit(build, blobs(), run, tmp_path / "resumed").resumed_from == 3
    files = sorted(p.relative_to(tmp_path / "reference")
                   for p in (tmp_path / "reference").rglob("*.pt"))
    assert len(files) == 4  # last.pt, epochs 1, 3 and 6
    for name in files:
        assert (tmp_path / "reference" / name).read_bytes() == \
            (tmp_path / "resumed" / name).read_bytes(), name
