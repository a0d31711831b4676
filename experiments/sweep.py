"""Train as a user does (`python train.py`) over training minutes, numbers of training pairs and seeds, and score
every run on one or more benchmarks: the README's curves and most rows of docs/experiments.md.

    python -m experiments.sweep --benchmark /tmp/bench-noto /tmp/bench-openmoji --minutes 2 5 10 14 30 60
    python -m experiments.sweep --benchmark /tmp/bench-noto /tmp/bench-openmoji --pairs 35 50 100 200 0
    python -m experiments.sweep --benchmark /tmp/bench-openmoji --minutes 5 --out runs/paste -- --paste 0.5

Run from the repo's root. Options after `--` go to train.py as they are. Each run is scored with the pooled colour
IoU of each benchmark's val and test splits (make_benchmark.py builds them); a row per run goes to OUT/sweep.jsonl
as it ends, so an interrupted sweep goes on where it stopped (a finished run in OUT/runs is scored, not trained
again). `--pairs N` trains on N pairs of the data's train/ split (a seeded draw; 0: all of them) with its val/ and
test/ as they are. OUT/curve.png draws each split's mean and range over seeds against the swept value.
"""
import argparse
import json
import math
import random
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

import data
import evaluate
import train

ROOT = Path(__file__).resolve().parent.parent


def subset(folder, count, seed, out):
    """A data folder (symlinks) whose train/ holds `count` pairs of `folder`'s train/, and its val/ and test/."""
    pairs = sorted(data.list_images(Path(folder) / "train"))
    random.Random(seed).shuffle(pairs)
    shutil.rmtree(out, ignore_errors=True)
    (out / "train").mkdir(parents=True)
    for path in pairs[:count]:
        (out / "train" / path.name).symlink_to(path.resolve())
    for split in ("val", "test"):
        if (Path(folder) / split).is_dir():
            (out / split).symlink_to((Path(folder) / split).resolve())
    return out


def training_data(flags):
    """The data folder train.py trains on with these flags."""
    return flags[flags.index("--data") + 1] if "--data" in flags else train.DEFAULTS["data"]


def scores(run, benchmarks):
    """{benchmark name: {split: pooled colour IoU}} of a run, on each benchmark's held-out splits."""
    return {Path(b).name: {split: round(summary["pooled_colour_iou"], 4) for split, summary in
                           evaluate.evaluate(b, model=run, log=data.silent).items() if split != "train"}
            for b in benchmarks}


def sweep(benchmarks, minutes, pairs, seeds, out, flags):
    """Train and score every (minutes, pairs, seed) not already in OUT/sweep.jsonl; returns this sweep's rows."""
    table = out / "sweep.jsonl"
    rows = [json.loads(line) for line in table.read_text().splitlines()] if table.is_file() else []
    name = re.sub(r"[^\w.=]+", "-", " ".join(flags)).strip("-") or "defaults"  # No "/" of a path.
    wanted = []
    for budget in minutes:
        for count in pairs:
            for seed in seeds:
                key = {"minutes": budget, "pairs": count, "seed": seed, "flags": " ".join(flags)}
                row = next((r for r in rows if all(r[k] == v for k, v in key.items())), None)
                if row is None or set(map(lambda b: Path(b).name, benchmarks)) - set(row["scores"]):
                    run = out / "runs" / f"{name}-{budget:g}min-{count or 'all'}pairs-seed{seed}"
                    if not (run / "generator.keras").is_file():
                        folder = out / "data" / f"{count}-{seed}"
                        given = ["--data", str(subset(training_data(flags), count, seed, folder))] if count else []
                        command = [sys.executable, str(ROOT / "train.py"), "--out", str(run), "--minutes",
                                   str(budget), "--seed", str(seed), *flags, *given]
                        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                    epochs = len((run / "log.csv").read_text().splitlines()) - 1
                    row = {**key, "epochs": epochs, "scores": {**(row or {}).get("scores", {}),
                                                               **scores(run, benchmarks)}}
                    rows = [r for r in rows if not all(r[k] == v for k, v in key.items())] + [row]
                    print(json.dumps(row), flush=True)
                    data.write_atomic(table, "".join(json.dumps(r) + "\n" for r in rows).encode())
                wanted.append(row)
    return wanted


