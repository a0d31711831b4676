"""Nothing lost, nothing misleading: every tool tried as a careless user would. Each case gives one clear line,
loses nothing, and exits non-zero when it did not do what was asked."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import data
import evaluate
import export
import model
import predict
import train
import video
from conftest import ROOT, TINY, synthetic_pair


def photo(seed=0, height=48, width=64):
    return data.resize(synthetic_pair(np.random.default_rng(seed), 64)[0], width, height)


def huge_jpeg():
    """A valid small JPEG whose header says 65000x65000: more pixels than OpenCV decodes."""
    jpeg = bytearray(data.encode_image(photo(), ".jpg"))
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = (65000).to_bytes(2, "big") * 2
    return bytes(jpeg)


def huge_png():
    png = bytearray(data.encode_image(photo(), ".png"))
    png[16:24] = (100000).to_bytes(4, "big") * 2  # IHDR width and height (the CRC no longer matches either).
    return bytes(png)


def motion_photo():
    """A JPEG followed by other data, as phones' motion photos append a video."""
    return data.encode_image(photo(), ".jpg") + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


# Files that are not usable pictures: each tool must skip them with a message and go on with the good ones.
HOSTILE = {
    "empty.jpg": b"",
    "truncated.jpg": data.encode_image(photo(), ".jpg")[:-300],
    "text.png": b"this is not a picture",
    "huge.jpg": huge_jpeg(),
    "huge.png": huge_png(),
}


def exit_message(function, *args):
    """Run a CLI's main; return its exit message (a string for an error line, 1 for 'something failed')."""
    with pytest.raises(SystemExit) as exit_info:
        function(*args)
    return exit_info.value.code


# ------------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_read_image_refuses_each_hostile_file_with_a_reason(tmp_path, name):
    (tmp_path / name).write_bytes(HOSTILE[name])
    with pytest.raises(data.BadImage) as error:
        data.read_image(tmp_path / name)
    assert str(error.value) and "\n" not in str(error.value)


def test_huge_header_is_named_too_large(tmp_path):
    (tmp_path / "huge.jpg").write_bytes(huge_jpeg())
    with pytest.raises(data.BadImage, match="too large"):
        data.read_image(tmp_path / "huge.jpg")


def test_jpeg_with_data_after_its_end_decodes(tmp_path):
    (tmp_path / "motion.jpg").write_bytes(motion_photo())
    (tmp_path / "plain.jpg").write_bytes(data.encode_image(photo(), ".jpg"))
    rgb = data.read_image(tmp_path / "motion.jpg")[0]
    assert rgb.shape == (48, 64, 3) and np.array_equal(rgb, data.read_image(tmp_path / "plain.jpg")[0])


def test_an_exif_thumbnail_does_not_hide_a_truncated_jpeg():
    """The thumbnail's own end-of-image marker lies before the main image's scan: it must not count."""
    thumbnail = data.encode_image(photo(1, 16, 16), ".jpg")
    payload = b"Exif\x00\x00" + thumbnail
    jpeg = data.encode_image(photo(), ".jpg")
    with_thumbnail = jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]
    assert data.jpeg_is_complete(with_thumbnail)
    assert not data.jpeg_is_complete(with_thumbnail[:-300])


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_bad_image(tmp_path, raw):
    path = tmp_path / "random.jpg"
    path.write_bytes(raw)
    try:
        rgb, _, _ = data.read_image(path)
    except data.BadImage:
        return
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and np.all((rgb >= 0) & (rgb <= 1))


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from([".jpg", ".png", ".webp"]))
def test_random_bytes_through_predict_are_skipped_not_raised(tiny_run, tmp_path, raw, suffix):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "in").mkdir()
    (folder / "in" / f"x{suffix}").write_bytes(raw)
    written, _, failed = predict.run(folder / "in", folder / "out", tiny_run[0], log=data.silent)
    assert written + failed == 1
    if written:
        shapes = [data.read_image(folder / side / f"x{suffix}")[0].shape for side in ("in", "out")]
        assert shapes[0] == shapes[1]


def damaged(valid, position, patch):
    """`valid` bytes with `patch` written over them at `position` (a fraction of the length), or cut there when
    the patch is empty: the damage a disk or a transfer does."""
    at = int(position * len(valid))
    return valid[:at] if not patch else valid[:at] + patch + valid[at + len(patch):]


