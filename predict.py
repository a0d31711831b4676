"""Colour-splash whole folders with a trained generator, at each photo's own full resolution.

    python predict.py in/ out/                       # model from runs/latest
    python predict.py photo.jpg out.jpg --model runs/20261125-101500
    python predict.py datasets/demo/test out/ --pairs  # A|B files: colour the A half only
    python predict.py --export exported/ --model runs/latest   # SavedModel + LiteRT (.tflite) for use elsewhere

The network sees a copy resized to its training size. Its decision comes back to full resolution and is applied
to the original pixels: a mask-head model's mask is cut at 0.5 (keep or drop) and upsampled with a
colour-guided filter (its edges follow the photo's), then splash(original, mask); an rgb-head model's colour
(Lab a/b) is upsampled and joined to the original's full-resolution lightness. So the output has the input's
size and lightness, with no blur in the gray.
"""
import argparse
import json
import os
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from data import (BadImage, list_images, prepare_input, read_image, resize, splash, split_pair, write_atomic,
                  write_image)

WORK_SIDE = 1024  # The guided filter's coefficients are computed at most at this size, then upsampled.
GUIDE_EPS = 1e-4  # Regularisation: edges with more contrast than about sqrt(eps) are followed.
RADIUS = 1  # Window radius in mask pixels (measured: 1 beats 0.5 and 2 on the demo).
CUT = 0.5  # The network's mask is cut here, so each pixel is kept or dropped (+0.003 to +0.044 pooled IoU, README).
SNAP = 0.01  # Mask values this close to 0 or 1 become exactly 0 or 1: what is dropped is exactly gray.
FORMATS = {"jpg": ".jpg", "jpeg": ".jpg", "png": ".png", "webp": ".webp", "tif": ".tif", "tiff": ".tif",
           "bmp": ".bmp"}


# ------------------------------------------------------------------------------------------- full resolution


