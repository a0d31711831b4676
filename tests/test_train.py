"""train.py: the run directory, resuming after a stop or a kill, the time budget and option errors."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import data
import evaluate
import model
import predict
import train
from conftest import ROOT, TINY, TINY_EPOCHS, WITH_D, write_synthetic


def test_run_directory_holds_everything(tiny_run, synthetic_data):
    run_dir, _ = tiny_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["size"] == 32 and config["head"] == "mask" and "test_mode" not in config  # Options only.
    measured = json.loads((run_dir / "held_out.json").read_text())
    generator, _ = predict.load_run(run_dir)
    on_val = {mode: evaluate.evaluate(synthetic_data / "val", model=(generator, {**config, "test_mode": mode}),
                                      log=data.silent)["val"]["pooled_colour_iou"] for mode in ("eval", "train")}
    other = {"eval": "train", "train": "eval"}[measured["test_mode"]]
    assert on_val[measured["test_mode"]] >= on_val[other]  # The mode kept is the better on val, measured again.
    # The test split's score is the saved generator's, in the mode chosen on val.
    saved = evaluate.evaluate(synthetic_data / "test", model=run_dir, log=data.silent)["test"]
    assert measured["results"]["model"]["pooled_colour_iou"] == pytest.approx(saved["pooled_colour_iou"], abs=1e-6)
    assert predict.load_run(run_dir)[1]["test_mode"] == measured["test_mode"]
    assert (run_dir / "generator.keras").is_file() and (run_dir / "log.csv").is_file()
    assert sorted(p.name for p in (run_dir / "samples").iterdir())[-1] == f"epoch-{TINY_EPOCHS:05d}.png"
    assert json.loads((run_dir / "checkpoints" / "latest.json").read_text())["epoch"] == TINY_EPOCHS
    assert any((run_dir / "tensorboard").rglob("*tfevents*"))
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()


@pytest.mark.slow
def test_resume_continues_the_step_and_epoch_count(synthetic_data, tmp_path):
    run_dir = tmp_path / "run"
    common = ["--data", str(synthetic_data), "--out", str(run_dir)]
    train.main([*common, "--epochs", "2", *TINY, *WITH_D])  # Both networks and optimisers resume.
    first = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    steps_per_epoch = 64 // 8
    assert first == {"epoch": 2, "step": 2 * steps_per_epoch, "file": "epoch-00002.weights.h5"}
    log = run_dir / "log.csv"
    lines = log.read_text().splitlines()
    log.write_text("\n".join([*lines, "2" + lines[-1][1:]]) + "\n")  # A row of an epoch killed before its checkpoint.
    train.main([*common, "--epochs", "3", "--resume"])
    second = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    assert second["epoch"] == 3 and second["step"] == 3 * steps_per_epoch
    epochs = [line.split(",")[0] for line in (run_dir / "log.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]


@pytest.mark.slow
def test_kill_9_at_any_moment_then_resume(synthetic_data, tmp_path):
    """A run killed with SIGKILL leaves a complete checkpoint behind, and --resume goes on from it."""
    run_dir = tmp_path / "run"
    command = [sys.executable, str(ROOT / "train.py"), "--data", str(synthetic_data), "--out", str(run_dir),
               "--epochs", "1000", *TINY]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = run_dir / "checkpoints" / "latest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if pointer.is_file() and json.loads(pointer.read_text())["epoch"] >= 3:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = json.loads(pointer.read_text())
    assert saved["epoch"] >= 3 and (run_dir / "checkpoints" / saved["file"]).is_file()
    dead = 2**22 + 12345  # Above the kernel's largest PID: what a killed writer leaves, wherever the kill lands.
    (run_dir / "samples" / f".{dead}-0123abcd-epoch-00001.png").write_bytes(b"half a sample")
    result = subprocess.run([*command[:2], "--out", str(run_dir), "--resume", "--epochs", str(saved["epoch"] + 1)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr, result.stderr  # No TensorFlow start-up log either.
    assert f"resumed from epoch {saved['epoch']}" in result.stdout
    assert json.loads(pointer.read_text())["epoch"] == saved["epoch"] + 1
    assert not [p for p in run_dir.rglob(".*") if data.TEMPORARY.match(p.name)]  # None left half written.


@pytest.mark.slow
def test_time_budget_stops_cleanly(synthetic_data, tmp_path):
    run_dir = tmp_path / "run"
    train.main(["--data", str(synthetic_data), "--out", str(run_dir), "--epochs", "1000", "--minutes", "0.0001",
                *TINY])
    assert json.loads((run_dir / "checkpoints" / "latest.json").read_text())["epoch"] == 1
    assert (run_dir / "generator.keras").is_file()


def test_bad_options_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="power of two"):
        model.build_generator(100)
    with pytest.raises(ValueError, match="--head rgb"):
        train.make_config({"input": "gray", "head": "mask"}, None, False)
    config, _ = train.make_config({"input": "gray"}, str(tmp_path / "run"), False)
    assert config["head"] == "rgb"  # Gray input cannot keep colour it does not have: the rgb head it is.
    assert config["loss"] == "image"  # And the paper's L1, as the other losses measure a mask.
    for loss in train.MASK_LOSSES:
        with pytest.raises(ValueError, match="--head mask"):
            train.make_config({"loss": loss, "head": "rgb"}, None, False)
    config, _ = train.make_config({"input": "gray", "head": "chroma"}, str(tmp_path / "run"), False)
    assert config["loss"] == "where"  # The chroma head's own loss when none is given;
    for given in ({"head": "chroma", "loss": "image"}, {"head": "rgb", "loss": "where"}):
        with pytest.raises(ValueError, match="--loss where"):  # with any other, or on another head, refused.
            train.make_config(given, str(tmp_path / "run"), False)
    with pytest.raises(ValueError, match="nothing to resume"):
        train.make_config({}, str(tmp_path / "none"), True)


def test_init_starts_from_a_run_and_trains_on(tiny_run, synthetic_data, tmp_path):
    """--init takes the run's architecture and weights: its first epoch's loss is far below a fresh start's."""
    common = ["--data", str(synthetic_data), "--epochs", "1", "--batch-size", "8", "--seed", "2", "--ndf", "0",
              "--precision", "float32"]
    train.main([*common, "--out", str(tmp_path / "fresh"), "--size", "32", "--ngf", "8"])
    train.main([*common, "--out", str(tmp_path / "tuned"), "--init", str(tiny_run[0])])
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert (config["size"], config["ngf"], config["init"]) == (32, 8, str(tiny_run[0].resolve()))

    def first_loss(run):
        header, row = (tmp_path / run / "log.csv").read_text().splitlines()[:2]
        return float(dict(zip(header.split(","), row.split(",")))["g_loss"])
    assert first_loss("tuned") < 0.5 * first_loss("fresh")
    with pytest.raises(ValueError, match="trained with --ngf 8, not 16"):
        train.make_config({"init": str(tiny_run[0]), "ngf": 16}, str(tmp_path / "other"), False)


