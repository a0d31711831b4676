"""predict.py: full resolution, exact gray, every input kind, and nothing lost."""
import os
import shlex

import cv2
import numpy as np
import pytest

import data
import evaluate
import export
import predict
from conftest import ROOT, synthetic_pair, write_jpeg_with_orientation


@pytest.fixture(scope="module")
def colourizer(tiny_run):
    return predict.Colourizer.from_run(*predict.load_run(tiny_run[0]))


def big_photo(height, width, seed=0):
    photo, _ = synthetic_pair(np.random.default_rng(seed), 64)
    return data.resize(photo, width, height)


def test_full_resolution_mask_is_exactly_gray_where_dropped(colourizer):
    photo = big_photo(2000, 3000)
    decision = colourizer.decide([colourizer.network_input(photo)])[0]  # One decision: Dropout may be on.
    mask = colourizer.full_mask(photo, decision)
    output = colourizer.apply(photo, decision)
    assert output.shape == photo.shape and mask.shape == (2000, 3000, 1)
    dropped = mask[..., 0] == 0
    kept = mask[..., 0] == 1
    assert dropped.mean() > 0.1 and kept.mean() > 0.01  # The tiny model keeps discs and drops background.
    gray = np.broadcast_to(data.luminance(photo), photo.shape)
    assert np.array_equal(output[dropped], gray[dropped])
    assert np.array_equal(output[kept], photo[kept])
    np.testing.assert_allclose(data.luminance(output), data.luminance(photo), atol=1e-5)  # Lightness kept.


@pytest.mark.parametrize("value", [0.3, 0.8])
def test_a_faint_mask_is_cut_into_keep_or_drop(tiny_run, value):
    """The network's mask is cut at CUT (0.5): a faint 0.3 drops the colour entirely and 0.8 keeps all of it."""
    colourizer = predict.Colourizer.from_run(*predict.load_run(tiny_run[0]))
    colourizer.network = lambda batch, training: np.full((*batch.shape[:3], 1), value, np.float32)
    photo = big_photo(300, 400)
    output = colourizer([photo])[0]
    expected = photo if value > predict.CUT else np.broadcast_to(data.luminance(photo), photo.shape)
    np.testing.assert_allclose(output, expected, atol=1e-6)


