"""model.py and train.py: a tiny model trained for real must learn; saving, loading and resuming are exact."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import data
import model
import train
from conftest import ROOT, TINY


def test_tiny_model_beats_both_baselines_on_held_out_pairs(tiny_run):
    """Trained for seconds on 64 synthetic pairs, the model must colour held-out pairs better than leaving
    them untouched and better than turning them gray."""
    _, results = tiny_run
    ours = results["model"]["pooled_colour_iou"]
    assert ours > results["identity (baseline)"]["pooled_colour_iou"] + 0.1
    assert ours > results["gray (baseline)"]["pooled_colour_iou"] + 0.1
    assert results["model"]["chroma_error"]["mean"] < results["identity (baseline)"]["chroma_error"]["mean"]


def test_run_directory_holds_everything(tiny_run):
    run_dir, _ = tiny_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["size"] == 32 and config["head"] == "mask" and config["test_mode"] in ("eval", "train")
    assert (run_dir / "generator.keras").is_file() and (run_dir / "log.csv").is_file()
    assert sorted(p.name for p in (run_dir / "samples").iterdir())[-1] == "epoch-00100.png"
    assert json.loads((run_dir / "checkpoints" / "latest.json").read_text())["epoch"] == 100
    assert any((run_dir / "tensorboard").rglob("*tfevents*"))
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()


def test_saved_generator_loads_with_keras_alone_and_predicts_identically(tiny_run, tmp_path):
    """generator.keras needs nothing of this repo: a fresh Python with only keras loads it, and its output
    equals the output of the model as predict.py loads it, bit for bit."""
    import predict

    run_dir, _ = tiny_run
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    script = ("import sys, numpy as np, keras; m = keras.saving.load_model(sys.argv[1]); "
              "np.save(sys.argv[3], np.asarray(m(np.load(sys.argv[2]), training=False)))")
    subprocess.run([sys.executable, "-c", script, str(run_dir / "generator.keras"), str(tmp_path / "x.npy"),
                    str(tmp_path / "y.npy")], check=True, cwd=tmp_path,
                   env={**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": ""})
    generator, _ = predict.load_run(run_dir)
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.asarray(generator(x, training=False)))


def test_resume_continues_the_step_and_epoch_count(synthetic_data, tmp_path):
    run_dir = tmp_path / "run"
    common = ["--data", str(synthetic_data), "--out", str(run_dir)]
    train.main([*common, "--epochs", "2", *TINY])
    first = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    steps_per_epoch = 64 // 8
    assert first == {"epoch": 2, "step": 2 * steps_per_epoch, "file": "epoch-00002.weights.h5"}
    log = run_dir / "log.csv"
    lines = log.read_text().splitlines()
    log.write_text("\n".join([*lines, "2" + lines[-1][1:]]) + "\n")  # A row of an epoch killed before its checkpoint.
    train.main([*common, "--epochs", "3", "--resume"])
    second = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    assert second["epoch"] == 3 and second["step"] == 3 * steps_per_epoch
    epochs = [line.split(",")[0] for line in (run_dir / "log.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]


def test_kill_9_at_any_moment_then_resume(synthetic_data, tmp_path):
    """A run killed with SIGKILL leaves a complete checkpoint behind, and --resume goes on from it."""
    run_dir = tmp_path / "run"
    command = [sys.executable, str(ROOT / "train.py"), "--data", str(synthetic_data), "--out", str(run_dir),
               "--epochs", "1000", *TINY]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = run_dir / "checkpoints" / "latest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if pointer.is_file() and json.loads(pointer.read_text())["epoch"] >= 3:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = json.loads(pointer.read_text())
    assert saved["epoch"] >= 3 and (run_dir / "checkpoints" / saved["file"]).is_file()
    result = subprocess.run([*command[:2], "--out", str(run_dir), "--resume", "--epochs", str(saved["epoch"] + 1)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"resumed from epoch {saved['epoch']}" in result.stdout
    assert json.loads(pointer.read_text())["epoch"] == saved["epoch"] + 1
    assert not list(run_dir.rglob("tmp-*"))


def test_time_budget_stops_cleanly(synthetic_data, tmp_path):
    run_dir = tmp_path / "run"
    train.main(["--data", str(synthetic_data), "--out", str(run_dir), "--epochs", "1000", "--minutes", "0.0001",
                *TINY])
    assert json.loads((run_dir / "checkpoints" / "latest.json").read_text())["epoch"] == 1
    assert (run_dir / "generator.keras").is_file()


def test_bad_options_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="power of two"):
        model.build_generator(100)
    with pytest.raises(ValueError, match="--head rgb"):
        train.make_config({"input": "gray", "head": "mask"}, None, False)
    config, _ = train.make_config({"input": "gray"}, str(tmp_path / "run"), False)
    assert config["head"] == "rgb"  # Gray input cannot keep colour it does not have: the rgb head it is.
    assert config["l1"] == "image"  # And the paper's L1, as the colour L1 measures a mask.
    for l1 in ("colour", "bce"):
        with pytest.raises(ValueError, match="--head mask"):
            train.make_config({"l1": l1, "head": "rgb"}, None, False)
    with pytest.raises(ValueError, match="nothing to resume"):
        train.make_config({}, str(tmp_path / "none"), True)


def test_paper_generator_has_the_paper_shape():
    """At 256 px and ngf 64: eight down-sampling steps to 1x1x512, and the paper's parameter count."""
    generator = model.build_generator(256, 64, "rgb")
    bottleneck = [layer.output.shape for layer in generator.layers if layer.output.shape[1:3] == (1, 1)]
    assert bottleneck and bottleneck[0][-1] == 512
    assert 54_000_000 < generator.count_params() < 55_000_000
    assert model.build_discriminator(256, 64).output.shape[1:] == (30, 30, 1)  # 70x70 patches.


