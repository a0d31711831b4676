"""Colour-splash photos, videos and whole folders with a trained generator, at their own full resolution.

    python predict.py in/ out/                       # model from runs/latest
    python predict.py photo.jpg out.jpg --model runs/20261125-101500
    python predict.py datasets/demo/test out/ --pairs  # A|B files: colour the A half only
    python predict.py in/ out/ --masks masks/        # also each photo's mask, to correct in an image editor
    python predict.py in/ out/ --use-masks masks/    # apply (corrected) masks instead of the network
    python predict.py clip.mp4 out.mp4               # a video, its audio kept (video.py)

The network sees the whole photo at its training size, and the four corners of a copy 1.12 times larger: the
scale of its training crops. Their outputs are joined, and the decision comes back to full resolution and is
applied to the original pixels: a mask-head model's mask is cut at 0.5 (keep or drop) and upsampled with a
colour-guided filter (its edges follow the photo's), then splash(original, mask); an rgb-head model's visible
colour is upsampled and added to the original's full-resolution gray. So the output has the input's size and
gray, with no blur in it.
"""
import argparse
import json
import os
import sys
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from data import (IMAGE_EXTENSIONS, MP4_SUFFIXES, VIDEO_EXTENSIONS, BadImage, HelpFormatter, Progress,
                  check_writes, coloured, decode_image, is_image, is_video, jitter_size, join_pair, list_images,
                  luminance, one_line_errors, prepare_input, remove_stale_temporaries, resize, same_file_key, splash,
                  split_pair, to_float, to_uint, write_image)
from metadata import read_metadata
from video import BadVideo, colour_video

WORK_SIDE = 1024  # The guided filter's coefficients are computed at most at this size, then upsampled,
DETAIL = 4  # and at least at a 1/DETAIL of the photo's size (He et al.'s ratio) and twice the mask's.
GUIDE_EPS = 1e-4  # Regularisation: edges with more contrast than about sqrt(eps) are followed.
RADIUS = 1  # Window radius in mask pixels: enough to move a blurry edge onto the photo's edge.
SMOOTH = 1 / 32  # Radius, as a share of the network's side, of the guided filter on its mask before the cut.
CUT = 0.5  # The network's mask is cut here: the style keeps or drops whole objects, and faint colour shows.
# Chosen on the benchmark's val split with the five views averaged (`python bench.py cut`, docs/experiments.md).
SNAP = 0.01  # Mask values this close to 0 or 1 become exactly 0 or 1: what is dropped is exactly gray.
BATCH_PIXELS = 24_000_000  # A batch of photos closes early at this many pixels: two 12-megapixel photos.
STRIP = 64  # Rows of a full-resolution photo worked on at once: memory stays bounded, and the cache holds them.
FORMATS = {"jpg": ".jpg", "jpeg": ".jpg", "png": ".png", "webp": ".webp", "tif": ".tif", "tiff": ".tif",
           "bmp": ".bmp"}


# ------------------------------------------------------------------------------------------- full resolution


def box(image, radius):
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def strips(height):
    return [slice(top, min(top + STRIP, height)) for top in range(0, height, STRIP)]


def guided_upsample(mask, guide, radius=RADIUS):
    """Bring a low-resolution mask (h x w) to the guide's size (H x W x 3, RGB of any pixel type) with edges that
    follow the guide, averaging over windows of `radius` mask pixels. Returns H x W float32 in [0, 1]."""
    mask_rows = guided_filter(mask, guide, radius)
    return np.concatenate([mask_rows(rows, to_float(guide[rows])) for rows in strips(guide.shape[0])])