def test_guided_upsampling_puts_the_edge_on_the_photo_edge():
    """A blurry low-resolution mask of a disc comes back with its edge where the photo's edge is."""
    photo = np.full((400, 400, 3), (0.2, 0.6, 0.3), np.float32)
    yy, xx = np.mgrid[0:400, 0:400]
    disc = (yy - 200) ** 2 + (xx - 200) ** 2 < 100 ** 2
    photo[disc] = (0.9, 0.1, 0.1)
    small = cv2.resize(disc.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    guided = predict.guided_upsample(small, photo) > 0.5
    bilinear = cv2.resize(small, (400, 400), interpolation=cv2.INTER_LINEAR) > 0.5
    assert np.mean(guided != disc) < np.mean(bilinear != disc) / 2


def test_smoothing_fills_unsure_specks_and_keeps_the_edge_where_the_colour_changes():
    """Before the cut the mask is smoothed along what the network saw: specks it is unsure of inside a red disc
    (0.3 where the rest is 0.9) are kept with the disc, specks on the green ground (0.8 where the rest is 0.1) are
    dropped with it, and the decision still ends at the disc's edge."""
    yy, xx = np.mgrid[0:64, 0:64]
    disc = (yy - 32) ** 2 + (xx - 32) ** 2 < 20 ** 2
    small = np.where(disc[..., None], (0.9, -0.8, -0.8), (-0.6, 0.4, -0.6)).astype(np.float32)
    mask = np.where(disc, 0.9, 0.1).astype(np.float32)
    specks = np.zeros_like(disc)
    for y, x in ((26, 28), (34, 36), (40, 24), (6, 6), (56, 50), (8, 52)):  # Three in the disc, three outside.
        specks[y:y + 2, x:x + 2] = True
    mask[specks] = np.where(disc[specks], 0.3, 0.8)
    assert np.sum((mask > predict.CUT) != disc) == specks.sum()
    smoothed = predict.smooth(mask[..., None], small)[..., 0]
    np.testing.assert_array_equal(smoothed > predict.CUT, disc)


@pytest.mark.parametrize("size", [32, 128])
def test_the_whole_and_the_corners_join_into_one_mask_of_the_photo(size):
    """The network sees the whole photo and four corners of it at the training scale. With a "network" whose
    mask is the red of what it sees, the joined mask must be the red of the photo at that scale (within the
    blur of resizing), on the corners, their overlaps and the whole alike."""
    def red(views, training):  # No trained model needed: only the views and their join.
        return (np.asarray(views)[..., :1] + 1) / 2
    colourizer = predict.Colourizer(red, size=size)
    photo = np.zeros((300, 400, 3), np.float32)
    photo[50:150, 100:250, 0] = 1
    small = colourizer.network_input(photo)
    assert small.shape == (data.jitter_size(size), data.jitter_size(size), 3)
    views = colourizer.views(small)
    assert len(views) == 5 and all(view.shape == (size, size, 3) for view in views)
    joined = colourizer.join([colourizer.network(view, False) for view in views], small.shape[0])
    red = (small[..., :1] + 1) / 2
    assert np.abs(joined - red).mean() < 0.01 and np.abs(joined - red).max() < 0.5


def test_folder_in_folder_out_at_each_size(tiny_run, tmp_path):
    """Files of 8 and 16 bits, at sizes other than the network's, come out as the model makes them from the
    decoded photo in float: the same decision, the same colour."""
    source = tmp_path / "in"
    data.write_image(source / "wide.png", big_photo(300, 500))
    data.write_image(source / "sub" / "tall.png", big_photo(600, 200), depth=16)
    written, skipped, failed = predict.run(source, tmp_path / "out", tiny_run[0], log=data.silent)
    assert (written, skipped, failed) == (2, 0, 0)
    colourizer = predict.Colourizer.from_run(*predict.load_run(tiny_run[0]))
    for name, shape in (("wide.png", (300, 500, 3)), ("sub/tall.png", (600, 200, 3))):
        output = data.read_image(tmp_path / "out" / name)[0]
        expected = colourizer([data.read_image(source / name)[0]])[0]
        assert output.shape == shape and np.abs(output - expected).mean() < 0.01, name
        assert np.abs(output - data.luminance(output)).mean() > 0.01  # Some colour kept: the discs.
    assert not list((tmp_path / "out").rglob(".*"))  # No temporary file left behind.


def test_a_corrupt_file_is_reported_and_the_others_written(tiny_run, tmp_path, capsys):
    source = tmp_path / "in"
    for i in range(3):
        data.write_image(source / f"good{i}.jpg", big_photo(64, 96, i))
    (source / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9")
    with pytest.raises(SystemExit) as exit_info:
        predict.main([str(source), str(tmp_path / "out"), "--model", str(tiny_run[0])])
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "broken.jpg" in out and "1 failed" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good0.jpg", "good1.jpg", "good2.jpg"]


def test_exif_rotated_jpeg_comes_out_upright(tiny_run, tmp_path):
    write_jpeg_with_orientation(tmp_path / "in.jpg", big_photo(60, 100), 6)
    predict.run(tmp_path / "in.jpg", tmp_path / "out.jpg", tiny_run[0], log=data.silent)
    assert data.read_image(tmp_path / "out.jpg")[0].shape == (100, 60, 3)


def test_alpha_and_16_bits_are_kept(tiny_run, tmp_path):
    photo = big_photo(50, 70)
    alpha = np.linspace(0, 1, 70, dtype=np.float32)[None, :].repeat(50, axis=0)
    data.write_image(tmp_path / "in" / "rgba.png", photo, alpha)
    data.write_image(tmp_path / "in" / "deep.png", photo, depth=16)
    predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], log=data.silent)
    rgba = cv2.imread(str(tmp_path / "out" / "rgba.png"), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (50, 70, 4) and np.array_equal(rgba[..., 3], data.to_uint(alpha))
    assert cv2.imread(str(tmp_path / "out" / "deep.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16


def test_format_and_pairs(tiny_run, tmp_path):
    photo, target = synthetic_pair(np.random.default_rng(3), 48)
    data.write_image(tmp_path / "pairs" / "p.jpg", data.join_pair(photo, target))
    predict.run(tmp_path / "pairs", tmp_path / "out", tiny_run[0], output_format="png", pairs=True, log=data.silent)
    assert data.read_image(tmp_path / "out" / "p.png")[0].shape == (48, 48, 3)


def test_skip_existing_and_refusing_to_overwrite_the_input(tiny_run, tmp_path):
    data.write_image(tmp_path / "in" / "a.jpg", big_photo(40, 40))
    predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], log=data.silent)
    stamp = os.stat(tmp_path / "out" / "a.jpg").st_mtime_ns
    data.write_image(tmp_path / "in" / "b.jpg", big_photo(40, 40, 1))
    written, skipped, _ = predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], skip_existing=True,
                                      log=data.silent)
    assert (written, skipped) == (1, 1) and os.stat(tmp_path / "out" / "a.jpg").st_mtime_ns == stamp
    before = (tmp_path / "in" / "a.jpg").read_bytes()
    with pytest.raises(ValueError, match="--overwrite"):
        predict.run(tmp_path / "in", tmp_path / "in", tiny_run[0], log=data.silent)
    assert (tmp_path / "in" / "a.jpg").read_bytes() == before


