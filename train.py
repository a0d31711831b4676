"""Train pix2pix on A|B pairs: `python train.py` trains on the demo dataset that ships in the repo.

    python train.py                                   # demo data, demo settings, a few minutes on a CPU
    python train.py --data my_pairs --size 256 --ngf 64 --ndf 64 --l1 image --l1-weight 100 --lr 2e-4 --mix 0 \
        --epochs 200 --minutes 0                      # the paper's model, loss and schedule
    python train.py --resume                          # continue runs/latest after an interruption

A run directory (default runs/<timestamp>, pointed to by runs/latest) receives everything a later step needs:
generator.keras, config.json, checkpoints/ (written atomically each epoch), log.csv, tensorboard/ and
samples/epoch-NNNNN.png (input | target | output rows from the held-out split).
"""
import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import model as pix2pix  # Sets the Keras backend before Keras loads.
import keras  # noqa: E402  (after model, which pins the backend)
from data import (atomic_path, find_split_dirs, load_pairs, make_dataset, remove_stale_temporaries, write_atomic,
                  write_image)

HERE = Path(__file__).resolve().parent
DEMO = HERE / "datasets" / "demo"

# Defaults: the demo's settings, chosen for a 2-core CPU (the README compares them with the paper's 256 px model).
DEFAULTS = dict(
    data=str(DEMO),
    size=128,  # Training resolution; predict.py brings the result back to each photo's own size.
    epochs=1000,  # An upper bound: the demo run stops on its time budget.
    batch_size=8,
    precision="auto",  # bfloat16 where the CPU computes it natively (AVX512_BF16 or AMX), else float32.
    head="mask",
    input="color",
    direction="AtoB",
    ngf=32,
    ndf=8,  # The discriminator was most of a step's work: at 8 a 14-minute run takes 64 epochs, not 55 at 16,
    # with the same held-out quality in two runs of each (README); at 4, steps are hardly faster.
    dropout=0.5,
    mix=0.5,  # Cut-mix on half the pairs: without it, the defaults scored below four runs with it on every held-out
    # sample (README).
    lr=1e-3,  # With --l1 bce, 5e-4, 1e-3 and 2e-3 all beat the paper's 2e-4 on each held-out sample (README).
    decay=0.5,  # The paper's schedule: constant, then linearly to 0 over the last half.
    l1="bce",  # The mask's cross-entropy where the photo has colour; with predict.py's 0.5 cut, better than the
    # L1 on two of three held-out samples, by 0.01-0.03 on the larger two (README).
    l1_weight=10000.0,  # With the paper's 100 the mask fits even the training layouts poorly; 1000 and 10000
    # both fix that, and 10000 (the GAN term light) did a little better on held-out photos (README).
    seed=0,
    minutes=14.0,  # With loading and the final evaluation, `python train.py` takes about 15 minutes.
    strategy="none",
)
# Options that a resumed run may change; every other option comes from the run's config.json.
RESUMABLE = ("epochs", "minutes")
# What each numeric option must be (nan fails every comparison, so it is refused too).
RULES = {
    "size": ("at least 16", lambda v: v >= 16),
    "epochs": ("at least 1", lambda v: v >= 1),
    "batch_size": ("at least 1", lambda v: v >= 1),
    "ngf": ("at least 1", lambda v: v >= 1),
    "ndf": ("at least 1", lambda v: v >= 1),
    "dropout": ("from 0 to below 1", lambda v: 0 <= v < 1),
    "mix": ("from 0 to 1", lambda v: 0 <= v <= 1),
    "lr": ("a positive number", lambda v: 0 < v < math.inf),
    "decay": ("from 0 to 1", lambda v: 0 <= v <= 1),
    "l1_weight": ("a number from 0 up", lambda v: 0 <= v < math.inf),
    "minutes": ("a number from 0 up (0: no limit)", lambda v: 0 <= v < math.inf),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--data", help="folder of A|B images, flat or with train/ (val/, test/) inside (default: the demo)")
    add("--out", help="run directory (default runs/<timestamp>; with --resume, runs/latest)")
    add("--size", type=int, help="training size in pixels, a power of two (default 128)")
    add("--epochs", type=int, help="passes over the training pairs (default 1000, an upper bound)")
    add("--batch-size", type=int, help="pairs per step (default 8)")
    add("--precision", choices=("auto", "float32", "bfloat16"), help="bfloat16: mixed precision, about twice "
        "as fast on CPUs with AVX512_BF16 or AMX; auto (default): bfloat16 on those CPUs, float32 elsewhere")
    add("--head", choices=("mask", "rgb"), help="mask: keep or drop the photo's own colour (default); "
        "rgb: the paper's output, which invents colour (needed for --input gray)")
    add("--input", choices=("color", "gray"), help="what the network sees of A: the photo (default) or its gray")
    add("--direction", choices=("AtoB", "BtoA"), help="learn A -> B (default) or B -> A")
    add("--ngf", type=int, help="generator width: filters of its first layer (default 32; the paper's is 64)")
    add("--ndf", type=int, help="discriminator width (default 8; the paper's is 64)")
    add("--dropout", type=float, help="dropout in the generator's three innermost decoder blocks (default 0.5)")
    add("--mix", type=float, help="probability of pasting a box of another training pair into a pair, A and B "
        "alike (default 0.5)")
    add("--lr", type=float, help="Adam learning rate of both networks (default 1e-3; the paper's is 2e-4)")
    add("--decay", type=float, help="fraction of training over which the learning rate falls linearly to 0 "
        "at the end, as in the paper (default 0.5; 0: constant); with --minutes, of this invocation's budget")
    add("--l1-weight", type=float, help="weight of the L1 loss against the GAN loss (default 10000; the "
        "paper's is 100)")
    add("--l1", choices=("image", "colour", "bce"), help="the loss next to the GAN loss. image: the paper's L1 "
        "on the output image; colour: the L1 of the mask wherever the photo has colour (each pixel's error over "
        "its chroma); bce (default with the mask head): the cross-entropy of the mask against the target's, "
        "wherever the photo has colour")
    add("--seed", type=int, help="random seed (default 0)")
    add("--minutes", type=float, help="stop cleanly after this many minutes of training (default 14; 0: no "
        "limit, only --epochs)")
    add("--strategy", choices=("none", "mirrored", "multiworker"), help="none (default); mirrored: all local "
        "GPUs; multiworker: several machines, configured by TF_CONFIG (only the chief writes the run directory)")
    add("--resume", action="store_true", help="continue the run in --out (default runs/latest) from its last "
        "checkpoint, with its own options")
    args = parser.parse_args(argv)
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ("out", "resume")}
    return given, args.out, args.resume


