"""Score colour-splash outputs against hand-made targets: the study's table, plus measures that see colour.

    python evaluate.py --data datasets/demo --model runs/latest     # run the model on every split's A halves
    python evaluate.py --data datasets/demo --outputs out/          # score images already made (by file stem)
    python evaluate.py --data datasets/demo --baseline identity     # what leaving the photo untouched scores
    python evaluate.py --data datasets/demo --baseline gray         # what turning it all gray scores

Prints per split n and mean +- standard deviation of each metric, and the pooled colour IoU; with --report DIR
writes per_image.csv, summary.json and contact_sheet.png (input | target | output rows, worst first).

Metrics are pure functions of two RGB images (float in [0, 1] or uint8). When sizes differ, both are resized
(area averaging) to the smaller height and the smaller width of the two, so every metric is symmetric in size.
Images given with --outputs must have their pairs' size, though: one of another size was made from something
else than the pair's photo, and is refused rather than scored.
"""
import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from data import (BadImage, HelpFormatter, check_writes, coloured, find_split_dirs, gray3, lab, list_images,
                  one_line_errors, read_image, read_pair, resize, silent, to_float, to_uint, write_atomic,
                  write_image)
from predict import CUT, Colourizer, load_run

HUE_BINS = 36  # 10 degree bins of the Lab hue angle.
METRICS = ("seed_similarity", "hue_similarity", "colour_iou", "chroma_error")


# ---------------------------------------------------------------------------------------------------- metrics


def common_size(a, b):
    """Both images as float RGB at (min height, min width): the resize rule of every metric."""
    a, b = to_float(np.asarray(a)), to_float(np.asarray(b))
    height, width = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return resize(a, width, height), resize(b, width, height)


def histogram_correlation(h1, h2):
    """Pearson correlation of two histograms, clipped to [0, 1]; 1 for equal histograms (even flat ones)."""
    h1, h2 = np.asarray(h1, np.float64), np.asarray(h2, np.float64)
    if np.array_equal(h1, h2):
        return 1.0
    d1, d2 = h1 - h1.mean(), h2 - h2.mean()
    denominator = np.sqrt(np.sum(d1 * d1) * np.sum(d2 * d2))
    if denominator == 0:
        return 0.0  # One histogram is flat and the other is not: no linear relation to speak of.
    return float(np.clip(np.sum(d1 * d2) / denominator, 0, 1))


def seed_similarity(target, output):
    """The study's measure, in [0, 1]: correlation of the 256-bin histograms of the two grayscale images."""
    a, b = common_size(target, output)
    hists = [np.bincount(to_uint(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)).ravel(), minlength=256) for x in (a, b)]
    return histogram_correlation(*hists)


def hue_similarity(target, output):
    """In [0, 1]: correlation of the hue histograms (Lab hue angle, HUE_BINS bins) of the coloured pixels.
    1 when neither image has a coloured pixel, 0 when only one has."""
    a, b = common_size(target, output)
    hists = []
    for image in (a, b):
        ab = lab(image)[..., 1:][coloured(image)]
        angle = np.degrees(np.arctan2(ab[:, 1], ab[:, 0])) % 360
        hists.append(np.bincount(np.minimum((angle / (360 / HUE_BINS)).astype(int), HUE_BINS - 1),
                                 minlength=HUE_BINS))
    empty = [h.sum() == 0 for h in hists]
    if all(empty):
        return 1.0
    if any(empty):
        return 0.0
    return histogram_correlation(*hists)


def colour_counts(target, output):
    """(intersection, union) of the coloured pixels of the two images, for per-image and pooled IoU."""
    a, b = common_size(target, output)
    ca, cb = coloured(a), coloured(b)
    return int(np.sum(ca & cb)), int(np.sum(ca | cb))


def iou(intersection, union):
    """Intersection over union, 1 when the union is empty (nothing to find, and nothing found)."""
    return 1.0 if union == 0 else intersection / union


def pooled_colour_iou(targets, outputs):
    """In [0, 1]: the colour IoU of pairs of images pooled over them (intersections and unions summed)."""
    counts = [colour_counts(target, output) for target, output in zip(targets, outputs)]
    return iou(sum(both for both, _ in counts), sum(either for _, either in counts))


def colour_iou(target, output):
    """In [0, 1]: intersection over union of the pixels with visible colour; 1 when neither has any."""
    return iou(*colour_counts(target, output))


def flicker(targets, outputs, skip_edges=0):
    """For a video: the share of pixels whose decision (visible colour or not) changes between consecutive output
    frames where the target's does not; 0 for an output that is steady wherever its target is. With `skip_edges`,
    only pixels more than `skip_edges` pixels from every edge between colour and gray (of the target and of the
    output, in both frames) count, over the same pixels: regions that flip, not edges moving with what moves."""
    changed = still = 0
    previous = None
    for target, output in zip(targets, outputs):
        decisions = [coloured(x) for x in common_size(target, output)]
        if previous:
            target_still = decisions[0] == previous[0]
            flipped = (decisions[1] != previous[1]) & target_still
            if skip_edges:
                flipped &= ~near_edges(decisions + previous, skip_edges)
            changed += int(np.sum(flipped))
            still += int(np.sum(target_still))
        previous = decisions
    return changed / max(still, 1)


