"""Distributed training: two worker processes on 127.0.0.1 with TF_CONFIG, MultiWorkerMirroredStrategy."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import model

from conftest import ROOT, TINY, WITH_D


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_and_only_the_chief_writes(synthetic_data, tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        command = [sys.executable, str(ROOT / "train.py"), "--strategy", "multiworker", "--data",
                   str(synthetic_data), "--out", str(tmp_path / f"run{index}"), "--epochs", "2", *TINY,
                   *WITH_D]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
    outputs = [p.communicate(timeout=240)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    assert "Held-out split" in outputs[0]  # The chief finishes the run...
    assert not (tmp_path / "run1").exists()  # ...and the other worker writes nothing.
    checkpoint = json.loads((tmp_path / "run0" / "checkpoints" / "latest.json").read_text())
    assert checkpoint["epoch"] == 2 and checkpoint["step"] == 2 * (64 // 8)  # The global batch was split.
    # The generator the chief saved is the one it trained: its weights are the last checkpoint's.
    gan = model.Pix2Pix(model.build_generator(32, 8, "mask"), model.build_discriminator(32, 8), "bce")
    gan.compile(model.adam(), model.adam())
    gan.load_weights(tmp_path / "run0" / "checkpoints" / checkpoint["file"])
    saved = model.keras.saving.load_model(tmp_path / "run0" / "generator.keras")
    for trained, kept in zip(gan.generator.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(trained, kept)
