"""Rebuild the demo dataset: object cut-outs pasted on real photos, with exact targets.

    python datasets/make_demo.py                              # rebuild datasets/demo from datasets/sources
    python datasets/make_demo.py --import-from ../shared      # first copy (downsized) sources from shared/
    python datasets/make_demo.py --held-out 30 --seed 12345 --out /tmp/heldout   # a 180-pair test sample
    python datasets/make_demo.py --held-out 8 --seed 777 --photos train --out /tmp/seen  # new layouts, seen photos
    python datasets/make_demo.py --whole ../shared/photos/lomiri_*.jpg --out /tmp/whole  # full-size photos
    python datasets/make_demo.py --style red --out /tmp/red   # the red-keeping style, for --input gray

The style ("objects"): instruments and flowers keep their colour; everything else (the photo, animals, food,
vehicles, sport and other objects, many of them red or bright) turns gray. Which pixels keep colour depends on
what an object is, not on its colour, so a model must learn objects. B = splash(A, mask), where the mask is the
kept cut-outs' alpha as seen in the final layout (a later paste hides an earlier one). Half the layouts are
plain (2 to 4 cut-outs, large and whole), half hard, of the benchmark's kind (datasets/make_benchmark.py): small
ones, a kept one partly hidden, others turned to a kept one's hue. The other style,
`--style red` (the study's red-keeping splash), keeps the cut-outs that are mostly red: the style in which a
gray photo holds enough to restore the kept colour, since the kept objects' hue is known.

Whole source photos are held out: the photos in VAL_PHOTOS and TEST_PHOTOS never appear in train/. val/ is for
every choice (train.py picks the test-time mode on it), test/ is only reported. Held-out pairs are stored at
256 px, so that evaluation also measures predict.py's way back from the 128 px network to full resolution.
The same cut-outs appear in both splits (in new places, sizes and angles), so the test split measures new
backgrounds and layouts.
"""
import argparse
import random
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # The repo's root, for data.py.
from data import read_image, resize, splash, split_pair, write_image

HERE = Path(__file__).resolve().parent

SIZE = 256  # Side of the layouts, and of each half of the stored test pairs.
TRAIN_SIDE = 144  # Training pairs are stored just above the default 128 px training size: more layouts fit.
KEEP = ("instrument", "flower")  # Categories that keep their colour in the "objects" style.
STYLES = ("objects", "red")
# Share of the other cut-outs turned to a kept one's hue. None in "red", where a red one would be a kept one.
RECOLOUR = {"objects": 0.5, "red": 0.0}
HARD_SHARE = 0.5  # Of the demo's layouts, chosen on the benchmark's val split over 0 and 1 (docs/experiments.md).
TEST_PHOTOS = ("skimage_astronaut", "opencv_fruits", "opencv_home", "opencv_messi5", "skimage_coffee",
               "opencv_aero3")
VAL_PHOTOS = ("opencv_leuvenA", "opencv_smarties", "skimage_chelsea")
LAYOUTS = {"train": 20, "test": 5}  # Layouts per source photo from the first random stream (never changes).
EXTRA = {"train": 16, "test": 0}  # More layouts per photo from a second stream, so the test split stays the same.
VAL_LAYOUTS = 10  # Per val photo, from a third stream.
QUALITY = {"train": 65, "val": 85, "test": 85}  # JPEG quality: more training layouts fit in the size budget.
PHOTO_MAX_SIDE = 512  # Sources are copied downsized to this.


