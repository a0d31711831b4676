"""data.py: compositing, reading every kind of file, the training pipeline and the dataset tools."""
import subprocess
import sys

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import data
from conftest import ROOT, synthetic_pair, write_jpeg_with_orientation

floats01 = st.floats(0, 1, width=32)


def images(height=st.integers(1, 12), width=st.integers(1, 12)):
    return st.tuples(height, width).flatmap(lambda hw: arrays(np.float32, (*hw, 3), elements=floats01))


# ------------------------------------------------------------------------------------------------- splash


@given(images())
def test_splash_is_exact_at_mask_zero_and_one(image):
    ones = np.ones(image.shape[:2] + (1,), np.float32)
    assert np.array_equal(data.splash(image, ones), image)
    gray = data.luminance(image)
    assert np.array_equal(data.splash(image, 0 * ones), np.broadcast_to(gray, image.shape))


@given(images(), floats01)
def test_splash_blends_linearly_and_keeps_luminance(image, m):
    mask = np.full(image.shape[:2] + (1,), m, np.float32)
    out = data.splash(image, mask)
    expected = m * image + (1 - m) * data.luminance(image)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(data.luminance(out), data.luminance(image), atol=1e-5)


def test_luminance_matches_opencv_gray():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 30, 3)).astype(np.uint8)
    ours = data.to_uint(data.luminance(image.astype(np.float32) / 255)[..., 0])
    theirs = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert np.abs(ours.astype(int) - theirs).max() <= 1


# ------------------------------------------------------------------------------------------------- jitter


@given(st.integers(16, 48), st.integers(0, 12), st.integers(0, 2**31 - 1))
def test_jitter_keeps_a_and_b_aligned(size, extra, seed):
    """B is a pixelwise function of A (here 255 - A); after jitter it must still be that function of A."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    side = size + extra
    a = rng.integers(0, 256, (side, side, 3)).astype(np.uint8)
    b = 255 - a
    ja, jb = data.random_jitter(tf.constant(a), tf.constant(b), size, seed=seed)
    ja, jb = ja.numpy(), jb.numpy()
    assert ja.shape == jb.shape == (size, size, 3)
    assert np.array_equal(jb, 255 - ja)
    # And the crop is a real crop (possibly mirrored) of A, not a resampled copy.
    windows = [a[y:y + size, x:x + size] for y in range(extra + 1) for x in range(extra + 1)]
    assert any(np.array_equal(ja, w) or np.array_equal(ja, w[:, ::-1]) for w in windows)


@given(st.integers(0, 2**31 - 1))
def test_cut_mix_pastes_one_box_of_the_next_pair_into_a_and_b_alike(seed):
    import tensorflow as tf

    tf.random.set_seed(seed)
    count, size = 3, 16
    a = tf.constant(np.arange(count, dtype=np.float32)[:, None, None, None] * np.ones((1, size, size, 3)) / 4)
    ma, mb = (x.numpy() for x in data.cut_mix(a, -a, probability=1.0))
    np.testing.assert_array_equal(mb, -ma)  # B is still the same function of A, pixel by pixel.
    for i in range(count):
        box = ma[i, ..., 0] != a.numpy()[i, 0, 0, 0]
        assert np.all(ma[i, ..., 0][box] == a.numpy()[(i - 1) % count, 0, 0, 0])  # From the neighbouring pair.
        rows, cols = np.nonzero(box)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert box.sum() == height * width and size // 4 <= min(height, width) <= max(height, width) <= size // 2
    unchanged = data.cut_mix(a, -a, probability=0.0)[0].numpy()
    np.testing.assert_array_equal(unchanged, a.numpy())


def exact_batch(seed, count=8, size=64):
    """A batch of exact pairs in [-1, 1]: discs keep their colour on a colourful background turned gray."""
    rng = np.random.default_rng(seed)
    pairs = [synthetic_pair(rng, size) for _ in range(count)]
    return [np.stack([pair[i] for pair in pairs]) * 2 - 1 for i in (0, 1)]


def is_exact(a, b):
    """Whether every pair's target is splash(photo, some mask): the mask target_mask recovers rebuilds it."""
    mask = np.asarray(data.target_mask(a, b)[0])[..., None]
    return np.abs(np.asarray(data.splash(a, mask)) - b).max() < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_copy_paste_moves_kept_objects_and_keeps_the_target_exact(seed):
    import tensorflow as tf

    a, b = exact_batch(seed)
    tf.random.set_seed(seed)
    pasted_a, pasted_b = (np.asarray(x) for x in data.copy_paste(tf.constant(a), tf.constant(b), 1.0))
    assert is_exact(pasted_a, pasted_b)
    kept = [np.asarray(data.target_mask(x, y)[0]).sum() for x, y in ((a, b), (pasted_a, pasted_b))]
    changed = np.abs(pasted_a - a).max(axis=(1, 2, 3)) > 0.1
    assert changed.sum() >= 4 and kept[1] > kept[0]  # Kept objects were pasted into most pairs.
    assert np.array_equal(pasted_a[~changed], a[~changed]) and np.array_equal(pasted_b[~changed], b[~changed])


