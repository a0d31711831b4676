"""Build the development benchmark: harder layouts on photos the demo never uses, in val/ and test/ splits.

    python datasets/make_benchmark.py --out /tmp/benchmark             # from ../shared/photos: 225 pairs
    python datasets/make_benchmark.py --out /tmp/benchmark --exact /tmp/benchmark_exact   # and a perfect model
    python datasets/make_benchmark.py --style red --out /tmp/red_benchmark    # the red-keeping style
    python evaluate.py --data /tmp/benchmark --model runs/latest        # score a run on both splits

The photos are the full-resolution photographs of shared/photos (lomiri_*): none of them is among the demo's
sources, so no run trained on the demo has seen them. They are split by photo: val/ is for every choice
(defaults, the test-time mode, thresholds), test/ is only reported. The layouts are harder than the demo's test
split, in the ways the tool fails on new photos:
- objects from a tenth of the crop's side to half of it (the demo's: about a fifth to two fifths);
- in every layout a kept object lies partly under another object;
- half the other objects are recoloured to the hue of a kept one, so colour alone does not tell;
- the photos themselves hold the kept objects' colours (paintbrushes, sunsets, wine, flowers).
Pairs are stored at 256 px and JPEG quality 85, like the demo's test split. Nothing is written into the repo.
"""
import argparse
import random
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # make_demo.py, beside this file.
from make_demo import SIZE, STYLES, load_sprites, paste, random_square, transform_sprite, write_pair

from data import read_image  # On the path once make_demo is imported.

HERE = Path(__file__).resolve().parent
PHOTOS = "lomiri_*.jpg"  # The full-resolution photographs; the demo's sources are the others.
LAYOUTS = 15  # Per photo: 8 val photos and 7 test photos, 225 pairs in all.


def split_of(index):
    """Photos alternate between val and test in name order, so both get a spread of scenes."""
    return "val" if index % 2 == 0 else "test"


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
    """(A, mask): 1 or 2 kept objects and 1 to 3 others on a random crop; the first other object is pasted
    over a corner of the first kept one, and each other object takes a kept object's hue with probability
    `recolour_share`."""
    a = random_square(photo, rng)
    mask = np.zeros((SIZE, SIZE, 1), np.float32)
    kept = [rng.choice([s for s in sprites if s[0]]) for _ in range(rng.randint(1, 2))]
    others = [rng.choice([s for s in sprites if not s[0]]) for _ in range(rng.randint(1, 3))]
    hues = [mean_hue(rgb, alpha) for _, rgb, alpha in kept]
    boxes = []
    for index, (keep, rgb, alpha) in enumerate(kept + others):
        if not keep and rng.random() < recolour_share:
            rgb = recolour(rgb, rng.choice(hues))
        longest = round(SIZE * rng.uniform(0.1, 0.5))
        rgb, alpha = transform_sprite(rgb, alpha, longest, rng.uniform(-25, 25), rng.random() < 0.5)
        h, w = alpha.shape[:2]
        if index == len(kept):  # The first other object: centred on a corner of the first kept one.
            top, left, kept_h, kept_w = boxes[0]
            y = top + kept_h * rng.randint(0, 1) - h // 2
            x = left + kept_w * rng.randint(0, 1) - w // 2
            y, x = min(max(y, 0), SIZE - h), min(max(x, 0), SIZE - w)
        else:
            y, x = rng.randint(0, SIZE - h), rng.randint(0, SIZE - w)
        boxes.append((y, x, h, w))
        paste(a, mask, rgb, alpha, y, x, keep)
    return a, mask


def build(photos_dir, sprites_dir, out, layouts=LAYOUTS, seed=0, exact=None, style="objects"):
    sprites = load_sprites(sprites_dir, style)
    recolour_share = 0.5 if style == "objects" else 0  # A red distractor would be a kept object in "red".
    paths = sorted(photos_dir.glob(PHOTOS))
    if not paths:
        raise SystemExit(f"no {PHOTOS} in {photos_dir}")
    rng = random.Random(seed)
    for index, path in enumerate(paths):
        photo = read_image(path)[0]
        for layout in range(layouts):
            write_pair(out, split_of(index), f"{path.stem}_{layout}", *hard_layout(photo, sprites, rng, recolour_share),
                       exact)
    for split in ("val", "test"):
        print(f"{split}: {len(list((out / split).glob('*.jpg')))} pairs in {out / split}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=HERE.parent.parent / "shared" / "photos",
                        help="folder holding the lomiri_*.jpg photographs (default ../shared/photos)")
    parser.add_argument("--sprites", type=Path, default=HERE / "sources" / "sprites", help="cut-outs to use")
    parser.add_argument("--out", type=Path, required=True, help="where val/ and test/ go")
    parser.add_argument("--layouts", type=int, default=LAYOUTS, help="layouts per photo (default 15)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the layouts (default 0)")
    parser.add_argument("--style", choices=STYLES, default="objects", help="which cut-outs keep their colour "
                        "(default objects; see make_demo.py)")
    parser.add_argument("--exact", type=Path, metavar="DIR", help="also write what the exact mask makes of each "
                        "stored photo: what a perfect model scores (evaluate.py --outputs DIR)")
    args = parser.parse_args(argv)
    if args.exact:
        args.exact.mkdir(parents=True, exist_ok=True)
    build(args.photos, args.sprites, args.out, args.layouts, args.seed, args.exact, args.style)


if __name__ == "__main__":
    main()
