"""Speed benchmarks (not tests): training images/s against a plain loop, and predict.py's seconds per photo.

    python bench.py train                 # demo settings and the paper's 256 px model, ours vs a plain loop
    python bench.py predict               # median seconds per 12-megapixel photo, end to end
    python bench.py export                # exported files' sizes and inference time at the model's size
    python bench.py memory                # peak memory of predict.py over twelve 12-megapixel photos
    python bench.py train --repeats 7 --steps 20
    python bench.py video --model runs/latest --strip docs/video_strip.jpg  # flicker and IoU, steady or not; fps
    python bench.py finetune --model runs/latest --benchmark /tmp/benchmark   # the correct-and-teach-back loop
    python bench.py quality --benchmark /tmp/benchmark --minutes 2 5 10 15 --seeds 0 1 2   # time to quality
    python bench.py cut --benchmark /tmp/benchmark --model runs/latest   # pooled IoU at each cut of the mask
    python bench.py misses --benchmark /tmp/benchmark --exact /tmp/exact --model runs/latest   # what it misses

"Ours" is Pix2Pix.fit as train.py runs it (precision as train.py's --precision auto picks it; also in float32,
to tell the two gains apart); "plain" is the same generator and discriminator trained by a hand-written
tf.function loop in float32, the way the TensorFlow tutorial does it. All run in the same process, alternating,
and each figure is the median over repeats of the median step time, so a busy neighbour on a shared machine
moves all alike.
"""
import argparse
import csv
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

import data
import export
import model as pix2pix
import train
from model import keras

REGION_SIZES = (0.005, 0.02, 0.08)  # bench.py misses: bounds of the kept regions' areas, shares of the picture.
EDGE = 2  # Pixels from an edge that bench.py video leaves out of its "in regions" flicker: about one pixel of
# the network's 143 px copy at the clips' 320 px width.


def plain_loop(size, ngf, ndf, batch):
    """A step function of the paper's kind: tf.function, float32, two tapes (one without a discriminator), no
    Keras fit."""
    import tensorflow as tf

    keras.mixed_precision.set_global_policy("float32")
    generator = pix2pix.build_generator(size, ngf, "mask")
    discriminator = pix2pix.build_discriminator(size, ndf) if ndf else None
    g_optimizer, d_optimizer = pix2pix.adam(), pix2pix.adam()

    @tf.function
    def step(photos, targets):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            outputs = generator(photos, training=True)
            g_loss = 100 * pix2pix.image_l1(outputs, targets, photos, None)
            if discriminator:
                real = discriminator([photos, targets], training=True)
                fake = discriminator([photos, outputs], training=True)
                g_loss += pix2pix.gan_loss(fake)
                d_loss = pix2pix.discriminator_loss(real, fake)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        if discriminator:
            d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                            discriminator.trainable_variables))
        return g_loss

    data = random_batch(size, batch)

    def run(steps):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step(*data).numpy()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    return run


def ours(size, ngf, ndf, batch, precision):
    """Pix2Pix.fit as train.py runs it."""
    import tensorflow as tf

    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    discriminator = pix2pix.build_discriminator(size, ndf) if ndf else None
    gan = pix2pix.Pix2Pix(pix2pix.build_generator(size, ngf, "mask"), discriminator)
    gan.compile(pix2pix.adam(), pix2pix.adam())
    dataset = tf.data.Dataset.from_tensors(random_batch(size, batch)).repeat()
    iterator_steps = []

    class Timer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float(logs["g_loss"])  # Wait for the step, as the plain loop does.
            iterator_steps.append(time.perf_counter() - self.start)

    def run(steps):
        iterator_steps.clear()
        gan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[Timer()])
        return statistics.median(iterator_steps[1:])
    return run


def random_batch(size, batch):
    rng = np.random.default_rng(0)
    return tuple(rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32) for _ in range(2))