def near_edges(decisions, distance):
    """Boolean map of the pixels at most `distance` pixels (in rows and in columns) from an edge of any of the
    boolean maps `decisions`: a pixel that differs from one of its 4 neighbours."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    edges = sum(cv2.morphologyEx(d.astype(np.uint8), cv2.MORPH_GRADIENT, cross) for d in decisions)
    return cv2.dilate(edges, np.ones((2 * distance + 1,) * 2, np.uint8)) > 0


def chroma_error(target, output):
    """Mean distance of the Lab (a, b) colour components, in [0, about 260]; 0 for equal colours."""
    a, b = common_size(target, output)
    diff = lab(a)[..., 1:] - lab(b)[..., 1:]
    return float(np.mean(np.hypot(diff[..., 0], diff[..., 1])))


def score(target, output):
    """All metrics of one pair as a dict, with the IoU counts for pooling."""
    intersection, union = colour_counts(target, output)
    return {"seed_similarity": seed_similarity(target, output), "hue_similarity": hue_similarity(target, output),
            "colour_iou": iou(intersection, union), "chroma_error": chroma_error(target, output),
            "intersection": intersection, "union": union}


def summarize(rows):
    """n, mean and standard deviation of each metric, and the pooled colour IoU, over a list of score dicts."""
    summary = {"n": len(rows)}
    for name in METRICS:
        values = np.array([row[name] for row in rows], np.float64)
        summary[name] = {"mean": float(values.mean()), "std": float(values.std())} if len(values) else None
    summary["pooled_colour_iou"] = iou(sum(row["intersection"] for row in rows), sum(row["union"] for row in rows))
    return summary


# ---------------------------------------------------------------------------------------------------- harness


def identity(photos):
    return photos


def all_gray(photos):
    return [gray3(p) for p in photos]


def load_split(folder, direction="AtoB", log=print):
    """[(stem, photo, target)] of the A|B files below `folder`; bad files are skipped with a message."""
    return load_files(list_images(folder), direction, log)


def load_files(paths, direction="AtoB", log=print):
    """[(stem, photo, target)] of A|B files; bad files are skipped with a message."""
    items = []
    for path in paths:
        try:
            items.append((path.stem, *read_pair(path, direction)))
        except BadImage as error:
            log(f"skipped {path}: {error}")
    return items


def evaluate_split(items, produce, batch_size=8):
    """Score `produce(stems, photos) -> outputs` on [(stem, photo, target)]; returns rows with the images."""
    rows = []
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        outputs = produce([stem for stem, _, _ in chunk], [photo for _, photo, _ in chunk])
        for (stem, photo, target), output in zip(chunk, outputs):
            rows.append({"stem": stem, **score(target, output), "images": (photo, target, output)})
    return rows


def outputs_reader(folder):
    """A `produce` that looks up images already made in `folder` by stem (in the order of the photos). An
    output missing, of another size than its target, or two files of one stem are errors: each would make the
    score wrong without a word."""
    by_stem = {}
    for path in list_images(folder):
        by_stem.setdefault(path.stem, []).append(path)
    ambiguous = sorted(paths for paths in by_stem.values() if len(paths) > 1)
    if ambiguous:
        raise ValueError(f"{len(ambiguous)} names in {folder} stand for more than one file, e.g. "
                         f"{' and '.join(p.name for p in ambiguous[0])}: keep one of each")

    def produce(stems, photos):
        missing = [s for s in stems if s not in by_stem]
        if missing:
            raise ValueError(f"{len(missing)} outputs missing from {folder}, e.g. {missing[0]}")
        outputs = []
        for stem, photo in zip(stems, photos):
            path = by_stem[stem][0]
            try:
                output = read_image(path)[0]
            except BadImage as error:
                raise ValueError(f"cannot score {path}: {error}") from None
            if output.shape != photo.shape:
                raise ValueError(f"{path} is {output.shape[1]}x{output.shape[0]} but its target is "
                                 f"{photo.shape[1]}x{photo.shape[0]}")
            outputs.append(output)
        return outputs
    return produce


def format_table(summaries):
    """The study's table, extended: one row per split."""
    width = max(8, *(len(name) + 1 for name in summaries))
    lines = [f"{'split':<{width}}{'n':>5}  {'seed sim.':>13}  {'hue sim.':>13}  {'colour IoU':>13}  "
             f"{'chroma err.':>13}  {'pooled IoU':>10}"]
    for split, s in summaries.items():
        cells = [f"{s[m]['mean']:6.3f}+-{s[m]['std']:5.3f}" if s[m] else f"{'-':>13}" for m in METRICS]
        lines.append(f"{split:<{width}}{s['n']:>5}  " + "  ".join(cells) + f"  {s['pooled_colour_iou']:>10.3f}")
    return "\n".join(lines)