def make_config(given, out, resume):
    """The run's full options: defaults < the user's flags, or, when resuming, the run's own config.json."""
    if resume:
        run_dir = Path(out) if out else Path("runs") / "latest"
        config_path = run_dir / "config.json"
        if not config_path.is_file():
            raise ValueError(f"nothing to resume: {config_path} does not exist")
        # Options added since keep their defaults; runs from before --l1 trained with the paper's L1.
        config = {**DEFAULTS, "l1": "image", **json.loads(config_path.read_text())}
        ignored = sorted(set(given) - set(RESUMABLE))
        if ignored:
            print(f"resuming with the run's own options; ignoring --{', --'.join(ignored)}")
        config.update({k: v for k, v in given.items() if k in RESUMABLE})
        return check(config, run_dir), run_dir.resolve()
    config = {**DEFAULTS, **given}
    if config["input"] == "gray" and config["head"] == "mask":
        if "head" in given:
            raise ValueError("--input gray needs --head rgb: a mask can only keep colour the input has")
        config["head"] = "rgb"
    if config["l1"] != "image" and config["head"] != "mask":
        if "l1" in given:
            raise ValueError(f"--l1 {config['l1']} needs --head mask: it measures the error of a mask")
        config["l1"] = "image"
    pix2pix.unet_depth(config["size"])  # Raises a clear error for a size the U-Net cannot take.
    config["data"] = str(Path(config["data"]).resolve())  # So that --resume works from any folder.
    run_dir = Path(out) if out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    if (run_dir / "config.json").exists():
        raise ValueError(f"{run_dir} already holds a run: use --resume to continue it, or another --out")
    return check(config, run_dir), run_dir.resolve()