def import_sources(shared, sources):
    """Copy the photos (downsized) and sprites from shared/ with their licence notes."""
    for name in ("photos", "sprites"):
        (sources / name).mkdir(parents=True, exist_ok=True)
    for path in sorted((shared / "photos").glob("*.jpg")):
        image = read_image(path)[0]
        scale = min(1.0, PHOTO_MAX_SIDE / max(image.shape[:2]))
        image = resize(image, round(image.shape[1] * scale), round(image.shape[0] * scale))
        write_image(sources / "photos" / path.name, image, quality=90)
    for path in sorted((shared / "sprites").glob("*.png")):
        shutil.copy(path, sources / "sprites" / path.name)
    shutil.copy(shared / "photos" / "LICENSES.md", sources / "photos" / "LICENSES.md")
    shutil.copy(shared / "sprites" / "LICENSE.md", sources / "sprites" / "LICENSE.md")


def red_share(rgb, alpha):
    """The share of the cut-out's opaque area in saturated red (hue within 15 degrees of red)."""
    hue, saturation, value = cv2.split(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV))
    red = ((hue < 15) | (hue > 345)) & (saturation > 0.4) & (value > 0.2)
    return float((red * alpha).sum() / alpha.sum())


def load_sprites(folder, style="objects"):
    """[(kept, rgb, alpha)] from RGBA PNGs named <category>__<name>.png; `kept` says whether the style keeps the
    cut-out's colour: its category for "objects", more than half of it red for "red"."""
    sprites = []
    for path in sorted(folder.glob("*.png")):
        rgba = cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float32) / 255
        rgb, alpha = rgba[..., 2::-1].copy(), rgba[..., 3].copy()
        kept = path.name.split("__")[0] in KEEP if style == "objects" else red_share(rgb, alpha) > 0.5
        sprites.append((kept, rgb, alpha))
    return sprites


def kept_and_others(sprites):
    """The cut-outs the style keeps, and the others."""
    return [s for s in sprites if s[0]], [s for s in sprites if not s[0]]


def transform_sprite(rgb, alpha, longest, angle, mirror):
    """Scale a sprite so its longest side is `longest` pixels, mirror it and rotate it (canvas grows to fit)."""
    rgba = np.dstack([rgb * alpha[..., None], alpha])  # Premultiplied, so edges do not pick up black.
    if mirror:
        rgba = rgba[:, ::-1]
    scale = longest / max(rgba.shape[:2])
    height, width = rgba.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    out_w, out_h = int(np.ceil(height * sin + width * cos)), int(np.ceil(height * cos + width * sin))
    matrix[0, 2] += out_w / 2 - width / 2
    matrix[1, 2] += out_h / 2 - height / 2
    rgba = np.clip(cv2.warpAffine(rgba, matrix, (out_w, out_h), flags=cv2.INTER_AREA), 0, 1)
    alpha = rgba[..., 3:]
    return np.where(alpha > 0, rgba[..., :3] / np.maximum(alpha, 1e-6), 0), alpha


def random_square(photo, rng):
    """A random square crop of the photo, 0.6 to 1 of its shorter side, at SIZE."""
    height, width = photo.shape[:2]
    side = int(min(height, width) * rng.uniform(0.6, 1.0))
    top, left = rng.randint(0, height - side), rng.randint(0, width - side)
    return resize(photo[top:top + side, left:left + side], SIZE, SIZE).copy()


def paste(a, mask, rgb, alpha, y, x, keep):
    """Paste a transformed cut-out at (y, x) over the photo, and over the mask as kept (1) or not (0): a later
    paste hides what is below it in both."""
    h, w = alpha.shape[:2]
    region = (slice(y, y + h), slice(x, x + w))
    a[region] = alpha * rgb + (1 - alpha) * a[region]
    mask[region] = alpha * float(keep) + (1 - alpha) * mask[region]


def mean_hue(rgb, alpha):
    """The cut-out's dominant hue in degrees: the circular mean over its opaque, saturated pixels."""
    hsv = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2HSV)
    weight = alpha * hsv[..., 1]
    angle = np.radians(hsv[..., 0])
    return float(np.degrees(np.arctan2((weight * np.sin(angle)).sum(), (weight * np.cos(angle)).sum())) % 360)


