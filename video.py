"""Colour splash on video, with a decision that stays steady from frame to frame.

    python predict.py clip.mp4 out.mp4               # the clip with the style applied, its audio kept
    python predict.py clips/ out/                    # videos in a folder (beside photos) become out/NAME.mp4

PyAV reads and writes the files. Its wheel ships FFmpeg with H.264 and AAC, so the audio track is kept, which
OpenCV alone cannot do. The output is H.264 MP4 with the clip's size, frames and timestamps (a variable frame rate
stays variable); a phone video's rotation is applied, so the output plays upright.

Steady colour: a mask cut afresh in each frame flickers where the network is unsure, so a region keeps its colour
in one frame and loses it in the next. Here the previous frame's decision is carried along the optical flow
between the two frames (OpenCV's DIS flow, at FLOW_SIDE wide), so it follows what moves; inside its regions a
pixel changes its decision only when the new frame's mask is past the cut by a margin, and on its edges, which
move with what moves, the new frame's mask decides alone.
"""
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import cv2
import numpy as np

from data import Progress, atomic_path, luminance, resize, to_float, to_uint

MARGIN = 0.15  # Hysteresis of the cut inside the carried regions (chosen on clips: experiments/video.py).
BATCH = 8  # Frames per network call.
BLUR = 1.5  # Sigma in pixels of the blur before the flow.
FLOW_SIDE = 256  # Width at which the decision is carried along the optical flow.
REMUXED_AUDIO = {"aac", "mp3", "alac", "ac3", "opus"}  # Copied into the MP4 as they are; others become AAC.


class BadVideo(Exception):
    """A video file that cannot be read or written; the message says why, in one line."""


