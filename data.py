"""Data for colour splash: the colour/gray compositing, A|B pairs, the training pipeline and dataset tools.

    python data.py combine BEFORE_DIR AFTER_DIR OUT_DIR   # photos + hand edits with matching names -> A|B JPEGs
    python data.py masks PHOTOS_DIR MASKS_DIR OUT_DIR     # photos + rough masks (white = keep colour) -> A|B JPEGs
    python data.py split DIR --test 0.2                   # move a reproducible fraction of DIR into DIR/test

In memory an image is RGB float32 in [0, 1] (shape H x W x 3); the network sees it scaled to [-1, 1].
"""
import argparse
import contextlib
import functools
import math
import os
import random
import re
import secrets
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from metadata import embed

JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}
IMAGE_EXTENSIONS = JPEG_SUFFIXES | {".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"}
MP4_SUFFIXES = (".mp4", ".m4v", ".mov")  # What an output video may be named: video.py writes H.264 MP4.
DEEP_SUFFIXES = {".png", ".tif", ".tiff"}  # Formats that hold 16 bits per channel.
ALPHA_SUFFIXES = {".png", ".tif", ".tiff", ".webp"}  # Formats whose alpha channel viewers read.
SPLITS = ("train", "val", "test")
MIN_SIDE = 16  # Pixels: a half smaller than this is not a photo worth learning from.
JITTER = 1.12  # The paper's jitter: resize to about 1.12x the training size, then crop back.
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, the weights OpenCV's RGB2GRAY uses.
CHROMA_FLOOR = 0.2  # Sum of |RGB - gray| in [-1, 1] units at about Lab chroma 10, where colour becomes visible.
CHROMA_THRESHOLD = 10.0  # Lab chroma above which a pixel has visible colour (JPEG noise in gray stays below 3).


class BadImage(ValueError):
    """A file that cannot be used; the message says why."""


def silent(message):
    """A `log` that says nothing."""


class Progress:
    """One progress line on stderr, rewritten in place; messages are written on lines of their own."""

    def __init__(self, total, log, unit="images", label=""):
        """total: how many `unit` there are (0 when unknown); label: what the line is about."""
        self.total, self.log_function, self.unit, self.label = total, log, unit, label
        self.start, self.shown = time.perf_counter(), False

    def update(self, done, made):
        rate = made / max(time.perf_counter() - self.start, 1e-9)
        total = f"/{self.total}" if self.total else ""
        print(f"\r{self.label}{done}{total} {self.unit}, {rate:.2f} {self.unit}/s", end="", file=sys.stderr,
              flush=True)
        self.shown = True

    def log(self, message):
        self.close()
        self.log_function(message)

    def close(self):
        if self.shown:
            print(file=sys.stderr, flush=True)
            self.shown = False


def one_line_errors(main):
    """A script's main, with a ValueError or OSError (bad input, a full disk) ended as one line on stderr,
    'error: ...', and exit status 1, instead of a traceback."""
    @functools.wraps(main)
    def run(argv=None):
        try:
            return main(argv)
        except (ValueError, OSError) as error:
            sys.exit(f"error: {error}")
    return run


@contextlib.contextmanager
def quiet_stderr():
    """Send what C++ libraries write to the process's stderr (TensorFlow's start-up log) to /dev/null for a
    while; Python's own sys.stderr is untouched once the block ends."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


# ----------------------------------------------------------------------------------------------- compositing


def luminance(image):
    """Gray (H x W x 1) of an RGB image; works on NumPy arrays, tensors and Keras symbolic tensors alike."""
    if isinstance(image, np.ndarray) and image.ndim == 3 and image.dtype == np.float32:
        return cv2.transform(image, np.float32([LUMA]))[..., None]  # One pass: twice as fast at full resolution.
    return image[..., 0:1] * LUMA[0] + image[..., 1:2] * LUMA[1] + image[..., 2:3] * LUMA[2]


def splash(image, mask):
    """Keep the colour of `image` where `mask` is 1 and turn it to its own gray where `mask` is 0.

    `mask` has shape H x W x 1 (or broadcasts to it); fractions blend linearly. Written so that mask 1 gives the
    pixel exactly and mask 0 gives the gray exactly, and with plain arithmetic so that the model's mask head,
    the dataset tools and predict.py use this one function on NumPy arrays and on tensors.
    """
    return image * mask + luminance(image) * (1 - mask)


def lab(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2Lab)  # Float input: L in [0, 100], a and b in about [-128, 127].


def lab_chroma(image):
    """Lab chroma, the distance of each pixel's colour from gray (H x W), of a float RGB image in [0, 1]."""
    ab = lab(image)[..., 1:]
    return np.hypot(ab[..., 0], ab[..., 1])