def bench_train(repeats, steps):
    precision = train.resolve_precision(dict(train.DEFAULTS))
    settings = [("demo: 128 px, ngf 16, no D, batch 8", 128, 16, 0, 8),
                ("last demo: ngf 32, ndf 8, batch 8", 128, 32, 8, 8),
                ("paper (256 px, ngf 64, batch 1)", 256, 64, 64, 1)]
    print(f"precision of ours: {precision} (auto), and float32 for comparison; {repeats} repeats of {steps} "
          "steps; medians of images/s")
    print(f"{'setting':<34}{'plain':>8}{'ours fp32':>11}{'ours':>8}{'ratio':>8}")
    for name, size, ngf, ndf, batch in settings:
        runners = {"plain": plain_loop(size, ngf, ndf, batch), "ours fp32": ours(size, ngf, ndf, batch, "float32"),
                   "ours": ours(size, ngf, ndf, batch, precision)}
        for run in runners.values():
            run(3)  # Warm-up: tracing and the first steps.
        times = {key: [] for key in runners}
        for _ in range(repeats):
            for key, run in runners.items():  # Alternating, so drift on the machine hits all alike.
                times[key].append(run(steps))
        rate = {key: batch / statistics.median(value) for key, value in times.items()}
        print(f"{name:<34}{rate['plain']:>8.1f}{rate['ours fp32']:>11.1f}{rate['ours']:>8.1f}"
              f"{rate['ours'] / rate['plain']:>7.2f}x", flush=True)


def untrained_model(folder):
    """A demo-size generator saved in `folder`, for speed figures when no run is given (speed does not need
    training)."""
    keras.mixed_precision.set_global_policy("float32")
    pix2pix.build_generator(train.DEFAULTS["size"], train.DEFAULTS["ngf"], "mask").save(Path(folder) / "g.keras")
    return Path(folder) / "g.keras"


def bench_predict(repeats, run_dir):
    """Median seconds per 12-megapixel JPEG through predict.run: decode, network, upsampling, encode, write."""
    import data
    import predict

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        run_dir = run_dir or untrained_model(folder)
        rng = np.random.default_rng(0)
        small = rng.uniform(0, 1, (300, 400, 3)).astype(np.float32)
        for i in range(4):
            data.write_image(folder / "in" / f"{i}.jpg", data.resize(small, 4000, 3000), quality=90)
        predict.run(folder / "in", folder / "warm", run_dir, log=data.silent)
        times = []
        for r in range(repeats):
            start = time.perf_counter()
            predict.run(folder / "in", folder / f"out{r}", run_dir, log=data.silent)
            times.append((time.perf_counter() - start) / 4)
    print(f"predict: median {statistics.median(times):.2f} s per 12-megapixel photo "
          f"(4000x3000 JPEG, {repeats} repeats of 4 photos; min {min(times):.2f}, max {max(times):.2f})")


def bench_export(repeats, run_dir):
    """Sizes of the exported files and their median time per photo (batch 1) at the model's size."""
    import tensorflow as tf

    import predict

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        run_dir = run_dir or untrained_model(folder)
        export.export(folder / "exported", run_dir, log=data.silent)
        generator, config = predict.load_run(run_dir)
        size = config["size"]
        x = np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype(np.float32)
        keras_model = export.float32_generator(generator, config)
        loaded = tf.saved_model.load(str(folder / "exported" / "saved_model"))
        interpreter = tf.lite.Interpreter(model_path=str(folder / "exported" / "generator.tflite"),
                                          num_threads=2)
        lite = interpreter.get_signature_runner()
        name = next(iter(lite.get_input_details()))
        runners = {"Keras (float32)": lambda: keras_model(x, training=False),
                   "SavedModel": lambda: loaded.serve(tf.constant(x)),
                   "LiteRT (.tflite)": lambda: lite(**{name: x})}
        saved_bytes = sum(p.stat().st_size for p in (folder / "exported" / "saved_model").rglob("*") if p.is_file())
        lite_bytes = (folder / "exported" / "generator.tflite").stat().st_size
        sizes = {"SavedModel": saved_bytes, "LiteRT (.tflite)": lite_bytes}
        print(f"exported generator at {size} px; median of {repeats} x 10 calls, batch 1, 2 threads")
        for label, run in runners.items():
            run()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                for _ in range(10):
                    run()
                times.append((time.perf_counter() - start) / 10)
            size_text = f"{sizes[label] / 1e6:7.1f} MB" if label in sizes else " " * 10
            print(f"{label:<20}{size_text}  {1000 * statistics.median(times):7.1f} ms per photo", flush=True)


