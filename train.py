r"""Train pix2pix on A|B pairs: `python train.py` trains on the demo dataset that ships in the repo.

    python train.py                                   # demo data, demo settings, about 15 minutes on 2 CPU cores
    python train.py --data my_pairs --size 256 --ngf 64 --ndf 64 --loss image --loss-weight 100 --lr 2e-4 \
        --mix 0 --epochs 200 --minutes 0              # the paper's model, loss and schedule
    python train.py --resume                          # continue runs/latest after an interruption

A run directory (default runs/<timestamp>, pointed to by runs/latest) receives everything a later step needs:
generator.keras, config.json (the options, written once), held_out.json (the test-time mode that measured better
on the val split, and the scores on the test split), checkpoints/ (written atomically each epoch), log.csv,
tensorboard/ and samples/epoch-NNNNN.png (input | target | output rows of held-out pairs).
"""
import argparse
import contextlib
import json
import math
import os
import statistics
import time
from pathlib import Path

import numpy as np

import evaluate
import predict
from data import (HelpFormatter, atomic_path, check_writes, find_split_dirs, list_images, load_pairs, make_dataset,
                  one_line_errors, silent, write_atomic)

HERE = Path(__file__).resolve().parent
DEMO = HERE / "datasets" / "demo"

# Defaults: the demo's settings, chosen for a 2-core CPU (the runs behind them are in docs/experiments.md).
DEFAULTS = dict(
    data=str(DEMO),
    size=128,  # Training resolution; predict.py brings the result back to each photo's own size.
    epochs=1000,  # An upper bound: the demo run stops on its time budget.
    batch_size=8,
    precision="auto",
    head="mask",
    input="colour",
    direction="AtoB",
    ngf=16,  # Half the last width, a quarter of the work: more steps in the budget beat a wider network.
    ndf=0,  # No discriminator: beside the mask's cross-entropy at this weight it gave nothing, at 40% of a step.
    dropout=0.5,
    mix=0.5,  # Cut-mix shows objects on backgrounds they were never composed with.
    paste=0.0,  # Copy-paste alone moved the new-drawing val split within its seeds' spread (5-minute screens).
    vary=0.0,  # Outlines: new-drawing val +0.07 at 14 minutes, within the spread; Twemoji -0.02, seen -0.03.
    lr=1e-3,  # Above the paper's 2e-4: the mask's cross-entropy trains faster with it in a short budget.
    decay=0.5,  # The paper's schedule: constant, then linearly to 0 over the last half.
    loss="bce",  # Its gradient does not vanish where the mask is confidently wrong (a missed violin).
    loss_weight=10000.0,  # The GAN term light: at the paper's 100 the mask fits even the training pairs poorly.
    seed=0,
    minutes=14.0,  # With loading and the final evaluation, `python train.py` takes about 15 minutes.
    strategy="none",
    init=None,
)
MASK_LOSSES = ("colour", "bce")  # They measure the error of a mask, so they need the mask head.
# Options that a resumed run may change; every other option comes from the run's config.json.
RESUMABLE = ("epochs", "minutes")
# Options added since the first runs, at the values those runs had, so that they can still be resumed.
ADDED = dict(init=None, paste=0.0, vary=0.0)
VAL_SHARE = 0.1  # Of the training pairs, held out to choose on when the data has no val/ split,
MIN_PAIRS_FOR_VAL = 10  # if there are at least this many.
ARCHITECTURE = ("size", "ngf", "head", "input")  # What --init takes from its run: its weights fix them.
# What each numeric option must be (nan fails every comparison, so it is refused too).
RULES = {
    "size": ("a power of two, at least 16", lambda v: v >= 16 and v & (v - 1) == 0),
    "epochs": ("at least 1", lambda v: v >= 1),
    "batch_size": ("at least 1", lambda v: v >= 1),
    "ngf": ("at least 1", lambda v: v >= 1),
    "ndf": ("0 (no discriminator) or more", lambda v: v >= 0),
    "dropout": ("from 0 to below 1", lambda v: 0 <= v < 1),
    "mix": ("from 0 to 1", lambda v: 0 <= v <= 1),
    "paste": ("from 0 to 1", lambda v: 0 <= v <= 1),
    "vary": ("from 0 to 1", lambda v: 0 <= v <= 1),
    "lr": ("a positive number", lambda v: 0 < v < math.inf),
    "decay": ("from 0 to 1", lambda v: 0 <= v <= 1),
    "loss_weight": ("a number from 0 up", lambda v: 0 <= v < math.inf),
    "minutes": ("a number from 0 up (0: no limit)", lambda v: 0 <= v < math.inf),
}