def check(config, run_dir):
    """Refuse option values outside their range, and a `latest` beside the run that is not our link."""
    for name, (rule, holds) in RULES.items():
        if not holds(config[name]):
            raise ValueError(f"--{name.replace('_', '-')} must be {rule}, not {config[name]}")
    latest = run_dir.parent / "latest"
    if latest.exists() and not latest.is_symlink():
        raise ValueError(f"{latest} is not the link train.py makes: move it away, or pass another --out")
    return config


def resolve_precision(precision):
    """'auto' -> 'bfloat16' on a CPU-only machine whose CPU has native bfloat16 instructions, else 'float32'."""
    if precision != "auto":
        return precision
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return "float32"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "bfloat16" if "avx512_bf16" in flags or "amx_bf16" in flags else "float32"


def point_latest(run_dir):
    """Make runs/latest a symlink to this run, replaced atomically."""
    latest = run_dir.parent / "latest"
    if latest.resolve() == run_dir:
        return
    with atomic_path(latest) as temporary:
        temporary.symlink_to(run_dir.name)


# -------------------------------------------------------------------------------------------------- callbacks


class Checkpoint(keras.callbacks.Callback):
    """Each epoch: both networks and both optimisers to checkpoints/epoch-N.weights.h5 (written under a
    temporary name, then renamed), then checkpoints/latest.json pointing to it. A kill at any moment leaves the
    previous checkpoint intact and pointed to, so a resumed run loses at most one epoch.

    Under a multi-worker strategy every worker must read the variables together, so the other workers save too,
    into a temporary folder that is then deleted: only the chief's checkpoint stays."""

    def __init__(self, folder, chief=True, keep=2):
        super().__init__()
        self.folder = Path(folder)
        self.chief = chief
        self.keep = keep

    def on_epoch_end(self, epoch, logs=None):
        diverged = [name for name, value in (logs or {}).items() if not math.isfinite(float(value))]
        if diverged:
            raise ValueError(f"training diverged in epoch {epoch + 1} ({diverged[0]} is not a number); "
                             f"{self.last_good()}, try a lower --lr")
        if not self.chief:
            with tempfile.TemporaryDirectory() as scratch:
                self.model.save_weights(Path(scratch) / "discard.weights.h5")
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:05d}.weights.h5"
        previous = sorted(self.folder.glob("epoch-*.weights.h5"))
        needed = 2 * previous[-1].stat().st_size if previous else 0
        try:
            if shutil.disk_usage(self.folder).free < needed:
                raise OSError("the disk is full")
            with atomic_path(self.folder / name) as temporary:
                self.model.save_weights(temporary)
        except OSError as error:
            raise ValueError(f"cannot write the checkpoint of epoch {epoch + 1} ({error}); {self.last_good()}, "
                             "free some space, then go on with --resume") from None
        state = {"epoch": epoch + 1, "step": int(self.model.g_optimizer.iterations.numpy()), "file": name}
        write_atomic(self.folder / "latest.json", json.dumps(state).encode())
        for old in sorted(self.folder.glob("epoch-*.weights.h5"))[:-self.keep]:
            old.unlink()

    def last_good(self):
        pointer = self.folder / "latest.json"
        if not pointer.is_file():
            return "no checkpoint was written"
        return f"the last good checkpoint is {self.folder / json.loads(pointer.read_text())['file']}"


def restore(gan, run_dir):
    """Load the run's last checkpoint into `gan`, and drop log.csv rows of epochs after it (written before a kill
    that came before the checkpoint); returns the epoch to continue from (0 if there is none)."""
    folder = run_dir / "checkpoints"
    pointer = folder / "latest.json"
    if not pointer.is_file():
        return 0
    state = json.loads(pointer.read_text())
    remove_stale_temporaries(folder)
    gan.load_weights(folder / state["file"])
    log = run_dir / "log.csv"
    if log.is_file():
        header, *rows = log.read_text().splitlines()
        rows = [row for row in rows if int(row.split(",")[0]) < state["epoch"]]
        write_atomic(log, "".join(f"{line}\n" for line in (header, *rows)).encode())
    print(f"resumed from epoch {state['epoch']} (step {state['step']})")
    return state["epoch"]