def test_appearance_changes_keep_the_target_exact_and_which_pixels_keep_colour():
    import tensorflow as tf

    a, b = exact_batch(3)
    tf.random.set_seed(3)
    varied_a, varied_b = (np.asarray(x) for x in data.appearance(tf.constant(a), tf.constant(b), 1.0))
    assert is_exact(varied_a, varied_b) and np.abs(varied_a - a).mean() > 0.02
    kept, varied = (np.asarray(data.target_mask(x, y)[0]) > 0.5 for x, y in ((a, b), (varied_a, varied_b)))
    assert (kept == varied).mean() > 0.99


def test_dataset_yields_unit_range_batches(tmp_path):
    """uint8 0 and 255 become exactly -1 and 1; training repeats for ever, evaluation passes once."""
    white, black = np.full((5, 36, 36, 3), 255, np.uint8), np.zeros((5, 36, 36, 3), np.uint8)
    batches = list(data.make_dataset(white, black, 32, 2, seed=0).take(7))
    assert len(batches) == 7
    assert len(list(data.make_dataset(white, black, 32, 2, shuffle=False))) == 3
    x, y = batches[0]
    assert x.shape == (2, 32, 32, 3) and np.all(x.numpy() == 1.0) and np.all(y.numpy() == -1.0)


# ------------------------------------------------------------------------------------------------- files


def pair_image(height=40, half=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (height, 2 * half, 3)).astype(np.float32)


@pytest.fixture
def messy_folder(tmp_path):
    """Good pairs in every format people have, and every kind of bad file, under one folder."""
    good = {}
    rgb = pair_image()
    data.write_image(tmp_path / "plain.jpg", rgb)
    good["plain"] = rgb
    cv2.imwrite(str(tmp_path / "gray.png"), data.to_uint(rgb[..., 0]))
    rgba = np.dstack([data.to_uint(rgb[..., ::-1]), np.full(rgb.shape[:2], 128, np.uint8)])
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    cv2.imwrite(str(tmp_path / "sixteen.png"), data.to_uint(rgb[..., ::-1], 16))
    data.write_image(tmp_path / "ünïcode 写真.png", rgb)
    cmyk = (ROOT / "tests" / "data" / "cmyk.jpg").read_bytes()  # 48x32, made by Pillow in CMYK mode.
    (tmp_path / "cmyk.jpg").write_bytes(cmyk)
    bad = {
        "empty.jpg": "empty file",
        "truncated.jpg": "truncated JPEG",
        "notes.png": "not an image",
        "odd.png": "odd width",
        "tiny.png": "too small",
    }
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "truncated.jpg").write_bytes(data.encode_image(rgb, ".jpg")[:-600])
    (tmp_path / "notes.png").write_text("this is not a picture")
    data.write_image(tmp_path / "odd.png", rgb[:, :-1])
    data.write_image(tmp_path / "tiny.png", rgb[:8, :16])
    return tmp_path, bad


