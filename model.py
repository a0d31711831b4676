"""pix2pix in Keras 3 (Isola et al. 2017): a U-Net generator, a 70x70 PatchGAN discriminator and their training.

The generator has three heads:
- "mask": a sigmoid mask, and the output is data.splash(input, mask): every colour comes from the photo itself,
  the rest is exactly gray. The default for colour input.
- "rgb": the paper's tanh RGB output, needed when the input is gray and colour must be invented.
- "chroma": for gray input too, a sigmoid mask (where colour goes) and a tanh colour (which colour) apart; the
  output is the input's gray plus the colour's chroma where the mask is over 0.5, so where the network cannot
  tell where colour goes, it says so (mask under 0.5) and leaves gray.
Depth follows the image size (log2(size) down-sampling steps, as the paper's 8 at 256 px) and width follows
`ngf`/`ndf`, so the tests' 32 px models and the paper's 256 px model are the same code.
"""
import contextlib
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from data import (CHROMA_FLOOR, atomic_path, colour_strength, luminance, quiet_stderr, remove_stale_temporaries,
                  splash, target_mask, write_atomic, write_image)

# The one place Keras is imported: the backend pinned, TensorFlow's start-up log kept out of the tools' output.
# Other modules take Keras from here (`from model import keras`), so the order of imports never matters.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
with quiet_stderr():
    import keras
    from keras import layers, ops

# Keras's BatchNormalization defaults (momentum 0.99, epsilon 1e-3) differ from the paper's Torch code (0.1 in
# Torch's convention, i.e. 0.9 here, and 1e-5). Minutes-long CPU runs take few steps, and with 0.99 the moving
# statistics would still be far from the data when training stops, so we take the paper's values.
BATCHNORM = dict(momentum=0.9, epsilon=1e-5)
SLOPE = 0.2  # LeakyReLU slope of the paper; Keras's default is 0.3.


@contextlib.contextmanager
def precision(name):
    """Keras's dtype policy for the networks built in the block: float32, or bfloat16 compute with float32
    variables ("bfloat16"); the policy before it is restored after it, so nothing outside the block changes."""
    saved = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if name == "bfloat16" else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(saved)


def init():
    return keras.initializers.RandomNormal(0.0, 0.02)  # The paper's weight initialisation.


def downsample(x, filters, batchnorm=True, name=None):
    """Conv 4x4 stride 2 -> [BatchNorm] -> LeakyReLU(0.2): halves the spatial size."""
    x = layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init(), use_bias=not batchnorm,
                      name=name)(x)
    if batchnorm:
        x = layers.BatchNormalization(**BATCHNORM)(x)
    return layers.LeakyReLU(SLOPE)(x)


def upsample(x, filters, dropout=0.0):
    """Transposed conv 4x4 stride 2 -> BatchNorm -> [Dropout] -> ReLU: doubles the spatial size."""
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=init(), use_bias=False)(x)
    x = layers.BatchNormalization(**BATCHNORM)(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return layers.ReLU()(x)


def unet_depth(size):
    depth = int(round(math.log2(size))) if size > 0 else 0
    if size < 16 or 2**depth != size:
        raise ValueError(f"image size must be a power of two, at least 16 (e.g. 64, 128, 256), not {size}")
    return depth


def build_generator(size=256, ngf=64, head="mask", dropout=0.5):
    """U-Net: input (size, size, 3) in [-1, 1] -> output of the same shape in [-1, 1].

    At 256 px and ngf=64: encoder C64-C128-C256-C512-C512-C512-C512-C512, decoder with dropout (0.5 in the paper)
    in its first three blocks and skip connections, as in the paper. The innermost block has no BatchNorm (as in
    the paper's code): it sees 1x1 maps, and with a batch of one, BatchNorm would zero them.
    """
    if head not in ("mask", "rgb", "chroma"):
        raise ValueError(f"head must be 'mask', 'rgb' or 'chroma', not {head!r}")
    depth = unet_depth(size)
    widths = [min(ngf * 2**i, ngf * 8) for i in range(depth)]
    inputs = keras.Input((size, size, 3), name="photo")
    x, skips = inputs, []
    for i, width in enumerate(widths[:-1]):  # (size / 2**(i+1)) x (size / 2**(i+1)) x width
        x = downsample(x, width, batchnorm=i > 0)
        skips.append(x)
    x = downsample(x, widths[-1], batchnorm=False)  # 1 x 1 x ngf*8, the bottleneck.
    for i, (width, skip) in enumerate(zip(reversed(widths[:-1]), reversed(skips))):
        x = upsample(x, width, dropout=dropout if i < 3 else 0.0)  # Back to the skip's size and width.
        x = layers.Concatenate()([x, skip])
    channels = {"mask": 1, "rgb": 3, "chroma": 4}[head]
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=init(),
                               name="head")(x)
    if head == "chroma":  # size x size x 1 and x 3, float32.
        mask = layers.Activation("sigmoid", dtype="float32", name="where")(x[..., :1])
        colour = layers.Activation("tanh", dtype="float32", name="colour")(x[..., 1:])
        # Colour where the mask says more likely than not, exactly gray elsewhere: the least chroma error for a
        # calibrated mask (the cross-entropy trains it; the loss never looks through this step).
        outputs = luminance(inputs) + ops.round(mask) * (colour - luminance(colour))
    else:
        x = layers.Activation("sigmoid" if head == "mask" else "tanh", dtype="float32", name=head)(x)
        outputs = splash(inputs, x) if head == "mask" else x
    return keras.Model(inputs, outputs, name=f"generator_{head}")