def box(image, radius):
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_upsample(mask, guide, eps=GUIDE_EPS):
    """Bring a low-resolution mask (h x w) to the guide's size (H x W x 3, RGB in [0, 1]) with edges that follow
    the guide: the colour-guided filter of He et al., with its coefficients computed at a working size of at
    most WORK_SIDE and upsampled (their "fast guided filter"), so a 12-megapixel photo takes a fraction of a
    second. Returns H x W float32 in [0, 1].
    """
    height, width = guide.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    work_w, work_h = max(1, round(width * scale)), max(1, round(height * scale))
    image = resize(guide, work_w, work_h)
    p = cv2.resize(mask.astype(np.float32), (work_w, work_h), interpolation=cv2.INTER_LINEAR)
    # A window of about one mask pixel: enough to move a blurry edge onto the photo's edge.
    radius = max(1, round(RADIUS * max(work_w / mask.shape[1], work_h / mask.shape[0])))
    mean_i = box(image, radius)
    mean_p = box(p, radius)
    cov = box(image * p[..., None], radius) - mean_i * mean_p[..., None]
    channels = [image[..., k] for k in range(3)]
    means = [mean_i[..., k] for k in range(3)]

    def var(j, k):
        return box(channels[j] * channels[k], radius) - means[j] * means[k] + (eps if j == k else 0)

    rr, rg, rb, gg, gb, bb = var(0, 0), var(0, 1), var(0, 2), var(1, 1), var(1, 2), var(2, 2)
    # Inverse of the symmetric 3x3 covariance by cofactors, for every pixel at once.
    i_rr, i_rg, i_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i_gg, i_gb, i_bb = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * i_rr + rg * i_rg + rb * i_rb
    c_r, c_g, c_b = cov[..., 0], cov[..., 1], cov[..., 2]
    a = np.dstack([i_rr * c_r + i_rg * c_g + i_rb * c_b,
                   i_rg * c_r + i_gg * c_g + i_gb * c_b,
                   i_rb * c_r + i_gb * c_g + i_bb * c_b]) / det[..., None]
    b = mean_p - np.sum(a * mean_i, axis=2)
    a = cv2.resize(box(a, radius), (width, height), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(box(b, radius), (width, height), interpolation=cv2.INTER_LINEAR)
    q = np.clip(np.sum(a * guide, axis=2) + b, 0, 1)
    q[q < SNAP] = 0
    q[q > 1 - SNAP] = 1
    return q


def upsample_chroma(output, original):
    """Join the colour (Lab a/b) of a small RGB `output` to the full-resolution lightness of `original`."""
    height, width = original.shape[:2]
    lab = cv2.cvtColor(original, cv2.COLOR_RGB2Lab)
    small = cv2.cvtColor(np.clip(output, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    lab[..., 1:] = cv2.resize(small[..., 1:], (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)


# ----------------------------------------------------------------------------------------------------- model


def load_run(path):
    """(generator, config) from a run directory (generator.keras + config.json) or a .keras file."""
    import model  # noqa: F401  Sets the Keras backend before Keras loads.
    import keras

    path = Path(path)
    file = path / "generator.keras" if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"no trained generator at {file}; train one with `python train.py` or pass --model")
    generator = keras.saving.load_model(file, compile=False)
    config_path = file.parent / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    config.setdefault("size", generator.input_shape[1])
    config.setdefault("head", "mask" if any(layer.name == "mask" for layer in generator.layers) else "rgb")
    convolutions = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2D)]
    config.setdefault("ngf", convolutions[0].filters)  # The first layer's width is the generator's ngf.
    config.setdefault("input", "color")
    config.setdefault("test_mode", "eval")
    return generator, config


class Colorizer:
    """Runs a generator on full-resolution photos: `colorizer([rgb, ...]) -> [output, ...]` (RGB in [0, 1])."""

    def __init__(self, generator, config):
        from model import mask_of

        self.size = config["size"]
        self.head = config["head"]
        self.input_mode = config["input"]
        self.training = config.get("test_mode") == "train"  # BatchNorm/Dropout as in training (the paper's way).
        self.network = mask_of(generator) if self.head == "mask" else generator

    def network_outputs(self, photos):
        """The network's raw output at its own size: masks in [0, 1] or RGB images in [-1, 1]."""
        batch = np.stack([resize(prepare_input(p, self.input_mode), self.size, self.size) for p in photos]) * 2 - 1
        if self.training:  # Batch statistics: one photo at a time, so a photo's result never depends on others.
            return np.concatenate([np.asarray(self.network(x[None], training=True), np.float32) for x in batch])
        return np.asarray(self.network(batch, training=False), dtype=np.float32)

    def masks(self, photos):
        """Full-resolution masks (H x W x 1) of a mask-head model: the network's decision (its mask cut at CUT),
        upsampled with edges that follow the photo's."""
        cut = (self.network_outputs(photos) > CUT).astype(np.float32)
        return [guided_upsample(m[..., 0], photo)[..., None] for photo, m in zip(photos, cut)]

    def __call__(self, photos):
        if not photos:
            return []
        if self.head == "mask":
            return [splash(photo, mask) for photo, mask in zip(photos, self.masks(photos))]
        return [upsample_chroma((out + 1) / 2, photo) for photo, out in zip(photos, self.network_outputs(photos))]


# ----------------------------------------------------------------------------------------------------- files


def plan(source, target, suffix=None):
    """[(input file, output file)]: a folder is walked recursively and mirrored; `suffix` changes the format."""
    source, target = Path(source), Path(target)
    if source.is_dir():
        inside = target.resolve()
        files = [p for p in list_images(source) if inside not in p.resolve().parents]
        jobs = [(p, target / p.relative_to(source)) for p in files]
    elif source.is_file():
        is_file_target = target.suffix.lower() in FORMATS.values() or target.suffix.lower() == ".jpeg"
        jobs = [(source, target if is_file_target and not target.is_dir() else target / source.name)]
    else:
        raise ValueError(f"{source} does not exist")
    if suffix:
        jobs = [(p, q.with_suffix(suffix)) for p, q in jobs]
    return jobs


def read_input(path, pairs):
    rgb, alpha, depth = read_image(path)
    if pairs:
        rgb, _ = split_pair(rgb)
        alpha = None
    return rgb, alpha, depth


def run(source, target, model_path="runs/latest", batch_size=4, format=None, quality=95, pairs=False,
        overwrite=False, skip_existing=False, log=print):
    """Colour every photo of `source` into `target`. Returns (written, skipped, failed)."""
    if Path(source).resolve() == Path(target).resolve() and not overwrite:
        raise ValueError("the output is the input: pass a different OUT, or --overwrite to replace the inputs")
    if format and format.lower() not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(sorted(FORMATS))}, not {format!r}")
    jobs = plan(source, target, FORMATS[format.lower()] if format else None)
    skipped = sum(1 for _, out in jobs if skip_existing and out.exists())
    jobs = [(p, out) for p, out in jobs if not (skip_existing and out.exists())]
    if not jobs and not skipped:
        raise ValueError(f"no image files in {source}")
    colorizer = Colorizer(*load_run(model_path))
    written = failed = 0
    start = time.perf_counter()
    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Decoding runs ahead of the network by a bounded number of files, so memory stays flat.
        reads = deque()
        job_iter = iter(jobs)
        writes = deque()

        def fill():
            while len(reads) < 2 * batch_size:
                job = next(job_iter, None)
                if job is None:
                    return
                reads.append((job, pool.submit(read_input, job[0], pairs)))

        def finish_writes(limit):
            nonlocal written, failed
            while len(writes) > limit:
                job, future = writes.popleft()
                try:
                    future.result()
                    written += 1
                except (BadImage, OSError) as error:
                    log(f"failed {job[0]}: {error}")
                    failed += 1

        fill()
        while reads:
            batch = []
            while reads and len(batch) < batch_size:
                job, future = reads.popleft()
                try:
                    batch.append((job, future.result()))
                except (BadImage, OSError) as error:
                    log(f"skipped {job[0]}: {error}")
                    failed += 1
            fill()
            outputs = colorizer([image for _, (image, _, _) in batch])
            for (job, (_, alpha, depth)), output in zip(batch, outputs):
                writes.append((job, pool.submit(write_image, job[1], output, alpha, depth, quality)))
            finish_writes(2 * batch_size)
            done = written + failed + len(writes)
            rate = (written + len(writes)) / max(time.perf_counter() - start, 1e-9)
            print(f"\r{done}/{len(jobs)} images, {rate:.2f} images/s", end="", file=sys.stderr, flush=True)
        finish_writes(0)
    print(file=sys.stderr)
    log(f"{written} written, {skipped} skipped (already there), {failed} failed, into {target}")
    return written, skipped, failed