DAMAGE = st.one_of(st.binary(max_size=300), st.tuples(st.floats(0, 1), st.binary(max_size=64)))


@pytest.fixture(scope="module")
def valid_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    video.write_video(path, [data.to_uint(photo(i)) for i in range(6)], fps=6, faststart=True)
    return path.read_bytes()


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(DAMAGE)
def test_random_bytes_through_the_video_reader_are_a_one_line_skip(tiny_run, valid_clip, tmp_path, damage):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "in").mkdir()
    raw = damage if isinstance(damage, bytes) else damaged(valid_clip, *damage)
    (folder / "in" / "clip.mp4").write_bytes(raw)
    messages = []
    written, _, failed = predict.run(folder / "in", folder / "out", tiny_run[0], log=messages.append)
    assert written + failed in (1, 2) and all("\n" not in m for m in messages)  # Written, and maybe incomplete.
    if not written:
        assert any(m.startswith(f"skipped {folder / 'in' / 'clip.mp4'}: ") for m in messages)
        assert not (folder / "out").exists() or not list((folder / "out").iterdir())


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(DAMAGE)
def test_random_bytes_through_the_mask_reader_are_a_one_line_skip(tmp_path, damage):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    data.write_image(folder / "in" / "p.png", photo())
    (folder / "masks").mkdir()
    valid = data.encode_image(np.ones((48, 64, 3), np.float32), ".png")
    (folder / "masks" / "p.png").write_bytes(damage if isinstance(damage, bytes) else damaged(valid, *damage))
    messages = []
    written, _, failed = predict.run(folder / "in", folder / "out", use_masks=folder / "masks", log=messages.append)
    assert written + failed == 1 and all("\n" not in m for m in messages)
    if failed:
        assert any(str(folder / "masks" / "p.png") in m for m in messages)


def random_images():
    """Any small image a user could have: 1 to 4 channels, 8 or 16 bits or float."""
    shapes = st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 2, 3, 4]))
    kinds = st.sampled_from([np.uint8, np.uint16, np.float32])
    return st.tuples(shapes, kinds, st.integers(0, 2**32 - 1))


def make_image(shape, kind, seed):
    rng = np.random.default_rng(seed)
    height, width, channels = shape
    if kind == np.float32:
        return rng.uniform(-0.5, 1.5, (height, width, channels)).astype(np.float32)
    return rng.integers(0, np.iinfo(kind).max, (height, width, channels), endpoint=True).astype(kind)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_images())
def test_any_small_image_goes_through_predict_at_its_own_size(tiny_run, tmp_path, image):
    shape, kind, seed = image
    pixels = make_image(shape, kind, seed)
    suffix = ".tif" if kind == np.float32 else ".png"
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "in").mkdir()
    assume(cv2.imwrite(str(folder / "in" / f"x{suffix}"), pixels if shape[2] != 2 else pixels[..., 0]))
    written, _, failed = predict.run(folder / "in", folder / "out", tiny_run[0], log=data.silent)
    assert (written, failed) == (1, 0)
    output = data.read_image(folder / "out" / f"x{suffix}")[0]
    assert output.shape == (shape[0], shape[1], 3)


# ------------------------------------------------------------------------------------------ every tool alike