# ---------------------------------------------------------------------------------------------------- options


def make_parser(argument_default=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter,
                                     argument_default=argument_default)
    add = parser.add_argument
    add("--data", help="folder of A|B images, flat or with train/ (val/, test/) inside")
    add("--out", default=argparse.SUPPRESS, help="run directory (default runs/<timestamp>; with --resume, "
        "runs/latest)")
    add("--size", type=int, help="training size in pixels, a power of two")
    add("--epochs", type=int, help="passes over the training pairs (an upper bound with --minutes)")
    add("--batch-size", type=int, help="pairs per step")
    add("--precision", choices=("auto", "float32", "bfloat16"), help="bfloat16: mixed precision, faster on "
        "some CPUs with native bfloat16 (AVX512_BF16, AMX); auto: the faster of the two, timed on a few steps at "
        "start, on such CPUs; float32 elsewhere")
    add("--head", choices=("mask", "rgb", "chroma"), help="mask: keep or drop the photo's own colour; rgb: the "
        "paper's output, which invents colour (needed for --input gray); chroma: invents colour too, with a mask of "
        "where apart, so that it can leave gray where it cannot tell (learns with --loss where)")
    add("--input", choices=("colour", "gray"), help="what the network sees of A: the photo or its gray")
    add("--direction", choices=("AtoB", "BtoA"), help="learn A -> B or B -> A")
    add("--ngf", type=int, help="generator width: filters of its first layer (the paper's is 64)")
    add("--ndf", type=int, help="discriminator width (the paper's is 64); 0: none, the loss alone trains "
        "the generator (the paper's L1-only ablation)")
    add("--dropout", type=float, help="dropout in the generator's three innermost decoder blocks")
    add("--mix", type=float, help="probability of pasting a box of another training pair into a pair, A and B "
        "alike (cut-mix)")
    add("--paste", type=float, help="probability of pasting another training pair's kept objects into a pair, "
        "turned and scaled, with their target (copy-paste)")
    add("--vary", type=float, help="probability of drawing dark lines along a pair's edges, changing its "
        "contrast, brightness and saturation and adding gray noise, to photo and target alike")
    add("--lr", type=float, help="Adam learning rate of both networks (the paper's is 2e-4)")
    add("--decay", type=float, help="fraction of training over which the learning rate falls linearly to 0 "
        "at the end, as in the paper (0: constant); with --minutes, of this invocation's budget")
    add("--loss", choices=("image", "colour", "bce", "where"), help="the loss beside the GAN loss. image: the "
        "paper's L1 on the output image; colour: the L1 of the mask wherever the photo has colour; bce: the "
        "cross-entropy of the mask against the target's, wherever the photo has colour (colour and bce need --head "
        "mask); where: the chroma head's, the cross-entropy of its mask against where the target has colour and "
        "the L1 of its colour there")
    add("--loss-weight", type=float, help="weight of --loss against the GAN loss (the paper's is 100)")
    add("--seed", type=int, help="random seed")
    add("--minutes", type=float, help="stop cleanly after this many minutes of training (0: no limit, only "
        "--epochs)")
    add("--strategy", choices=("none", "mirrored", "multiworker"), help="mirrored: all local GPUs; "
        "multiworker: several machines, configured by TF_CONFIG (only the chief writes the run directory)")
    add("--init", metavar="RUN", help="start from the generator of RUN (a run directory or .keras file), e.g. to "
        "fine-tune it on a few corrected pairs; its --size, --ngf, --head and --input are taken")
    add("--resume", action="store_true", default=argparse.SUPPRESS, help="continue the run in --out (default "
        "runs/latest) from its last checkpoint, with its own options")
    return parser