def test_rgb_head_keeps_the_original_gray_at_full_resolution(tmp_path):
    """A gray-input rgb-head generator (untrained: only the full-resolution path is under test)."""
    import model

    generator = model.build_generator(32, 4, "rgb")
    generator.save(tmp_path / "g.keras")
    generator, config = predict.load_run(tmp_path / "g.keras")
    assert config["head"] == "rgb" and config["ngf"] == 4 and config["size"] == 32  # Read off the bare file.
    assert set(export.float32_generator(generator, config)(np.zeros((1, 32, 32, 3)))) == {"image"}
    colourizer = predict.Colourizer.from_run(generator, config)
    colourizer.input_mode = "gray"
    photo = big_photo(90, 130)
    output = colourizer([photo])[0]
    assert output.shape == photo.shape
    assert np.abs(data.luminance(output) - data.luminance(photo)).mean() < 0.01  # Only clipping moves it.


def test_rgb_head_adds_only_visible_colour_to_the_photos_gray():
    """Invented colour that would not show (a faint tint) is dropped, so the rest is exactly the photo's gray."""
    photo = big_photo(90, 130)
    output = np.full((32, 32, 3), 0.5, np.float32)
    output[:16] = (0.8, 0.3, 0.3)  # Red on the top half, a tint too faint to see on the bottom half.
    output[16:] = (0.51, 0.5, 0.5)
    coloured = predict.upsample_colour(output, photo)
    gray = np.broadcast_to(data.luminance(photo), photo.shape)
    assert np.array_equal(coloured[60:], gray[60:])
    assert data.coloured(coloured[:30]).all()
    np.testing.assert_allclose(data.luminance(coloured[:30]), data.luminance(photo[:30]), atol=1e-6)


def test_train_predict_evaluate_chain(tiny_run, synthetic_data, tmp_path, capsys):
    """predict.py's files scored by evaluate.py agree with evaluate.py running the model itself."""
    run_dir, _ = tiny_run
    predict.main([str(synthetic_data / "test"), str(tmp_path / "out"), "--model", str(run_dir), "--pairs"])
    test = synthetic_data / "test"
    from_files = evaluate.evaluate(test, outputs=tmp_path / "out")["test"]["pooled_colour_iou"]
    direct = evaluate.evaluate(test, model=run_dir, report=tmp_path / "report")["test"]
    assert abs(from_files - direct["pooled_colour_iou"]) < 0.02
    evaluate.main(["--data", str(synthetic_data), "--model", str(run_dir)])
    table = capsys.readouterr().out
    assert "test" in table and "train" in table and "pooled IoU" in table


def test_the_quick_starts_predict_command_colours_the_held_out_photos(tiny_run, tmp_path, monkeypatch):
    """The README's quick-start predict line, run as written from the repo's root (with a tiny model): it finds
    the demo's held-out pairs and writes each photo beside its output."""
    line = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("python predict.py"))
    args = [str(tmp_path / "out") if arg == "out/" else arg for arg in shlex.split(line)[2:]]
    monkeypatch.chdir(ROOT)
    predict.main([*args, "--model", str(tiny_run[0])])
    outputs = sorted((tmp_path / "out").iterdir())
    assert len(outputs) == len(list((ROOT / "datasets" / "demo" / "test").iterdir())) == 30
    before, after = data.split_pair(data.read_image(outputs[0])[0])
    assert before.shape == (256, 256, 3) and not np.array_equal(before, after)