@pytest.fixture
def hostile_folder(tmp_path):
    """Two good photos and every hostile file, in one folder."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        data.write_image(folder / f"good{i}.jpg", photo(i))
    for name, raw in HOSTILE.items():
        (folder / name).write_bytes(raw)
    return folder


def test_predict_writes_the_good_files_and_names_each_bad_one(tiny_run, hostile_folder, tmp_path, capsys):
    assert exit_message(predict.main, [str(hostile_folder), str(tmp_path / "out"), "--model", str(tiny_run[0])]) == 1
    out = capsys.readouterr().out
    assert all(name in out for name in HOSTILE) and f"{len(HOSTILE)} failed" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good0.jpg", "good1.jpg"]


def test_combine_and_masks_skip_bad_files_and_exit_non_zero(hostile_folder, tmp_path):
    masks = tmp_path / "masks"
    for path in hostile_folder.iterdir():
        data.write_image(masks / f"{path.stem}.png", np.ones((48, 64, 3), np.float32))
    for command in ("combine", "masks"):
        out = tmp_path / f"pairs-{command}"
        assert exit_message(data.main, [command, str(hostile_folder), str(masks), str(out)]) == 1
        assert sorted(p.name for p in out.iterdir()) == ["good0.jpg", "good1.jpg"]


def test_train_and_evaluate_skip_bad_pairs(synthetic_data, tmp_path):
    folder = tmp_path / "pairs"
    shutil.copytree(synthetic_data, folder)
    for name, raw in HOSTILE.items():
        (folder / "train" / name).write_bytes(raw)
        (folder / "test" / name).write_bytes(raw)
    messages = []
    photos, _, _ = data.load_pairs(folder / "train", 32, log=messages.append)
    assert len(photos) == 64 and all(any(name in m for m in messages) for name in HOSTILE)
    messages = []
    summary = evaluate.evaluate(folder, baseline="gray", log=messages.append)
    assert summary["test"]["n"] == 16 and all(any(name in m for m in messages) for name in HOSTILE)


# ------------------------------------------------------------------------------------------- never lose data


def snapshot(root):
    """{path below root: bytes} of every file below it."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def two_stems(tmp_path, run):
    (tmp_path / "in").mkdir()
    for name in ("a.mov", "a.mp4"):  # Only planned: the check comes before anything is decoded.
        (tmp_path / "in" / name).write_bytes(name.encode() * 100)
    return ["in", "in", "--overwrite"]


def masks_as_out(tmp_path, run):
    for name in ("p1", "p2"):
        data.write_image(tmp_path / "in" / f"{name}.png", photo())
        data.write_image(tmp_path / "masks" / f"{name}.png", np.ones((48, 64, 1), np.float32))
    return ["in", "masks", "--use-masks", "masks"]


def masks_both_ways(tmp_path, run):
    masks_as_out(tmp_path, run)
    return ["in", "out", "--use-masks", "masks", "--masks", "masks", "--model", str(run)]


def masks_are_the_photos(tmp_path, run):
    masks_as_out(tmp_path, run)
    return ["in", "out", "--use-masks", "in"]


def export_into_the_run(tmp_path, run):
    shutil.copytree(run, tmp_path / "run")
    return ["run", "--model", "run"]


def report_into_the_data(tmp_path, run):
    shutil.copytree(run, tmp_path / "run")
    data.write_image(tmp_path / "pairs" / "x.png", data.join_pair(*synthetic_pair(np.random.default_rng(0), 32)))
    return ["--data", "pairs", "--model", "run", "--report", "pairs/report"]


def train_into_the_data(tmp_path, run):
    data.write_image(tmp_path / "pairs" / "x.png", data.join_pair(*synthetic_pair(np.random.default_rng(0), 32)))
    return ["--data", "pairs", "--out", "pairs/run", *TINY]


# Runs that would write over what they read (issue: "corrections, overwrites and faults lose nothing"): each is
# refused with one line before anything is written, whatever the flags.
WRITES_OVER_INPUTS = {
    "--overwrite with a.mov and a.mp4": (predict.main, two_stems, "would replace the input"),
    "OUT is the --use-masks folder": (predict.main, masks_as_out, "would replace the input"),
    "--use-masks A --masks A": (predict.main, masks_both_ways, "give one of them"),
    "--use-masks names the photos": (predict.main, masks_are_the_photos, "the photos themselves"),
    "export into the run it reads": (export.main, export_into_the_run, "inside the input folder"),
    "evaluate's report among the pairs": (evaluate.main, report_into_the_data, "inside the input folder"),
    "train's run among the pairs": (train.main, train_into_the_data, "inside the input folder"),
}