def guided_filter(mask, guide, radius=RADIUS):
    """The colour-guided filter of He et al. that brings a low-resolution mask (h x w) to the guide's size
    (H x W x 3), with its coefficients computed at a working size of at most WORK_SIDE and upsampled (their "fast
    guided filter"), so a 12-megapixel photo takes a fraction of a second. Returns mask_rows(rows, pixels): the
    mask (len(rows) x W, float32 in [0, 1]) of those rows of the guide, given their pixels as float, so that a
    caller working a strip at a time never holds the whole mask.
    """
    height, width = guide.shape[:2]
    side = min(WORK_SIDE, max(2 * max(mask.shape), max(height, width) / DETAIL))
    scale = min(1.0, side / max(height, width))
    work_w, work_h = max(1, round(width * scale)), max(1, round(height * scale))
    p = cv2.resize(mask.astype(np.float32), (work_w, work_h), interpolation=cv2.INTER_LINEAR)
    radius = max(1, round(radius * max(work_w / mask.shape[1], work_h / mask.shape[0])))
    colours = cv2.split(to_float(resize(guide, work_w, work_h)))  # Whole planes: faster arithmetic than views.
    means = [box(x, radius) for x in colours]
    mean_p = box(p, radius)
    cov = [box(x * p, radius) - mean * mean_p for x, mean in zip(colours, means)]

    def var(j, k):
        return box(colours[j] * colours[k], radius) - means[j] * means[k] + (GUIDE_EPS if j == k else 0)

    rr, rg, rb, gg, gb, bb = var(0, 0), var(0, 1), var(0, 2), var(1, 1), var(1, 2), var(2, 2)
    # Inverse of the symmetric 3x3 covariance by cofactors, for every pixel at once.
    i_rr, i_rg, i_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i_gg, i_gb, i_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * i_rr + rg * i_rg + rb * i_rb
    a = [(i_rr * cov[0] + i_rg * cov[1] + i_rb * cov[2]) / det,
         (i_rg * cov[0] + i_gg * cov[1] + i_gb * cov[2]) / det,
         (i_rb * cov[0] + i_gb * cov[1] + i_bb * cov[2]) / det]
    b = mean_p - a[0] * means[0] - a[1] * means[1] - a[2] * means[2]
    coefficients = cv2.merge([box(x, radius) for x in (*a, b)])  # q = a . pixel + b, at the working size.
    sx, sy = work_w / width, work_h / height

    def mask_rows(rows, pixels):
        # Linear upsampling of the rows' coefficients, with cv2.resize's pixel-centre rule.
        to_work = np.float32([[sx, 0, 0.5 * sx - 0.5], [0, sy, (rows.start + 0.5) * sy - 0.5]])
        a_b = cv2.warpAffine(coefficients, to_work, (width, rows.stop - rows.start),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        q = np.einsum("ijk,ijk->ij", a_b[..., :3], pixels) + a_b[..., 3]
        q = cv2.threshold(q, SNAP, 0, cv2.THRESH_TOZERO)[1]  # Up to SNAP (and below 0) becomes 0,
        return 1 - cv2.threshold(1 - q, SNAP, 0, cv2.THRESH_TOZERO)[1]  # from 1 - SNAP (and above 1) 1.
    return mask_rows


def smooth(mask, small):
    """A mask at the network's size (h x w x 1) averaged over windows of one colour in what the network saw
    (`small`, in [-1, 1]), by a guided filter of radius SMOOTH of the side: a speck it is unsure of inside an
    object follows the object around it, and the edge stays where the colour changes."""
    radius = max(1, round(SMOOTH * mask.shape[1]))
    return guided_upsample(mask[..., 0], ((small + 1) / 2).astype(np.float32), radius)[..., None]


def in_strips(photo, function):
    """`function(rows, pixels)` (float pixels of those rows in, float pixels out) over a full-resolution photo,
    a strip of rows at a time, into an array of the photo's own pixel type."""
    out = np.empty_like(photo)
    for rows in strips(photo.shape[0]):
        result = function(rows, to_float(photo[rows]))
        out[rows] = result if photo.dtype == np.float32 else to_uint(result, 8 if photo.dtype == np.uint8 else 16)
    return out


def upsample_colour(output, original):
    """The colour a small RGB `output` (in [0, 1]) adds to its own gray, where visible (data.coloured), brought
    to the size of `original` and added to the original's gray. Where the network invents no visible colour the
    result is exactly gray, as in a hand-made splash; everywhere it keeps the original's gray."""
    height, width = original.shape[:2]
    output = np.clip(output, 0, 1).astype(np.float32)
    colour = (output - luminance(output)) * coloured(output)[..., None]
    colour = cv2.resize(colour, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(luminance(original) + colour, 0, 1)


# ----------------------------------------------------------------------------------------------------- model


def load_run(path):
    """(generator, config) from a run directory (generator.keras, config.json and held_out.json) or a .keras
    file; what a bare file does not say is read off the network."""
    from model import keras  # Keras, and TensorFlow with it: loaded only once a model is used.

    path = Path(path)
    file = path / "generator.keras" if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"no trained generator at {file}; train one with `python train.py` or pass --model")
    try:
        generator = keras.saving.load_model(file, compile=False)
    except Exception as error:  # Keras raises many kinds for a damaged file; the user needs to know which file.
        raise ValueError(f"cannot load {file}: not a readable Keras model ({type(error).__name__})") from None
    config = read_json(file.parent / "config.json")
    measured = read_json(file.parent / "held_out.json")  # What the run measured wins over any copied option.
    config["test_mode"] = measured.get("test_mode", config.get("test_mode", "eval"))
    config.setdefault("size", generator.input_shape[1])
    config.setdefault("head", "mask" if any(layer.name == "mask" for layer in generator.layers) else "rgb")
    convolutions = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2D)]
    config.setdefault("ngf", convolutions[0].filters)  # The first layer's width is the generator's ngf.
    config.setdefault("input", "colour")
    return generator, config