def parse_args(argv=None):
    """(the options given on the command line, --out, --resume). --help shows DEFAULTS; parsing again with a
    parser that has no defaults tells which options were given."""
    parser = make_parser()
    parser.set_defaults(**DEFAULTS)
    parser.parse_args(argv)  # Errors and --help, with the defaults.
    given = vars(make_parser(argparse.SUPPRESS).parse_args(argv))
    return given, given.pop("out", None), given.pop("resume", False)


def make_config(given, out, resume):
    """The run's full options: defaults < the user's flags, or, when resuming, the run's own config.json."""
    if resume:
        run_dir = Path(out) if out else Path("runs") / "latest"
        config_path = run_dir / "config.json"
        if not config_path.is_file():
            raise ValueError(f"nothing to resume: {config_path} does not exist")
        config = {**ADDED, **json.loads(config_path.read_text())}
        ignored = sorted(set(given) - set(RESUMABLE))
        if ignored:
            print(f"resuming with the run's own options; ignoring --{', --'.join(ignored)}")
        config.update({k: v for k, v in given.items() if k in RESUMABLE})
        return check(config, run_dir), run_dir.resolve()
    config = {**DEFAULTS, **given}
    if config["init"]:
        config.update(init_options(config["init"], given))
    if config["input"] == "gray" and config["head"] == "mask":
        if "head" in given:
            raise ValueError("--input gray needs --head rgb: a mask can only keep colour the input has")
        config["head"] = "rgb"
    if config["loss"] in MASK_LOSSES and config["head"] != "mask":
        if "loss" in given:
            raise ValueError(f"--loss {config['loss']} needs --head mask: it measures the error of a mask")
        config["loss"] = "where" if config["head"] == "chroma" else "image"
    if (config["loss"] == "where") != (config["head"] == "chroma"):
        raise ValueError("--head chroma learns with --loss where, and --loss where needs --head chroma")
    config["data"] = str(Path(config["data"]).resolve())  # So that --resume works from any folder.
    run_dir = Path(out) if out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    if (run_dir / "config.json").exists():
        raise ValueError(f"{run_dir} already holds a run: use --resume to continue it, or another --out")
    init = config["init"] and Path(config["init"])
    check_writes([(run_dir / "config.json", None)],
                 folders=[config["data"], *([init if init.is_dir() else init.parent] if init else [])])
    return check(config, run_dir), run_dir.resolve()


def init_options(run, given):
    """The options fixed by the generator of --init RUN (ARCHITECTURE), and RUN as an absolute path; a clear
    error where a flag given differs from the run's."""
    path = str(Path(run).resolve())
    _, source = predict.load_run(path)
    for name in ARCHITECTURE:
        if name in given and given[name] != source[name]:
            raise ValueError(f"--init {run} was trained with --{name} {source[name]}, not {given[name]}: leave "
                             f"--{name} out to take the run's")
    return {**{name: source[name] for name in ARCHITECTURE}, "init": path}


def check(config, run_dir):
    """Refuse option values outside their range, and a `latest` beside the run that is not our link."""
    for name, (rule, holds) in RULES.items():
        if not holds(config[name]):
            raise ValueError(f"--{name.replace('_', '-')} must be {rule}, not {config[name]}")
    latest = run_dir.parent / "latest"
    if latest.exists() and not latest.is_symlink():
        raise ValueError(f"{latest} is not the link train.py makes: move it away, or pass another --out")
    return config


# ------------------------------------------------------------------------------------------------------ train