@pytest.mark.parametrize("case", sorted(WRITES_OVER_INPUTS))
def test_a_run_never_writes_over_what_it_reads(tiny_run, tmp_path, monkeypatch, case):
    main, arrange, expected = WRITES_OVER_INPUTS[case]
    monkeypatch.chdir(tmp_path)
    argv = arrange(tmp_path, tiny_run[0])
    before = snapshot(tmp_path)
    message = exit_message(main, argv)
    assert isinstance(message, str) and expected in message and "\n" not in message
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("what", ["photos", "video"])
def test_ctrl_c_is_one_line_of_what_was_written_and_loses_nothing(tiny_run, tmp_path, monkeypatch, what):
    """Ctrl-C arrives in the main thread, here at the network's second call: what was written is said, what was
    being written ends or leaves nothing, and the status is non-zero."""
    if what == "photos":
        for i in range(4):
            data.write_image(tmp_path / "in" / f"p{i}.png", photo(i))
    else:
        (tmp_path / "in").mkdir()
        frames = [data.to_uint(photo(i)) for i in range(24)]
        video.write_video(tmp_path / "in" / "clip.mp4", frames, fps=8)
    real, calls = predict.Colourizer.probabilities, []

    def interrupted(self, smalls):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, smalls)
    monkeypatch.setattr(predict.Colourizer, "probabilities", interrupted)
    before = snapshot(tmp_path / "in")
    message = exit_message(predict.main, [str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(tiny_run[0]),
                                          "--batch-size", "1"])
    written = sorted(p.name for p in (tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    assert message.startswith(f"error: interrupted: {len(written)} written into ") and "\n" not in message
    assert message.endswith(f"{(4 if what == 'photos' else 1) - len(written)} not done")
    assert written in ([], ["p0.png"]) if what == "photos" else written == []  # No temporary, nor half a video.
    assert snapshot(tmp_path / "in") == before


def test_a_named_output_that_disagrees_with_format_is_refused(tiny_run, tmp_path):
    data.write_image(tmp_path / "a.jpg", photo())
    message = exit_message(predict.main, [str(tmp_path / "a.jpg"), str(tmp_path / "named.png"), "--format", "jpg",
                                          "--model", str(tiny_run[0])])
    assert "named.png" in message and "--format" in message and not (tmp_path / "named.jpg").exists()
    assert predict.run(tmp_path / "a.jpg", tmp_path / "named.jpeg", tiny_run[0], output_format="jpg",
                       log=data.silent)[0] == 1


def test_photo_flags_on_a_video_are_said_not_silently_ignored(tiny_run, tmp_path):
    (tmp_path / "in").mkdir()
    video.write_video(tmp_path / "in" / "clip.mp4", [data.to_uint(photo(i)) for i in range(4)], fps=4)
    messages = []
    predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], side_by_side=True, log=messages.append)
    assert any("--side-by-side apply to photos" in m and "1 video" in m for m in messages)


def test_two_masks_of_one_photo_are_ambiguous_not_applied(tmp_path):
    for name in ("p", "q"):
        data.write_image(tmp_path / "in" / f"{name}.png", photo())
        data.write_image(tmp_path / "masks" / f"{name}.png", np.zeros((48, 64, 1), np.float32))
    data.write_image(tmp_path / "masks" / "p.jpg", np.ones((48, 64, 3), np.float32))  # The correction.
    messages = []
    written, _, failed = predict.run(tmp_path / "in", tmp_path / "out", use_masks=tmp_path / "masks",
                                     log=messages.append)
    assert (written, failed) == (1, 1) and not (tmp_path / "out" / "p.png").exists()
    assert any("p.png" in m and "p.jpg" in m and "2 masks" in m for m in messages)


def test_masks_of_two_photos_of_one_name_are_not_merged(tiny_run, tmp_path):
    data.write_image(tmp_path / "in" / "a.jpg", photo(1))
    data.write_image(tmp_path / "in" / "a.png", photo(2))
    messages = []
    written, _, failed = predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], masks=tmp_path / "masks",
                                     log=messages.append)
    assert (written, failed) == (1, 1) and any("same output" in m and "a.png" in m for m in messages)
    assert [p.name for p in (tmp_path / "masks").iterdir()] == ["a.png"]


def test_a_masks_alpha_keeps_no_colour_where_transparent(tmp_path):
    data.write_image(tmp_path / "in" / "p.png", photo())
    alpha = np.zeros((48, 64), np.float32)
    alpha[:, :32] = 1
    data.write_image(tmp_path / "masks" / "p.png", np.ones((48, 64, 3), np.float32), alpha)
    predict.run(tmp_path / "in", tmp_path / "out", use_masks=tmp_path / "masks", log=data.silent)
    out = data.read_image(tmp_path / "out" / "p.png")[0]
    assert np.abs(out[:, :30] - photo()[:, :30]).max() < 2 / 255  # Opaque white: colour kept.
    assert np.abs(out[:, 34:] - data.gray3(photo())[:, 34:]).max() < 2 / 255  # Transparent: gray.


