"""NF4 (QLoRA, bitsandbytes): 16 codes at quantiles of a normal distribution, one absmax per block of 64.

Where the 16 values come from: 8 positive quantiles of N(0, 1) at probabilities evenly spaced from
δ = 0.9677083 down to 0.5 (the last, 0.5, dropped), 7 negative ones likewise, and an exact 0 — then all divided
by the largest, so they span [−1, 1]. An asymmetric set: one more positive value than negative, so that 0 is a
code. Values are normalised by the block's absmax and each goes to the nearest code; a value exactly halfway
between two codes goes to the lower one. Codes are packed two per byte, the *first* value in the high nibble.

Double quantization (QLoRA's second level) stores the float32 absmax values themselves in 8 bits: subtract
their mean, then quantize blocks of 256 of them with one float32 absmax each, to the nearest of 256 evenly
spaced signed codes (a plain symmetric int8 here, where bitsandbytes uses its own 8-bit "dynamic" map).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

F32 = np.float32
BLOCK = 64
OFFSET = 0.9677083

# The table bitsandbytes and the QLoRA paper publish (float32), for comparison with the one derived below.
PUBLISHED = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
], dtype=F32)


def derive_table(offset: float = OFFSET) -> np.ndarray:
    """Return the 16 NF4 values from the normal quantiles (float32, sorted).

    >>> t = derive_table(); t.size, float(t[0]), float(t[7]), float(t[-1])
    (16, -1.0, 0.0, 1.0)
    """
    ppf = NormalDist().inv_cdf
    positive = [ppf(float(p)) for p in np.linspace(offset, 0.5, 9, dtype=F32)[:-1]]
    negative = [-ppf(float(p)) for p in np.linspace(offset, 0.5, 8, dtype=F32)[:-1]]
    values = np.sort(np.array([*positive, 0.0, *negative], dtype=F32))
    return (values / values.max()).astype(F32)


TABLE = PUBLISHED
MIDPOINTS = ((TABLE[1:] + TABLE[:-1]) / F32(2)).astype(F32)


def absmax(blocks: np.ndarray) -> np.ndarray:
    return np.abs(blocks).max(axis=1).astype(F32)


def nearest_codes(normalised: np.ndarray) -> np.ndarray:
    """Index of the nearest NF4 value; exactly on a midpoint goes to the lower code."""
    return np.searchsorted(MIDPOINTS, normalised, side="left").astype(np.uint8)


def encode_blocks(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (absmax per block (n,) float32, codes (n, 64) uint8)."""
    a = absmax(blocks)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.where(a[:, None] > 0, blocks / a[:, None], F32(0)).astype(F32)
    return a, nearest_codes(normalised)


def pack(codes: np.ndarray) -> np.ndarray:
    """Two codes per byte, the first of each pair in the high nibble (bitsandbytes' order)."""
    pairs = codes.reshape(codes.shape[0], -1, 2)
    return ((pairs[..., 0] << 4) | (pairs[..., 1] & 0x0F)).astype(np.uint8)


def unpack(packed: np.ndarray) -> np.ndarray:
    return np.stack([packed >> 4, packed & 0x0F], axis=-1).reshape(packed.shape[0], -1)


def decode_blocks(a: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return TABLE[codes] * a[:, None]


def encode(x: np.ndarray) -> np.ndarray:
    a, codes = encode_blocks(x.reshape(-1, BLOCK))
    return np.concatenate([a.astype("<f4").view(np.uint8).reshape(-1, 4), pack(codes)], axis=1).reshape(-1)


def decode(data: np.ndarray, n: int) -> np.ndarray:
    body = data.reshape(-1, 4 + BLOCK // 2)
    a = np.ascontiguousarray(body[:, :4]).view("<f4").reshape(-1)
    return decode_blocks(a, unpack(body[:, 4:])).reshape(-1)[:n].astype(F32)


class DoubleQuantized:
    """The absmax values quantized again: a float32 mean, then int8 codes with one float32 scale per 256."""

    def __init__(self, absmaxes: np.ndarray, group: int = 256) -> None:
        a = absmaxes.astype(F32)
        self.mean = F32(a.mean()) if a.size else F32(0)
        centred = (a - self.mean).astype(F32)
        pad = (-centred.size) % group
        padded = np.concatenate([centred, np.zeros(pad, F32)]).reshape(-1, group)
        self.scales = (np.abs(padded).max(axis=1) / F32(127)).astype(F32)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(self.scales[:, None] > 0, padded / self.scales[:, None], F32(0))
        self.codes = np.rint(q).astype(np.int8)
        self.size = a.size

    def values(self) -> np.ndarray:
        """The absmax values as the second level brings them back."""
        back = self.codes.astype(F32) * self.scales[:, None]
        return (back.reshape(-1)[: self.size] + self.mean).astype(F32)

    def bits_per_weight(self, block: int = BLOCK) -> float:
        """4 bits + the absmax's share: 8 bits per block plus 32 bits per 256 blocks (and the mean)."""
        return 4 + 8 / block + 32 / (block * 256)