def read_json(path):
    """The JSON object in `path`, {} if there is no such file; a clear error if it is not a JSON object."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} holds no options (a JSON object is expected)")
    return value


class Colourizer:
    """Runs a generator on full-resolution photos: `colourizer([rgb, ...]) -> [output, ...]`, each output of its
    photo's size and pixel type. In steps, for a pipeline: small = network_input(photo); decisions =
    decide([small, ...]); output = apply(photo, decision)."""

    def __init__(self, network, *, size, head="mask", input_mode="colour", training=False, cut=CUT):
        """network: views (N x size x size x 3 in [-1, 1]) -> masks (N x size x size x 1) for the mask head, RGB
        images in [-1, 1] for the rgb head; input_mode: what it sees of a photo (colour or gray); training: run it
        with BatchNorm and Dropout as in training (the paper's way); cut: where a mask is cut (keep or drop)."""
        self.network, self.size, self.head, self.input_mode = network, size, head, input_mode
        self.training, self.threshold = training, cut

    @classmethod
    def from_run(cls, generator, config, cut=CUT):
        """The Colourizer of a run's generator and options (load_run)."""
        import tensorflow as tf  # Loaded only once a model is used.

        from model import mask_of  # Keras, likewise.

        network = mask_of(generator) if config["head"] == "mask" else generator
        training = config.get("test_mode") == "train"
        if training:  # One view at a time (batch statistics): traced once, not run op by op.
            network = tf.function(network)
        return cls(network, size=config["size"], head=config["head"], input_mode=config["input"],
                   training=training, cut=cut)

    def network_input(self, photo):
        """What the network sees of a photo, in [-1, 1]: a copy at the scale it trained at (jitter_size: training
        crops `size` pixels of pairs loaded at that side)."""
        side = jitter_size(self.size)
        return prepare_input(to_float(resize(photo, side, side)), self.input_mode) * 2 - 1

    def corners(self, side):
        """The top-left pixels of the four corners, `size` pixels square, of a copy `side` pixels square."""
        far = side - self.size
        return [(y, x) for y in (0, far) for x in (0, far)]

    def views(self, small):
        """The network's inputs for one photo: the whole at its size, and the four corners of the copy at the
        training scale, which together cover it."""
        size = self.size
        whole = resize((small + 1) / 2, size, size) * 2 - 1  # resize keeps floats in [0, 1].
        return [whole] + [small[y:y + size, x:x + size] for y, x in self.corners(small.shape[0])]

    def join(self, outputs, side):
        """One output, side x side, from those of views(): the mean of the whole's (upsampled) and the corners'
        (averaged where they overlap). At the training scale the network recognises more, and the whole keeps
        the context that a corner cuts off; the mean beat the whole alone on the benchmark's val split in 6 of 7
        runs (docs/experiments.md)."""
        size = self.size
        whole = cv2.resize(outputs[0], (side, side), interpolation=cv2.INTER_LINEAR).reshape(side, side, -1)
        corners, count = np.zeros_like(whole), np.zeros((side, side, 1), np.float32)
        for output, (y, x) in zip(outputs[1:], self.corners(side)):
            corners[y:y + size, x:x + size] += output
            count[y:y + size, x:x + size] += 1
        return (whole + corners / count) / 2

    def probabilities(self, smalls):
        """The network's outputs at the training scale: masks in [0, 1] (smoothed), or RGB images in [-1, 1]."""
        views = np.stack([view for small in smalls for view in self.views(small)])
        if self.training:  # Batch statistics: one view at a time, so a photo's result never depends on others.
            outputs = [np.asarray(self.network(x[None], training=True), np.float32)[0] for x in views]
        else:
            outputs = list(np.asarray(self.network(views, training=False), dtype=np.float32))
        count = len(outputs) // len(smalls)  # Views per photo.
        outputs = [self.join(outputs[i * count:(i + 1) * count], small.shape[0]) for i, small in enumerate(smalls)]
        return [smooth(x, small) for x, small in zip(outputs, smalls)] if self.head == "mask" else outputs

    def cut(self, mask):
        return (mask > self.threshold).astype(np.float32)

    def decide(self, smalls):
        """The network's decisions at the training scale: masks cut (0 or 1), or RGB images in [-1, 1]."""
        outputs = self.probabilities(smalls)
        return [self.cut(x) for x in outputs] if self.head == "mask" else outputs

    def full_mask(self, photo, decision):
        """A mask-head decision brought to the photo's size (H x W x 1), with edges that follow the photo's."""
        return guided_upsample(decision[..., 0], photo)[..., None]

    def apply(self, photo, decision, mask_out=None):
        """The output of a photo (H x W x 3, of its pixel type); a mask-head model also fills `mask_out` (H x W
        uint8, 255 = colour kept) with its full-resolution mask, if given."""
        if self.head == "mask":  # The mask made a strip at a time, from the same float pixels as the splash.
            mask_rows = guided_filter(decision[..., 0], photo)

            def splash_rows(rows, pixels):
                mask = mask_rows(rows, pixels)
                if mask_out is not None:
                    mask_out[rows] = to_uint(mask)
                return splash(pixels, mask[..., None])
            return in_strips(photo, splash_rows)
        coloured = upsample_colour((decision + 1) / 2, to_float(photo))
        return in_strips(photo, lambda rows, pixels: coloured[rows])

    def masks(self, photos):
        """Full-resolution masks of a mask-head model."""
        decisions = self.decide([self.network_input(p) for p in photos])
        return [self.full_mask(photo, decision) for photo, decision in zip(photos, decisions)]

    def __call__(self, photos):
        if not photos:
            return []
        decisions = self.decide([self.network_input(p) for p in photos])
        return [self.apply(photo, decision) for photo, decision in zip(photos, decisions)]


# ----------------------------------------------------------------------------------------------------- files


def plan(source, target, suffix=None):
    """[(input file, output file)]: a folder is walked recursively and mirrored; `suffix` changes the photos'
    format; a video's output is MP4."""
    source, target = Path(source), Path(target)
    named = False  # A single file's output named on the command line.
    if source.is_dir():
        inside = target.resolve()
        files = sorted(p for p in source.rglob("*") if is_image(p) or is_video(p))
        if inside != source.resolve():  # An output folder inside the input folder is not read as input.
            files = [p for p in files if inside not in p.resolve().parents]
        jobs = [(p, target / p.relative_to(source)) for p in files]
    elif source.is_file():
        named = target.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS and not target.is_dir()
        if named and is_video(source) and target.suffix.lower() not in MP4_SUFFIXES:
            raise ValueError(f"a video is written as H.264 MP4: name the output .mp4, not {target.name}")
        if named and suffix and not is_video(source) and FORMATS.get(target.suffix.lower()[1:]) != suffix:
            raise ValueError(f"the output is named {target.name} but --format asks for {suffix}: leave one out")
        jobs = [(source, target if named else target / source.name)]
    else:
        raise ValueError(f"{source} does not exist")

    def output(path, out):
        if is_video(path):
            return out if named else out.with_suffix(".mp4")
        return out.with_suffix(suffix) if suffix else out
    return [(path, output(path, out)) for path, out in jobs]


def mask_name(source, photo):
    """The name of the mask of `photo` (a file of `source`), without its suffix: its path below `source`."""
    return (photo.relative_to(source) if Path(source).is_dir() else Path(photo.name)).with_suffix("")


def mask_file(source, photo, masks_dir):
    """Where the mask of `photo` is written: masks_dir mirrors the input, a PNG named like each photo, so that
    `data.py masks PHOTOS MASKS PAIRS` pairs them by name."""
    return Path(masks_dir) / f"{mask_name(source, photo)}.png"


def masks_by_name(masks_dir):
    """{path below masks_dir without its suffix: [files]}: a corrected mask may come back as .png or .jpg, and
    a name with two files (a stale p.png beside the corrected p.jpg) is ambiguous."""
    masks_dir = Path(masks_dir)
    if not masks_dir.is_dir():
        raise ValueError(f"--use-masks: {masks_dir} is not a folder")
    found = {}
    for path in list_images(masks_dir):
        found.setdefault(path.relative_to(masks_dir).with_suffix(""), []).append(path)
    return found


def read_mask(path, height, width):
    """A mask file (white = colour kept; any image, its luminance, times its alpha where it has one: a
    transparent pixel keeps no colour) as H x W float32 in [0, 1] at the photo's size."""
    try:
        rgb, alpha, _ = decode_image(path)
    except BadImage as error:
        raise BadImage(f"its mask {path}: {error}") from None
    mask = luminance(to_float(rgb))[..., 0] * (1 if alpha is None else to_float(alpha))
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)