def test_every_bad_file_is_skipped_with_its_reason(messy_folder):
    folder, bad = messy_folder
    messages = []
    photos, targets, paths = data.load_pairs(folder, 16, log=messages.append)
    assert sorted(p.name for p in paths) == sorted(["plain.jpg", "gray.png", "rgba.png", "sixteen.png",
                                                    "ünïcode 写真.png", "cmyk.jpg"])
    for name, reason in bad.items():
        assert any(name in m and reason in m for m in messages), (name, messages)
    assert any("5 of 11 files skipped" in m for m in messages)
    assert photos.shape == targets.shape == (6, 20, 20, 3) and photos.dtype == np.uint8


def test_formats_decode_to_the_same_picture(messy_folder):
    folder, _ = messy_folder
    reference = data.read_image(folder / "ünïcode 写真.png")[0]
    sixteen, alpha, depth = data.read_image(folder / "sixteen.png")
    assert depth == 16 and alpha is None
    np.testing.assert_allclose(sixteen, reference, atol=1 / 255)
    rgb, alpha, depth = data.read_image(folder / "rgba.png")
    assert alpha is not None and abs(alpha.mean() - 128 / 255) < 1e-6
    np.testing.assert_allclose(rgb, reference, atol=1 / 255)
    gray, alpha, _ = data.read_image(folder / "gray.png")
    assert gray.shape == reference.shape and np.array_equal(gray[..., 0], gray[..., 2])


def test_cmyk_jpeg_has_its_colour():
    rgb = data.read_image(ROOT / "tests" / "data" / "cmyk.jpg")[0]
    assert np.abs(rgb[16, 12] - np.array([200, 30, 40]) / 255).max() < 0.05  # It was made as RGB (200, 30, 40).


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.zeros((20, 40, 3), np.float32)
    rgb[:, :10] = 1  # White stripe on the left of a landscape image.
    write_jpeg_with_orientation(tmp_path / "rotated.jpg", rgb, 6)
    upright = data.read_image(tmp_path / "rotated.jpg")[0]
    assert upright.shape == (40, 20, 3)  # Orientation 6: shown rotated 90 degrees clockwise, so portrait...
    assert upright[:10].mean() > 0.9 and upright[10:].mean() < 0.1  # ...with the stripe on top.


def test_folder_without_usable_pairs_is_a_clear_error(tmp_path):
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "broken.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.raises(ValueError, match="no usable A|B image"):
        data.load_pairs(tmp_path / "pairs", 32, log=data.silent)
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "--data", str(tmp_path / "pairs"), "--epochs", "1",
                             "--out", str(tmp_path / "run")], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
    assert "no usable A|B image" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------------------------------------- tools


def test_combine_pairs_by_stem_resizes_b_and_reports_unmatched(tmp_path):
    before, after, out = tmp_path / "before", tmp_path / "after", tmp_path / "out"
    rgb = pair_image(30, 20)
    for name in ("a", "b", "only_before"):
        data.write_image(before / f"{name}.png", rgb)
    data.write_image(after / "a.jpg", data.resize(rgb, 80, 60))  # Larger: must be resized to A's size.
    data.write_image(after / "b.png", rgb)
    data.write_image(after / "only_after.png", rgb)
    messages = []
    assert data.combine(before, after, out, log=messages.append) == (2, 0)
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "b.jpg"]
    a, b = data.split_pair(data.read_image(out / "a.jpg")[0])
    assert a.shape == b.shape == rgb.shape
    assert any("only_before" in m and "unmatched" in m for m in messages)
    assert any("only_after" in m and "unmatched" in m for m in messages)