def coloured(image):
    """Boolean map of the pixels with visible colour (Lab chroma above CHROMA_THRESHOLD): what the metrics count
    and what an rgb-head model's output adds to the photo's gray."""
    return lab_chroma(image) > CHROMA_THRESHOLD


def colour_strength(photos):
    """Sum of |RGB - gray| of each pixel (B x H x W), in [-1, 1] units: a cheap measure of colour for the losses
    (evaluate.py's visible colour is Lab chroma)."""
    from keras import ops  # Keras loads TensorFlow: only when a tensor is worked on.

    return ops.sum(ops.abs(photos - luminance(photos)), axis=-1)


def target_mask(photos, targets):
    """(mask, weight), each B x H x W: the mask m* with targets = splash(photos, m*), and how far it is defined.

    target - gray = m* (photo - gray), so m* is their projection, clipped to [0, 1] (JPEG noise). Where the photo
    is gray it is undefined: each pixel weighs its colour strength over CHROMA_FLOOR, at most 1."""
    from keras import ops  # Keras loads TensorFlow: only when a tensor is worked on.

    photos, targets = ops.cast(photos, "float32"), ops.cast(targets, "float32")
    gray = luminance(photos)
    colour = photos - gray
    power = ops.sum(colour * colour, axis=-1)
    mask = ops.clip(ops.sum((targets - gray) * colour, axis=-1) / ops.maximum(power, 1e-6), 0.0, 1.0)
    return mask, ops.minimum(colour_strength(photos) / CHROMA_FLOOR, 1.0)


# --------------------------------------------------------------------------------------------------- files


def is_image(path):
    """An image file by its name, not hidden (our temporary files are hidden)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file() and not path.name.startswith(".")


def is_video(path):
    """A video file by its name, not hidden."""
    return path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file() and not path.name.startswith(".")


def list_images(folder):
    """All image files below `folder` (recursively), sorted, skipping hidden files and our temporary files."""
    return sorted(p for p in Path(folder).rglob("*") if is_image(p))


def jpeg_is_complete(data):
    """True if a JPEG's image data ends with an end-of-image marker. The marker segments before the first scan
    are walked over (an EXIF thumbnail holds a marker of its own); anything after the image's end, such as the
    video that phones' motion photos append, is fine."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # Fill byte, or a marker without length.
            position += 1 if marker == 0xFF else 2
        elif marker == 0xDA:  # Start of scan: the coded data can hold no 0xFFD9 but the image's own end.
            return data.find(b"\xff\xd9", position) >= 0
        else:
            position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return False


