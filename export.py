"""Export a trained generator for use outside Python: a TensorFlow SavedModel (for serving) and a LiteRT file.

    python export.py exported/                        # runs/latest -> exported/saved_model/, generator.tflite
    python export.py exported/ --model runs/20261125-101500

Both take a batch of photos resized to the training size, RGB in [-1, 1], and return `image` (the coloured
photo, [-1, 1]) and, for a mask-head model, `mask` ([0, 1]); they compute in float32 whatever precision the run
trained in. Bring the mask back to full resolution with a guided filter, as predict.py does.
"""
import argparse
import json
from pathlib import Path

from data import HelpFormatter, atomic_path, check_writes, one_line_errors, quiet_stderr, write_atomic
from predict import load_run


def float32_generator(generator, config):
    """The generator rebuilt in float32 with the same weights (a bfloat16-trained one computes in bfloat16),
    with outputs {"image"} or, for a mask head, {"image", "mask"}: what the exported files compute."""
    from model import build_generator, keras, precision  # Keras: loaded once a model is exported.

    with precision("float32"):  # Dropout holds no weights, so the inference copy can leave it out.
        copy = build_generator(config["size"], config["ngf"], config["head"], dropout=0.0)
    copy.set_weights(generator.get_weights())
    outputs = {"image": copy.output}
    if config["head"] == "mask":
        outputs["mask"] = copy.get_layer("mask").output
    return keras.Model(copy.input, outputs)


def export(directory, model_path, log=print):
    """Write DIR/saved_model (TensorFlow SavedModel, endpoint `serve`) and DIR/generator.tflite (LiteRT):
    photo batch (N x S x S x 3, RGB in [-1, 1]) -> {"image": N x S x S x 3 in [-1, 1], "mask": N x S x S x 1}."""
    directory, model_path = Path(directory), Path(model_path)
    check_writes([(directory / name, None) for name in ("saved_model", "generator.tflite", "config.json")],
                 reads=[model_path], folders=[model_path if model_path.is_dir() else model_path.parent])
    generator, config = load_run(model_path)  # Imports TensorFlow quietly, through model.py.
    import tensorflow as tf  # Its converter and its errors; loaded by load_run already.

    network = float32_generator(generator, config)
    try:
        with atomic_path(directory / "saved_model") as temporary:
            network.export(str(temporary), format="tf_saved_model", verbose=False)
    except tf.errors.OpError as error:  # TensorFlow's own writer: a full disk is ResourceExhaustedError.
        full = isinstance(error, tf.errors.ResourceExhaustedError) or "No space left" in error.message
        reason = "the disk is full" if full else error.message.splitlines()[0]
        raise OSError(f"cannot write {directory / 'saved_model'} ({reason})") from None
    with quiet_stderr():  # The converter logs every step of its work.
        lite = tf.lite.TFLiteConverter.from_saved_model(str(directory / "saved_model")).convert()
    write_atomic(directory / "generator.tflite", lite)
    write_atomic(directory / "config.json", json.dumps(config, indent=2).encode())
    log(f"exported {directory / 'saved_model'} and {directory / 'generator.tflite'} "
        f"({(directory / 'generator.tflite').stat().st_size / 1e6:.1f} MB)")


@one_line_errors
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("out", help="folder for saved_model/, generator.tflite and config.json")
    parser.add_argument("--model", default="runs/latest", help="run directory or .keras file")
    args = parser.parse_args(argv)
    export(args.out, args.model)


if __name__ == "__main__":
    main()
