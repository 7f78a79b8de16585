"""Train the digits MLP (64 -> 128 -> 128 -> 10, ReLU) and write quantviz/tasks/data/digits.npz.

Run in a venv with torch and scikit-learn (not the app's): ``/work/venvs/tasks/bin/python scripts/train_digits.py``.
scikit-learn's bundled ``load_digits`` (8×8 images, 0..16), a stratified 75/25 split with random_state=0, pixels
divided by 16. The npz holds the float32 weights ([out, in], as torch stores them), the split (uint8 pixels, so the
app needs no scikit-learn) and PyTorch's float32 logits on the test split, the reference the numpy inference must
equal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parents[1] / "quantviz" / "tasks" / "data" / "digits.npz"
SEED = 0


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    digits = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        digits.data.astype(np.uint8),
        digits.target.astype(np.int64),
        test_size=0.25,
        random_state=SEED,
        stratify=digits.target,
    )
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    xt = torch.tensor(x_tr, dtype=torch.float32) / 16
    yt = torch.tensor(y_tr)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(SEED)
    for _epoch in range(60):
        for idx in torch.randperm(len(xt), generator=gen).split(32):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        logits = net(torch.tensor(x_te, dtype=torch.float32) / 16).numpy().astype(np.float32)
    accuracy = float((logits.argmax(1) == y_te).mean())
    print(f"float test accuracy {accuracy:.4f} on {len(y_te)} images")
    if accuracy < 0.97:
        sys.exit("below the 97 % the task promises")
    layers = [m for m in net if isinstance(m, torch.nn.Linear)]
    weights = {f"fc{i}.weight": m.weight.detach().numpy().astype(np.float32) for i, m in enumerate(layers, 1)}
    biases = {f"fc{i}.bias": m.bias.detach().numpy().astype(np.float32) for i, m in enumerate(layers, 1)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        **weights,
        **biases,
        x_train=x_tr,
        y_train=y_tr.astype(np.uint8),
        x_test=x_te,
        y_test=y_te.astype(np.uint8),
        reference_logits=logits,
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