def check_plan(jobs, mask_files, log):
    """Of several inputs with one output or one mask file (a.jpg and a.png with --format jpg, or with --masks),
    keep the first and skip the others. Returns (jobs, number skipped)."""
    kept, owner = [], {}
    for photo, out in jobs:
        outputs = [out, *([mask_files[photo]] if photo in mask_files else [])]
        taken = next((path for path in outputs if path.resolve() in owner), None)
        if taken is not None:
            log(f"skipped {photo}: {owner[taken.resolve()]} is written to the same output {taken}")
            continue
        owner.update({path.resolve(): photo for path in outputs})
        kept.append((photo, out))
    return kept, len(jobs) - len(kept)


def check_run_writes(source, jobs, *, mask_files, use_masks, found, model_path, overwrite):
    """Every file run() writes against every file and folder it reads (data.check_writes): an output replaces
    its own input only with --overwrite, never another input, a mask being applied or a file of the model's
    run; masks are not written among the photos, where a later run would read them as photos."""
    photos = [path for path, _ in jobs]
    masks = [path for paths in (found or {}).values() for path in paths]
    if {same_file_key(m) for m in masks} & {same_file_key(p) for p in photos}:
        raise ValueError(f"--use-masks {use_masks} holds the photos themselves: pass the folder of their masks")
    model = None if use_masks else Path(model_path)
    outputs = {out.resolve() for _, out in jobs}
    clash = next((path for path in mask_files.values() if path.resolve() in outputs), None)
    if clash:
        raise ValueError(f"the mask {clash} would replace an output: pass another --masks folder")
    check_writes([*((out, path) for path, out in jobs), *((path, None) for path in mask_files.values())],
                 reads=[*photos, *masks, *([model] if model and model.is_file() else [])],
                 folders=[folder for folder in (use_masks, model) if folder and Path(folder).is_dir()],
                 overwrite=overwrite)
    if mask_files:
        check_writes([(path, None) for path in mask_files.values()],
                     folders=[source if Path(source).is_dir() else Path(source).parent])