def recolour(rgb, hue):
    """The cut-out with every pixel's hue turned to `hue` (degrees); saturation and value are kept."""
    hsv = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2HSV)
    hsv[..., 0] = hue
    return np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0, 1)


def hard_layout(photo, sprites, rng, recolour_share=0.5):
    """(A, mask): 1 or 2 kept cut-outs and 1 to 3 others, each from a tenth to half of the side, on a random
    square crop of the photo at SIZE; B is splash(A, mask).

    The ways the tool fails on new photos are in every layout: the first other cut-out is pasted over a corner of
    the first kept one (a kept object partly, at times wholly, hidden), and each other one takes a kept one's hue
    with probability `recolour_share` (colour alone does not tell)."""
    a = random_square(photo, rng)
    mask = np.zeros((SIZE, SIZE, 1), np.float32)
    keepers, others = kept_and_others(sprites)
    kept = [rng.choice(keepers) for _ in range(rng.randint(1, 2))]
    others = [rng.choice(others) for _ in range(rng.randint(1, 3))]
    hues = [mean_hue(rgb, alpha) for _, rgb, alpha in kept]
    boxes = []
    for index, (keep, rgb, alpha) in enumerate(kept + others):
        if not keep and rng.random() < recolour_share:
            rgb = recolour(rgb, rng.choice(hues))
        longest = round(SIZE * rng.uniform(0.1, 0.5))
        rgb, alpha = transform_sprite(rgb, alpha, longest, rng.uniform(-25, 25), rng.random() < 0.5)
        h, w = alpha.shape[:2]
        if index == len(kept):  # The first other cut-out: centred on a corner of the first kept one.
            top, left, kept_h, kept_w = boxes[0]
            y = top + kept_h * rng.randint(0, 1) - h // 2
            x = left + kept_w * rng.randint(0, 1) - w // 2
            y, x = min(max(y, 0), SIZE - h), min(max(x, 0), SIZE - w)
        else:
            y, x = rng.randint(0, SIZE - h), rng.randint(0, SIZE - w)
        boxes.append((y, x, h, w))
        paste(a, mask, rgb, alpha, y, x, keep)
    return a, mask


def plain_layout(photo, sprites, rng, whole=False):
    """(A, mask): 2 to 4 cut-outs, about a fifth to two fifths of the side, on a random square crop of the photo
    at SIZE (with `whole`, the whole photo at its own size, the cut-outs scaled with it); B is splash(A, mask)."""
    if whole:
        a, scale = photo.copy(), min(photo.shape[:2]) / SIZE
    else:
        a, scale = random_square(photo, rng), 1
    height, width = a.shape[:2]
    mask = np.zeros((height, width, 1), np.float32)
    keepers, others = kept_and_others(sprites)
    for _ in range(rng.randint(2, 4)):
        kept, rgb, alpha = rng.choice(keepers if rng.random() < 0.45 else others)
        longest = round(rng.randint(56, 110) * scale)
        rgb, alpha = transform_sprite(rgb, alpha, longest, rng.uniform(-25, 25), rng.random() < 0.5)
        h, w = alpha.shape[:2]
        y, x = rng.randint(0, height - h), rng.randint(0, width - w)
        paste(a, mask, rgb, alpha, y, x, kept)
    return a, mask


def make_layout(photo, sprites, rng, recolour_share):
    """A demo layout: hard (hard_layout, the benchmark's kind) with probability HARD_SHARE, else plain. The plain
    ones teach the objects whole and large; the hard ones the small, hidden and look-alike cases."""
    if rng.random() < HARD_SHARE:
        return hard_layout(photo, sprites, rng, recolour_share)
    return plain_layout(photo, sprites, rng)