def summarise(rows, axis):
    """{"benchmark split": {value of the axis: [IoU of each seed]}}, and a line per point."""
    curve = {}
    for row in rows:
        for bench, splits in row["scores"].items():
            for split, value in splits.items():
                curve.setdefault(f"{bench} {split}", {}).setdefault(row[axis], []).append(value)
    for label, points in curve.items():
        print(f"{label}: " + ", ".join(f"{x:g} {statistics.mean(v):.3f} ({min(v):.3f} to {max(v):.3f}, {len(v)} "
                                       f"seeds)" for x, v in sorted(points.items())))
    return curve


def draw_curve(curve, xlabel, width=720, height=420):
    """A plot (RGB uint8 image) of pooled colour IoU against a swept value (log scale) per label: the mean over
    seeds joined by lines, the range over seeds as a bar; a point with fewer seeds than the most is hollow."""
    image = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, width - 20, 20, height - 60
    xs = sorted({x for points in curve.values() for x in points})
    span = [math.log(xs[0]), math.log(xs[-1]) if xs[-1] > xs[0] else math.log(xs[0]) + 1]

    def xy(x, iou):
        return (int(round(left + (right - left) * (math.log(x) - span[0]) / (span[1] - span[0]))),
                int(round(bottom - (bottom - top) * iou)))

    font, black, gray = cv2.FONT_HERSHEY_SIMPLEX, (0, 0, 0), (210, 210, 210)
    for tick in np.arange(0, 1.01, 0.1):
        cv2.line(image, (left, xy(xs[0], tick)[1]), (right, xy(xs[0], tick)[1]), gray, 1)
        cv2.putText(image, f"{tick:.1f}", (left - 40, xy(xs[0], tick)[1] + 5), font, 0.45, black, 1, cv2.LINE_AA)
    for x in xs:
        cv2.putText(image, f"{x:g}", (xy(x, 0)[0] - 8, bottom + 20), font, 0.45, black, 1, cv2.LINE_AA)
    cv2.putText(image, xlabel, (left + 120, height - 15), font, 0.5, black, 1, cv2.LINE_AA)
    cv2.putText(image, "pooled IoU", (5, top + 10), font, 0.45, black, 1, cv2.LINE_AA)
    most = max(len(v) for points in curve.values() for v in points.values())
    palette = [(50, 100, 230), (230, 80, 30), (40, 160, 60), (150, 60, 180), (200, 150, 0), (0, 160, 160)]
    for index, (label, points) in enumerate(sorted(curve.items())):
        colour = palette[index % len(palette)]
        centres = [xy(x, statistics.mean(v)) for x, v in sorted(points.items())]
        for (x, v), centre in zip(sorted(points.items()), centres):
            cv2.line(image, xy(x, min(v)), xy(x, max(v)), colour, 2)
            cv2.circle(image, centre, 4, colour, -1 if len(v) == most else 1, cv2.LINE_AA)
        cv2.polylines(image, [np.array(centres)], False, colour, 2, cv2.LINE_AA)
        cv2.putText(image, f"{label} (mean, range over {most} seeds)", (left + 10, top + 20 + 20 * index), font,
                    0.5, colour, 1, cv2.LINE_AA)
    return image


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", nargs="+", required=True, help="benchmark folders (make_benchmark.py)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[14.0], help="training budgets (default 14)")
    parser.add_argument("--pairs", type=int, nargs="+", default=[0], help="numbers of training pairs (default 0: "
                        "all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    parser.add_argument("--out", type=Path, default=Path("runs/sweep"), help="where runs, sweep.jsonl and "
                        "curve.png go (default runs/sweep)")
    args, flags = parser.parse_known_args(argv)
    flags = [flag for flag in flags if flag != "--"]
    rows = sweep(args.benchmark, args.minutes, args.pairs, args.seeds, args.out, flags)
    axis = "pairs" if len(args.pairs) > 1 else "minutes"
    curve = summarise(rows, axis)
    if len({row[axis] for row in rows}) > 1:
        if axis == "pairs":  # All of them is the largest number of pairs.
            most = max(len(data.list_images(Path(training_data(flags)) / "train")), max(args.pairs))
            curve = {label: {x or most: v for x, v in points.items()} for label, points in curve.items()}
        xlabel = "training pairs" if axis == "pairs" else "training minutes (python train.py --minutes M)"
        data.write_image(args.out / "curve.png", draw_curve(curve, xlabel))


if __name__ == "__main__":
    main()