def contact_sheet(rows, path, limit=24, side=160):
    """input | target | output rows, worst colour IoU first."""
    worst = sorted(rows, key=lambda r: r["colour_iou"])[:limit]
    lines = []
    for row in worst:
        tiles = [resize(to_float(np.asarray(x)), side, side) for x in row["images"]]
        lines.append(np.concatenate(tiles, axis=1))
    if lines:
        write_image(path, np.concatenate(lines, axis=0))


REPORT_FILES = ("per_image.csv", "summary.json", "contact_sheet.png")


def write_report(report, results, summaries):
    report = Path(report)
    report.mkdir(parents=True, exist_ok=True)
    fields = ["split", "stem", *METRICS, "intersection", "union"]
    lines = [",".join(fields)]
    for split, rows in results.items():
        for row in rows:
            lines.append(",".join(str(row[f]) if f != "split" else split for f in fields))
    csv_file, summary_file, sheet_file = (report / name for name in REPORT_FILES)
    write_atomic(csv_file, ("\n".join(lines) + "\n").encode())
    write_atomic(summary_file, json.dumps(summaries, indent=2).encode())
    contact_sheet([row for rows in results.values() for row in rows], sheet_file)


def producer(*, model=None, outputs=None, baseline=None, cut=CUT):
    """(produce(stems, photos) -> outputs, the pairs' direction) for one of model (a run directory, a .keras file
    or a (generator, config) pair; its mask cut at `cut`), outputs (a folder) and baseline (its name)."""
    if model is not None:
        generator, config = load_run(model) if isinstance(model, (str, Path)) else model
        colourizer = Colourizer.from_run(generator, config, cut=cut)
        return (lambda stems, photos: colourizer(photos)), config.get("direction", "AtoB")
    if baseline is not None:
        make = {"identity": identity, "gray": all_gray}.get(baseline)
        if make is None:
            raise ValueError(f"--baseline must be 'identity' or 'gray', not {baseline!r}")
        return (lambda stems, photos: make(photos)), "AtoB"
    return outputs_reader(outputs), "AtoB"


def score_files(paths, *, model=None, baseline=None, cut=CUT):
    """The summary of one split given as A|B files (a val split train.py takes from the training pairs)."""
    produce, direction = producer(model=model, baseline=baseline, cut=cut)
    items = load_files(paths, direction, log=silent)  # A bad file was named when its folder was read.
    return summarize(evaluate_split(items, produce))


def evaluate(data, *, model=None, outputs=None, baseline=None, report=None, cut=CUT, log=print):
    """Run and score; returns {split: summary}, a flat folder's split named after the folder. Exactly one of
    model (a run directory, a .keras file or a (generator, config) pair; its mask cut at `cut`), outputs and
    baseline."""
    if sum(x is not None for x in (model, outputs, baseline)) != 1:
        raise ValueError("give exactly one of --model, --outputs and --baseline")
    if report:
        read = [Path(x) for x in (data, outputs, model) if isinstance(x, (str, Path))]
        check_writes([(Path(report) / name, None) for name in REPORT_FILES],
                     folders=[x if x.is_dir() else x.parent for x in read])
    produce, direction = producer(model=model, outputs=outputs, baseline=baseline, cut=cut)
    splits = find_split_dirs(data)
    if list(splits.values()) == [Path(data)]:
        splits = {Path(data).name: Path(data)}  # A flat folder is reported under its own name.
    results = {}
    for split, folder in splits.items():
        items = load_split(folder, direction, log)
        if not items:
            continue
        results[split] = evaluate_split(items, produce)
    if not results:
        raise ValueError(f"no usable A|B pair in {data}")
    summaries = {split: summarize(rows) for split, rows in results.items()}
    if report:
        write_report(report, results, summaries)
    return summaries


@one_line_errors
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).parent / "datasets" / "demo"),
                        help="folder of A|B pairs, with train/ test/ val/ inside or flat")
    parser.add_argument("--model", help="run directory or .keras file to run on the A halves (runs/latest when "
                        "neither --outputs nor --baseline is given)")
    parser.add_argument("--outputs", help="folder of images already made, matched to the pairs by file stem")
    parser.add_argument("--baseline", choices=("identity", "gray"), help="score a trivial output instead")
    parser.add_argument("--report", help="folder for per_image.csv, summary.json and contact_sheet.png")
    args = parser.parse_args(argv)
    if args.model is None and args.outputs is None and args.baseline is None:
        args.model = "runs/latest"
    print(format_table(evaluate(args.data, model=args.model, outputs=args.outputs, baseline=args.baseline,
                                report=args.report)))


if __name__ == "__main__":
    main()
