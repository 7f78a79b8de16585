"""The Block formats page with a K-quant or IQ4 chosen: the super-block, the imatrix switch, the numbers shown."""

from __future__ import annotations

import numpy as np
import pytest

from quantviz.blocks import importance_matrix
from quantviz.blocks.mix import outlier_activations
from quantviz.samples import sample_data
from quantviz.teach import superblock
from tests.apptest_helpers import open_page


@pytest.mark.parametrize(("name", "imatrix"), [("Q4_K", "imatrix"), ("Q3_K", "none"), ("IQ4_NL", "imatrix")])
def test_the_page_shows_the_library_numbers(name: str, imatrix: str) -> None:
    at = open_page(
        "block_formats.py",
        {"bf_fmt": name, "bf_imatrix": imatrix, "bf_blocks": "2", "bf_ochan": "12", "bf_size": "4096"},
    )
    assert not at.exception
    x = sample_data("normal", 4096, 0).astype(np.float32)
    block = 32 if name == "IQ4_NL" else 256
    shown = x[: 2 * block].copy()
    shown[0] *= np.float32(20)
    padded = np.concatenate([shown, np.zeros((-shown.size) % 1024, np.float32)])
    imp = importance_matrix(outlier_activations(128, 256, 12, 10.0, seed=26))
    effect = superblock.imatrix_effect(padded, name, np.tile(imp, padded.size // imp.size))
    texts = [m.value for m in at.markdown]
    assert superblock.imatrix_sentence(effect) in texts
    codes = at.dataframe[0].value["code"].tolist()
    assert codes == (effect.weighted_codes if imatrix == "imatrix" else effect.plain_codes).tolist()
    if name in superblock.SCALE_BITS:
        view = superblock.superblock_view(padded, name, None if imatrix == "none" else imp)
        table = at.dataframe[1].value
        assert table["scale code (6-bit)"].tolist() == [r.scale_code for r in view.rows]
        assert any(m.startswith("**The super-block's two levels of scales**") for m in texts)
