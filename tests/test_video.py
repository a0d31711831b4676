"""Video through predict.py: frames, size, timing and audio kept; a steady decision; bad files."""
import struct

import av
import cv2
import numpy as np
import pytest

import data
import evaluate
import predict
import video


def moving_disc_clip(frames=24, seed=0, noise=0.0):
    """(frames, targets): a coloured disc gliding over a colourful gradient, as uint8 RGB; with `noise`, each
    frame gets its own grain, which is what makes a frame-by-frame decision flicker."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices((64, 96))
    blend = ((rows + cols) / 160)[..., None]
    background = (rng.uniform(0, 1, 3) * (1 - blend) + rng.uniform(0, 1, 3) * blend).astype(np.float32)
    clip, targets = [], []
    for t in range(frames):
        disc = ((rows - 32) ** 2 + (cols - 20 - 2 * t) ** 2 < 14 ** 2)[..., None]
        frame = np.where(disc, np.float32([0.9, 0.15, 0.1]), background)
        frame = np.clip(frame + rng.normal(0, noise, frame.shape), 0, 1).astype(np.float32)
        clip.append(data.to_uint(frame))
        targets.append(data.to_uint(data.splash(frame, disc.astype(np.float32))))
    return clip, targets


def streams(path):
    with av.open(str(path)) as container:
        picture = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        sound = container.streams.audio
        return (frames, picture.width, picture.height, picture.average_rate, picture.codec_context.name,
                bool(sound) and sound[0].codec_context.name)


def test_a_clip_keeps_its_frames_size_rate_and_audio(tiny_run, tmp_path):
    clip, _ = moving_disc_clip(20)
    video.write_video(tmp_path / "clip.mp4", clip, fps=12, audio=True)
    predict.main([str(tmp_path / "clip.mp4"), str(tmp_path / "out.mp4"), "--model", str(tiny_run[0])])
    assert streams(tmp_path / "out.mp4") == (20, 96, 64, 12, "h264", "aac")
    with av.open(str(tmp_path / "out.mp4")) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    kept = np.abs(first.astype(int) - clip[0]).max(axis=-1) < 40  # The disc keeps its colour,
    assert kept[32, 20] and data.lab_chroma(data.to_float(first))[5:60, 60:90].mean() < 5  # the background is gray.


def test_steady_mode_flickers_less_and_keeps_the_objects(tiny_run):
    """A network unsure everywhere (the disc's mask plus fresh noise in each frame, in blobs, added to the mask
    its views make) flickers frame by frame; carried along the flow, the decision flickers less than half as
    much, and finds the disc as well."""
    colourizer = predict.Colourizer.from_run(*predict.load_run(tiny_run[0]))
    clip, targets = moving_disc_clip(32)
    colourizer.network = lambda views, training: np.where(  # Sure of the red disc in each view...
        (views[..., :1] > 0.6) & (views[..., 1:2] < -0.5), 0.85, 0.15).astype(np.float32)
    sure = colourizer.probabilities
    scores = {}
    for steady in (None, video.SteadyMask(predict.CUT)):
        rng = np.random.default_rng(0)

        def unsure(smalls):  # ...then unsure of each frame as a whole: noise after the views are joined.
            return [np.clip(mask + cv2.resize(rng.normal(0, 0.25, (4, 4)), mask.shape[1::-1])[..., None], 0, 1)
                    for mask in sure(smalls)]
        colourizer.probabilities = unsure
        outputs = video.colour_frames(colourizer, clip, steady)
        counts = np.sum([evaluate.colour_counts(t, o) for t, o in zip(targets, outputs)], axis=0)
        scores[steady is not None] = evaluate.flicker(targets, outputs), evaluate.iou(*counts)
    (flicker, iou), (steady_flicker, steady_iou) = scores[False], scores[True]
    assert flicker > 0.01 and steady_flicker < 0.5 * flicker
    assert steady_iou > iou - 0.02


def test_a_decision_changes_only_past_the_margin():
    """A still picture: inside a region, kept stays kept down to CUT - margin and dropped stays dropped up to
    CUT + margin; on the region's edge the plain cut decides."""
    steady, gray = video.SteadyMask(predict.CUT, margin=0.1), np.zeros((24, 32), np.uint8)
    offsets = (0.2, -0.05, -0.15, 0.05, 0.15)  # From CUT: kept, still kept, dropped, still dropped, kept.
    decisions = [steady(gray, np.full((16, 16), predict.CUT + d, np.float32)).mean() for d in offsets]
    assert decisions == [1, 1, 0, 0, 1]
    left_kept = np.where(np.arange(16) < 8, predict.CUT + 0.2, predict.CUT - 0.2).astype(np.float32)[None].repeat(16, 0)
    steady(gray, left_kept)
    decision = steady(gray, np.full((16, 16), predict.CUT - 0.05, np.float32))  # Still kept inside, not on the edge.
    assert decision[:, :7].all() and not decision[:, 7:].any()


def test_a_folder_of_photos_and_videos(tiny_run, tmp_path):
    clip, _ = moving_disc_clip(10)
    (tmp_path / "in").mkdir()
    video.write_video(tmp_path / "in" / "clip.mov", clip, fps=10)
    data.write_image(tmp_path / "in" / "photo.png", clip[0])
    written, _, failed = predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], log=data.silent)
    assert (written, failed) == (2, 0)
    assert (tmp_path / "out" / "photo.png").is_file() and streams(tmp_path / "out" / "clip.mp4")[0] == 10