def read_input(path, pairs, colourizer):
    """(photo, alpha, depth, small): the photo in its own pixel type, and the network's copy of it."""
    rgb, alpha, depth = decode_image(path)
    if pairs:
        rgb, alpha = split_pair(rgb)[0], None
    return rgb, alpha, depth, colourizer.network_input(rgb)


def read_with_mask(path, pairs, mask_path):
    """(photo, alpha, depth, mask): the photo, and its mask file (`mask_path`: the files of its name) at its size
    (H x W float32)."""
    rgb, alpha, depth = decode_image(path)
    if pairs:
        rgb, alpha = split_pair(rgb)[0], None
    if not mask_path:
        raise BadImage("no mask of that name in the --use-masks folder")
    if len(mask_path) > 1:
        raise BadImage(f"{len(mask_path)} masks have its name ({', '.join(p.name for p in mask_path)}): keep the "
                       "corrected one")
    return rgb, alpha, depth, read_mask(mask_path[0], *rgb.shape[:2])


def read_ahead(pool, function, items, depth):
    """Yield (item, future of function(item)) in order, with up to `depth` calls running ahead."""
    pending = deque()
    for item in items:
        pending.append((item, pool.submit(function, item)))
        if len(pending) > depth:
            yield pending.popleft()
    yield from pending