def test_masks_written_go_back_as_pairs_and_as_masks(tiny_run, tmp_path):
    """--masks writes each photo's mask; `data.py masks` makes pairs of them whose targets are predict.py's
    outputs, and --use-masks applies them without the network to the same outputs."""
    rng = np.random.default_rng(5)
    for i in range(3):
        data.write_image(tmp_path / "in" / "sub" / f"p{i}.png", data.resize(synthetic_pair(rng, 64)[0], 90, 70))
    predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], masks=tmp_path / "masks", log=data.silent)
    masks = sorted((tmp_path / "masks").rglob("*.png"))
    assert [p.relative_to(tmp_path / "masks").as_posix() for p in masks] == [f"sub/p{i}.png" for i in range(3)]
    mask, _, depth = data.decode_image(masks[0])
    assert depth == 8 and mask.shape == (70, 90, 3) and 0 < (mask == 255).mean() < 1  # Keeps part of it.
    data.masks(tmp_path / "in", tmp_path / "masks", tmp_path / "pairs", log=data.silent)
    for i in range(3):
        target = data.split_pair(data.read_image(tmp_path / "pairs" / f"p{i}.jpg")[0])[1]
        output = data.read_image(tmp_path / "out" / "sub" / f"p{i}.png")[0]
        assert np.abs(target - output).mean() < 0.01  # The pair is a JPEG.
    predict.run(tmp_path / "in", tmp_path / "applied", use_masks=tmp_path / "masks", model_path=tmp_path / "none",
                log=data.silent)
    for i in range(3):
        applied = data.read_image(tmp_path / "applied" / "sub" / f"p{i}.png")[0]
        output = data.read_image(tmp_path / "out" / "sub" / f"p{i}.png")[0]
        assert np.abs(applied - output).max() <= 2 / 255  # The mask file holds 8 bits.


def test_use_masks_skips_a_photo_without_its_mask(tmp_path):
    photo = synthetic_pair(np.random.default_rng(1), 32)[0]
    for name in ("a", "b"):
        data.write_image(tmp_path / "in" / f"{name}.png", photo)
    data.write_image(tmp_path / "masks" / "a.jpg", np.ones((32, 32, 3), np.float32))  # Edited and saved as JPEG.
    messages = []
    written, _, failed = predict.run(tmp_path / "in", tmp_path / "out", use_masks=tmp_path / "masks",
                                     log=messages.append)
    assert (written, failed) == (1, 1) and any("b.png" in m and "no mask" in m for m in messages)
    assert np.abs(data.read_image(tmp_path / "out" / "a.png")[0] - photo).max() < 2 / 255  # White: all kept.


def test_masks_may_not_replace_inputs(tiny_run, tmp_path):
    data.write_image(tmp_path / "in" / "a.jpg", synthetic_pair(np.random.default_rng(1), 32)[0])
    data.write_image(tmp_path / "in" / "a.png", synthetic_pair(np.random.default_rng(2), 32)[0])
    before = (tmp_path / "in" / "a.png").read_bytes()
    with pytest.raises(ValueError, match="inside the input folder"):
        predict.run(tmp_path / "in" / "a.jpg", tmp_path / "out.jpg", tiny_run[0], masks=tmp_path / "in")
    with pytest.raises(ValueError, match="would replace an output"):
        predict.run(tmp_path / "in" / "a.jpg", tmp_path / "out" / "a.png", tiny_run[0], masks=tmp_path / "out")
    assert (tmp_path / "in" / "a.png").read_bytes() == before


def photo_with_metadata(path, rgb):
    """A JPEG of `rgb` as a camera writes it: EXIF (maker, copyright, orientation 6: turn it 90 degrees
    clockwise), an ICC profile and an XMP packet. Returns (copyright, profile, xmp)."""
    from PIL import Image, ImageCms

    exif = Image.Exif()
    exif[0x010F], exif[0x8298], exif[0x0112] = "Camera maker", "(c) A. Photographer", 6
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    Image.fromarray(data.to_uint(rgb)).save(path, "JPEG", exif=exif, icc_profile=profile, xmp=xmp, quality=95)
    return "(c) A. Photographer", profile, xmp


@pytest.mark.parametrize("output_format, flags", [("jpg", []), ("png", []), ("webp", []), ("jpg", ["side"]),
                                                  ("png", ["side"]), ("webp", ["strip"])])
def test_exif_xmp_and_the_colour_profile_are_kept(tiny_run, tmp_path, output_format, flags):
    from PIL import Image

    rgb = synthetic_pair(np.random.default_rng(3), 64)[0][:48]  # 64 wide, 48 high, shown 48 wide once turned.
    copyright, profile, xmp = photo_with_metadata(tmp_path / "in.jpg", rgb)
    out = tmp_path / f"out.{output_format}"
    predict.run(tmp_path / "in.jpg", out, tiny_run[0], output_format=output_format, side_by_side="side" in flags,
                keep_metadata="strip" not in flags, log=data.silent)
    assert data.decode_image(out)[0].shape == (64, 48 * (2 if "side" in flags else 1), 3)  # Upright, decodable.
    with Image.open(out) as image:
        exif, info = image.getexif(), image.info
    if "strip" in flags:
        assert not exif and "icc_profile" not in info and "xmp" not in info
        return
    assert exif[0x8298] == copyright and exif[0x010F] == "Camera maker" and exif[0x0112] == 1
    assert info["icc_profile"] == profile
    assert (info.get("xmp") or info.get("XML:com.adobe.xmp").encode()) == xmp