def make_clip(photo, sprites, rng, frames=40, width=320, height=240):
    """[(frame, mask)]: a camera that pans and zooms across the photo while 2 to 4 cut-outs move and turn across
    the picture (they grow and shrink with the zoom), so every frame has its exact target splash(frame, mask)."""
    photo_h, photo_w = photo.shape[:2]
    fit = min(photo_w / width, photo_h / height)  # The widest window of the frame's shape inside the photo.

    def camera():  # (window width, left, top) in photo pixels.
        scale = rng.uniform(0.6, 1.0)
        window_w = width * fit * scale
        return window_w, rng.uniform(0, photo_w - window_w), rng.uniform(0, photo_h - window_w * height / width)
    start, end = camera(), camera()
    keepers, others = kept_and_others(sprites)
    objects = []
    for index in range(rng.randint(2, 4)):
        sprite = rng.choice(keepers if index == 0 or rng.random() < 0.4 else others)
        objects.append((sprite, rng.uniform(0.25, 0.45) * height, rng.uniform(-25, 25), rng.uniform(-1, 1),
                        rng.random() < 0.5, [rng.random() for _ in range(4)]))  # Path: start and end, as fractions.
    clip = []
    for t in np.linspace(0, 1, frames):
        window_w, left, top = (a + (b - a) * t for a, b in zip(start, end))
        window_h = window_w * height / width
        crop = photo[int(top):int(top + window_h), int(left):int(left + window_w)]
        frame = resize(crop, width, height).copy()
        mask = np.zeros((height, width, 1), np.float32)
        zoom = start[0] / window_w
        for (kept, rgb, alpha), longest, angle, turn, mirror, path in objects:
            rgb, alpha = transform_sprite(rgb, alpha, round(longest * zoom), angle + 20 * turn * t, mirror)
            h, w = alpha.shape[:2]
            y = round((path[0] + (path[2] - path[0]) * t) * max(0, height - h))
            x = round((path[1] + (path[3] - path[1]) * t) * max(0, width - w))
            paste(frame, mask, rgb[:height, :width], alpha[:height, :width], y, x, kept)
        clip.append((frame, mask))
    return clip


def write_pair(out, split, stem, a, mask, exact=None):
    """Write A|B; with `exact`, also what the exact mask makes of the stored (JPEG) photo: a perfect model."""
    b = splash(a, mask)
    if split == "train":
        a, b, mask = (resize(x, TRAIN_SIDE, TRAIN_SIDE) for x in (a, b, mask))
    path = out / split / f"{stem}.jpg"
    write_image(path, np.concatenate([a, b], axis=1), quality=QUALITY[split])
    if exact:
        write_image(exact / f"{stem}.png", splash(split_pair(read_image(path)[0])[0], mask))


def build_held_out(sources, out, layouts, seed, exact=None, photos="test", style="objects"):
    """A larger test sample for development: `layouts` new layouts of each held-out photo (with photos="train":
    of each training photo instead), in out/test."""
    sprites = load_sprites(sources / "sprites", style)
    rng = random.Random(seed)
    stems = TEST_PHOTOS if photos == "test" else sorted(
        p.stem for p in (sources / "photos").glob("*.jpg") if split_of(p.stem) == "train")
    for stem in stems:
        photo = read_image(sources / "photos" / f"{stem}.jpg")[0]
        for index in range(layouts):
            write_pair(out, "test", f"{stem}_{index}", *make_layout(photo, sprites, rng, RECOLOUR[style]), exact)
    print(f"test: {len(stems) * layouts} pairs in {out / 'test'}")


def build_whole(paths, sources, out, seed, style="objects"):
    """One layout on each photo at its own full size, in out/test: pairs from photos the demo never saw, to see
    the style at full resolution."""
    sprites = load_sprites(sources / "sprites", style)
    rng = random.Random(seed)
    for path in paths:
        a, mask = plain_layout(read_image(path)[0], sprites, rng, whole=True)
        write_image(out / "test" / f"{Path(path).stem}.jpg", np.concatenate([a, splash(a, mask)], axis=1),
                    quality=90)
    print(f"test: {len(paths)} full-size pairs in {out / 'test'}")