def photo_batches(pool, jobs, read, size, on_error):
    """Lists of (job, read(job)) of up to `size` photos, closed early once they hold BATCH_PIXELS pixels; one
    file is decoded ahead, and a file that cannot be read goes to on_error(job, error)."""
    batch, pixels = [], 0
    for job, future in read_ahead(pool, read, jobs, 1):
        try:
            result = future.result()
        except (BadImage, OSError) as error:
            on_error(job, error)
            continue
        batch.append((job, result))
        pixels += result[0].shape[0] * result[0].shape[1]
        if len(batch) == size or pixels >= BATCH_PIXELS:
            yield batch
            batch, pixels = [], 0
    if batch:
        yield batch


def run(source, target, model_path="runs/latest", *, batch_size=4, output_format=None, quality=95, pairs=False,
        overwrite=False, skip_existing=False, side_by_side=False, masks=None, use_masks=None, steady=True,
        keep_metadata=True, log=print):
    """Colour every photo and video of `source` into `target` (with `side_by_side`, each output beside its
    photo). With `masks`, also write each photo's full-resolution mask into that folder (see mask_file); with
    `use_masks`, apply the masks of that folder instead of the network. `steady`: a video's decision carried from
    frame to frame (video.py); `keep_metadata`: each photo's EXIF, XMP and ICC profile go into its output
    (metadata.py). Returns (written, skipped, failed): failed counts the files not done, and the
    videos written without the frames that could not be decoded.

    Memory stays bounded whatever the photos' size and number: photos are decoded one ahead, in their own pixel
    type; a batch holds at most BATCH_PIXELS; the network sees small copies; at most one full-resolution output
    per core is being made, a strip of rows at a time."""
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, not {batch_size}")
    if not 1 <= quality <= 100:
        raise ValueError(f"--quality must be from 1 to 100, not {quality}")
    if output_format and output_format.lower() not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(sorted(FORMATS))}, not {output_format!r}")
    if masks and use_masks:
        raise ValueError("--masks writes the network's masks, and --use-masks applies masks instead of the "
                         "network: give one of them")
    planned = plan(source, target, FORMATS[output_format.lower()] if output_format else None)
    photos = [photo for photo, _ in planned if not is_video(photo)]
    mask_files = {photo: mask_file(source, photo, masks) for photo in photos} if masks else {}
    found = masks_by_name(use_masks) if use_masks else None
    check_run_writes(source, planned, mask_files=mask_files, use_masks=use_masks, found=found,
                     model_path=model_path, overwrite=overwrite)
    jobs, clashes = check_plan(planned, mask_files, log)
    videos = [job for job in jobs if is_video(job[0])]
    jobs = [job for job in jobs if not is_video(job[0])]
    skipped = sum(1 for _, out in jobs + videos if skip_existing and out.exists())
    jobs, videos = ([(p, out) for p, out in x if not (skip_existing and out.exists())] for x in (jobs, videos))
    if not jobs and not videos and not skipped:
        raise ValueError(f"no image or video files in {source}")
    photo_only = [flag for flag, given in (("--side-by-side", side_by_side), ("--pairs", pairs), ("--masks", masks))
                  if given]
    if videos and photo_only:
        log(f"{' and '.join(photo_only)} apply to photos: the {len(videos)} video(s) are coloured without them")
    colourizer = None if use_masks else Colourizer.from_run(*load_run(model_path))
    if masks and colourizer and colourizer.head != "mask":
        raise ValueError("--masks needs a mask-head model: this one (--head rgb) makes colour, not a mask")
    for folder in {out.parent for _, out in jobs + videos if out.parent.is_dir()}:
        remove_stale_temporaries(folder)
    progress = Progress(len(jobs), log)
    counts = Counter(failed=clashes)
    try:
        if jobs:
            colour_photos(jobs, colourizer, batch_size=batch_size, quality=quality, pairs=pairs,
                          side_by_side=side_by_side, keep_metadata=keep_metadata, source=source, found=found,
                          mask_files=mask_files, progress=progress, counts=counts)
        if videos:
            colour_videos(videos, colourizer, steady, progress, counts)
    except KeyboardInterrupt:  # Ctrl-C: the writes under way finish or leave nothing (atomic_path).
        progress.close()
        left = len(jobs) + len(videos) - counts["written"] - (counts["failed"] - clashes)
        raise ValueError(f"interrupted: {counts['written']} written into {target}, {left} not done") from None
    incomplete = f" ({counts['incomplete']} incomplete)" if counts["incomplete"] else ""
    log(f"{counts['written']} written{incomplete}, {skipped} skipped (already there), {counts['failed']} failed, "
        f"into {target}")
    return counts["written"], skipped, counts["failed"] + counts["incomplete"]