class SampleGrid(keras.callbacks.Callback):
    """Each epoch: samples/epoch-N.png with input | target | output rows of fixed held-out pairs (every worker
    runs the generator, as the variables must be read together; only the chief writes)."""

    def __init__(self, folder, photos, targets, chief=True):
        super().__init__()
        self.folder = Path(folder)
        self.photos, self.targets = photos, targets
        self.chief = chief

    def on_epoch_end(self, epoch, logs=None):
        outputs = np.asarray(self.model.generator(self.photos, training=False))
        if not self.chief:
            return
        rows = [np.concatenate([p, t, o], axis=1) for p, t, o in zip(self.photos, self.targets, outputs)]
        grid = (np.concatenate(rows, axis=0) + 1) / 2
        write_image(self.folder / f"epoch-{epoch + 1:05d}.png", grid)


class LinearDecay(keras.callbacks.Callback):
    """The paper's schedule: the learning rate stays constant, then falls linearly to zero over the last
    `fraction` of training. Progress is the further along of the epochs done and the time budget used."""

    def __init__(self, learning_rate, epochs, minutes, fraction):
        super().__init__()
        self.learning_rate, self.epochs, self.seconds, self.fraction = learning_rate, epochs, minutes * 60, fraction

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        progress = (self.epoch + batch / max(1, self.params.get("steps") or 1)) / self.epochs
        if self.seconds:
            progress = max(progress, (time.monotonic() - self.start) / self.seconds)
        rate = self.learning_rate * min(1.0, max(0.0, (1 - progress) / self.fraction))
        for optimizer in (self.model.g_optimizer, self.model.d_optimizer):
            optimizer.learning_rate.assign(rate)


class TimeBudget(keras.callbacks.Callback):
    """Stop training cleanly (the epoch's checkpoint is still written) once `minutes` have passed."""

    def __init__(self, minutes):
        super().__init__()
        self.seconds = minutes * 60

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self.start > self.seconds:
            self.model.stop_training = True


# ------------------------------------------------------------------------------------------------------ train


def held_out_dir(data):
    splits = find_split_dirs(data)
    return splits.get("test") or splits.get("val")


def make_strategy(name):
    """None, or the tf.distribute strategy for --strategy: mirrored (all local GPUs) or multiworker (several
    machines, configured by TF_CONFIG). Made before anything else touches TensorFlow, as multiworker requires."""
    if name == "none":
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"--strategy must be none, mirrored or multiworker, not {name!r}")


def is_chief():
    """True unless TF_CONFIG names this process a worker other than worker 0 (or a non-chief task)."""
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {})
    if not task:
        return True
    cluster = json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
    if "chief" in cluster:
        return task.get("type") == "chief"
    return task.get("type") == "worker" and task.get("index", 0) == 0