def test_masks_make_b_by_splash(tmp_path):
    photos, masks, out = tmp_path / "photos", tmp_path / "masks", tmp_path / "out"
    rgb = np.zeros((20, 20, 3), np.float32)
    rgb[...] = (1.0, 0.2, 0.1)
    data.write_image(photos / "p.png", rgb)
    mask = np.zeros((20, 20, 3), np.float32)
    mask[:, :10] = 1
    data.write_image(masks / "p.png", mask)
    data.masks(photos, masks, out, log=data.silent)
    a, b = data.split_pair(data.read_image(out / "p.jpg")[0])
    assert np.abs(b[:, :8] - rgb[:, :8]).max() < 0.05  # Kept (JPEG tolerance).
    assert np.abs(b[:, 12:] - data.luminance(rgb)[:, 12:]).max() < 0.05  # Gray.


def test_split_is_reproducible_disjoint_and_loses_nothing(tmp_path):
    names = [f"img_{i:02d}.jpg" for i in range(20)]
    for folder in (tmp_path / "one", tmp_path / "two"):
        folder.mkdir()
        for name in names:
            (folder / name).write_bytes(name.encode())
        data.split(folder, 0.25, seed=3, log=data.silent)
    one_test = sorted(p.name for p in (tmp_path / "one" / "test").iterdir())
    one_train = sorted(p.name for p in (tmp_path / "one" / "train").iterdir())
    assert one_test == sorted(p.name for p in (tmp_path / "two" / "test").iterdir())
    assert len(one_test) == 5 and not set(one_test) & set(one_train)
    assert sorted(one_test + one_train) == names
    assert (tmp_path / "one" / "test" / one_test[0]).read_bytes() == one_test[0].encode()


def test_split_refuses_to_overwrite(tmp_path):
    for name in ("x.jpg", "y.jpg"):
        (tmp_path / name).write_bytes(b"new")
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    for name in ("x.jpg", "y.jpg"):
        (tmp_path / "train" / name).write_bytes(b"old")
        (tmp_path / "test" / name).write_bytes(b"old")
    with pytest.raises(ValueError, match="refusing to overwrite"):
        data.split(tmp_path, 0.5, log=data.silent)
    assert (tmp_path / "x.jpg").read_bytes() == b"new" and (tmp_path / "train" / "x.jpg").read_bytes() == b"old"


def test_demo_dataset_holds_out_whole_photos():
    """Pairs are named <source photo>_<layout>: no source photo may appear in two splits."""
    def sources(split):
        return {p.stem.rsplit("_", 1)[0] for p in (ROOT / "datasets" / "demo" / split).glob("*.jpg")}
    train, val, test = sources("train"), sources("val"), sources("test")
    assert len(train) >= 19 and len(val) >= 3 and len(test) >= 5
    assert not train & test and not train & val and not val & test


@pytest.mark.slow
def test_demo_dataset_is_reproducible(tmp_path):
    sys.path.insert(0, str(ROOT / "datasets"))
    import make_demo

    make_demo.build(ROOT / "datasets" / "sources", tmp_path / "demo")
    shipped = sorted((ROOT / "datasets" / "demo").rglob("*.jpg"))
    rebuilt = sorted((tmp_path / "demo").rglob("*.jpg"))
    assert [p.relative_to(ROOT / "datasets" / "demo") for p in shipped] == \
           [p.relative_to(tmp_path / "demo") for p in rebuilt]
    for path in shipped:  # Another OpenCV version moves a few pixels of a cut-out's edge (5.1: 0.13% at most).
        ours = data.read_image(path)[0]
        theirs = data.read_image(tmp_path / "demo" / path.relative_to(ROOT / "datasets" / "demo"))[0]
        assert np.mean(np.abs(ours - theirs) > 2 / 255) < 0.01, path.name


def test_data_cli_reports_errors_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "data.py"), "split", str(tmp_path / "missing")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "error:" in result.stderr and "Traceback" not in result.stderr