def bench_memory(files, megapixels, run_dir):
    """Peak resident memory of predict.run over `files` JPEGs of `megapixels` (4:3): it should not grow with
    the number of files, and stay bounded for large photos."""
    import resource

    import data
    import predict

    width, height = round(math.sqrt(megapixels * 1e6 * 4 / 3)), round(math.sqrt(megapixels * 1e6 * 3 / 4))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        run_dir = run_dir or untrained_model(folder)
        small = np.random.default_rng(0).integers(0, 256, (height // 10, width // 10, 3), dtype=np.uint8)
        image = data.encode_image(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), ".jpg")
        (folder / "in").mkdir()
        for i in range(files):
            (folder / "in" / f"{i:05d}.jpg").write_bytes(image)
        predict.run(folder / "in", folder / "out", run_dir, log=data.silent)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # Linux reports KiB.
    print(f"predict over {files} files ({width}x{height} JPEG): peak resident memory {peak} MB")


def bench_quality(benchmark, minutes, seeds, out, flags):
    """The time-to-quality curve: `python train.py --minutes M --seed S [flags]` for each M and S, as a user runs
    it, scored on the benchmark's val and test splits (datasets/make_benchmark.py). Rows go to OUT/quality.csv
    as each run ends, so an interrupted sweep goes on where it stopped (a finished run in OUT/runs is scored, not
    trained again); OUT/quality.png draws the mean and the range over seeds."""
    import evaluate

    out = Path(out)
    table = out / "quality.csv"
    fields = ["minutes", "seed", "epochs", "val", "test", "flags"]
    rows = list(csv.DictReader(table.open())) if table.is_file() else []
    done = {(float(row["minutes"]), int(row["seed"]), row["flags"]) for row in rows}
    name = re.sub(r"[^\w.=]+", "-", " ".join(flags)).strip("-") or "defaults"  # No "/" of a path.
    for budget in minutes:
        for seed in seeds:
            if (budget, seed, " ".join(flags)) in done:
                continue
            run = out / "runs" / f"{name}-{budget:g}min-seed{seed}"
            if not (run / "generator.keras").is_file():  # A run that finished before an interruption is kept.
                command = [sys.executable, str(Path(__file__).parent / "train.py"), "--out", str(run), "--minutes",
                           str(budget), "--seed", str(seed), *flags]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            scores = evaluate.evaluate(benchmark, model=run, log=data.silent)
            epochs = len((run / "log.csv").read_text().splitlines()) - 1
            rows.append({"minutes": budget, "seed": seed, "epochs": epochs, "flags": " ".join(flags),
                         **{split: f"{scores[split]['pooled_colour_iou']:.4f}" for split in ("val", "test")}})
            print(json.dumps(rows[-1]), flush=True)
            with data.atomic_path(table) as temporary:
                with open(temporary, "w", newline="") as file:
                    writer = csv.DictWriter(file, fields)
                    writer.writeheader()
                    writer.writerows(rows)
    rows = [row for row in rows if row["flags"] == " ".join(flags)]
    curve = {split: {} for split in ("val", "test")}
    for row in rows:
        for split in curve:
            curve[split].setdefault(float(row["minutes"]), []).append(float(row[split]))
    for split, points in curve.items():
        print(f"{split}: " + ", ".join(f"{m:g} min {statistics.mean(v):.3f} (range {min(v):.3f}-{max(v):.3f}, "
                                       f"{len(v)} seeds)" for m, v in sorted(points.items())))
    data.write_image(out / "quality.png", draw_curve(curve))


def bench_finetune(run_dir, benchmark, counts, minutes, out, flags):
    """The correct-and-fine-tune loop, measured: the run's N worst-scored pairs of the benchmark's val split stand
    for photos a person corrected; `train.py --init RUN` trains on them beside the run's own training pairs for
    `minutes` (with `flags`, more train.py options). Scored before and after, never on a corrected pair: the
    other layouts of the corrected pairs' photos (the rest of a shoot), the val photos with no corrected pair,
    and the test split (other photos again)."""
    import shutil

    import evaluate

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
        subprocess.run([sys.executable, str(Path(__file__).parent / "train.py"), "--init", str(run_dir), "--data",
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


def bench_cut(run_dir, benchmark, cuts):
    """Pooled colour IoU of a run on the benchmark's splits with the mask cut at each of `cuts` (predict.CUT)."""
    import evaluate
    import predict

    generator_and_config = predict.load_run(run_dir)
    default = predict.CUT
    try:
        for cut in cuts:
            predict.CUT = cut
            scores = evaluate.evaluate(benchmark, model=generator_and_config, log=data.silent)
            print(f"cut {cut:g}: " + ", ".join(f"{split} {summary['pooled_colour_iou']:.3f}"
                                               for split, summary in scores.items()), flush=True)
    finally:
        predict.CUT = default


def kept_missed_added(wanted, made):
    """Pixel counts of two boolean maps: in both, in `wanted` only, in `made` only."""
    return np.array([np.sum(wanted & made), np.sum(wanted & ~made), np.sum(~wanted & made)])


def bench_misses(run_dir, benchmark, exact):
    """Where a run loses on a benchmark built with `--exact DIR`, pooled over each split: the shares of the union of
    colour (wanted or made) that the output misses and adds, against the target and against a perfect
    model's output (the exact mask on the stored photo, so JPEG's own loss is left out); each photo's shares; and
    how much of the kept regions (connected parts of the perfect output's colour) the output keeps, by area."""
    import evaluate
    import predict

    colourizer = predict.Colourizer(*predict.load_run(run_dir))
    bounds = ["0", *(f"{100 * size:g}" for size in REGION_SIZES), "100"]
    for split, folder in data.find_split_dirs(benchmark).items():
        counts = np.zeros((2, 3))  # Against the target, then the perfect output: kept by both, missed, added.
        by_photo = {}  # Against the perfect output.
        kept, area = np.zeros(len(REGION_SIZES) + 1), np.zeros(len(REGION_SIZES) + 1)
        for stem, photo, target in evaluate.load_split(folder, log=data.silent):
            output = colourizer([photo])[0]
            perfect = data.read_image(Path(exact) / f"{stem}.png")[0]
            made, wanted = evaluate.coloured(output), evaluate.coloured(perfect)
            against_perfect = kept_missed_added(wanted, made)
            counts += [kept_missed_added(evaluate.coloured(target), made), against_perfect]
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


def bench_video(run_dir, clips, margins, strip=None):
    """Clips with known targets (datasets/make_demo.py make_clip: the demo's val and test photos, a panning and
    zooming camera, moving cut-outs) coloured frame by frame, from the exact mask cut at the network's size (what
    a perfect network would score) and steady (video.SteadyMask with each hysteresis `margin`): pooled colour IoU
    over all frames, flicker (evaluate.flicker) and the part of it in regions, more than EDGE pixels from an edge
    (an edge moves with what moves, so flicker counts it even when the decision on the object is steady). Then
    frames/s of predict.py's video path on a 720p H.264 clip, end to end: decoding, the network, full-resolution
    work and encoding. With `strip`, four frames of a test clip before and after (steady) go to that image."""
    import random

    import evaluate
    import predict
    import video

    sys.path.insert(0, str(Path(__file__).parent / "datasets"))
    import make_demo

    colourizer = predict.Colourizer(*predict.load_run(run_dir))
    sources = Path(__file__).parent / "datasets" / "sources"
    sprites = make_demo.load_sprites(sources / "sprites")
    rng = random.Random(0)
    print(f"{'split':<6}{'mode':<32}{'pooled IoU':>12}{'flicker':>10}{'in regions':>12}")
    for split, stems in (("val", make_demo.VAL_PHOTOS), ("test", make_demo.TEST_PHOTOS)):
        made = [make_demo.make_clip(data.read_image(sources / "photos" / f"{stem}.jpg")[0], sprites, rng)
                for stem in stems for _ in range(clips)]
        made = [([frame for frame, _ in clip], [mask for _, mask in clip],
                 [data.splash(frame, mask) for frame, mask in clip]) for clip in made]
        for setting in [None, "exact", *margins]:
            counts, flickers, regions = np.zeros(2), [], []
            for frames, masks, targets in made:
                if setting == "exact":  # The floor of the way back to full resolution: a perfect network.
                    side = colourizer.size
                    outputs = [colourizer.apply(frame, colourizer.cut(data.resize(mask, side, side)))
                               for frame, mask in zip(frames, masks)]
                else:
                    steady = None if setting is None else video.SteadyMask(setting)
                    outputs = video.colour_frames(colourizer, frames, steady)
                counts += [sum(x) for x in zip(*map(evaluate.colour_counts, targets, outputs))]
                flickers.append(evaluate.flicker(targets, outputs))
                regions.append(evaluate.flicker(targets, outputs, skip_edges=EDGE))
            mode = ("frame by frame" if setting is None else "exact mask at the network's size"
                    if setting == "exact" else f"steady, margin {setting:g}")
            print(f"{split:<6}{mode:<32}{evaluate.iou(*counts):>12.3f}{statistics.mean(flickers):>10.4f}"
                  f"{statistics.mean(regions):>12.5f}", flush=True)
            if split == "test" and setting == video.MARGIN and strip:  # Last clip: before, after.
                picked = range(0, len(frames), len(frames) // 4)
                data.write_image(strip, np.concatenate([np.concatenate([frames[i] for i in picked], axis=1),
                                                        np.concatenate([outputs[i] for i in picked], axis=1)]),
                                 quality=85)
    with tempfile.TemporaryDirectory() as folder:
        clip = make_demo.make_clip(data.read_image(sources / "photos" / "skimage_coffee.jpg")[0], sprites, rng,
                                   frames=240, width=1280, height=720)
        source = Path(folder) / "720p.mp4"
        video.write_video(source, [data.to_uint(frame) for frame, _ in clip], fps=24)
        times = []
        for run in range(3):
            start = time.perf_counter()
            video.colour_video(source, Path(folder) / f"out{run}.mp4", colourizer, log=data.silent)
            times.append(time.perf_counter() - start)
    print(f"720p: {240 / statistics.median(times):.1f} frames/s end to end, file to file (median of 3 runs of a "
          "10-second clip at 24 frames/s; the model, loaded once per run of predict.py, not counted)")


def draw_curve(curve, width=720, height=420):
    """A plot (RGB uint8 image) of pooled colour IoU against training minutes (log scale) per split: the mean
    over seeds joined by lines, the range over seeds as a bar."""
    image = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, width - 20, 20, height - 60
    span = [min(min(points) for points in curve.values()), max(max(points) for points in curve.values())]
    span = [math.log(span[0]), math.log(span[1]) if span[1] > span[0] else math.log(span[0]) + 1]

    def xy(minutes, iou):
        x = left + (right - left) * (math.log(minutes) - span[0]) / (span[1] - span[0])
        return int(round(x)), int(round(bottom - (bottom - top) * iou))

    font, black, gray = cv2.FONT_HERSHEY_SIMPLEX, (0, 0, 0), (210, 210, 210)
    for tick in np.arange(0, 1.01, 0.1):
        cv2.line(image, xy(math.exp(span[0]), tick), (right, xy(1, tick)[1]), gray, 1)
        cv2.putText(image, f"{tick:.1f}", (left - 40, xy(1, tick)[1] + 5), font, 0.45, black, 1, cv2.LINE_AA)
    all_minutes = sorted({m for points in curve.values() for m in points})
    seeds = {m: min(len(points.get(m, [])) for points in curve.values()) for m in all_minutes}  # At every point.
    most = max(seeds.values())
    for minutes in all_minutes:
        cv2.putText(image, f"{minutes:g}", (xy(minutes, 0)[0] - 8, bottom + 20), font, 0.45, black, 1, cv2.LINE_AA)
    cv2.putText(image, "training minutes (python train.py --minutes M)", (left + 120, height - 15), font, 0.5,
                black, 1, cv2.LINE_AA)
    cv2.putText(image, "pooled IoU", (5, top + 10), font, 0.45, black, 1, cv2.LINE_AA)
    colours = {"val": (50, 100, 230), "test": (230, 80, 30)}
    for index, (split, points) in enumerate(curve.items()):
        colour = colours.get(split, black)
        centres = [xy(m, statistics.mean(v)) for m, v in sorted(points.items())]
        for (m, v), centre in zip(sorted(points.items()), centres):
            cv2.line(image, xy(m, min(v)), xy(m, max(v)), colour, 2)
            cv2.circle(image, centre, 4, colour, -1 if seeds[m] == most else 1, cv2.LINE_AA)
        cv2.polylines(image, [np.array(centres)], False, colour, 2, cv2.LINE_AA)
        cv2.putText(image, f"benchmark {split} (mean, range over seeds)", (left + 10, top + 20 + 20 * index), font,
                    0.5, colour, 1, cv2.LINE_AA)
    fewer = sorted({count for count in seeds.values() if count < most})
    if fewer:  # A point with fewer seeds than the others is hollow, and the legend says how many it has.
        cv2.putText(image, f"hollow: {' or '.join(map(str, fewer))} seed(s) only", (left + 10, top + 20 + 20 *
                    len(curve)), font, 0.5, black, 1, cv2.LINE_AA)
    return image


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", help="which benchmark", choices=("train", "predict", "export", "memory", "quality",
                                                                 "video", "finetune", "cut", "misses"))
    parser.add_argument("--files", type=int, default=12, help="memory: how many files (default 12)")
    parser.add_argument("--megapixels", type=float, default=12, help="memory: size of each file (default 12)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported (default 5)")
    parser.add_argument("--steps", type=int, default=10, help="training steps per repeat (default 10)")
    parser.add_argument("--model", help="predict, export: a trained run (default: an untrained demo-size "
                        "generator; speed does not depend on training)")
    parser.add_argument("--benchmark", help="quality, finetune, cut, misses: the benchmark folder "
                        "(datasets/make_benchmark.py)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 5, 10, 15, 30, 60],
                        help="quality: training budgets; finetune: the first is the fine-tuning's")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="quality: seeds")
    parser.add_argument("--out", default="runs/bench", help="quality, finetune: where the runs and results "
                        "go")
    parser.add_argument("--strip", help="video: write four frames of a clip, before and after, to this image")
    parser.add_argument("--pairs", type=int, nargs="+", default=[0, 5, 10, 20], help="finetune: numbers of "
                        "corrected pairs (0: the control, the same minutes of training without any)")
    parser.add_argument("--clips", type=int, default=2, help="video: clips per photo (default 2)")
    parser.add_argument("--margin", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2], help="video: "
                        "hysteresis margins to compare")
    parser.add_argument("--cuts", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.7], help="cut: where to cut "
                        "the mask")
    parser.add_argument("--exact", help="misses: the perfect model's outputs (make_benchmark.py --exact DIR)")
    args, flags = parser.parse_known_args(argv)
    if args.what in ("quality", "finetune", "cut", "misses") and not args.benchmark:
        parser.error(f"{args.what} needs --benchmark DIR (python datasets/make_benchmark.py --out DIR)")
    if args.what == "misses" and not args.exact:
        parser.error("misses needs --exact DIR (python datasets/make_benchmark.py --out BENCHMARK --exact DIR)")
    if flags and args.what not in ("quality", "finetune"):
        parser.error(f"unrecognized arguments: {' '.join(flags)}")
    if args.what == "quality":
        bench_quality(args.benchmark, args.minutes, args.seeds, args.out, flags)
    elif args.what == "finetune":
        bench_finetune(args.model or "runs/latest", args.benchmark, args.pairs, args.minutes[0], args.out, flags)
    elif args.what == "cut":
        bench_cut(args.model or "runs/latest", args.benchmark, args.cuts)
    elif args.what == "misses":
        bench_misses(args.model or "runs/latest", args.benchmark, args.exact)
    elif args.what == "video":
        bench_video(args.model or "runs/latest", args.clips, args.margin, args.strip)
    elif args.what == "train":
        bench_train(args.repeats, args.steps)
    elif args.what == "predict":
        bench_predict(args.repeats, args.model)
    elif args.what == "export":
        bench_export(args.repeats, args.model)
    else:
        bench_memory(args.files, args.megapixels, args.model)


if __name__ == "__main__":
    main()
