"""Export: the SavedModel and the LiteRT file compute what the Keras model computes, each in its own runtime."""
import numpy as np
import tensorflow as tf

import export
import predict


def test_exported_files_match_the_keras_model(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    export.main([str(tmp_path / "exported"), "--model", str(run_dir)])
    generator, config = predict.load_run(run_dir)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    # The exported files compute in float32, as the float32 Keras copy does; the run itself may have trained in
    # bfloat16, whose outputs agree to about 1e-2.
    reference = export.float32_generator(generator, config)(x, training=False)
    expected, expected_mask = np.asarray(reference["image"]), np.asarray(reference["mask"])
    np.testing.assert_allclose(expected, np.asarray(generator(x, training=False)), atol=0.03)

    loaded = tf.saved_model.load(str(tmp_path / "exported" / "saved_model"))  # Kept: it owns the variables.
    served = loaded.serve(tf.constant(x))
    np.testing.assert_allclose(served["image"].numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(served["mask"].numpy(), expected_mask, atol=1e-5)

    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "exported" / "generator.tflite"))
    runner = interpreter.get_signature_runner()
    lite = runner(**{next(iter(runner.get_input_details())): x})
    np.testing.assert_allclose(lite["image"], expected, atol=1e-4)  # LiteRT fuses ops: float rounding differs.
    np.testing.assert_allclose(lite["mask"], expected_mask, atol=1e-4)