SHARED_PHOTOS = ROOT.parent / "shared" / "photos"


@pytest.mark.slow
@pytest.mark.skipif(not any(SHARED_PHOTOS.glob("lomiri_*.jpg")), reason="needs ../shared/photos")
def test_benchmark_holds_out_photos_the_demo_never_uses(tmp_path):
    """val/ and test/ share no photo, and neither has a photo of the demo's; every layout keeps some colour."""
    sys.path.insert(0, str(ROOT / "datasets"))
    import make_benchmark

    make_benchmark.build(SHARED_PHOTOS, ROOT / "datasets" / "sources" / "sprites", tmp_path, layouts=1)

    def photos(folder):
        return {p.stem.rsplit("_", 1)[0] for p in folder.glob("*.jpg")}
    val, test = photos(tmp_path / "val"), photos(tmp_path / "test")
    demo = {p.stem for p in (ROOT / "datasets" / "sources" / "photos").glob("*.jpg")}
    assert len(val) == 8 and len(test) == 7 and not val & test and not (val | test) & demo
    for path in [*(tmp_path / "val").glob("*.jpg"), *(tmp_path / "test").glob("*.jpg")]:
        _, target = data.split_pair(data.read_image(path)[0])
        assert (np.abs(target - data.luminance(target)).sum(axis=-1) > 0.2).mean() > 0.001, path.name


def test_benchmark_distractors_take_a_kept_objects_hue():
    sys.path.insert(0, str(ROOT / "datasets"))
    import make_demo

    rgb = np.zeros((8, 8, 3), np.float32)
    rgb[..., 0], rgb[..., 1] = 0.9, 0.2  # Red-orange: hue 60 * 0.2 / 0.9, about 13 degrees.
    alpha = np.ones((8, 8), np.float32)
    assert make_demo.mean_hue(rgb, alpha) == pytest.approx(13.3, abs=1)
    assert make_demo.mean_hue(make_demo.recolour(rgb, 200.0), alpha) == pytest.approx(200, abs=1)


def test_red_style_keeps_the_mostly_red_cut_outs():
    """--style red keeps a cut-out by its colour, not its category: the rose and the fire engine, not the tulip
    (a flower the objects style keeps) nor the keyboard."""
    sys.path.insert(0, str(ROOT / "datasets"))
    import make_demo

    folder = ROOT / "datasets" / "sources" / "sprites"
    names = [p.stem for p in sorted(folder.glob("*.png"))]
    kept = {style: {name for name, (keep, _, _) in zip(names, make_demo.load_sprites(folder, style)) if keep}
            for style in make_demo.STYLES}
    assert {"flower__rose", "vehicle__fire_engine", "object__balloon"} <= kept["red"]
    assert not {"flower__tulip", "instrument__musical_keyboard", "food__lemon"} & kept["red"]
    assert "flower__tulip" in kept["objects"] and "vehicle__fire_engine" not in kept["objects"]


def test_hue_style_keeps_orange_and_fades_at_the_range_edges():
    """make_hue.py's selective colour: red, orange and amber keep colour, green and blue do not, and a hue
    just past the range keeps part of it."""
    sys.path.insert(0, str(ROOT / "datasets"))
    import make_hue

    def hue(degrees):  # A saturated pixel of that hue, through OpenCV's own HSV.
        return cv2.cvtColor(np.array([[[degrees, 1.0, 0.8]]], np.float32), cv2.COLOR_HSV2RGB)

    edge = make_hue.KEPT_HUES[1] + make_hue.FADE / 2
    masks = {d: float(make_hue.hue_mask(hue(d))[0, 0, 0]) for d in (350, 0, 30, 40, edge, 120, 220)}
    assert masks[350] == masks[0] == masks[30] == masks[40] == 1.0
    assert masks[120] == masks[220] == 0.0 and masks[edge] == pytest.approx(0.5, abs=0.02)