def train(config, run_dir, resume=False, verbose="auto"):
    """Train (or resume) a run; returns the held-out comparison {name: summary} (empty without a held-out split).
    Nothing is written before the data has loaded. Under a multi-worker strategy only the chief writes."""
    strategy = make_strategy(config.get("strategy", "none"))
    chief = is_chief()
    splits = find_split_dirs(config["data"])
    if "train" not in splits:
        raise ValueError(f"{config['data']} has {'/, '.join(splits)}/ but no train/ folder of training pairs")
    config["precision"] = resolve_precision(config["precision"])
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if config["precision"] == "bfloat16" else "float32")
    keras.utils.set_random_seed(config["seed"])
    size = config["size"]
    photos, targets, _ = load_pairs(splits["train"], size, config["direction"], config["input"])
    held_out = held_out_dir(config["data"])
    sample_photos, sample_targets, _ = load_pairs(held_out or splits["train"], size, config["direction"],
                                                  config["input"], log=lambda message: None)
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        if not resume:
            write_atomic(run_dir / "config.json", json.dumps(config, indent=2).encode())
        point_latest(run_dir)
    print(f"{len(photos)} training pairs from {splits['train']}; run directory {run_dir}")
    # The batch is global: under a strategy, fit splits each batch across the replicas.
    dataset = make_dataset(photos, targets, size, config["batch_size"], seed=config["seed"],
                           mix=config["mix"])
    scope = strategy.scope if strategy else contextlib.nullcontext
    with scope():  # The networks' variables: mirrored on every replica under a strategy.
        generator = pix2pix.build_generator(size, config["ngf"], config["head"], config["dropout"])
        discriminator = pix2pix.build_discriminator(size, config["ndf"])
    # The wrapper holds no variables of its own. It is made outside the scope because Keras 3 (3.15) then skips
    # a pre-build step that fails under MultiWorkerMirroredStrategy; fit still runs under the strategy.
    gan = pix2pix.Pix2Pix(generator, discriminator, config["l1_weight"], config["l1"])
    with scope():
        gan.compile(pix2pix.adam(config["lr"]), pix2pix.adam(config["lr"]))
        initial_epoch = restore(gan, run_dir) if resume else 0
        sample = next(iter(make_dataset(sample_photos[:4], sample_targets[:4], size, 4, shuffle=False)))
        callbacks = []
        if chief:  # Before the checkpoint: a kill between the two leaves a row that restore() drops.
            callbacks += [keras.callbacks.CSVLogger(str(run_dir / "log.csv"), append=initial_epoch > 0),
                          keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False)]
        callbacks += [Checkpoint(run_dir / "checkpoints", chief),
                      SampleGrid(run_dir / "samples", *[np.asarray(x) for x in sample], chief=chief)]
        if config["minutes"]:
            callbacks.append(TimeBudget(config["minutes"]))
        if config["decay"]:
            callbacks.append(LinearDecay(config["lr"], config["epochs"], config["minutes"], config["decay"]))
        if initial_epoch < config["epochs"]:
            gan.fit(dataset, epochs=config["epochs"], initial_epoch=initial_epoch, callbacks=callbacks,
                    steps_per_epoch=max(1, len(photos) // config["batch_size"]), verbose=verbose,
                    shuffle=False)  # make_dataset shuffles.
    if strategy:  # Every worker reads the weights into a plain copy; the chief saves and scores that.
        plain = pix2pix.build_generator(size, config["ngf"], config["head"], config["dropout"])
        plain.set_weights(generator.get_weights())
        generator = plain
    if not chief:
        return {}
    try:
        with atomic_path(run_dir / "generator.keras") as temporary:
            generator.save(temporary)
    except OSError as error:
        raise ValueError(f"cannot write {run_dir / 'generator.keras'} ({error}); the checkpoints are intact: "
                         "free some space, then run --resume") from None
    if held_out is None:
        print("no test/ or val/ split: skipping the held-out comparison")
        return {}
    return held_out_comparison(generator, config, run_dir, held_out)


def held_out_comparison(generator, config, run_dir, held_out):
    """Score the model against leaving photos untouched and turning them gray; record the test-time mode.

    The paper runs BatchNorm and Dropout as in training at test time; the usual way is inference mode. Both are
    measured on the held-out split and the better one is kept in config.json for predict.py and evaluate.py.
    """
    import evaluate

    def summary(**how):
        return evaluate.evaluate(held_out, log=lambda message: None, **how)[held_out.name]

    scores = {mode: summary(model=(generator, {**config, "test_mode": mode})) for mode in ("eval", "train")}
    config["test_mode"] = max(scores, key=lambda mode: scores[mode]["pooled_colour_iou"])
    write_atomic(run_dir / "config.json", json.dumps(config, indent=2).encode())
    results = {"model": scores[config["test_mode"]]}
    for baseline in ("identity", "gray"):
        results[f"{baseline} (baseline)"] = summary(baseline=baseline)
    print(f"\nHeld-out split {held_out} (test-time mode: {config['test_mode']}; "
          f"pooled colour IoU {scores['eval']['pooled_colour_iou']:.3f} in eval mode, "
          f"{scores['train']['pooled_colour_iou']:.3f} in train mode):")
    print(evaluate.format_table(results))
    write_atomic(run_dir / "held_out.json", json.dumps(results, indent=2).encode())
    return results


def main(argv=None):
    given, out, resume = parse_args(argv)
    try:
        config, run_dir = make_config(given, out, resume)
        results = train(config, run_dir, resume)
    except (ValueError, OSError) as error:
        sys.exit(f"error: {error}")
    if is_chief():
        model = "" if Path("runs", "latest").resolve() == run_dir else f" --model {run_dir}"
        # The demo's test photos hold the objects it learnt to keep, on photos it never saw.
        photos = "datasets/demo/test out/ --pairs" if Path(config["data"]) == DEMO else "PHOTOS/ out/"
        print(f"\nNext, colour photos with it, each beside its original, and look at out/:\n"
              f"    python predict.py {photos} --side-by-side{model}")
    return results


if __name__ == "__main__":
    main()