def test_an_undecodable_mask_is_named_as_the_mask(tmp_path):
    data.write_image(tmp_path / "in" / "p.png", photo())
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "p.png").write_bytes(b"not a picture")
    messages = []
    predict.run(tmp_path / "in", tmp_path / "out", use_masks=tmp_path / "masks", log=messages.append)
    assert any(str(tmp_path / "masks" / "p.png") in m for m in messages)


@pytest.mark.parametrize("command", ["combine", "masks"])
@pytest.mark.parametrize("where", ["same", "inside"])
def test_pairs_tools_refuse_an_output_folder_in_the_photos(tmp_path, command, where):
    photos, other = tmp_path / "photos", tmp_path / "other"
    data.write_image(photos / "x.jpg", photo())
    data.write_image(other / "x.png", np.ones((48, 64, 3), np.float32))
    before = (photos / "x.jpg").read_bytes()
    out = photos if where == "same" else photos / "pairs"
    message = exit_message(data.main, [command, str(photos), str(other), str(out)])
    assert "inside the input folder" in message
    assert [p.name for p in photos.rglob("*")] == ["x.jpg"] and (photos / "x.jpg").read_bytes() == before


def test_combine_skips_names_that_stand_for_two_files(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    for name in ("dup.jpg", "dup.png", "one.jpg", "sub/one.png"):
        data.write_image(before / name, photo())
    for name in ("dup.jpg", "one.jpg"):
        data.write_image(after / name, photo(1))
    messages = []
    with pytest.raises(ValueError, match="no pair"):
        data.combine(before, after, tmp_path / "out", log=messages.append)
    assert any("dup" in m and "dup.jpg" in m and "dup.png" in m for m in messages)
    assert any("one" in m and "sub/one.png" in m for m in messages)


def test_split_checks_its_folders_before_moving_anything(tmp_path):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "train").write_text("a file, not a folder")
    with pytest.raises(ValueError, match="is a file"):
        data.split(tmp_path, 0.3, log=data.silent)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "b.jpg", "c.jpg", "train"]


@pytest.mark.parametrize("output", ["folder", "file"])
def test_predict_refuses_to_replace_its_input(tiny_run, tmp_path, output):
    data.write_image(tmp_path / "same" / "a.jpg", photo())
    before = (tmp_path / "same" / "a.jpg").read_bytes()
    target = tmp_path / "same" if output == "folder" else tmp_path / "same" / "a.jpg"
    message = exit_message(predict.main, [str(tmp_path / "same" / "a.jpg"), str(target), "--model", str(tiny_run[0])])
    assert "--overwrite" in message
    assert (tmp_path / "same" / "a.jpg").read_bytes() == before


def test_overwrite_replaces_inputs_and_keeps_their_mode(tiny_run, tmp_path):
    data.write_image(tmp_path / "same" / "a.jpg", photo())
    os.chmod(tmp_path / "same" / "a.jpg", 0o640)
    before = (tmp_path / "same" / "a.jpg").read_bytes()
    assert predict.run(tmp_path / "same", tmp_path / "same", tiny_run[0], overwrite=True, log=data.silent)[0] == 1
    assert (tmp_path / "same" / "a.jpg").read_bytes() != before
    assert stat.S_IMODE(os.stat(tmp_path / "same" / "a.jpg").st_mode) == 0o640


def test_new_files_respect_the_umask(tmp_path):
    data.write_atomic(tmp_path / "new.bin", b"x")
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o666 & ~data.UMASK


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    data.write_atomic(tmp_path / "out.png", b"old")

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        data.write_atomic(tmp_path / "out.png", b"new")
    assert (tmp_path / "out.png").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_stale_temporaries_of_dead_processes_are_removed(tiny_run, tmp_path):
    dead = 2**22 + 12345  # Above the kernel's largest PID: no process has it.
    data.write_image(tmp_path / "in" / "a.jpg", photo())
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / f".{dead}-0123abcd-a.jpg"
    alive = tmp_path / "out" / f".{os.getpid()}-0123abcd-b.jpg"
    stale.write_bytes(b"half")
    alive.write_bytes(b"being written")
    predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], log=data.silent)
    assert not stale.exists() and alive.exists()


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_train_leaves_a_latest_that_is_not_its_link_alone(synthetic_data, tmp_path, kind):
    latest = tmp_path / "latest"
    if kind == "file":
        latest.write_text("my notes")
    else:
        latest.mkdir()
    message = exit_message(train.main, ["--data", str(synthetic_data), "--out", str(tmp_path / "run"), *TINY])
    assert "is not the link" in message and not (tmp_path / "run").exists()
    assert latest.is_dir() if kind == "folder" else latest.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"]


