"""evaluate.py: oracle values on hand-made arrays, properties on random images, and the harness."""
import json
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import evaluate as ev
from data import gray3, join_pair, write_image

RED, GREEN, BLUE = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def solid(colour, height=4, width=4):
    return np.broadcast_to(np.array(colour, np.float32), (height, width, 3)).copy()


# ------------------------------------------------------------------------------------------------- oracles


def test_colour_iou_oracle():
    target = solid((0.5, 0.5, 0.5))
    target[:, :2] = RED  # 8 coloured pixels: the left half.
    output = solid((0.5, 0.5, 0.5))
    output[:2, :] = RED  # 8 coloured pixels: the top half; 4 in common, 12 in the union.
    assert ev.colour_counts(target, output) == (4, 12)
    assert ev.colour_iou(target, output) == pytest.approx(1 / 3)
    assert ev.colour_iou(gray3(target), solid((0.2, 0.2, 0.2))) == 1.0  # Neither has colour.
    assert ev.colour_iou(target, gray3(target)) == 0.0


def test_pooled_iou_weights_images_by_their_pixels():
    rows = [{**{m: 0.0 for m in ev.METRICS}, "intersection": 1, "union": 2},
            {**{m: 0.0 for m in ev.METRICS}, "intersection": 9, "union": 10}]
    assert ev.summarize(rows)["pooled_colour_iou"] == pytest.approx(10 / 12)


def test_chroma_error_oracle():
    assert ev.chroma_error(solid(RED), solid(RED)) == 0.0
    # The Lab (a, b) of pure red is about (80.1, 67.2), of its gray (0, 0): distance about 104.6.
    assert ev.chroma_error(solid(RED), gray3(solid(RED))) == pytest.approx(104.6, abs=1.0)
    half = solid(RED)
    half[:, 2:] = gray3(half)[:, 2:]
    assert ev.chroma_error(solid(RED), half) == pytest.approx(104.6 / 2, abs=0.5)


def test_flicker_oracle():
    """A red square moves a column a frame across a 16 x 16 gray frame (248 pixels of each step keep their target).
    An output one column off moves with it: its edges change 8 pixels a step where the target does not. An output
    whose 8 x 8 block turns red for one frame flips 64 pixels twice, 36 of them more than a pixel from an edge."""
    def frame(left, block=False):
        image = solid((0.5, 0.5, 0.5), 16, 16)
        image[2:6, left:left + 4] = RED
        if block:
            image[8:, 8:] = RED
        return image
    targets = [frame(left) for left in (1, 2, 3)]
    assert ev.flicker(targets, targets) == 0.0
    shifted = [frame(left + 1) for left in (1, 2, 3)]
    assert ev.flicker(targets, shifted) == pytest.approx(16 / 496)
    assert ev.flicker(targets, shifted, skip_edges=1) == 0.0
    flipping = [frame(1), frame(2, block=True), frame(3)]
    assert ev.flicker(targets, flipping) == pytest.approx(128 / 496)
    assert ev.flicker(targets, flipping, skip_edges=1) == pytest.approx(72 / 496)


def test_seed_similarity_oracle():
    """The study's measure: grayscale histogram correlation. Colour does not move it at all."""
    ramp = np.repeat(np.linspace(0, 1, 16, dtype=np.float32)[None, :, None], 3, axis=2).repeat(4, axis=0)
    assert ev.seed_similarity(ramp, ramp) == 1.0
    assert ev.seed_similarity(solid(RED), gray3(solid(RED))) == 1.0  # Same gray level: blind to colour.
    assert ev.seed_similarity(solid((0.1, 0.1, 0.1)), solid((0.9, 0.9, 0.9))) == 0.0  # Disjoint spikes.


