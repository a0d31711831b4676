"""Speed and memory benchmarks (not tests): training steps against a plain loop, predict.py's seconds per photo,
the exported files, peak memory, and video frames per second.

    python bench.py train                 # demo settings and the paper's 256 px model, ours vs a plain loop
    python bench.py predict               # median seconds per 12-megapixel photo, end to end
    python bench.py export                # exported files' sizes and inference time at the model's size
    python bench.py memory                # peak memory of predict.py over twelve 12-megapixel photos
    python bench.py video                 # 720p frames per second, file to file
    python bench.py train --repeats 7 --steps 20

"Ours" is Pix2Pix.fit as train.py runs it (precision as train.py's --precision auto picks it; also in float32,
to tell the two gains apart); "plain" is the same generator and discriminator trained by a hand-written
tf.function loop in float32, the way the TensorFlow tutorial does it. All run in the same process, alternating,
and each figure is the median over repeats of the median step time, so a busy neighbour on a shared machine
moves all alike. Speed does not depend on training: without --model an untrained demo-size generator is timed.
The experiments behind the README's quality figures are in experiments/.
"""
import argparse
import math
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

import data
import export
import model
import predict
import train
import video
from datasets import make_demo


def plain_loop(size, ngf, ndf, batch):
    """A step function of the paper's kind: tf.function, float32, two tapes (one without a discriminator), no
    Keras fit."""
    import tensorflow as tf  # The plain loop is TensorFlow's own.

    with model.precision("float32"):
        generator = model.build_generator(size, ngf, "mask")
        discriminator = model.build_discriminator(size, ndf) if ndf else None
    g_optimizer, d_optimizer = model.adam(), model.adam()

    @tf.function
    def step(photos, targets):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            outputs = generator(photos, training=True)
            g_loss = 100 * model.image_l1(outputs, targets, photos, None)
            if discriminator:
                real = discriminator([photos, targets], training=True)
                fake = discriminator([photos, outputs], training=True)
                g_loss += model.gan_loss(fake)
                d_loss = model.discriminator_loss(real, fake)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        if discriminator:
            d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                            discriminator.trainable_variables))
        return g_loss

    batch_arrays = random_batch(size, batch)

    def run(steps):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step(*batch_arrays).numpy()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    return run


def ours(size, ngf, ndf, batch, precision):
    """Pix2Pix.fit as train.py runs it."""
    import tensorflow as tf  # tf.data, as train.py feeds fit.

    with model.precision(precision):
        discriminator = model.build_discriminator(size, ndf) if ndf else None
        gan = model.Pix2Pix(model.build_generator(size, ngf, "mask"), discriminator)
    gan.compile(model.adam(), model.adam())
    dataset = tf.data.Dataset.from_tensors(random_batch(size, batch)).repeat()
    iterator_steps = []

    class Timer(model.keras.callbacks.Callback):
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
    with model.precision("float32"):
        model.build_generator(train.DEFAULTS["size"], train.DEFAULTS["ngf"], "mask").save(Path(folder) / "g.keras")
    return Path(folder) / "g.keras"


def bench_predict(repeats, run_dir):
    """Median seconds per 12-megapixel JPEG through predict.run: decode, network, upsampling, encode, write."""
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
    import tensorflow as tf  # The SavedModel and LiteRT runners are TensorFlow's.

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


def bench_video(run_dir):
    """Frames/s of predict.py's video path on a 720p H.264 clip of 10 seconds, end to end: decoding, the network,
    full-resolution work and encoding (the model, loaded once per run of predict.py, not counted)."""
    sources = Path(__file__).parent / "datasets" / "sources"
    sprites = make_demo.load_sprites(sources / "sprites")
    with tempfile.TemporaryDirectory() as folder:
        colourizer = predict.Colourizer.from_run(*predict.load_run(run_dir or untrained_model(folder)))
        clip = make_demo.make_clip(data.read_image(sources / "photos" / "skimage_coffee.jpg")[0], sprites,
                                   random.Random(0), frames=240, width=1280, height=720)
        source = Path(folder) / "720p.mp4"
        video.write_video(source, [data.to_uint(frame) for frame, _ in clip], fps=24)
        times = []
        for run in range(3):
            start = time.perf_counter()
            video.colour_video(source, Path(folder) / f"out{run}.mp4", colourizer, log=data.silent)
            times.append(time.perf_counter() - start)
    print(f"720p: {240 / statistics.median(times):.1f} frames/s end to end, file to file (median of 3 runs of a "
          "10-second clip at 24 frames/s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", help="which benchmark", choices=("train", "predict", "export", "memory", "video"))
    parser.add_argument("--files", type=int, default=12, help="memory: how many files (default 12)")
    parser.add_argument("--megapixels", type=float, default=12, help="memory: size of each file (default 12)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported (default 5)")
    parser.add_argument("--steps", type=int, default=10, help="training steps per repeat (default 10)")
    parser.add_argument("--model", help="predict, export, memory, video: a trained run (default: an untrained "
                        "demo-size generator; speed does not depend on training)")
    args = parser.parse_args(argv)
    if args.what == "train":
        bench_train(args.repeats, args.steps)
    elif args.what == "predict":
        bench_predict(args.repeats, args.model)
    elif args.what == "export":
        bench_export(args.repeats, args.model)
    elif args.what == "memory":
        bench_memory(args.files, args.megapixels, args.model)
    else:
        bench_video(args.model)


if __name__ == "__main__":
    main()
