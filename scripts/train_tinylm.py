"""Train the tiny byte-level transformer and write quantviz/tasks/data/tinylm.npz (+ _reference.npz).

Run in a venv with torch and numpy==2.4.6 (the corpus is two files of that numpy wheel, see
quantviz/tasks/corpus.py): ``nice /work/venvs/tasks/bin/python scripts/train_tinylm.py``.
A pre-LayerNorm GPT: byte embedding + learned positions, 2 blocks (4-head causal attention, tanh-GELU MLP 128->384),
final LayerNorm, an untied 128->256 head; context 128. AdamW, fixed seed, fixed step count (800 steps of 16
windows: 8 minutes on one busy core). tinylm.npz holds the float32 weights (Linear weights [out, in], as torch
stores them); tinylm_reference.npz PyTorch's float32 logits on the first 4 held-out windows, the reference the
numpy inference must equal.
"""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "quantviz" / "tasks" / "data" / "tinylm.npz"
REFERENCE = OUT.with_name("tinylm_reference.npz")
SEED, CONTEXT, WIDTH, HEADS, HIDDEN, LAYERS = 0, 128, 128, 4, 384, 2
STEPS, BATCH, LR = 800, 16, 3e-3
REFERENCE_WINDOWS = 4


def load_corpus():
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "quantviz" / "tasks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.split()


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.qkv, self.proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
        self.fc1, self.fc2 = nn.Linear(WIDTH, HIDDEN), nn.Linear(HIDDEN, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(WIDTH // HEADS)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, WIDTH))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class TinyLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(256, WIDTH), nn.Embedding(CONTEXT, WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f, self.head = nn.LayerNorm(WIDTH), nn.Linear(WIDTH, 256, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def main() -> None:
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # one thread: on a shared machine a second one mostly waits
    train, held_out = (torch.tensor(a.astype(np.int64)) for a in load_corpus())
    model = TinyLM()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=STEPS, pct_start=0.05)
    gen = torch.Generator().manual_seed(SEED)
    start = time.time()
    for step in range(STEPS):
        at = torch.randint(0, len(train) - CONTEXT - 1, (BATCH,), generator=gen)
        xb = torch.stack([train[i : i + CONTEXT] for i in at])
        yb = torch.stack([train[i + 1 : i + CONTEXT + 1] for i in at])
        loss = nn.functional.cross_entropy(model(xb).reshape(-1, 256), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"step {step} loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    n = len(held_out) // CONTEXT
    windows = held_out[: n * CONTEXT].view(n, CONTEXT)
    with torch.no_grad():
        logits = model(windows)
        nll = nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 256), windows[:, 1:].reshape(-1))
    print(f"held-out perplexity (all positions of {n} windows): {math.exp(nll.item()):.3f}")
    arrays = {name: p.detach().numpy().astype(np.float32) for name, p in model.state_dict().items()}
    np.savez_compressed(OUT, **arrays)
    np.savez_compressed(REFERENCE, reference_logits=logits[:REFERENCE_WINDOWS].numpy().astype(np.float32))
    for path in (OUT, REFERENCE):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