def has_bfloat16_instructions():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def step_seconds(config, precision, steps=3):
    """Median seconds of a training step of this run's networks in `precision`, on a random batch."""
    import tensorflow as tf  # TensorFlow: loaded once training starts, so that --help is instant.

    import model  # Keras, likewise.

    with model.precision(precision):
        _, gan = build(config, None)
    shape = (config["batch_size"], config["size"], config["size"], 3)
    batch = tuple(tf.constant(np.random.default_rng(0).uniform(-1, 1, shape), tf.float32) for _ in range(2))
    step = tf.function(gan.train_step)
    times = []
    for _ in range(steps + 1):  # The first call traces the step.
        start = time.perf_counter()
        float(step(batch)["g_loss"])
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def resolve_precision(config):
    """'auto' -> the faster of float32 and bfloat16, measured on a few steps of this run's networks, where the
    CPU has native bfloat16 instructions (without them bfloat16 is emulated: six times slower on an AVX2 CPU);
    float32 on a GPU or elsewhere. A CPU's flags alone do not tell: on a Xeon with AVX512_BF16 but no AMX a step
    took 260 ms in bfloat16 against 205 ms in float32."""
    if config["precision"] != "auto":
        return config["precision"]
    import tensorflow as tf  # Loaded once training starts.

    if tf.config.list_physical_devices("GPU") or not has_bfloat16_instructions():
        return "float32"
    seconds = {precision: step_seconds(config, precision) for precision in ("float32", "bfloat16")}
    fastest = min(seconds, key=seconds.get)
    print(f"precision {fastest}: a step took {seconds['bfloat16'] * 1000:.0f} ms in bfloat16, "
          f"{seconds['float32'] * 1000:.0f} ms in float32")
    return fastest


def make_strategy(name):
    """None, or the tf.distribute strategy for --strategy: mirrored (all local GPUs) or multiworker (several
    machines, configured by TF_CONFIG). Made before anything else touches TensorFlow, as multiworker requires."""
    if name == "none":
        return None
    import tensorflow as tf  # Before anything else touches it, as MultiWorkerMirroredStrategy requires.

    return tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.MultiWorkerMirroredStrategy()


def is_chief():
    """True unless TF_CONFIG names this process a worker other than worker 0 (or a non-chief task)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    if not task:
        return True
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and task.get("index", 0) == 0


def point_latest(run_dir):
    """Make runs/latest a symlink to this run, replaced atomically."""
    latest = run_dir.parent / "latest"
    if latest.resolve() == run_dir:
        return
    with atomic_path(latest) as temporary:
        temporary.symlink_to(run_dir.name)


def load_data(config):
    """(training photos, targets, held-out splits, samples, val arrays): everything read before anything is
    written, so bad data leaves no run behind. The held-out splits are (val for choices, test to report), each
    (its name, [files]) or None: val/ and test/, either standing for both when only one exists. With no val/ a
    share of the training pairs is held out as val. The val arrays are returned so that fit keeps the best epoch
    on them: a user's few pairs are where training overfits."""
    splits = find_split_dirs(config["data"])
    if "train" not in splits:
        raise ValueError(f"{config['data']} has {'/, '.join(splits)}/ but no train/ folder of training pairs")
    size, direction, input_mode = config["size"], config["direction"], config["input"]
    photos, targets, paths = load_pairs(splits["train"], size, direction, input_mode)
    given = {name: (str(folder), list_images(folder)) for name, folder in splits.items() if name != "train"}
    val_arrays = load_pairs(splits["val"], size, direction, input_mode, log=silent)[:2] if "val" in given else None
    if "val" not in given and len(paths) >= MIN_PAIRS_FOR_VAL:
        order = np.random.default_rng(0).permutation(len(paths))  # The same split when the run is resumed.
        count = max(1, round(VAL_SHARE * len(paths)))
        held, kept = np.sort(order[:count]), np.sort(order[count:])
        given["val"] = (f"{count} pairs held out of {splits['train']}", [paths[i] for i in held])
        val_arrays = (photos[held], targets[held])
        photos, targets = photos[kept], targets[kept]
        print(f"no val/ split: {count} of the {len(paths)} training pairs are held out to choose on")
    held_out = (given.get("val") or given.get("test"), given.get("test") or given.get("val"))
    samples = (photos, targets)  # Without a held-out split, the samples are training pairs.
    if "test" in splits:
        samples = load_pairs(splits["test"], size, direction, input_mode, log=silent)[:2]
    elif val_arrays:
        samples = val_arrays
    print(f"{len(photos)} training pairs from {splits['train']}")
    return photos, targets, held_out, tuple(x[:4] for x in samples), val_arrays


