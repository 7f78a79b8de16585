"""The tiny language model's text: two docstring-heavy source files of the pinned numpy wheel.

Why this text: numpy is a runtime requirement pinned to one version (requirements.txt), so the same bytes are
installed on every machine where the app or ``make test`` runs, with no download; the files are mostly English
docstrings with code examples, a fair small corpus for a byte-level model. The sha256 of each file is checked, so
a different numpy cannot silently change the task. The last tenth of the bytes is held out for evaluation.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

FILES = {
    "_core/fromnumeric.py": "6055d8e195cf7aaae417d23bda203cd35014e3db3d7c28a32e7eb71e858e945f",
    "_core/_add_newdocs.py": "bdb68c6da2f3a1048cb2d6123afb6ede6f2bee88c88acb4d330c5485dc1324ce",
}
NUMPY_VERSION = "2.4.6"
HELD_OUT = 0.1


def corpus_bytes() -> np.ndarray:
    """Return the whole corpus as uint8 bytes (both files, in order), after checking their hashes.

    >>> corpus_bytes().size
    358744
    """
    root = Path(np.__file__).resolve().parent
    parts = []
    for rel, digest in FILES.items():
        data = (root / rel).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(
                f"numpy/{rel} is not the file of numpy {NUMPY_VERSION} (installed: {np.__version__}); "
                "install the pinned requirements"
            )
        parts.append(data)
    return np.frombuffer(b"".join(parts), dtype=np.uint8)


def split() -> tuple[np.ndarray, np.ndarray]:
    """Return (train, held_out) bytes: the first 90 % and the last 10 % of the corpus.

    >>> train, held_out = split(); round(held_out.size / (train.size + held_out.size), 3)
    0.1
    """
    data = corpus_bytes()
    cut = round(data.size * (1 - HELD_OUT))
    return data[:cut], data[cut:]
