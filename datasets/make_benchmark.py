"""Build the development benchmark: harder layouts on photos the demo never uses, in val/ and test/ splits.

    python datasets/make_benchmark.py --out /tmp/benchmark             # from ../shared/photos: 225 pairs
    python datasets/make_benchmark.py --out /tmp/benchmark --exact /tmp/benchmark_exact   # and a perfect model
    python datasets/make_benchmark.py --style red --out /tmp/red_benchmark    # the red-keeping style
    python evaluate.py --data /tmp/benchmark --model runs/latest        # score a run on both splits

The photos are the full-resolution photographs of shared/photos (lomiri_*): none of them is among the demo's
sources, so no run trained on the demo has seen them. They are split by photo: val/ is for every choice
(defaults, the test-time mode, thresholds), test/ is only reported. Every layout is make_demo.hard_layout's
(half of the demo's are), in the ways the tool fails on new photos:
- objects from a tenth of the crop's side to half of it (the demo's plain layouts: a fifth to two fifths);
- in every layout a kept object lies partly under another object;
- half the other objects are recoloured to the hue of a kept one, so colour alone does not tell;
- the photos themselves hold the kept objects' colours (paintbrushes, sunsets, wine, flowers).
Pairs are stored at 256 px and JPEG quality 85, like the demo's test split. Nothing is written into the repo.
"""
import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # make_demo.py, beside this file.
from make_demo import RECOLOUR, STYLES, hard_layout, load_sprites, write_pair

from data import read_image  # On the path once make_demo is imported.

HERE = Path(__file__).resolve().parent
PHOTOS = "lomiri_*.jpg"  # The full-resolution photographs; the demo's sources are the others.
LAYOUTS = 15  # Per photo: 8 val photos and 7 test photos, 225 pairs in all.


def split_of(index):
    """Photos alternate between val and test in name order, so both get a spread of scenes."""
    return "val" if index % 2 == 0 else "test"


def build(photos_dir, sprites_dir, out, layouts=LAYOUTS, seed=0, exact=None, style="objects"):
    sprites = load_sprites(sprites_dir, style)
    paths = sorted(photos_dir.glob(PHOTOS))
    if not paths:
        raise SystemExit(f"no {PHOTOS} in {photos_dir}")
    rng = random.Random(seed)
    for index, path in enumerate(paths):
        photo = read_image(path)[0]
        for layout in range(layouts):
            a, mask = hard_layout(photo, sprites, rng, RECOLOUR[style])
            write_pair(out, split_of(index), f"{path.stem}_{layout}", a, mask, exact)
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