def build(config, strategy, resume=False):
    """(generator, the compiled Pix2Pix): the networks' variables on every replica under a strategy. A new --init
    run starts from its run's generator; a resumed one from its own checkpoint (its --init run may be gone)."""
    import model  # Keras, and TensorFlow with it: loaded once training starts, so that --help is instant.

    scope = strategy.scope if strategy else contextlib.nullcontext
    with scope():
        generator = model.build_generator(config["size"], config["ngf"], config["head"], config["dropout"])
        discriminator = model.build_discriminator(config["size"], config["ndf"]) if config["ndf"] else None
    if config["init"] and not resume:
        generator.set_weights(predict.load_run(config["init"])[0].get_weights())
    # The wrapper holds no variables of its own. It is made outside the scope because Keras 3 (3.15) then skips
    # a pre-build step that fails under MultiWorkerMirroredStrategy; fit still runs under the strategy.
    gan = model.Pix2Pix(generator, discriminator, config["loss"], config["loss_weight"])
    with scope():
        gan.compile(model.adam(config["lr"]), model.adam(config["lr"]))
    return generator, gan


def criterion(config):
    """(name in the logs, measure(targets, outputs), the same measure in an evaluate summary, max or min): what a
    run chooses its best epoch and its test-time mode by, on val. A mask head keeps or drops the photo's own
    colour: pooled colour IoU, higher is better. A head that invents colour: chroma error, lower is better,
    since IoU counts a wrong colour as a hit."""
    if config["head"] == "mask":
        return "val_iou", evaluate.pooled_colour_iou, lambda summary: summary["pooled_colour_iou"], max
    return "val_chroma_error", mean_chroma_error, lambda summary: summary["chroma_error"]["mean"], min


def mean_chroma_error(targets, outputs):
    return float(np.mean([evaluate.chroma_error(target, output) for target, output in zip(targets, outputs)]))


def fit(gan, config, run_dir, dataset, *, steps, samples, resume, chief, verbose, val_arrays=None):
    """Train from the last checkpoint (with `resume`) until --epochs or --minutes; with `val_arrays` (the val
    split's photos and targets), end with the generator of the epoch that scored best on them."""
    import model  # Keras: loaded once training starts.
    from model import keras  # The same Keras, by its own name.

    sample = next(iter(make_dataset(*samples, config["size"], 4, shuffle=False)))
    initial_epoch = model.restore(gan, run_dir) if resume else 0
    name, measure, _, choose = criterion(config)
    callbacks = [] if val_arrays is None else [model.KeepBest(*val_arrays, config["size"], (name, measure, choose))]
    if chief:  # Before the checkpoint: a kill between the two leaves a row that restore() drops.
        callbacks += [keras.callbacks.CSVLogger(str(run_dir / "log.csv"), append=initial_epoch > 0),
                      keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False)]
    callbacks += [model.Checkpoint(run_dir / "checkpoints", chief),
                  model.SampleGrid(run_dir / "samples", *[np.asarray(x) for x in sample], chief=chief)]
    if config["minutes"]:
        callbacks.append(model.TimeBudget(config["minutes"]))
    if config["decay"]:
        callbacks.append(model.LinearDecay(config["lr"], config["epochs"], config["minutes"], config["decay"]))
    if initial_epoch < config["epochs"]:
        gan.fit(dataset, epochs=config["epochs"], initial_epoch=initial_epoch, callbacks=callbacks,
                steps_per_epoch=steps, verbose=verbose,
                shuffle=False)  # make_dataset shuffles.


def train(config, run_dir, resume=False, verbose="auto"):
    """Train (or resume) a run; returns the held-out comparison {name: summary} (empty without a held-out split).
    Under a multi-worker strategy only the chief writes."""
    strategy = make_strategy(config["strategy"])
    chief = is_chief()
    loaded = load_data(config)  # Bad data stops the run before Keras loads and the precision is timed.
    import model  # Keras: loaded once training starts.

    config["precision"] = resolve_precision(config)
    with model.precision(config["precision"]):
        return train_in_precision(config, run_dir, loaded, strategy=strategy, chief=chief, resume=resume,
                                  verbose=verbose)


