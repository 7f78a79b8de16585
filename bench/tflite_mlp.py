"""Convert bench/model_debug.py's 10 MB MLP to TFLite, float and full-integer int8 (needs TensorFlow).

    /work/main/.venv-oracles/bin/python -m bench.tflite_mlp WEIGHTS.npz OUT_DIR   # run by bench.model_debug

Reads the MLP's weights (w0, w1, ...) and calibration inputs (x) from WEIGHTS.npz, writes OUT_DIR/float.tflite
(the converter, no optimisation) and OUT_DIR/int8.tflite (int8 weights and activations, float input and output).
Nothing is committed: the files are made at bench time in a temporary folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np


def convert(weights: list[np.ndarray], calibration: np.ndarray, out: Path) -> None:
    import tensorflow as tf

    constants = [tf.constant(w) for w in weights]

    @tf.function(input_signature=[tf.TensorSpec(calibration.shape[1:], tf.float32, name="x")])
    def mlp(x):
        for i, w in enumerate(constants):
            x = tf.matmul(x, w)
            if i < len(constants) - 1:
                x = tf.nn.relu(x)
        return x

    def converter():
        return tf.lite.TFLiteConverter.from_concrete_functions([mlp.get_concrete_function()], mlp)

    (out / "float.tflite").write_bytes(converter().convert())
    c = converter()
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([x] for x in calibration)
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    (out / "int8.tflite").write_bytes(c.convert())


if __name__ == "__main__":
    data = np.load(sys.argv[1])
    count = sum(1 for k in data.files if k.startswith("w"))
    convert([data[f"w{i}"] for i in range(count)], data["x"], Path(sys.argv[2]))