def split_of(stem):
    return "test" if stem in TEST_PHOTOS else "val" if stem in VAL_PHOTOS else "train"


def build(sources, out, seed=0, exact=None, style="objects", drawings=()):
    """The demo in `out`; `drawings`: more folders of cut-outs (make_drawings.py) to draw each layout's from,
    beside the sources' own."""
    sprites = [s for folder in (sources / "sprites", *drawings) for s in load_sprites(folder, style)]
    photos = sorted((sources / "photos").glob("*.jpg"))
    missing = set(TEST_PHOTOS + VAL_PHOTOS) - {p.stem for p in photos}
    if missing:
        raise SystemExit(f"held-out photos missing from {sources / 'photos'}: {sorted(missing)}")
    if out.exists():
        shutil.rmtree(out)
    rng, extra, val = random.Random(seed), random.Random(seed + 1), random.Random(seed + 2)
    share = RECOLOUR[style]
    for path in photos:
        split, photo = split_of(path.stem), read_image(path)[0]
        if split == "val":
            for index in range(VAL_LAYOUTS):
                write_pair(out, split, f"{path.stem}_{index}", *make_layout(photo, sprites, val, share), exact)
            continue
        for index in range(LAYOUTS[split]):
            write_pair(out, split, f"{path.stem}_{index}", *make_layout(photo, sprites, rng, share), exact)
        for index in range(LAYOUTS[split], LAYOUTS[split] + EXTRA[split]):
            write_pair(out, split, f"{path.stem}_{index}", *make_layout(photo, sprites, extra, share), exact)
    for split in ("train", "val", "test"):
        print(f"{split}: {len(list((out / split).glob('*.jpg')))} pairs in {out / split}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=Path, default=HERE / "sources", help="photos/ and sprites/ to use")
    parser.add_argument("--out", type=Path, default=HERE / "demo", help="where the A|B pairs go (replaced)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the layouts")
    parser.add_argument("--style", choices=STYLES, default="objects", help="which cut-outs keep their colour: "
                        "instruments and flowers (objects, the demo's), or the mostly red ones (red)")
    parser.add_argument("--drawings", type=Path, nargs="+", default=[], metavar="DIR", help="more folders of "
                        "cut-outs of the same names, other artists' drawings (make_drawings.py), to lay out beside "
                        "the sources' own")
    parser.add_argument("--import-from", type=Path, help="first copy the sources from this shared/ folder")
    parser.add_argument("--held-out", type=int, metavar="N", help="instead, write N new layouts of each held-out "
                        "photo to OUT/test: a larger test sample (use another --seed)")
    parser.add_argument("--photos", choices=("test", "train"), help="with --held-out: lay out "
                        "the held-out photos (default) or the training photos (new layouts, seen backgrounds)")
    parser.add_argument("--exact", type=Path, metavar="DIR", help="also write, for each pair, the exact mask's "
                        "output on the stored photo: what a perfect model scores (evaluate.py --outputs DIR)")
    parser.add_argument("--whole", type=Path, nargs="+", metavar="PHOTO", help="instead, lay out cut-outs on "
                        "these photos at their own size, one pair each, in OUT/test")
    args = parser.parse_args(argv)
    if args.whole:
        return build_whole(args.whole, args.sources, args.out, args.seed, args.style)
    if args.photos and not args.held_out:
        parser.error("--photos needs --held-out N: the demo itself always lays out both")
    if args.import_from:
        import_sources(args.import_from, args.sources)
    if args.exact:
        args.exact.mkdir(parents=True, exist_ok=True)
    if args.held_out:
        build_held_out(args.sources, args.out, args.held_out, args.seed, args.exact, args.photos or "test",
                       args.style)
    else:
        build(args.sources, args.out, args.seed, args.exact, args.style, args.drawings)


if __name__ == "__main__":
    main()