def float32_generator(generator, config):
    """The generator rebuilt in float32 with the same weights (a bfloat16-trained one computes in bfloat16),
    with outputs {"image"} or, for a mask head, {"image", "mask"}: what the exported files compute."""
    import keras
    from model import build_generator

    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        # Dropout holds no weights, so the inference copy can leave it out.
        copy = build_generator(config["size"], config["ngf"], config["head"], dropout=0.0)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    copy.set_weights(generator.get_weights())
    outputs = {"image": copy.output}
    if config["head"] == "mask":
        outputs["mask"] = copy.get_layer("mask").output
    return keras.Model(copy.input, outputs)


def export(directory, model_path, log=print):
    """Write DIR/saved_model (TensorFlow SavedModel, endpoint `serve`) and DIR/generator.tflite (LiteRT):
    photo batch (N x S x S x 3, RGB in [-1, 1]) -> {"image": N x S x S x 3 in [-1, 1], "mask": N x S x S x 1}."""
    import shutil

    import tensorflow as tf

    generator, config = load_run(model_path)
    network = float32_generator(generator, config)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / ".saved_model.tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    network.export(str(temporary), format="tf_saved_model", verbose=False)
    shutil.rmtree(directory / "saved_model", ignore_errors=True)
    os.replace(temporary, directory / "saved_model")
    converter = tf.lite.TFLiteConverter.from_saved_model(str(directory / "saved_model"))
    write_atomic(directory / "generator.tflite", converter.convert())
    write_atomic(directory / "config.json", json.dumps(config, indent=2).encode())
    log(f"exported {directory / 'saved_model'} and {directory / 'generator.tflite'} "
        f"({(directory / 'generator.tflite').stat().st_size / 1e6:.1f} MB)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", nargs="?", help="an image file or a folder (walked recursively)")
    parser.add_argument("output", nargs="?", help="an image file, or a folder that mirrors the input's")
    parser.add_argument("--model", default="runs/latest", help="run directory or .keras file (default runs/latest)")
    parser.add_argument("--batch-size", type=int, default=4, help="photos per network call (default 4)")
    parser.add_argument("--format", help="output format (jpg, png, webp, tif, bmp); default: the input's")
    parser.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)")
    parser.add_argument("--pairs", action="store_true", help="inputs are A|B files: colour the A half only")
    parser.add_argument("--overwrite", action="store_true", help="allow OUT to be IN (replaces the inputs)")
    parser.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist alone")
    parser.add_argument("--export", metavar="DIR", help="instead of colouring, export the model to DIR as a "
                        "TensorFlow SavedModel (DIR/saved_model) and a LiteRT file (DIR/generator.tflite)")
    args = parser.parse_args(argv)
    if args.export:
        try:
            return export(args.export, args.model)
        except ValueError as error:
            sys.exit(f"error: {error}")
    if args.input is None or args.output is None:
        parser.error("give an input and an output (or --export DIR)")
    try:
        _, _, failed = run(args.input, args.output, args.model, args.batch_size, args.format, args.quality,
                           args.pairs, args.overwrite, args.skip_existing)
    except ValueError as error:
        sys.exit(f"error: {error}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