class SteadyMask:
    """Each call takes a frame's gray (at most FLOW_SIDE wide, in the frame's shape) and its mask probability (as
    Colourizer.probabilities gives it) and returns its decision, 0 or 1 at that size. The previous decision,
    carried along the optical flow between the two frames, is kept with hysteresis inside its regions (pixels
    whose 3 x 3 neighbourhood it decided alike): a kept pixel stays kept down to cut - margin, and a dropped one
    needs cut + margin. On its edges the probability is cut at `cut`, so an edge can follow its object."""

    def __init__(self, cut, margin=MARGIN):
        self.cut, self.margin = cut, margin
        self.flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.previous = None  # (gray, decision) of the previous frame.

    def __call__(self, gray, probability):
        gray = cv2.GaussianBlur(gray, (0, 0), BLUR)  # The flow of the picture, not of its grain.
        cut = self.cut
        if self.previous is not None:
            last_gray, last_decision = self.previous
            flow = self.flow.calc(gray, last_gray, None)  # Where each pixel of this frame was in the last one.
            height, width = probability.shape
            flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_AREA)
            flow *= (width / gray.shape[1], height / gray.shape[0])  # In the probability's pixels.
            rows, cols = np.indices(probability.shape, np.float32)
            kept = cv2.remap(last_decision, cols + flow[..., 0], rows + flow[..., 1], cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
            around = cv2.blur(kept, (3, 3))
            inside = (around > 0.999) | (around < 0.001)
            cut = np.where(inside, np.where(kept > 0.5, self.cut - self.margin, self.cut + self.margin), self.cut)
        decision = (probability > cut).astype(np.float32)
        self.previous = (gray, decision)
        return decision


def upright(rgb, rotation):
    """A decoded frame turned as its rotation metadata says (degrees counter-clockwise, as FFmpeg reports)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def even(rgb):
    """An image without its last row or column where their number is odd: H.264 in 4:2:0 needs even sizes."""
    return rgb[:rgb.shape[0] // 2 * 2, :rgb.shape[1] // 2 * 2]


def colour_video(source, target, colourizer, steady=True, log=print):
    """Write `source` with the style applied to `target` (MP4, written under a temporary name and renamed when
    complete), with a progress line on stderr; `log` takes messages. Returns (frames written, frames that could
    not be decoded: damaged packets, or fewer frames than the stream says it has). Raises BadVideo."""
    try:
        reader = av.open(str(source), metadata_errors="replace")  # Damaged text in a header is not fatal.
    except (av.FFmpegError, OSError) as error:
        raise BadVideo(f"cannot open it as a video ({error})") from None
    with reader:
        if not reader.streams.video:
            raise BadVideo("no video stream")
        video = reader.streams.video[0]
        if video.codec_context is None:
            raise BadVideo("its video stream has no codec FFmpeg knows (a damaged header?)")
        video.thread_type = "AUTO"
        audio = reader.streams.audio[0] if reader.streams.audio else None
        progress = Progress(video.frames or 0, log, "frames", f"{Path(source).name}: ")
        width, height = video.codec_context.width, video.codec_context.height
        if width % 2 or height % 2:
            progress.log(f"{Path(source).name}: {width}x{height} is cropped to {width // 2 * 2}x{height // 2 * 2}: "
                         "H.264 needs an even width and height")
        try:
            with atomic_path(target) as temporary:
                with av.open(str(temporary), "w", format="mp4") as writer:
                    frames, damaged = transcode(reader, video, audio, writer, colourizer=colourizer,
                                                steady=steady, progress=progress)
                if not frames:
                    raise BadVideo("no frames could be decoded")
        except av.FFmpegError as error:
            raise BadVideo(f"FFmpeg: {error}") from None
        finally:
            progress.close()  # So that a message after it starts on a line of its own.
    return frames, max(damaged, (video.frames or 0) - frames)


class Writer:
    """The output MP4: its streams are made at the first video frame, whose size (once upright) they take; audio
    that comes before it waits."""

    def __init__(self, container, video, audio):
        self.container, self.video, self.audio = container, video, audio
        self.out_video = self.out_audio = None
        self.copy_audio, self.waiting = False, []

    def open(self, height, width):
        rate = self.video.average_rate or self.video.guessed_rate or 25
        self.out_video = self.container.add_stream("libx264", rate=rate)
        self.out_video.width, self.out_video.height, self.out_video.pix_fmt = width, height, "yuv420p"
        self.out_video.codec_context.time_base = self.video.time_base  # The input's timestamps, as they are.
        self.out_video.options = {"crf": "18", "preset": "veryfast"}
        if self.audio is not None:
            self.copy_audio = self.audio.codec_context.name in REMUXED_AUDIO
            self.out_audio = (self.container.add_stream_from_template(self.audio) if self.copy_audio else
                              self.container.add_stream("aac", rate=self.audio.codec_context.sample_rate or 44100))
        for packet in self.waiting:
            self.write_audio(packet)
        self.waiting.clear()

    def write_audio(self, packet):
        if self.out_video is None:
            self.waiting.append(packet)
        elif self.copy_audio:
            if packet.dts is not None:  # The demuxer's final empty packet.
                packet.stream = self.out_audio
                self.container.mux(packet)
        else:
            for frame in packet.decode():
                self.container.mux(self.out_audio.encode(frame))

    def write_frame(self, rgb, pts):
        if self.out_video is None:
            self.open(*rgb.shape[:2])
        # OpenCV's conversion: BT.601 at limited range, as FFmpeg's default, in a third of its time.
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        frame.pts, frame.time_base = pts, self.video.time_base
        self.container.mux(self.out_video.encode(frame))

    def close(self):
        if self.out_video is not None:
            self.container.mux(self.out_video.encode(None))
        if self.out_audio is not None and not self.copy_audio:
            self.container.mux(self.out_audio.encode(None))


def transcode(reader, video, audio, container, *, colourizer, steady, progress):
    """Decode, colour and encode, overlapped: while the network decides a batch of frames, two threads do the
    last batch's full-resolution work and one more encodes it. That one thread does all the writing, in order.
    Returns (frames written, packets that could not be decoded)."""
    writer = Writer(container, video, audio)
    steady_mask = SteadyMask(colourizer.threshold) if steady and colourizer.head == "mask" else None
    batch, writes, frames = [], deque(), 0  # writes: (frames, the future of their writing), oldest first.
    damaged = 0

    def written(ahead):
        """Wait until at most `ahead` frames are still to be written; returns the frames written so far."""
        nonlocal frames
        while writes and (sum(count for count, _ in writes) > ahead or not writes[0][0]):
            count, done = writes.popleft()
            done.result()  # An error in a thread is raised here.
            frames += count
            progress.update(frames, frames)
        return frames

    def write(times, outputs):
        for pts, output in zip(times, outputs):
            writer.write_frame(output.result(), pts)

    with ThreadPoolExecutor(max_workers=2) as pool, ThreadPoolExecutor(max_workers=1) as encoder:
        def flush():
            rgbs = [upright(even(frame.to_ndarray(format="rgb24")), getattr(frame, "rotation", 0)) for frame in batch]
            outputs = [pool.submit(colourizer.apply, rgb, decision)
                       for rgb, decision in zip(rgbs, decide(colourizer, rgbs, steady_mask))]
            writes.append((len(batch), encoder.submit(write, [frame.pts for frame in batch], outputs)))
            batch.clear()
            written(ahead=BATCH)  # One batch in the threads while the next is decided: memory stays bounded.

        for packet in reader.demux(*[s for s in (video, audio) if s is not None]):
            if packet.stream is audio:
                writes.append((0, encoder.submit(writer.write_audio, packet)))
                continue
            try:
                decoded = packet.decode()
            except av.InvalidDataError:
                damaged += 1  # A damaged packet: its frame is lost, the rest of the clip is not.
                continue
            for frame in decoded:
                batch.append(frame)
                if len(batch) == BATCH:
                    flush()
        if batch:
            flush()
        writes.append((0, encoder.submit(writer.close)))
        return written(ahead=0), damaged


def decide(colourizer, rgbs, steady_mask):
    """Each frame's decision, as Colourizer.decide makes it for a photo, or made steady by a SteadyMask, with the
    flow measured on a gray copy at most FLOW_SIDE wide (the network's square copy is too coarse for it)."""
    smalls = [colourizer.network_input(rgb) for rgb in rgbs]
    if steady_mask is None:
        return colourizer.decide(smalls)
    decisions = []
    for rgb, probability in zip(rgbs, colourizer.probabilities(smalls)):
        width = min(FLOW_SIDE, rgb.shape[1])
        height = max(1, round(rgb.shape[0] * width / rgb.shape[1]))
        gray = to_uint(luminance(to_float(resize(rgb, width, height)))[..., 0])
        decisions.append(steady_mask(gray, probability[..., 0])[..., None])
    return decisions


def colour_frames(colourizer, frames, steady_mask=None):
    """RGB frames held in memory, coloured as a clip is, BATCH at a time: for the benchmarks and tests."""
    outputs = []
    for start in range(0, len(frames), BATCH):
        rgbs = frames[start:start + BATCH]
        outputs += map(colourizer.apply, rgbs, decide(colourizer, rgbs, steady_mask))
    return outputs


def write_video(path, frames, fps, audio=False, times=None, *, faststart=False):
    """An H.264 MP4 of RGB uint8 `frames` at `fps` (or shown at `times`, in 1/fps units: a variable rate), with a
    second of a 440 Hz tone in AAC when `audio`, and its index first with `faststart` (as streamed files have
    it): clips for the benchmarks and tests."""
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        sound = container.add_stream("aac", rate=44100) if audio else None
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            if times:
                frame.pts = times[index]
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound:
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)).astype(np.float32)[None]
            for start in range(0, 44100, 1024):
                frame = av.AudioFrame.from_ndarray(tone[:, start:start + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 44100, start
                container.mux(sound.encode(frame))
            container.mux(sound.encode(None))
