"""Build natural photos in a hue-keeping style, for the gray-input mode (`train.py --input gray --head rgb`).

    python datasets/make_hue.py --out /tmp/hue                   # from ../shared/photos: train/, val/, test/
    python evaluate.py --data /tmp/hue --baseline gray           # what all gray scores there

The style is a photo editor's selective colour: every pixel whose hue lies in the kept range (orange, from red to
yellow, as autumn leaves, oranges or a red coat) keeps its colour, fading out over FADE degrees at the range's
edges; the rest turns gray. Nothing is pasted: in a gray photo the kept colour is told only by what things are
(leaves, skin, fruit), and where that does not tell, a model should leave gray. Crops of every photo, split by
photo (every fifth to val, the next to test), train at 144 px, val and test at 256 px. Nothing is written into
the repo.
"""
import argparse
import random
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # make_demo.py, beside this file.
from make_demo import write_pair

from data import read_image, resize  # On the path once make_demo is imported.

HERE = Path(__file__).resolve().parent
KEPT_HUES = (-20.0, 45.0)  # Degrees: red to orange-yellow.
FADE = 10.0  # Degrees over which the mask falls from 1 to 0 outside the kept range.
CROPS = {"train": 24, "val": 10, "test": 10}  # Crops per photo.


def hue_mask(rgb):
    """H x W x 1 in [0, 1] of a float RGB image: 1 where the hue is in KEPT_HUES, falling linearly to 0 over FADE
    degrees outside. Gray pixels have no hue; their mask does not matter, since splash leaves them as they are."""
    hue = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 0]  # Degrees, for float input.
    centre, half = sum(KEPT_HUES) / 2, (KEPT_HUES[1] - KEPT_HUES[0]) / 2
    distance = np.abs((hue - centre + 180.0) % 360.0 - 180.0)  # From the range's centre, around the circle.
    return np.clip(1 - (distance - half) / FADE, 0, 1)[..., None].astype(np.float32)


def split_of(index):
    return "val" if index % 5 == 0 else "test" if index % 5 == 1 else "train"


def build(photos_dir, out, seed=0):
    rng = random.Random(seed)
    for index, path in enumerate(sorted(photos_dir.glob("*.jpg"))):
        photo, split = read_image(path)[0], split_of(index)
        height, width = photo.shape[:2]
        for crop in range(CROPS[split]):
            side = round(min(height, width) * rng.uniform(0.35, 1.0))
            top, left = rng.randrange(height - side + 1), rng.randrange(width - side + 1)
            a = resize(photo[top:top + side, left:left + side], 256, 256)
            write_pair(out, split, f"{path.stem}_{crop}", a, hue_mask(a))
    for split in CROPS:
        print(f"{split}: {len(list((out / split).glob('*.jpg')))} pairs in {out / split}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=HERE.parent.parent / "shared" / "photos",
                        help="folder of photographs (default ../shared/photos)")
    parser.add_argument("--out", type=Path, required=True, help="where train/, val/ and test/ go")
    parser.add_argument("--seed", type=int, default=0, help="seed of the crops (default 0)")
    args = parser.parse_args(argv)
    build(args.photos, args.out, args.seed)


if __name__ == "__main__":
    main()