def test_histogram_correlation_oracle():
    assert ev.histogram_correlation([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert ev.histogram_correlation([1, 2, 3], [3, 2, 1]) == 0.0  # -1, clipped to 0.
    assert ev.histogram_correlation([0, 1, 0, 1], [1, 1, 0, 0]) == pytest.approx(0.0)
    assert ev.histogram_correlation([2, 2, 2], [2, 2, 2]) == 1.0
    assert ev.histogram_correlation([2, 2, 2], [1, 2, 3]) == 0.0


def test_hue_similarity_oracle():
    assert ev.hue_similarity(solid(RED), solid(RED)) == 1.0
    assert ev.hue_similarity(solid(RED), solid(BLUE)) == 0.0  # Different hue bins.
    assert ev.hue_similarity(gray3(solid(RED)), solid((0.3, 0.3, 0.3))) == 1.0  # No colour in either.
    assert ev.hue_similarity(solid(RED), gray3(solid(RED))) == 0.0  # Colour in one only.
    two = solid(RED)
    two[:, 2:] = GREEN
    assert 0 < ev.hue_similarity(two, solid(RED)) < 1


def test_sizes_are_brought_to_the_common_smaller_size():
    big = solid(RED, 8, 12)
    small = solid(RED, 4, 6)
    a, b = ev.common_size(big, small)
    assert a.shape == b.shape == (4, 6, 3)
    assert ev.colour_iou(big, small) == 1.0 and ev.colour_iou(solid(RED, 3, 9), solid(RED, 7, 2)) == 1.0


# ---------------------------------------------------------------------------------------------- properties


def images(max_side=20):
    shape = st.tuples(st.integers(1, max_side), st.integers(1, max_side), st.just(3))
    return shape.flatmap(lambda s: arrays(np.float32, s, elements=st.floats(0, 1, width=32)))


def constant_images():
    return st.tuples(st.integers(1, 9), st.integers(1, 9), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)) \
        .map(lambda t: solid(t[2:], t[0], t[1]))


RANGES = {"seed_similarity": (0, 1), "hue_similarity": (0, 1), "colour_iou": (0, 1), "chroma_error": (0, 260)}


@given(images(), images())
def test_every_metric_in_its_range_and_symmetric(a, b):
    for name, (low, high) in RANGES.items():
        metric = getattr(ev, name)
        value = metric(a, b)
        assert np.isfinite(value) and low <= value <= high, (name, value)
        assert metric(b, a) == pytest.approx(value, abs=1e-6), name


@given(images())
def test_identical_images_score_perfectly(a):
    assert ev.seed_similarity(a, a) == 1.0
    assert ev.hue_similarity(a, a) == 1.0
    assert ev.colour_iou(a, a) == 1.0
    assert ev.chroma_error(a, a) == 0.0


@given(constant_images(), constant_images())
def test_constant_images_give_no_nan(a, b):
    scores = ev.score(a, b)
    assert all(np.isfinite(scores[name]) for name in ev.METRICS)


def test_uint8_and_float_inputs_agree():
    rng = np.random.default_rng(0)
    a8, b8 = (rng.integers(0, 256, (10, 10, 3)).astype(np.uint8) for _ in range(2))
    for name in ev.METRICS:
        assert getattr(ev, name)(a8, b8) == pytest.approx(getattr(ev, name)(a8 / 255, b8 / 255), abs=1e-4)


# ------------------------------------------------------------------------------------------------- harness


@pytest.fixture
def scored_folder(tmp_path):
    """test/ with two A|B pairs, and an outputs/ folder holding exact copies of the targets."""
    rng = np.random.default_rng(0)
    for i in range(2):
        photo = rng.uniform(0, 1, (24, 24, 3)).astype(np.float32)
        target = photo.copy()
        target[:, 12:] = gray3(photo)[:, 12:]
        write_image(tmp_path / "data" / "test" / f"p{i}.png", join_pair(photo, target))
        write_image(tmp_path / "outputs" / f"p{i}.png", target)
    return tmp_path


def test_harness_scores_outputs_and_baselines_and_writes_a_report(scored_folder):
    root = scored_folder
    perfect = ev.evaluate(root / "data", outputs=root / "outputs", report=root / "report")
    assert perfect["test"]["n"] == 2 and perfect["test"]["pooled_colour_iou"] == 1.0
    assert perfect["test"]["chroma_error"]["mean"] == pytest.approx(0, abs=1e-5)
    identity = ev.evaluate(root / "data", baseline="identity")["test"]["pooled_colour_iou"]
    gray = ev.evaluate(root / "data", baseline="gray")["test"]["pooled_colour_iou"]
    assert gray == 0.0 and 0.3 < identity < 0.7  # Identity keeps twice the colour the target keeps.
    assert (root / "report" / "contact_sheet.png").is_file()
    assert json.loads((root / "report" / "summary.json").read_text())["test"]["n"] == 2
    lines = (root / "report" / "per_image.csv").read_text().splitlines()
    assert lines[0].startswith("split,stem") and len(lines) == 3


def test_harness_reports_missing_outputs(scored_folder):
    (scored_folder / "outputs" / "p1.png").unlink()
    with pytest.raises(ValueError, match="missing"):
        ev.evaluate(scored_folder / "data", outputs=scored_folder / "outputs")


def test_outputs_of_another_size_are_an_error(scored_folder):
    write_image(scored_folder / "outputs" / "p1.png", np.ones((1, 1, 3), np.float32))
    with pytest.raises(ValueError, match="1x1 but its target is 24x24"):
        ev.evaluate(scored_folder / "data", outputs=scored_folder / "outputs")


def test_two_outputs_of_one_name_are_an_error(scored_folder):
    shutil.copy(scored_folder / "outputs" / "p1.png", scored_folder / "outputs" / "p1.jpg")
    with pytest.raises(SystemExit) as exit_info:
        ev.main(["--data", str(scored_folder / "data"), "--outputs", str(scored_folder / "outputs")])
    assert "p1.jpg and p1.png" in exit_info.value.code