def decode_image(path):
    """Read any common image file as (rgb, alpha, depth), keeping its own pixel type: rgb uint8, uint16 or
    float32 (H x W x 3, RGB), alpha of the same type or None, and the file's bits per channel (8, 16; 32 for
    float files). JPEG EXIF orientation is applied; gray, RGBA, 16-bit and CMYK files are converted. Raises
    BadImage."""
    try:
        raw = Path(path).read_bytes()  # Unlike cv2.imread, this reads any (unicode) path.
    except OSError as error:
        raise BadImage(f"cannot read: {error.strerror or error}") from None
    if not raw:
        raise BadImage("empty file (0 bytes)")
    is_jpeg = raw[:2] == b"\xff\xd8"
    if is_jpeg and not jpeg_is_complete(raw):
        raise BadImage("truncated JPEG (no end-of-image marker)")
    # IMREAD_UNCHANGED keeps alpha and 16 bits but ignores EXIF orientation; JPEGs have no alpha, so they are
    # decoded with flags that apply the orientation (and convert gray and CMYK to colour).
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH if is_jpeg else cv2.IMREAD_UNCHANGED
    try:
        image = cv2.imdecode(np.frombuffer(raw, np.uint8), flags)
    except cv2.error as error:
        too_large = "MAX_IMAGE_PIXELS" in str(error)
        raise BadImage("too large to decode (over OpenCV's 2^30 pixels)" if too_large
                       else "OpenCV cannot decode it") from None
    if image is None:
        raise BadImage("not an image OpenCV can decode")
    depth = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16, np.dtype(np.float32): 32}.get(image.dtype)
    if depth is None:
        raise BadImage(f"unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[2]
    alpha = image[..., 3] if channels == 4 else image[..., 1] if channels == 2 else None
    rgb = np.repeat(image[..., :1], 3, axis=2) if channels in (1, 2) else image[..., 2::-1]  # BGR(A) -> RGB.
    return (np.ascontiguousarray(rgb), None if alpha is None else np.ascontiguousarray(alpha), depth)


def to_float(image):
    """uint8, uint16 or float pixels -> float32 in [0, 1]."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535
    return np.clip(image, 0, 1).astype(np.float32, copy=False)


def read_image(path):
    """decode_image with the pixels as float32 in [0, 1]: (rgb H x W x 3, alpha or None, depth)."""
    rgb, alpha, depth = decode_image(path)
    return to_float(rgb), None if alpha is None else to_float(alpha), depth


def to_uint(image, depth=8):
    """Float image in [0, 1] to uint8 (depth 8) or uint16 (depth 16, and 32 for float files), rounded."""
    top, dtype = (255, np.uint8) if depth == 8 else (65535, np.uint16)
    if image.dtype == dtype:
        return image
    if image.dtype in (np.uint8, np.uint16):
        image = to_float(image)
    return (np.clip(image, 0, 1) * top + 0.5).astype(dtype)


def encode_image(rgb, suffix, alpha=None, depth=8, quality=95, *, metadata=None):
    """Encode an RGB image (float in [0, 1], or uint8/uint16) and optional alpha in the format of `suffix`, with
    a photo's EXIF, XMP and ICC profile (metadata.Metadata) where the format holds them. Formats without 16 bits
    or alpha get 8 bits and no alpha. Raises BadImage for a format OpenCV cannot write."""
    suffix = suffix.lower()
    codec = ".jpg" if suffix in JPEG_SUFFIXES else suffix  # .jfif and .jpe files are JPEGs too.
    if codec not in IMAGE_EXTENSIONS:
        raise BadImage(f"cannot write {suffix or 'extension-less'} files: choose --format jpg, png, webp or tif")
    depth = depth if codec in DEEP_SUFFIXES else 8
    pixels = to_uint(rgb[..., ::-1], depth)
    if alpha is not None and codec in ALPHA_SUFFIXES:
        pixels = np.concatenate([pixels, to_uint(alpha, depth)[..., None]], axis=2)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if codec == ".jpg" else []
    try:
        ok, buffer = cv2.imencode(codec, pixels, params)
    except cv2.error:
        ok = False
    if not ok:
        raise BadImage(f"OpenCV cannot write this image as {suffix}")
    return embed(buffer.tobytes(), codec, metadata, rgb.shape[1], rgb.shape[0])


def read_umask():
    mask = os.umask(0)  # The only way to read it is to set it: done once, at import, before any thread runs.
    os.umask(mask)
    return mask


UMASK = read_umask()
TEMPORARY = re.compile(r"^\.(\d+)-[0-9a-f]{8}-")  # .PID-TOKEN-name: the temporary files this code writes.


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path` for a writer (bytes, Keras's save, a folder); when the block ends
    without error it is renamed to `path` in one step, otherwise removed. So `path` is never half written, and a
    file replaced keeps its mode (a new one gets the umask's)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{os.getpid()}-{secrets.token_hex(4)}-{path.name}"
    try:
        yield temporary
        if path.is_file() and not path.is_symlink():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        if path.is_dir() and not path.is_symlink() and temporary.is_dir():
            shutil.rmtree(path)
        os.replace(temporary, path)
    finally:
        if temporary.is_dir() and not temporary.is_symlink():
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary.exists() or temporary.is_symlink():
            temporary.unlink()


def write_atomic(path, data):
    """Write bytes to `path` through a temporary file and a rename: never half a file."""
    with atomic_path(path) as temporary:
        with open(temporary, "xb") as file:
            file.write(data)


def remove_stale_temporaries(folder):
    """Remove the temporary files that a killed process of ours left in `folder` (its PID no longer runs)."""
    for path in Path(folder).glob(".*-*"):
        match = TEMPORARY.match(path.name)
        if not match or process_exists(int(match[1])):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_image(path, rgb, alpha=None, depth=8, quality=95, *, metadata=None):
    write_atomic(path, encode_image(rgb, Path(path).suffix, alpha, depth, quality, metadata=metadata))


def resize(image, width, height):
    """Resize with area averaging when shrinking and bicubic when enlarging (the one resizing rule). Keeps the
    pixel type; a float image stays in [0, 1] (bicubic overshoots), an integer one saturates in OpenCV."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrinking = width * height < image.shape[0] * image.shape[1]
    out = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    if out.dtype.kind == "f":
        out = np.clip(out, 0, 1)
    return out if out.ndim == image.ndim else out[..., None]


# --------------------------------------------------------------------------------------------------- pairs


def split_pair(image):
    """An A|B image -> (A, B), the left and right halves. Raises BadImage for an odd width or a tiny image."""
    height, width = image.shape[:2]
    if width % 2:
        raise BadImage(f"odd width {width}: an A|B pair has two halves of equal width")
    if height < MIN_SIDE or width // 2 < MIN_SIDE:
        raise BadImage(f"too small ({width}x{height}); each half must be at least {MIN_SIDE}x{MIN_SIDE}")
    return image[:, : width // 2], image[:, width // 2:]


def read_pair(path, direction="AtoB"):
    """(input, target) of an A|B file, float RGB: (A, B), or (B, A) for direction BtoA. Raises BadImage."""
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', not {direction!r}")
    a, b = split_pair(read_image(path)[0])
    return (b, a) if direction == "BtoA" else (a, b)


def join_pair(a, b):
    return np.concatenate([a, b], axis=1)


def gray3(image):
    """The gray of an RGB image as three equal channels."""
    return np.repeat(luminance(image), 3, axis=-1)


def prepare_input(a, input_mode):
    """What the network sees of a photo: the photo itself (`colour`) or its gray (`gray`)."""
    if input_mode == "gray":
        return gray3(a)
    if input_mode != "colour":
        raise ValueError(f"input mode must be 'colour' or 'gray', not {input_mode!r}")
    return a


def find_split_dirs(folder):
    """{split name: folder} for DIR/train, DIR/val, DIR/test; a folder with none of them is its own 'train'.
    Images directly in a folder that also has split folders are an error: they would be silently left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    found = {name: folder / name for name in SPLITS if (folder / name).is_dir()}
    if not found:
        return {"train": folder}
    loose = [p.name for p in folder.iterdir() if is_image(p)]
    if loose:
        raise ValueError(f"{folder} has {len(loose)} images (e.g. {loose[0]}) beside its {'/, '.join(found)}/ "
                         f"folders: move them into one of those")
    return found


def load_pairs(folder, size, direction="AtoB", input_mode="colour", log=print):
    """Decode every A|B file below `folder` into uint8 arrays (N x S x S x 3) at the jitter size S.

    Returns (inputs, targets, paths). Bad files are skipped with one line each and a count at the end.
    Decoding runs in threads (OpenCV releases the GIL), so both cores are busy.
    """
    paths = list_images(folder)
    side = jitter_size(size)

    def load(path):
        a, b = read_pair(path, direction)
        return to_uint(resize(prepare_input(a, input_mode), side, side)), to_uint(resize(b, side, side))

    inputs, targets, good = [], [], []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for path, future in zip(paths, [pool.submit(load, p) for p in paths]):
            try:
                a, b = future.result()
            except BadImage as error:
                log(f"skipped {path}: {error}")
                continue
            inputs.append(a)
            targets.append(b)
            good.append(path)
    if len(good) < len(paths):
        log(f"{folder}: {len(paths) - len(good)} of {len(paths)} files skipped")
    if not good:
        raise ValueError(f"no usable A|B image in {folder}")
    return np.stack(inputs), np.stack(targets), good


def jitter_size(size):
    return int(round(size * JITTER)) if size >= 32 else size + 4


def random_jitter(a, b, size, seed=None):
    """The paper's jitter on one (A, B) pair of tensors (S x S x 3): one random crop to `size` and one random
    mirror, identical for A and B because they are stacked and cropped as one."""
    import tensorflow as tf  # The training pipeline's ops: TensorFlow loads only when a run trains.

    stacked = tf.concat([a, b], axis=-1)
    stacked = tf.image.random_crop(stacked, [size, size, stacked.shape[-1]], seed=seed)
    stacked = tf.image.random_flip_left_right(stacked, seed=seed)
    return stacked[..., :3], stacked[..., 3:]


def to_unit_range(image):
    """uint8 [0, 255] or float [0, 1] -> float32 [-1, 1], what the network sees."""
    import tensorflow as tf  # The training pipeline's ops: TensorFlow loads only when a run trains.

    if image.dtype == tf.uint8:
        image = tf.cast(image, tf.float32) / 255
    return image * 2 - 1


def cut_mix(a, b, probability):
    """On a batch of pairs: paste a random box (a quarter to a half of the side) of its neighbour into each pair,
    with the given probability, into A and B alike. A style that decides colour object by object holds pixel by
    pixel in the mixed pair, which then shows objects and backgrounds that were never seen together."""
    import tensorflow as tf  # The training pipeline's ops: TensorFlow loads only when a run trains.

    count, size = tf.shape(a)[0], a.shape[1]
    height = tf.random.uniform([count], size // 4, size // 2 + 1, dtype=tf.int32)
    width = tf.random.uniform([count], size // 4, size // 2 + 1, dtype=tf.int32)
    top = tf.cast(tf.random.uniform([count]) * tf.cast(size - height + 1, tf.float32), tf.int32)
    left = tf.cast(tf.random.uniform([count]) * tf.cast(size - width + 1, tf.float32), tf.int32)
    rows, cols = tf.range(size)[None, :, None], tf.range(size)[None, None, :]
    box = ((rows >= top[:, None, None]) & (rows < (top + height)[:, None, None])
           & (cols >= left[:, None, None]) & (cols < (left + width)[:, None, None]))
    box = (box & (tf.random.uniform([count]) < probability)[:, None, None])[..., None]
    return tf.where(box, tf.roll(a, 1, 0), a), tf.where(box, tf.roll(b, 1, 0), b)


PASTE_SCALES = (0.25, 1.5)  # Copy-paste: the pasted objects' scale, drawn log-uniformly.
PASTE_ANGLE = 30  # Degrees either way.


def copy_paste(a, b, probability):
    """On a batch of pairs in [-1, 1]: with the given probability, paste its neighbour's kept objects into each
    pair, turned, mirrored and scaled (log-uniformly within PASTE_SCALES) at a random place: Ghiasi et al.'s
    "Simple Copy-Paste" (CVPR 2021), on any user's pairs. A pair's kept objects are where its target keeps
    colour (target_mask over 0.5), closed over small gaps so that their gray parts come along. The neighbour's
    photo and target mask are warped together, and where pasted the target is splash(pasted photo, pasted mask):
    exact, as in every pair."""
    import tensorflow as tf  # The training pipeline's ops: TensorFlow loads only when a run trains.

    count, size = tf.shape(a)[0], a.shape[1]
    source = tf.roll(a, 1, 0)
    mask, weight = target_mask(source, tf.roll(b, 1, 0))
    kept = tf.cast((mask > 0.5) & (weight > 0.5), tf.float32)[..., None]
    kept = -tf.nn.max_pool2d(-tf.nn.max_pool2d(kept, 5, 1, "SAME"), 5, 1, "SAME")  # Closing: 5 px gaps.
    rows, cols = tf.meshgrid(tf.range(size, dtype=tf.float32), tf.range(size, dtype=tf.float32), indexing="ij")
    area = tf.maximum(tf.reduce_sum(kept, [1, 2, 3]), 1.0)
    centre_x = tf.reduce_sum(kept[..., 0] * cols, [1, 2]) / area  # Where the kept objects are, in the source,
    centre_y = tf.reduce_sum(kept[..., 0] * rows, [1, 2]) / area
    target_x, target_y = (tf.random.uniform([count], 0, size) for _ in range(2))  # and where they go.
    scale = tf.exp(tf.random.uniform([count], *[math.log(s) for s in PASTE_SCALES]))
    angle = tf.random.uniform([count], -1, 1) * math.radians(PASTE_ANGLE)
    mirror = tf.where(tf.random.uniform([count]) < 0.5, -1.0, 1.0)
    # The inverse map, output pixel -> source pixel: source = centre + M (pixel - target), M = R(angle) F / scale.
    m00, m01 = tf.cos(angle) * mirror / scale, tf.sin(angle) / scale
    m10, m11 = -tf.sin(angle) * mirror / scale, tf.cos(angle) / scale
    transforms = tf.stack([m00, m01, centre_x - m00 * target_x - m01 * target_y,
                           m10, m11, centre_y - m10 * target_x - m11 * target_y,
                           tf.zeros([count]), tf.zeros([count])], axis=1)
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.concat([source, mask[..., None], kept], -1), transforms=transforms,
        output_shape=[size, size], fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")
    pasted = (warped[..., 4:] > 0.5) & (tf.random.uniform([count, 1, 1, 1]) < probability)
    photo = warped[..., :3]
    return tf.where(pasted, photo, a), tf.where(pasted, splash(photo, warped[..., 3:4]), b)


def appearance(a, b, probability):
    """On a batch of pairs in [-1, 1]: with the given probability, draw dark lines along a pair's strong edges
    (as an artist outlines a drawing), change its contrast, brightness and saturation and add gray noise, to
    photo and target alike. Each darkens a pixel toward black, changes every channel by the same affine map or
    moves a pixel along its own line to its gray, so it commutes with splash: the target stays exact, and which
    pixels keep colour does not change, so the decision must rest on more than the drawing's rendering."""
    import tensorflow as tf  # The training pipeline's ops: TensorFlow loads only when a run trains.

    count = tf.shape(a)[0]
    changed = tf.random.uniform([count, 1, 1, 1]) < probability

    def draw(low, high, neutral):
        return tf.where(changed, tf.random.uniform([count, 1, 1, 1], low, high), neutral)
    contrast, brightness, saturation = draw(0.6, 1.4, 1.0), draw(-0.25, 0.25, 0.0), draw(0.5, 1.5, 1.0)
    noise = luminance(tf.random.normal(tf.shape(a))) * draw(0.0, 0.08, 0.0)
    # Sobel magnitude over 1.5 to 4 marks 10% to 1% of a demo photo's pixels; half the lines are thickened.
    edges = tf.norm(tf.image.sobel_edges(luminance(a))[..., 0, :], axis=-1)[..., None] > draw(1.5, 4.0, 1e9)
    edges = tf.cast(edges, tf.float32)
    edges = tf.where(tf.random.uniform([count, 1, 1, 1]) < 0.5, tf.nn.max_pool2d(edges, 3, 1, "SAME"), edges)
    ink = 1 - edges * (1 - draw(0.0, 0.5, 1.0))  # The factor of each pixel's distance from black.

    def change(x):
        x = (x + 1) * ink - 1
        gray = luminance(x)
        return (gray + saturation * (x - gray)) * contrast + brightness + noise
    return change(a), change(b)


def make_dataset(inputs, targets, size, batch_size, *, shuffle=True, seed=None, mix=0.0, paste=0.0, vary=0.0):
    """A tf.data pipeline over decoded pairs: shuffle, jitter (or centre crop), [-1, 1], batch, [cut-mix, copy-paste,
    appearance changes], prefetch.

    When shuffling (training) it repeats for ever: fit takes steps_per_epoch steps from one iterator, because
    a new iterator each epoch costs Keras more than a second on a CPU, a quarter of a demo epoch."""
    import tensorflow as tf  # The training pipeline's ops: TensorFlow loads only when a run trains.

    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.map(lambda a, b: random_jitter(a, b, size), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.map(lambda a, b: (center_crop(a, size), center_crop(b, size)))
    dataset = dataset.map(lambda a, b: (to_unit_range(a), to_unit_range(b)), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=shuffle and len(inputs) >= batch_size)
    if shuffle and mix:  # On the batch: each pair takes its box from its neighbour.
        dataset = dataset.map(lambda a, b: cut_mix(a, b, mix), num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle and paste:  # Each pair takes its neighbour's kept objects.
        dataset = dataset.map(lambda a, b: copy_paste(a, b, paste), num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle and vary:
        dataset = dataset.map(lambda a, b: appearance(a, b, vary), num_parallel_calls=tf.data.AUTOTUNE)
    return (dataset.repeat() if shuffle else dataset).prefetch(tf.data.AUTOTUNE)


def center_crop(image, size):
    top = (image.shape[0] - size) // 2
    left = (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]


# ----------------------------------------------------------------------------------------------- the tools


def same_file_key(path):
    """What names one file: its device and inode where it exists (so a symbolic or hard link to it is the same
    file), else its path resolved through links."""
    try:
        status = os.stat(path)
    except OSError:
        return Path(path).resolve()
    return status.st_dev, status.st_ino


def check_writes(writes, reads=(), folders=(), overwrite=False):
    """Refuse, before anything is written, a run that would write over what it reads: the one check every tool's
    writes go through. `writes`: [(path to write, the input it is made from, or None)]; `reads`: the files the
    run reads; `folders`: folders it reads as a whole (the photos, a folder of masks, the data, a run), inside
    which it writes nothing. Files are compared through links. An output may replace its own input, and only
    with `overwrite`; never another input. Raises ValueError naming the first clash."""
    read = {same_file_key(path): Path(path) for path in reads}
    inside = [Path(folder).resolve() for folder in folders]
    for path, source in writes:
        clash = read.get(same_file_key(path))
        if clash is not None and source is not None and same_file_key(source) == same_file_key(path):
            if not overwrite:
                raise ValueError(f"the output would replace the input {source}: pass another OUT, or --overwrite "
                                 "to replace the inputs")
        elif clash is not None:
            made_from = f" (the output of {source})" if source is not None else ""
            raise ValueError(f"{path}{made_from} would replace the input {clash}: choose another output")
        resolved = Path(path).resolve()
        for folder in inside:
            if resolved == folder or folder in resolved.parents:
                raise ValueError(f"{path} would be written inside the input folder {folder}: choose another "
                                 "output")


def files_by_stem(folder, log):
    """{stem: path} of the images below `folder`, and the stems that name more than one file (with a message)."""
    found = {}
    for path in list_images(folder):
        found.setdefault(path.stem, []).append(path)
    ambiguous = sorted(stem for stem, paths in found.items() if len(paths) > 1)
    for stem in ambiguous:
        log(f"skipped {stem}: {len(found[stem])} files in {folder} have that name "
            f"({', '.join(str(p.relative_to(folder)) for p in found[stem])})")
    return {stem: paths[0] for stem, paths in found.items() if len(paths) == 1}, ambiguous


def make_pairs(before_dir, after_dir, out_dir, make_b, *, what, log=print):
    """Shared loop of `combine` and `masks`: pair by stem, build B, write A|B JPEGs, report what failed.
    Returns (written, failed); names found in one folder only are listed, not counted as failures."""
    check_writes([(out_dir, None)], folders=(before_dir, after_dir))
    before, ambiguous_before = files_by_stem(before_dir, log)
    after, ambiguous_after = files_by_stem(after_dir, log)
    ambiguous = set(ambiguous_before) | set(ambiguous_after)
    for stem in sorted(before.keys() - after.keys() - ambiguous):
        log(f"unmatched: {stem} has no {what} in {after_dir}")
    for stem in sorted(after.keys() - before.keys() - ambiguous):
        log(f"unmatched: {stem} has no photo in {before_dir}")
    written, failed = 0, len(ambiguous)
    for stem in sorted(before.keys() & after.keys()):
        try:
            a = read_image(before[stem])[0]
            b = make_b(a, after[stem])
            write_image(Path(out_dir) / f"{stem}.jpg", join_pair(a, b))
            written += 1
        except BadImage as error:
            log(f"skipped {stem}: {error}")
            failed += 1
    log(f"wrote {written} A|B pairs to {out_dir}; {failed} failed")
    if not written:
        raise ValueError(f"no pair could be made from {before_dir} and {after_dir}")
    return written, failed


def combine(before_dir, after_dir, out_dir, log=print):
    """Photos + their hand-edited versions (same stems) -> A|B JPEGs; B is resized to A's size if needed."""
    def make_b(a, path):
        b = read_image(path)[0]
        return resize(b, a.shape[1], a.shape[0])
    return make_pairs(before_dir, after_dir, out_dir, make_b, what="edited version", log=log)


def masks(photos_dir, masks_dir, out_dir, log=print):
    """Photos + masks (white = keep colour, black = gray, same stems) -> A|B JPEGs with B = splash(A, mask)."""
    def make_b(a, path):
        mask = luminance(read_image(path)[0])
        return splash(a, resize(mask, a.shape[1], a.shape[0]).reshape(a.shape[0], a.shape[1], 1))
    return make_pairs(photos_dir, masks_dir, out_dir, make_b, what="mask", log=log)


def split(folder, test=0.2, seed=0, log=print):
    """Move a reproducible fraction of the images directly in `folder` into folder/test, the rest into
    folder/train. Whole files move (by rename), so no photo is in both splits; nothing is overwritten."""
    if not 0 < test < 1:
        raise ValueError(f"--test must be a fraction between 0 and 1, not {test}")
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if len(files) < 2:
        raise ValueError(f"{folder} has {len(files)} image files directly inside; nothing to split")
    for name in ("test", "train"):
        if (folder / name).exists() and not (folder / name).is_dir():
            raise ValueError(f"{folder / name} is a file, not a folder: move it away first")
    random.Random(seed).shuffle(files)
    count = min(len(files) - 1, max(1, round(len(files) * test)))
    plan = [(p, folder / ("test" if i < count else "train") / p.name) for i, p in enumerate(files)]
    clashes = [str(target) for _, target in plan if target.exists()]
    if clashes:
        raise ValueError(f"refusing to overwrite {len(clashes)} files, e.g. {clashes[0]}")
    for source, target in plan:
        target.parent.mkdir(exist_ok=True)
        os.rename(source, target)
    log(f"moved {count} files to {folder / 'test'} and {len(files) - count} to {folder / 'train'}")
    return count


@one_line_errors
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("combine", help="pair photos with hand-edited versions by file stem")
    command.add_argument("before", help="folder of original photos (A)")
    command.add_argument("after", help="folder of edited photos (B), same file stems")
    command.add_argument("out", help="folder for the A|B JPEGs")
    command = commands.add_parser("masks", help="make A|B pairs from photos and masks (white = keep colour)")
    command.add_argument("photos", help="folder of photos")
    command.add_argument("masks", help="folder of masks with the same file stems")
    command.add_argument("out", help="folder for the A|B JPEGs")
    command = commands.add_parser("split", help="move a reproducible fraction of a folder into test/",
                                  formatter_class=HelpFormatter)
    command.add_argument("folder", help="folder of A|B images")
    command.add_argument("--test", type=float, default=0.2, help="fraction that goes to test/")
    command.add_argument("--seed", type=int, default=0, help="seed of the shuffle")
    args = parser.parse_args(argv)
    if args.command == "split":
        split(args.folder, args.test, args.seed)
        return
    if args.command == "combine":
        _, failed = combine(args.before, args.after, args.out)
    else:
        _, failed = masks(args.photos, args.masks, args.out)
    if failed:
        sys.exit(1)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module's docstring as written and each option's default."""


if __name__ == "__main__":
    main()