def test_an_init_run_resumes_after_its_source_run_is_gone(tiny_run, synthetic_data, tmp_path):
    shutil.copytree(tiny_run[0], tmp_path / "source")
    common = ["--data", str(synthetic_data), "--batch-size", "8", "--ndf", "0", "--seed", "2", "--precision", "float32"]
    train.main([*common, "--out", str(tmp_path / "tuned"), "--init", str(tmp_path / "source"), "--epochs", "1"])
    shutil.rmtree(tmp_path / "source")
    train.main(["--out", str(tmp_path / "tuned"), "--resume", "--epochs", "2"])
    assert json.loads((tmp_path / "tuned" / "checkpoints" / "latest.json").read_text())["epoch"] == 2


def test_what_a_run_measured_wins_over_a_copied_option(tiny_run, tmp_path):
    """held_out.json alone says which test-time mode a run measured better; a config.json that says otherwise
    (as an export's copy does) does not change it."""
    shutil.copytree(tiny_run[0], tmp_path / "run")
    measured = json.loads((tmp_path / "run" / "held_out.json").read_text())["test_mode"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    other = {"eval": "train", "train": "eval"}[measured]
    (tmp_path / "run" / "config.json").write_text(json.dumps({**config, "test_mode": other}))
    assert predict.load_run(tmp_path / "run")[1]["test_mode"] == measured


def test_auto_precision_is_the_faster_one_measured(monkeypatch, capsys):
    """On a CPU with bfloat16 instructions, auto times both precisions and takes the faster; without them it
    takes float32 without timing anything."""
    config = {**train.DEFAULTS, "size": 32, "batch_size": 2}
    monkeypatch.setattr(train, "has_bfloat16_instructions", lambda: False)
    monkeypatch.setattr(train, "step_seconds", lambda *args: pytest.fail("timed without bfloat16 instructions"))
    assert train.resolve_precision(config) == "float32"
    monkeypatch.setattr(train, "has_bfloat16_instructions", lambda: True)
    for bf16, fp32, expected in ((0.1, 0.2, "bfloat16"), (0.3, 0.2, "float32")):
        monkeypatch.setattr(train, "step_seconds", lambda config, precision: bf16 if precision == "bfloat16" else fp32)
        assert train.resolve_precision(config) == expected
        assert f"precision {expected}" in capsys.readouterr().out
    assert train.resolve_precision({**config, "precision": "bfloat16"}) == "bfloat16"


def test_step_seconds_times_a_real_step_and_leaves_the_policy_alone():
    """A step on 32 photos takes longer than on 1: the time is the step's own; and timing bfloat16 leaves Keras's
    dtype policy as it was."""
    policy = model.keras.mixed_precision.global_policy().name
    one, many = (train.step_seconds({**train.DEFAULTS, "size": 64, "batch_size": batch}, "bfloat16", steps=3)
                 for batch in (1, 32))
    assert many > 2 * one
    assert model.keras.mixed_precision.global_policy().name == policy


@pytest.mark.parametrize("val, head", [("held out", "mask"), ("given", "mask"), ("given", "chroma")])
def test_a_run_keeps_its_best_epoch_on_val(tmp_path, capsys, val, head):
    """40 pairs: with no val/, 4 are held out of training; with val/, it is used. Either way they are scored
    after every epoch, and the run ends with the generator of its best epoch on them, measured here again: by
    pooled colour IoU for a mask head, by chroma error for a head that invents colour (gray input)."""
    rng = np.random.default_rng(7)
    pairs = tmp_path / "pairs"
    write_synthetic(pairs if val == "held out" else pairs / "train", 40, rng)
    if val == "given":
        write_synthetic(pairs / "val", 4, rng)
    gray = ["--input", "gray", "--head", "chroma"] if head == "chroma" else []
    train.main(["--data", str(pairs), "--out", str(tmp_path / "run"), "--epochs", "12", *TINY, *gray])
    measured = json.loads((tmp_path / "run" / "held_out.json").read_text())
    assert len(measured["val_files"]) == 4 and ("held out" in measured["chosen_on"]) == (val == "held out")
    name, measure, _, best = train.criterion({"head": head})
    header, *rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    scores = [float(dict(zip(header.split(","), row.split(",")))[name]) for row in rows]
    assert len(scores) == 12 and len(set(scores)) > 1
    generator, _ = predict.load_run(tmp_path / "run")
    side, size = data.jitter_size(32), 32  # As training loads pairs (uint8), then the centre crop it trains at.
    folder = pairs if val == "held out" else pairs / "val"
    pairs = [[data.center_crop(data.to_uint(data.resize(x, side, side)), size) / 255 for x in
              (data.prepare_input(a, "gray" if gray else "colour"), b)]
             for a, b in (data.read_pair(folder / name) for name in measured["val_files"])]
    outputs = np.asarray(generator(np.stack([a for a, _ in pairs]) * 2 - 1, training=False))
    outputs = np.clip((outputs + 1) / 2, 0, 1)
    again = measure([b for _, b in pairs], outputs)
    assert again == pytest.approx(best(scores), abs=1e-3)  # The same measure: the saved generator is the best.
    assert f"kept the generator of epoch {scores.index(best(scores)) + 1}," in capsys.readouterr().out


@pytest.mark.parametrize("keep", [0.0, 1.0])
def test_a_model_whose_colour_is_worse_than_none_is_said(tmp_path, capsys, keep):
    """A generator that keeps every pixel's colour errs more than all gray on pairs that keep a small part; one
    that keeps none ties all gray and is not warned about."""
    split = ("val", data.list_images(write_synthetic(tmp_path / "val", 8, np.random.default_rng(3))))
    generator = model.build_generator(32, 4)
    head = generator.get_layer("head")
    head.set_weights([np.zeros_like(head.get_weights()[0]), np.full_like(head.get_weights()[1], 50 * keep - 25)])
    config = {**train.DEFAULTS, "size": 32, "ngf": 4}
    train.held_out_comparison(generator, config, tmp_path, split, split)
    assert ("colour is worse than none" in capsys.readouterr().out) == (keep == 1.0)