def build_discriminator(size=256, ndf=64):
    """70x70 PatchGAN: (photo, output) pair -> a grid of real/fake logits, one per 70x70 patch."""
    photo = keras.Input((size, size, 3), name="photo")
    image = keras.Input((size, size, 3), name="image")
    x = layers.Concatenate()([photo, image])  # size x size x 6
    x = downsample(x, ndf, batchnorm=False)  # size/2 x size/2 x ndf
    x = downsample(x, ndf * 2)  # size/4 x size/4 x 2ndf
    x = downsample(x, ndf * 4)  # size/8 x size/8 x 4ndf
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(ndf * 8, 4, kernel_initializer=init(), use_bias=False)(x)  # size/8 - 1, 8ndf
    x = layers.BatchNormalization(**BATCHNORM)(x)
    x = layers.LeakyReLU(SLOPE)(x)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(1, 4, kernel_initializer=init())(x)  # size/8 - 2 x size/8 - 2 x 1 logits
    x = layers.Activation("linear", dtype="float32")(x)
    return keras.Model([photo, image], x, name="discriminator")


def mask_of(generator):
    """The sub-model photo -> mask (size x size x 1 in [0, 1]) of a mask-head generator, or None."""
    try:
        return keras.Model(generator.input, generator.get_layer("mask").output)
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------------------- losses


def discriminator_loss(real_logits, fake_logits):
    """Half the sum of the cross-entropies on real and fake patches; log 2 ~ 0.69 when D cannot tell them apart."""
    real = ops.mean(ops.binary_crossentropy(ops.ones_like(real_logits), real_logits, from_logits=True))
    fake = ops.mean(ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True))
    return 0.5 * (real + fake)


def gan_loss(fake_logits):
    """The generator wants the discriminator to call its output real."""
    return ops.mean(ops.binary_crossentropy(ops.ones_like(fake_logits), fake_logits, from_logits=True))


# The loss beside the GAN loss: each takes (outputs, targets, photos, head_logits), all B x H x W x C.


def image_l1(outputs, targets, photos, head_logits):
    """The paper's L1 on the output image. For a mask head it weighs each pixel's mask error by the photo's
    chroma, so a pale stem or a brownish violin counts for little beside a red petal."""
    return ops.mean(ops.abs(ops.cast(targets, "float32") - ops.cast(outputs, "float32")))


def colour_l1(outputs, targets, photos, head_logits):
    """The L1 of a mask head's mask wherever the photo has colour: output - target = (mask - target mask) *
    (photo - gray), so each pixel's error over the photo's chroma there (at least CHROMA_FLOOR) is the mask's."""
    error = ops.sum(ops.abs(ops.cast(targets, "float32") - ops.cast(outputs, "float32")), axis=-1)
    return ops.mean(error / ops.maximum(colour_strength(ops.cast(photos, "float32")), CHROMA_FLOOR))


def mask_cross_entropy(outputs, targets, photos, head_logits):
    """The cross-entropy of a mask head's mask against the target's, where the photo has colour. Unlike any L1 of
    the sigmoid's output, whose gradient vanishes where the mask is confidently wrong (a missed violin), its
    gradient on the logits stays mask - m* there."""
    wanted, weight = target_mask(photos, targets)
    logits = ops.cast(head_logits[..., 0], "float32")
    return ops.mean(weight * ops.binary_crossentropy(wanted, logits, from_logits=True))


def where_cross_entropy(outputs, targets, photos, head_logits):
    """For the chroma head: the cross-entropy of its mask against where the target has colour, and the L1 of its
    colour's chroma against the target's there. Each part learns one thing: the mask how likely colour is, so
    that a pixel it cannot tell stays near 0 (gray), and the colour which colour, wherever there is one."""
    targets = ops.cast(targets, "float32")
    wanted = ops.minimum(colour_strength(targets) / CHROMA_FLOOR, 1.0)
    logits = ops.cast(head_logits, "float32")
    colour = ops.tanh(logits[..., 1:])
    error = ops.sum(ops.abs(colour - luminance(colour) - (targets - luminance(targets))), axis=-1)
    return ops.mean(ops.binary_crossentropy(wanted, logits[..., 0], from_logits=True)) + ops.mean(wanted * error)


LOSSES = {"image": image_l1, "colour": colour_l1, "bce": mask_cross_entropy, "where": where_cross_entropy}