def colour_videos(videos, colourizer, steady, progress, counts):
    """The videos of run(), one after the other (video.py)."""
    for clip, out in videos:
        try:
            if colourizer is None:
                raise BadVideo("--use-masks applies to photos only")
            frames, lost = colour_video(clip, out, colourizer, steady, progress.log)
            counts["written"] += 1
            if lost:
                progress.log(f"incomplete {clip}: {lost} of {frames + lost} frames could not be decoded; {out} "
                             f"holds the {frames} others")
                counts["incomplete"] += 1
        except BadVideo as error:
            progress.log(f"skipped {clip}: {error}")
            counts["failed"] += 1


def colour_photos(jobs, colourizer, *, batch_size, quality, pairs, side_by_side, keep_metadata, source, found,
                  mask_files, progress, counts):
    """The photos of run(): decoded ahead in threads, the network on batches, outputs written by the threads."""
    workers = os.cpu_count() or 2

    def fail(what, job, error):
        progress.log(f"{what} {job[0]}: {error}")
        counts["failed"] += 1

    def finish(job, future):
        try:
            future.result()
            counts["written"] += 1
        except (BadImage, OSError) as error:
            fail("failed", job, error)

    def read(job):
        if found is not None:
            photo, alpha, depth, last = read_with_mask(job[0], pairs, found.get(mask_name(source, job[0])))
        else:
            photo, alpha, depth, last = read_input(job[0], pairs, colourizer)
        return photo, alpha, depth, read_metadata(job[0]) if keep_metadata else None, last

    with ThreadPoolExecutor(max_workers=workers) as pool:
        writes = deque()
        try:
            for batch in photo_batches(pool, jobs, read, batch_size, lambda job, error: fail("skipped", job, error)):
                decisions = [last for _, (*_, last) in batch]  # Full-resolution masks with --use-masks.
                if colourizer:
                    decisions = colourizer.decide(decisions)
                for (job, (photo, alpha, depth, metadata, _)), decision in zip(batch, decisions):
                    writes.append((job, pool.submit(write_output, colourizer, job[1], photo, decision, alpha=alpha,
                                                    depth=depth, quality=quality, side_by_side=side_by_side,
                                                    metadata=metadata, mask_path=mask_files.get(job[0]))))
                    while len(writes) > workers:
                        finish(*writes.popleft())
                progress.update(counts["written"] + counts["failed"] + len(writes), counts["written"] + len(writes))
        except KeyboardInterrupt:  # Writes not started are dropped; those under way end, and are counted.
            for job, future in writes:
                if not future.cancel():
                    finish(job, future)
            raise
        while writes:
            finish(*writes.popleft())
    progress.update(counts["written"] + counts["failed"], counts["written"])
    progress.close()