def train_in_precision(config, run_dir, loaded, *, strategy, chief, resume, verbose):
    """train() once Keras's dtype policy is the run's, on load_data's data."""
    from model import keras  # Keras: loaded once training starts.

    keras.utils.set_random_seed(config["seed"])
    photos, targets, held_out, samples, val_arrays = loaded
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        if not resume:
            write_atomic(run_dir / "config.json", json.dumps(config, indent=2).encode())
        point_latest(run_dir)
        print(f"run directory {run_dir}")
    # Made before the networks, so that its random crops and boxes draw the same seeds as they always have. The
    # batch is global: under a strategy, fit splits each batch across the replicas.
    dataset = make_dataset(photos, targets, config["size"], config["batch_size"], seed=config["seed"],
                           mix=config["mix"], paste=config["paste"], vary=config["vary"])
    generator, gan = build(config, strategy, resume)
    with strategy.scope() if strategy else contextlib.nullcontext():
        fit(gan, config, run_dir, dataset, steps=max(1, len(photos) // config["batch_size"]), samples=samples,
            resume=resume, chief=chief, verbose=verbose, val_arrays=val_arrays)
    return finish(generator, config, run_dir, held_out=held_out, strategy=strategy, chief=chief)


def finish(generator, config, run_dir, *, held_out, strategy, chief):
    """Save the generator and score it on the held-out split."""
    if strategy:  # Every worker reads the weights into a plain copy; the chief saves and scores that.
        import model  # Keras: loaded once training starts.

        plain = model.build_generator(config["size"], config["ngf"], config["head"], config["dropout"])
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
    if held_out[1] is None:
        print("no test/ or val/ split: skipping the held-out comparison")
        return {}
    return held_out_comparison(generator, config, run_dir, *held_out)


def held_out_comparison(generator, config, run_dir, val, test):
    """Score the model against leaving photos untouched and turning them gray; record the test-time mode.

    The paper runs BatchNorm and Dropout as in training at test time; the usual way is inference mode. Both are
    measured on the val split; the better one goes into held_out.json, which predict.py and evaluate.py read,
    and is scored on the test split.
    """
    def summary(split, **how):
        return evaluate.score_files(split[1], **how)

    # Eval mode on both splits first: running the network in training mode moves BatchNorm's statistics, which eval
    # mode uses and training mode does not (the saved generator.keras is untouched).
    tested, scores = {}, {}
    for mode in ("eval", "train"):
        how = {"model": (generator, {**config, "test_mode": mode})}
        scores[mode] = summary(val, **how)
        tested[mode] = scores[mode] if test == val else summary(test, **how)
    name, _, value_of, choose = criterion(config)
    value = {mode: value_of(summary) for mode, summary in scores.items()}
    test_mode = choose(scores, key=value.get)
    error, gray_error = (s["chroma_error"]["mean"] for s in (scores[test_mode], summary(val, baseline="gray")))
    if error > gray_error:
        print(f"warning: on {val[0]} the model's colour is worse than none (chroma error {error:.2f}, all gray "
              f"{gray_error:.2f}): train on more pairs")
    results = {"model": tested[test_mode]}
    for baseline in ("identity", "gray"):
        results[f"{baseline} (baseline)"] = summary(test, baseline=baseline)
    print(f"\nTest-time mode {test_mode}, chosen on {val[0]} ({name} {value['eval']:.3f} in eval mode, "
          f"{value['train']:.3f} in train mode). Held-out split {test[0]}:")
    print(evaluate.format_table(results))
    measured = {"test_mode": test_mode, "chosen_on": val[0], "val_files": [p.name for p in val[1]],
                "by_test_mode": scores, "reported_on": test[0], "results": results}
    write_atomic(run_dir / "held_out.json", json.dumps(measured, indent=2).encode())
    return results


@one_line_errors
def main(argv=None):
    given, out, resume = parse_args(argv)
    config, run_dir = make_config(given, out, resume)
    results = train(config, run_dir, resume)
    if is_chief():
        model = "" if Path("runs", "latest").resolve() == run_dir else f" --model {run_dir}"
        # The demo's test photos hold the objects it learnt to keep, on photos it never saw.
        photos = "datasets/demo/test out/ --pairs" if Path(config["data"]) == DEMO else "PHOTOS/ out/"
        print(f"\nNext, colour photos with it, each beside its original, and look at out/:\n"
              f"    python predict.py {photos} --side-by-side{model}")
    return results


if __name__ == "__main__":
    main()