@pytest.mark.parametrize("seed", [0, 1])
def test_colour_l1_is_the_mask_error_wherever_the_photo_has_colour(seed):
    """splash(photo, m) against splash(photo, m*): the colour L1 is |m - m*| averaged over the pixels, 0 on
    gray pixels, whatever the photo's saturation; the paper's L1 weighs the same errors by the chroma."""
    rng = np.random.default_rng(seed)
    colours = rng.uniform(0, 1, (2, 8, 8, 3))
    tint = colours - data.luminance(colours)  # No luma, only chroma: scaled to between 0.3 and 0.8 (floor 0.2).
    tint *= rng.uniform(0.3, 0.8, (2, 8, 8, 1)) / np.abs(tint).sum(axis=-1, keepdims=True)
    tint[:, :4] = 0  # The top half is gray.
    photos = (rng.uniform(-0.3, 0.3, (2, 8, 8, 1)) + tint).astype(np.float32)
    mask, wanted = (rng.uniform(0, 1, (2, 8, 8, 1)).astype(np.float32) for _ in range(2))
    outputs, targets = data.splash(photos, mask), data.splash(photos, wanted)
    logits = np.zeros((2, 2, 2, 1), np.float32)
    _, colour = model.generator_losses(logits, outputs, targets, photos)
    expected = np.abs(mask - wanted)[:, 4:].sum() / mask.size
    assert float(colour) == pytest.approx(expected, rel=1e-4)
    _, image = model.generator_losses(logits, outputs, targets)
    assert float(image) != pytest.approx(expected, rel=0.05)


def test_mask_cross_entropy_learns_the_target_mask_where_the_photo_has_colour():
    """target_mask recovers m* from splash(photo, m*) on coloured pixels and ignores gray ones; the loss is ~0
    for a confident right mask and large for a confident wrong one, whatever the gray pixels get."""
    rng = np.random.default_rng(0)
    photos = rng.uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    photos[:, :4] = data.luminance(photos[:, :4])  # The top half is gray.
    wanted = (rng.uniform(0, 1, (2, 8, 8, 1)) > 0.5).astype(np.float32)
    targets = data.splash(photos, wanted)
    mask, weight = model.target_mask(photos, targets)
    coloured = np.asarray(weight) > 0.5
    assert coloured[:, 4:].mean() > 0.9 and np.asarray(weight)[:, :4].max() < 1e-5
    np.testing.assert_allclose(np.asarray(mask)[coloured], wanted[..., 0][coloured], atol=1e-4)
    right = np.where(wanted > 0.5, 10.0, -10.0).astype(np.float32)
    right[:, :4] *= -1  # Wrong on the gray pixels, where it does not matter.
    assert float(model.mask_cross_entropy(right, photos, targets)) < 1e-3
    assert float(model.mask_cross_entropy(-right, photos, targets)) > 4
