"""model.py: a tiny model trained for real must learn; the networks' shapes; the losses; saving and loading."""
import os
import subprocess
import sys

import numpy as np
import pytest

import data
import model
import predict
from conftest import TINY, TINY_EPOCHS


def test_tiny_model_beats_both_baselines_on_held_out_pairs(tiny_run):
    """Trained for seconds on 64 synthetic pairs, the model must colour held-out pairs better than leaving
    them untouched and better than turning them gray."""
    _, results = tiny_run
    ours = results["model"]["pooled_colour_iou"]
    assert ours > results["identity (baseline)"]["pooled_colour_iou"] + 0.1
    assert ours > results["gray (baseline)"]["pooled_colour_iou"] + 0.1
    assert results["model"]["chroma_error"]["mean"] < results["identity (baseline)"]["chroma_error"]["mean"]


def test_saved_generator_loads_with_keras_alone_and_predicts_identically(tiny_run, tmp_path):
    """generator.keras needs nothing of this repo: a fresh Python with only keras loads it, and its output
    equals the output of the model as predict.py loads it, bit for bit."""

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


def test_chroma_head_on_gray_input_beats_all_gray(synthetic_data, tmp_path):
    """Seeing only the gray of 64 synthetic photos, the chroma head must learn where colour goes (the discs)
    and which (their gray level tells red, green or blue apart), for less chroma error than all gray."""
    import train

    # 90 epochs: seeds 2 to 4 ended at 0.70 to 0.76 of all gray's error; at 60, 0.81 to 0.91 (one over 0.9).
    results = train.main(["--data", str(synthetic_data), "--out", str(tmp_path / "run"), "--epochs",
                          str(3 * TINY_EPOCHS), "--input", "gray", "--head", "chroma", *TINY])
    error = {name: results[name]["chroma_error"]["mean"] for name in ("model", "gray (baseline)")}
    assert error["model"] < 0.9 * error["gray (baseline)"]


def test_where_cross_entropy_learns_where_the_target_has_colour_and_which():
    """~0 for a confident right mask with the target's colour; large for a confident wrong mask; a wrong colour
    costs only where the target has colour."""
    rng = np.random.default_rng(0)
    photos = np.repeat(rng.uniform(-1, 1, (2, 8, 8, 1)), 3, -1).astype(np.float32)  # Gray input.
    colour = rng.uniform(-0.8, 0.8, (2, 8, 8, 3)).astype(np.float32)
    wanted = np.zeros((2, 8, 8, 1), np.float32)
    wanted[:, 4:] = 1  # The bottom half keeps colour.
    targets = data.luminance(colour) + wanted * (colour - data.luminance(colour))
    right = np.concatenate([np.where(wanted > 0.5, 10.0, -10.0), np.arctanh(colour)], -1).astype(np.float32)
    assert float(model.where_cross_entropy(None, targets, photos, right)) < 1e-3
    wrong_mask = right.copy()
    wrong_mask[..., 0] *= -1
    assert float(model.where_cross_entropy(None, targets, photos, wrong_mask)) > 4
    wrong_colour_where_gray = right.copy()
    wrong_colour_where_gray[:, :4, :, 1:] = 0
    assert float(model.where_cross_entropy(None, targets, photos, wrong_colour_where_gray)) < 1e-3
    wrong_colour_where_kept = right.copy()
    wrong_colour_where_kept[:, 4:, :, 1:] = 0
    assert float(model.where_cross_entropy(None, targets, photos, wrong_colour_where_kept)) > 0.1


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
    colour = model.colour_l1(outputs, targets, photos, None)
    expected = np.abs(mask - wanted)[:, 4:].sum() / mask.size
    assert float(colour) == pytest.approx(expected, rel=1e-4)
    image = model.image_l1(outputs, targets, photos, None)
    assert float(image) != pytest.approx(expected, rel=0.05)


def test_mask_cross_entropy_learns_the_target_mask_where_the_photo_has_colour():
    """target_mask recovers m* from splash(photo, m*) on coloured pixels and ignores gray ones; the loss is ~0
    for a confident right mask and large for a confident wrong one, whatever the gray pixels get."""
    rng = np.random.default_rng(0)
    photos = rng.uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    photos[:, :4] = data.luminance(photos[:, :4])  # The top half is gray.
    wanted = (rng.uniform(0, 1, (2, 8, 8, 1)) > 0.5).astype(np.float32)
    targets = data.splash(photos, wanted)
    mask, weight = data.target_mask(photos, targets)
    coloured = np.asarray(weight) > 0.5
    assert coloured[:, 4:].mean() > 0.9 and np.asarray(weight)[:, :4].max() < 1e-5
    np.testing.assert_allclose(np.asarray(mask)[coloured], wanted[..., 0][coloured], atol=1e-4)
    right = np.where(wanted > 0.5, 10.0, -10.0).astype(np.float32)
    right[:, :4] *= -1  # Wrong on the gray pixels, where it does not matter.
    assert float(model.mask_cross_entropy(None, targets, photos, right)) < 1e-3
    assert float(model.mask_cross_entropy(None, targets, photos, -right)) > 4
