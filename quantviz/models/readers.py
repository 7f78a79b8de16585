"""Readers for the model files QuantViz opens, each on the field's own library, none unpickling anything.

- ``.npz`` / ``.npy``: ``npz_reader`` (headers parsed, sizes checked before anything is inflated);
- ``.safetensors``: ``safetensors_reader`` (the header checked, then the ``safetensors`` package);
- ``.onnx``: ``onnx_reader`` (QDQ, QOperator, dynamic, MatMulNBits; external data refused);
- ``.gguf``: ``gguf_reader`` (the ``gguf`` package's reader, sizes checked first);
- ``.tflite``: ``tflite_reader`` (the ``tflite`` flatbuffer bindings, no TensorFlow).

This module keeps what every reader shares: pickled checkpoints are refused here, by name and by content.

Every failure becomes a :class:`quantviz.errors.ModelFileError` naming the file and the problem.
"""

from __future__ import annotations

import io
import zipfile

from quantviz.errors import ModelFileError

PICKLED = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")


def refuse_pickles(name: str, data: bytes) -> None:
    """Refuse pickled checkpoints by name and by content (a pickle stream, or a torch zip with data.pkl)."""
    lower = name.lower()
    if lower.endswith(PICKLED):
        raise ModelFileError(
            f"{name}: a pickled checkpoint, which QuantViz never unpickles (it can run code). "
            "Save it with safetensors (safetensors.torch.save_file) and open that."
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelFileError(
            f"{name}: this is a pickle stream, which QuantViz never unpickles; save it with safetensors"
        )
    if data[:2] == b"PK" and not lower.endswith((".npz",)):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return
        if any(n.endswith(".pkl") for n in names):
            raise ModelFileError(
                f"{name}: a PyTorch zip checkpoint (pickled), which QuantViz never unpickles; save it with safetensors"
            )