def test_train_on_bad_data_writes_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    message = exit_message(train.main, ["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "runs" / "a")])
    assert "no usable A|B image" in message and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("flag, value", [
    ("--minutes", "-1"), ("--decay", "-1"), ("--decay", "2"), ("--lr", "-1"), ("--lr", "nan"), ("--lr", "inf"),
    ("--loss-weight", "nan"), ("--mix", "2"), ("--dropout", "1.5"), ("--batch-size", "0"), ("--epochs", "0"),
])
def test_train_refuses_option_values_out_of_range(tmp_path, flag, value):
    message = exit_message(train.main, ["--out", str(tmp_path / "run"), flag, value])
    assert message.startswith(f"error: {flag} must be") and not (tmp_path / "run").exists()


def test_a_run_stores_its_data_folder_absolute(synthetic_data, monkeypatch):
    monkeypatch.chdir(synthetic_data.parent)
    config, _ = train.make_config({"data": synthetic_data.name}, None, False)
    assert config["data"] == str(synthetic_data.resolve())


def test_pairs_beside_split_folders_are_an_error_not_ignored(synthetic_data, tmp_path):
    folder = tmp_path / "pairs"
    shutil.copytree(synthetic_data / "test", folder / "test")
    shutil.copy(next((synthetic_data / "train").iterdir()), folder / "loose.png")
    message = exit_message(train.main, ["--data", str(folder), "--out", str(tmp_path / "run"), *TINY])
    assert "beside its test/" in message
    with pytest.raises(ValueError, match="beside its test/"):
        evaluate.evaluate(folder, baseline="gray")
    (folder / "loose.png").unlink()
    assert "no train/" in exit_message(train.main, ["--data", str(folder), "--out", str(tmp_path / "run"), *TINY])


@pytest.mark.parametrize("full_at", [1, 2])
def test_full_disk_at_a_checkpoint_is_one_line_naming_the_safe_checkpoint(synthetic_data, tmp_path, monkeypatch,
                                                                           full_at):
    run_dir = tmp_path / "run"
    real = shutil.disk_usage

    def disk_usage(path):  # Room for the checkpoints before epoch `full_at`, none after.
        written = len(list((run_dir / "checkpoints").glob("epoch-*.weights.h5")))
        return real(path)._replace(free=10**12 if written < full_at - 1 else 0)
    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    message = exit_message(train.main, ["--data", str(synthetic_data), "--out", str(run_dir), "--epochs", "3", *TINY])
    assert message.startswith(f"error: cannot write the checkpoint of epoch {full_at}") and "--resume" in message
    left = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    if full_at == 1:
        assert "no checkpoint was written" in message and left == []
    else:
        assert "epoch-00001.weights.h5" in message and left == ["epoch-00001.weights.h5", "latest.json"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 200 KB file system, mounted for the test (root only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["train", "export"])
def test_a_full_file_system_is_one_line_not_a_crash(synthetic_data, tiny_run, tiny_disk, tool):
    """train.py's first checkpoint (h5py crashed the process at exit) and export.py's SavedModel (a 45-line
    TensorFlow traceback), each written into a 200 KB file system."""
    arguments = {"train": ["train.py", "--data", str(synthetic_data), "--out", str(tiny_disk / "run"), "--epochs", "2",
                           *TINY],
                 "export": ["export.py", str(tiny_disk / "exported"), "--model", str(tiny_run[0])]}[tool]
    result = subprocess.run([sys.executable, str(ROOT / arguments[0]), *arguments[1:]], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    expected = {"train": "error: cannot write the checkpoint of epoch 1 (the disk is full)",
                "export": "saved_model (the disk is full)"}[tool]
    assert expected in result.stderr.splitlines()[-1]
    assert not [p for p in tiny_disk.rglob(".*") if data.TEMPORARY.match(p.name)]


def test_a_diverged_epoch_is_an_error_and_not_saved(tmp_path):
    checkpoint = model.Checkpoint(tmp_path / "checkpoints")
    with pytest.raises(ValueError, match="diverged in epoch 4"):
        checkpoint.on_epoch_end(3, {"d_loss": 0.5, "g_loss": float("nan")})
    assert not (tmp_path / "checkpoints").exists()


# ----------------------------------------------------------------------------------------- predict's options


def test_inputs_with_one_output_name_are_not_silently_merged(tiny_run, tmp_path, capsys):
    for suffix in (".jpg", ".png", ".webp"):
        data.write_image(tmp_path / "in" / f"a{suffix}", photo())
    args = [str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(tiny_run[0]), "--format", "jpg"]
    assert exit_message(predict.main, args) == 1
    out = capsys.readouterr().out
    assert "1 written" in out and "2 failed" in out and "same output" in out
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.jpg"]


@pytest.mark.parametrize("flag, value", [("--batch-size", "0"), ("--batch-size", "-1"), ("--quality", "0"),
                                         ("--format", "heic")])
def test_predict_refuses_option_values_out_of_range(tiny_run, tmp_path, flag, value):
    data.write_image(tmp_path / "in" / "a.jpg", photo())
    message = exit_message(predict.main, [str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(tiny_run[0]),
                                          flag, value])
    assert message.startswith(f"error: {flag} must") and not (tmp_path / "out").exists()


def test_deep_and_float_inputs_come_out_right_in_8_bit_formats(tiny_run, tmp_path):
    """A 16-bit PNG and a float TIFF written as WebP, BMP or JPEG look as they do written as 16-bit PNG."""
    data.write_image(tmp_path / "in" / "deep.png", photo(), depth=16)
    cv2.imwrite(str(tmp_path / "in" / "float.tif"), photo()[..., ::-1].copy())
    for suffix in (".png", ".webp", ".bmp", ".jpg"):
        predict.run(tmp_path / "in", tmp_path / suffix[1:], tiny_run[0], output_format=suffix[1:], log=data.silent)
        for name in ("deep", "float"):
            reference = data.read_image(tmp_path / "png" / f"{name}.png")[0]
            output = data.read_image(tmp_path / suffix[1:] / f"{name}{suffix}")[0]
            assert np.abs(output - reference).mean() < 0.02, (name, suffix)


def test_jfif_and_gif_inputs_are_coloured(tiny_run, tmp_path):
    data.write_image(tmp_path / "in" / "a.jfif", photo())
    data.write_image(tmp_path / "in" / "b.gif", photo(1))
    assert predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], log=data.silent)[0] == 2
    assert data.read_image(tmp_path / "out" / "a.jfif")[0].shape == (48, 64, 3)
    assert (tmp_path / "out" / "a.jfif").read_bytes()[:2] == b"\xff\xd8"


def test_progress_line_and_messages_never_share_a_line(capsys):
    progress = data.Progress(3, print)
    progress.update(1, 1)
    progress.log("skipped x.jpg: empty file")
    progress.update(2, 1)
    progress.close()
    captured = capsys.readouterr()
    assert captured.out == "skipped x.jpg: empty file\n"
    assert captured.err.count("\n") == 2 and captured.err.endswith("\n")


def test_bad_model_files_are_named(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run[0], run)
    data.write_image(tmp_path / "in" / "a.jpg", photo())
    args = [str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(run)]
    (run / "config.json").write_text("[]")
    assert "holds no options" in exit_message(predict.main, args)
    (run / "config.json").write_text("{not json")
    assert "config.json" in exit_message(predict.main, args)
    (run / "generator.keras").write_bytes(b"PK\x03\x04 damaged")
    assert "cannot load" in exit_message(predict.main, args) and "generator.keras" in exit_message(predict.main, args)
    (tmp_path / "blocker").write_text("a file")
    message = exit_message(export.main, [str(tmp_path / "blocker" / "exported"), "--model", str(tiny_run[0])])
    assert message.startswith("error:")
