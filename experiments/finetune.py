"""The correct-and-fine-tune loop, measured (docs/experiments.md, "fine-tuning on 5 to 20 corrections").

    python -m experiments.finetune --model runs/latest --benchmark /tmp/benchmark --pairs 0 5 10 20 --minutes 2

Run from the repo's root; options after `--` go to train.py. `--pairs 0` is the control: the same minutes of
training without a corrected pair.
"""
import argparse
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import data
import evaluate

ROOT = Path(__file__).resolve().parent.parent


def finetune(run_dir, benchmark, counts, minutes, out, flags):
    """The correct-and-fine-tune loop, measured: the run's N worst-scored pairs of the benchmark's val split stand
    for photos a person corrected; `train.py --init RUN` trains on them beside the run's own training pairs for
    `minutes` (with `flags`, more train.py options). Scored before and after, never on a corrected pair: the
    other layouts of the corrected pairs' photos (the rest of a shoot), the val photos with no corrected pair,
    and the test split (other photos again)."""
    out, benchmark = Path(out), Path(benchmark)
    config = json.loads((Path(run_dir) / "config.json").read_text())

    def scored(model, report):
        evaluate.evaluate(benchmark, model=model, report=out / report, log=data.silent)
        return list(csv.DictReader((out / report / "per_image.csv").open()))

    def pooled(rows):
        return evaluate.iou(sum(int(row["intersection"]) for row in rows), sum(int(row["union"]) for row in rows))

    def photo(row):
        return row["stem"].rsplit("_", 1)[0]  # make_benchmark.py names a layout PHOTO_INDEX.

    before = scored(run_dir, "before")
    val = sorted((row for row in before if row["split"] == "val"), key=lambda row: float(row["colour_iou"]))
    for count in counts:
        corrected = {row["stem"] for row in val[:count]}
        shoot = {photo(row) for row in val[:count]}
        folder = out / f"corrected-{count}"
        shutil.rmtree(folder, ignore_errors=True)
        for path in Path(config["data"], "train").iterdir():
            (folder / "train").mkdir(parents=True, exist_ok=True)
            (folder / "train" / path.name).symlink_to(path)
        for path in (benchmark / "val").iterdir():
            split = "train" if path.stem in corrected else "val"
            (folder / split).mkdir(parents=True, exist_ok=True)
            (folder / split / path.name).symlink_to(path.resolve())
        (folder / "test").symlink_to((benchmark / "test").resolve())
        tuned = out / f"tuned-{count}"
        shutil.rmtree(tuned, ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "train.py"), "--init", str(run_dir), "--data",
                        str(folder), "--out", str(tuned), "--minutes", str(minutes), *flags], check=True,
                       stdout=subprocess.DEVNULL)
        after = scored(tuned, f"after-{count}")
        groups = {"the rest of their photos": lambda row: row["split"] == "val" and photo(row) in shoot,
                  "other val photos": lambda row: row["split"] == "val" and photo(row) not in shoot,
                  "test": lambda row: row["split"] == "test"}
        scores = [(name, *(pooled([r for r in rows if keep(r) and r["stem"] not in corrected])
                           for rows in (before, after)))
                  for name, keep in groups.items() if any(keep(r) for r in before)]
        print(f"{count} corrected pairs, {minutes:g} min {' '.join(flags)}: " + "; ".join(
            f"{name} {old:.3f} -> {new:.3f}" for name, old, new in scores), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="runs/latest", help="the run to fine-tune (default runs/latest)")
    parser.add_argument("--benchmark", required=True, help="the benchmark folder (make_benchmark.py)")
    parser.add_argument("--pairs", type=int, nargs="+", default=[0, 5, 10, 20], help="numbers of corrected pairs "
                        "(0: the control, the same minutes of training without any)")
    parser.add_argument("--minutes", type=float, default=2.0, help="minutes of each fine-tuning (default 2)")
    parser.add_argument("--out", default="runs/finetune", help="where the runs and reports go")
    args, flags = parser.parse_known_args(argv)
    finetune(args.model, args.benchmark, args.pairs, args.minutes, args.out, [f for f in flags if f != "--"])


if __name__ == "__main__":
    main()