@pytest.mark.parametrize("damage", ["not a video", "empty", "audio only"])
def test_a_bad_video_is_skipped_and_leaves_no_output(tiny_run, tmp_path, damage):
    path = tmp_path / "in" / "bad.mp4"
    path.parent.mkdir()
    if damage == "not a video":
        path.write_text("hello")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with av.open(str(path), "w") as container:
            sound = container.add_stream("aac", rate=8000)
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 8000, 0
            container.mux(sound.encode(frame))
            container.mux(sound.encode(None))
    data.write_image(tmp_path / "in" / "good.png", moving_disc_clip(1)[0][0])
    messages = []
    written, _, failed = predict.run(tmp_path / "in", tmp_path / "out", tiny_run[0], log=messages.append)
    assert (written, failed) == (1, 1) and any("bad.mp4" in m for m in messages)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]  # Nothing half written.


@pytest.mark.parametrize("damage", ["cut in half", "bytes overwritten in the middle"])
def test_a_damaged_video_keeps_its_frames_and_says_how_many_were_lost(tiny_run, tmp_path, damage):
    """A streamed MP4 (its index first) cut in half, or with garbage in its middle: the frames that decode are
    written, the number lost is said, and the run exits non-zero."""
    clip, _ = moving_disc_clip(40, noise=0.05)  # Grain: packets large enough that a tenth of the file is frames.
    video.write_video(tmp_path / "clip.mp4", clip, fps=10, faststart=True)
    raw = bytearray((tmp_path / "clip.mp4").read_bytes())
    if damage == "cut in half":
        raw = raw[:len(raw) // 2]
    else:
        middle, tenth = len(raw) // 2, len(raw) // 10
        raw[middle:middle + tenth] = bytes(tenth)
    (tmp_path / "bad.mp4").write_bytes(bytes(raw))
    messages = []
    written, _, failed = predict.run(tmp_path / "bad.mp4", tmp_path / "out.mp4", tiny_run[0], log=messages.append)
    kept = streams(tmp_path / "out.mp4")[0]
    assert (written, failed) == (1, 1) and 0 < kept < 40
    assert any(f"{40 - kept} of 40 frames could not be decoded" in m for m in messages), messages
    with pytest.raises(SystemExit) as exit_info:
        predict.main([str(tmp_path / "bad.mp4"), str(tmp_path / "again.mp4"), "--model", str(tiny_run[0])])
    assert exit_info.value.code == 1


def test_a_video_output_must_be_mp4(tmp_path):
    (tmp_path / "clip.avi").write_bytes(b"x")
    with pytest.raises(ValueError, match="H.264 MP4"):
        predict.plan(tmp_path / "clip.avi", tmp_path / "out.avi")
    assert predict.plan(tmp_path / "clip.avi", tmp_path / "out") == [(tmp_path / "clip.avi",
                                                                      tmp_path / "out" / "clip.mp4")]


def test_a_phone_video_comes_out_upright(tiny_run, tmp_path):
    """A clip whose track says "turn 90 degrees clockwise to show" (as phones write portrait video) is written
    turned, with no rotation left to apply: what was top left is top right."""
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:12, :12] = 255
    video.write_video(tmp_path / "clip.mp4", [frame] * 4, fps=10)
    raw = (tmp_path / "clip.mp4").read_bytes()
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    portrait = struct.pack(">9I", 0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000)  # The track header's matrix.
    start = raw.index(identity, raw.index(b"tkhd"))
    (tmp_path / "phone.mp4").write_bytes(raw[:start] + portrait + raw[start + len(identity):])
    predict.run(tmp_path / "phone.mp4", tmp_path / "out.mp4", tiny_run[0], log=data.silent)
    with av.open(str(tmp_path / "out.mp4")) as container:
        output = next(container.decode(video=0))
        assert output.rotation == 0
        output = output.to_ndarray(format="rgb24")
    assert output.shape == (64, 48, 3)
    assert output[:12, -12:].mean() > 200 and output[:12, :12].mean() < 50


def test_an_odd_sized_video_is_cropped_to_even(tiny_run, tmp_path):
    """H.264 in 4:2:0 needs an even width and height: a 95 x 63 clip (lossless FFV1) comes out 94 x 62, with a
    message."""
    with av.open(str(tmp_path / "odd.mkv"), "w") as container:
        stream = container.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 95, 63, "yuv420p"
        for rgb in moving_disc_clip(6)[0]:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:63, :95]),
                                                                   format="rgb24")))
        container.mux(stream.encode(None))
    messages = []
    written, _, failed = predict.run(tmp_path / "odd.mkv", tmp_path / "out.mp4", tiny_run[0], log=messages.append)
    assert (written, failed) == (1, 0) and any("cropped to 94x62" in message for message in messages)
    assert streams(tmp_path / "out.mp4")[:3] == (6, 94, 62)


def test_a_variable_frame_rate_keeps_its_timestamps(tiny_run, tmp_path):
    times = [0, 1, 2, 5, 6, 10, 11, 12]
    video.write_video(tmp_path / "clip.mp4", moving_disc_clip(len(times))[0], fps=10, times=times)

    def seconds(path):
        with av.open(str(path)) as container:
            return [round(float(frame.time), 3) for frame in container.decode(video=0)]
    predict.run(tmp_path / "clip.mp4", tmp_path / "out.mp4", tiny_run[0], log=data.silent)
    assert seconds(tmp_path / "out.mp4") == seconds(tmp_path / "clip.mp4") == [t / 10 for t in times]
