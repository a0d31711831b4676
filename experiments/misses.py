"""Where a run loses on a benchmark: what it misses and adds, against the JPEG targets and a perfect model.

    python datasets/make_benchmark.py --out /tmp/benchmark --exact /tmp/exact
    python -m experiments.misses --model runs/latest --benchmark /tmp/benchmark --exact /tmp/exact
"""
import argparse
from pathlib import Path

import cv2
import numpy as np

import data
import evaluate
import predict

REGION_SIZES = (0.005, 0.02, 0.08)  # Bounds of the kept regions' areas, as shares of the picture.


def kept_missed_added(wanted, made):
    """Pixel counts of two boolean maps: in both, in `wanted` only, in `made` only."""
    return np.array([np.sum(wanted & made), np.sum(wanted & ~made), np.sum(~wanted & made)])


def misses(run_dir, benchmark, exact):
    """Where a run loses on a benchmark built with `--exact DIR`, pooled over each split: the shares of the union of
    colour (wanted or made) that the output misses and adds, against the target and against a perfect
    model's output (the exact mask on the stored photo, so JPEG's own loss is left out); each photo's shares; and
    how much of the kept regions (connected parts of the perfect output's colour) the output keeps, by area."""
    colourizer = predict.Colourizer.from_run(*predict.load_run(run_dir))
    bounds = ["0", *(f"{100 * size:g}" for size in REGION_SIZES), "100"]
    for split, folder in data.find_split_dirs(benchmark).items():
        counts = np.zeros((2, 3))  # Against the target, then the perfect output: kept by both, missed, added.
        by_photo = {}  # Against the perfect output.
        kept, area = np.zeros(len(REGION_SIZES) + 1), np.zeros(len(REGION_SIZES) + 1)
        for stem, photo, target in evaluate.load_split(folder, log=data.silent):
            output = colourizer([photo])[0]
            perfect = data.read_image(Path(exact) / f"{stem}.png")[0]
            made, wanted = data.coloured(output), data.coloured(perfect)
            against_perfect = kept_missed_added(wanted, made)
            counts += [kept_missed_added(data.coloured(target), made), against_perfect]
            by_photo.setdefault(stem.rsplit("_", 1)[0], np.zeros(3))[:] += against_perfect
            regions, labels, stats, _ = cv2.connectedComponentsWithStats(wanted.astype(np.uint8))
            sizes = np.digitize(stats[1:, cv2.CC_STAT_AREA] / wanted.size, REGION_SIZES)
            np.add.at(kept, sizes, np.bincount(labels[made], minlength=regions)[1:])
            np.add.at(area, sizes, stats[1:, cv2.CC_STAT_AREA])
        for name, (both, missed, added) in zip(("the target", "a perfect model"), counts):
            union = both + missed + added
            print(f"{split} against {name}: IoU {both / union:.3f}, missed {missed / union:.3f} and added "
                  f"{added / union:.3f} of the union")
        for photo, (both, missed, added) in sorted(by_photo.items()):
            union = both + missed + added
            print(f"  {photo}: {union / counts[1].sum():.3f} of the union, IoU {both / union:.3f}, missed "
                  f"{missed / union:.3f}, added {added / union:.3f}")
        print(f"{split}, share of the kept regions' pixels kept, by area (% of the picture; their share of the "
              f"kept pixels): " + ", ".join(f"{bounds[i]}-{bounds[i + 1]}%: {kept[i] / max(area[i], 1):.3f} "
                                           f"({area[i] / area.sum():.3f})" for i in range(len(area))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="runs/latest", help="a trained run (default runs/latest)")
    parser.add_argument("--benchmark", required=True, help="the benchmark folder (make_benchmark.py)")
    parser.add_argument("--exact", required=True, help="the perfect model's outputs (make_benchmark.py --exact)")
    args = parser.parse_args(argv)
    misses(args.model, args.benchmark, args.exact)


if __name__ == "__main__":
    main()