def write_output(colourizer, path, photo, decision, *, alpha, depth, quality, side_by_side, metadata=None,
                 mask_path=None):
    """Write a photo's output, made from the network's decision, or, without a colourizer, from a
    full-resolution mask, with the photo's `metadata`; with `mask_path`, also the mask the network's decision
    made (8-bit gray PNG)."""
    mask = np.zeros(photo.shape[:2], np.uint8) if mask_path else None
    if colourizer:
        output = colourizer.apply(photo, decision, mask)
    else:
        output = in_strips(photo, lambda rows, pixels: splash(pixels, decision[rows, :, None]))
    if side_by_side:
        output, alpha = join_pair(photo, output), None if alpha is None else join_pair(alpha, alpha)
    write_image(path, output, alpha, depth, quality, metadata=metadata)
    if mask_path:
        write_image(mask_path, mask[..., None])


@one_line_errors
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("input", help="an image file or a folder (walked recursively)")
    parser.add_argument("output", help="an image file, or a folder that mirrors the input's")
    parser.add_argument("--model", default="runs/latest", help="run directory or .keras file")
    parser.add_argument("--batch-size", type=int, default=4, help="photos per network call")
    parser.add_argument("--format", help="output format (jpg, png, webp, tif, bmp); default: the input's")
    parser.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100")
    parser.add_argument("--pairs", action="store_true", help="inputs are A|B files: colour the A half only")
    parser.add_argument("--overwrite", action="store_true", help="allow OUT to be IN (replaces the inputs)")
    parser.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist alone")
    parser.add_argument("--side-by-side", action="store_true", help="write each photo and its output side by "
                        "side (before | after), to see the style at work")
    parser.add_argument("--masks", metavar="DIR", help="also write each photo's full-resolution mask (8-bit PNG, "
                        "white = colour kept) into DIR, named like the photo, to correct in any image editor")
    parser.add_argument("--frame-by-frame", action="store_true", help="videos: decide each frame on its own, "
                        "not carried from the previous frame (flickers more)")
    parser.add_argument("--use-masks", metavar="DIR", help="apply the masks in DIR (named like the photos, .png "
                        "or any image) instead of the network: no model is needed")
    parser.add_argument("--strip-metadata", action="store_true", help="write no EXIF (camera, date, GPS, "
                        "copyright), XMP or colour profile; by default each output keeps its photo's, its EXIF "
                        "orientation set upright")
    args = parser.parse_args(argv)
    _, _, failed = run(args.input, args.output, args.model, batch_size=args.batch_size, output_format=args.format,
                       quality=args.quality, pairs=args.pairs, overwrite=args.overwrite,
                       skip_existing=args.skip_existing, side_by_side=args.side_by_side, masks=args.masks,
                       use_masks=args.use_masks, steady=not args.frame_by_frame,
                       keep_metadata=not args.strip_metadata)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