class Pix2Pix(keras.Model):
    """The conditional GAN: `fit` on (photo, target) batches in [-1, 1] trains both networks."""

    def __init__(self, generator, discriminator, loss="image", loss_weight=100.0, **kwargs):
        """loss: a name in LOSSES, weighed by `loss_weight` against the GAN loss. With discriminator None the
        generator learns from that loss alone (the paper's L1-only ablation), and a step costs less."""
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        # The same generator, also returning its head's logits (before the sigmoid or tanh), which bce needs.
        self.with_logits = keras.Model(generator.input, [generator.output, generator.get_layer("head").output])
        self.loss_function = LOSSES[loss]
        self.loss_weight = loss_weight
        self.built = True  # Both networks are built; this lets save_weights and load_weights work at once.

    def compile(self, g_optimizer, d_optimizer=None, **kwargs):
        """Also creates the optimisers' and the loss trackers' variables, so that under a tf.distribute strategy
        (compile called in its scope) they are created as the strategy's variables."""
        super().compile(**kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer if self.discriminator else None
        g_optimizer.build(self.generator.trainable_variables)
        if self.discriminator:
            d_optimizer.build(self.discriminator.trainable_variables)
        names = ("d_loss", "g_gan", "g_loss") if self.discriminator else ("g_loss",)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        import tensorflow as tf  # The gradient tape is the one backend-specific part.

        photos, targets = data
        # Gradients are summed over replicas under a tf.distribute strategy: scale so their sum is the mean's.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            # training=True explicitly: Keras 3 would otherwise run BatchNorm and Dropout in inference mode here.
            outputs, head_logits = self.with_logits(photos, training=True)
            losses = {"g_loss": self.loss_function(outputs, targets, photos, head_logits)}
            g_total = self.loss_weight * losses["g_loss"]
            if self.discriminator:
                real_logits = self.discriminator([photos, targets], training=True)
                fake_logits = self.discriminator([photos, outputs], training=True)
                losses["g_gan"] = gan_loss(fake_logits)
                losses["d_loss"] = discriminator_loss(real_logits, fake_logits)
                g_total += losses["g_gan"]
            scaled = [g_total / replicas, losses.get("d_loss", 0.0) / replicas]
        for network, optimizer, tape, loss in zip((self.generator, self.discriminator),
                                                  (self.g_optimizer, self.d_optimizer), (g_tape, d_tape), scaled):
            if network:
                variables = network.trainable_variables
                optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        for name, value in losses.items():
            self.trackers[name].update_state(value)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3 (3.15) averages logs across workers along axis 0, which a scalar lacks.
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs


def adam(learning_rate=2e-4):
    return keras.optimizers.Adam(learning_rate, beta_1=0.5)  # The paper's optimiser.


# ----------------------------------------------------------------------------------------- training callbacks


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
        # Checked before writing: h5py on a full disk prints tracebacks and can crash the process at exit.
        needed = 2 * previous[-1].stat().st_size if previous else self.estimated_size()
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

    def estimated_size(self):
        """Bytes of a checkpoint before any is written: its variables (networks and optimisers), half as much
        again for HDF5's own structure."""
        optimisers = [o for o in (self.model.g_optimizer, self.model.d_optimizer) if o]
        variables = [*self.model.weights, *(v for o in optimisers for v in o.variables)]
        return int(1.5 * sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables)) + 65536

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
    for stale in (run_dir, folder, run_dir / "samples"):  # What a killed run was writing when it died.
        if stale.is_dir():
            remove_stale_temporaries(stale)
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


class KeepBest(keras.callbacks.Callback):
    """Score the generator after each epoch on held-out pairs (uint8 photos and targets at the jitter size,
    centre-cropped to `size`) by a criterion (name in the logs, measure(targets, outputs) on float images in
    [0, 1], and max or min: which value is best; train.py's `criterion`). At the end the generator takes the
    weights of the best epoch, so a run on few pairs ends where it generalised best, not where it had learnt its
    pairs by heart. Put it first among the callbacks, so the others log its score."""

    def __init__(self, photos, targets, size, criterion):
        super().__init__()
        top = (photos.shape[1] - size) // 2
        crop = (slice(None), slice(top, top + size), slice(top, top + size))
        self.photos = photos[crop].astype(np.float32) / 127.5 - 1
        self.targets = targets[crop].astype(np.float32) / 255
        self.name, self.measure, self.choose = criterion
        self.best = (None, 0, None)  # (score, epoch, weights)

    def on_epoch_end(self, epoch, logs=None):
        outputs = (np.asarray(self.model.generator(self.photos, training=False), np.float32) + 1) / 2
        score = self.measure(self.targets, np.clip(outputs, 0, 1))
        if logs is not None:
            logs[self.name] = score
        if self.best[0] is None or self.choose(self.best[0], score) != self.best[0]:  # A tie keeps the first.
            self.best = (score, epoch + 1, self.model.generator.get_weights())

    def on_train_end(self, logs=None):
        score, epoch, weights = self.best
        if weights is not None:
            self.model.generator.set_weights(weights)
            print(f"kept the generator of epoch {epoch}, the best on the held-out pairs ({self.name} {score:.3f})")


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
            if optimizer:
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
