"""NF4 (QLoRA, bitsandbytes): 16 codes at quantiles of a normal distribution, one absmax per block of 64.

Where the 16 values come from: 8 positive quantiles of N(0, 1) at probabilities evenly spaced from
δ = 0.9677083 down to 0.5 (the last, 0.5, dropped), 7 negative ones likewise, and an exact 0 — then all divided
by the largest, so they span [−1, 1]. An asymmetric set: one more positive value than negative, so that 0 is a
code. Values are multiplied by 1/absmax (float32, as bitsandbytes does) and each goes to the nearest code; a
value exactly on a float32 midpoint between two codes goes to the lower one (``torch.bucketize``). Codes are
packed two per byte, the *first* value in the high nibble.

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
PUBLISHED = np.array(
    [
        -1.0,
        -0.6961928009986877,
        -0.5250730514526367,
        -0.39491748809814453,
        -0.28444138169288635,
        -0.18477343022823334,
        -0.09105003625154495,
        0.0,
        0.07958029955625534,
        0.16093020141124725,
        0.24611230194568634,
        0.33791524171829224,
        0.44070982933044434,
        0.5626170039176941,
        0.7229568362236023,
        1.0,
    ],
    dtype=F32,
)


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
    # bitsandbytes multiplies by the reciprocal (absmax floored at 1e-38) and clamps to [−1, 1]
    inverse = (F32(1) / np.maximum(a, F32(1e-38))).astype(F32)
    normalised = np.clip(blocks * inverse[:, None], F32(-1), F32(1)).astype(F32)
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


def _linspace_f32(start: float, stop: float, steps: int) -> np.ndarray:
    """torch.linspace in float32 on the CPU: the first half counted up from start, the rest down from stop.

    Each point is a fused multiply-add (start + step·i rounded once), which float64 reproduces exactly here.
    """
    a, b = F32(start), F32(stop)
    step = np.float64((b - a) / F32(steps - 1))
    i = np.arange(steps, dtype=np.float64)
    up = np.float64(a) + step * i
    down = np.float64(b) - step * (steps - 1 - i)
    return np.where(i < steps // 2, up, down).astype(F32)


def dynamic_map(max_exponent_bits: int = 7, total_bits: int = 8) -> np.ndarray:
    """bitsandbytes' signed 8-bit "dynamic" map: a decimal exponent and a shrinking linear fraction.

    For exponents 10^−6 … 10^0, the midpoints of an even split of [0.1, 1] (2^i + 1 boundaries for exponent
    step i), both signs, plus 0 and 1: 256 sorted float32 values, dense near 0 and coarse near ±1.

    >>> m = dynamic_map(); m.size, float(m[0]), float(m[-1]), int((m == 0).sum())
    (256, -0.992968738079071, 1.0, 1)
    """
    data: list[float] = []
    non_sign = total_bits - 1
    extra = 2 ** (non_sign - max_exponent_bits) - 1
    i = 0
    for i in range(max_exponent_bits):
        bounds = _linspace_f32(0.1, 1.0, int(2 ** (i + non_sign - max_exponent_bits) + 1))
        means = ((bounds[:-1] + bounds[1:]) / F32(2)).astype(F32)
        power = F32(10 ** (-(max_exponent_bits - 1) + i))
        data += (power * means).astype(F32).tolist() + (-power * means).astype(F32).tolist()
    if extra > 0:
        bounds = _linspace_f32(0.1, 1.0, extra + 1)
        means = ((bounds[:-1] + bounds[1:]) / F32(2)).astype(F32)
        power = F32(10 ** (-(max_exponent_bits - 1) + i))
        data += (power * means).astype(F32).tolist() + (-power * means).astype(F32).tolist()
    data += [0.0, 1.0]
    data += [0.0] * (2**total_bits - len(data))
    return np.array(sorted(data), dtype=F32)


DYNAMIC = dynamic_map()


class DoubleQuantized:
    """QLoRA's second level: the float32 absmax values, less their mean, in 8 bits (blocks of 256, dynamic map).

    bitsandbytes' arithmetic (its default backend's ``quantize_blockwise``): multiply by 1/absmax, clamp to
    [−1, 1], take the nearest map value (a value on a float32 midpoint goes to the lower one); back as
    value · absmax + mean. Its CPU kernel's approximate binary search picks the farther neighbour for about 0.3 %
    of values near a midpoint (``tests/oracles/test_bitsandbytes.py``); the 4-bit level is exact.
    """

    def __init__(self, absmaxes: np.ndarray, group: int = 256, *, mean: float | None = None) -> None:
        a = np.asarray(absmaxes, F32).reshape(-1)
        self.absmaxes, self.size, self.group = a, a.size, group
        # torch sums float32 with its own cascade, which can differ from numpy's in the last bit: pass its mean
        # to reproduce bitsandbytes exactly
        self.mean = F32(mean) if mean is not None else (F32(np.mean(a, dtype=F32)) if a.size else F32(0))
        centred = (a - self.mean).astype(F32)
        full = centred.size - centred.size % group
        rows = [centred[:full].reshape(-1, group)] if full else []
        if centred.size > full:
            rows.append(centred[full:].reshape(1, -1))  # a last, shorter block
        scales, codes = [], []
        for r in rows:
            s = np.abs(r).max(axis=1).astype(F32)
            scaled = np.clip(r * (F32(1) / np.maximum(s, F32(1e-38)))[:, None], F32(-1), F32(1)).astype(F32)
            codes.append(np.searchsorted(DYNAMIC_MIDPOINTS, scaled, side="left").astype(np.uint8).reshape(-1))
            scales.append(s)
        self.scales = np.concatenate(scales) if scales else np.zeros(0, F32)
        self.codes = np.concatenate(codes) if codes else np.zeros(0, np.uint8)

    def values(self) -> np.ndarray:
        """The absmax values as the second level brings them back."""
        per_value = np.repeat(self.scales, self.group)[: self.size]
        return (DYNAMIC[self.codes] * per_value + self.mean).astype(F32)

    def max_error(self) -> float:
        """The largest distance between an absmax value and what the second level brings back."""
        return float(np.abs(self.values() - self.absmaxes).max()) if self.size else 0.0

    def bits_per_weight(self, block: int = BLOCK) -> float:
        """4 bits + the absmax's share: 8 bits per block plus a float32 scale per 256 blocks (and the mean)."""
        return 4 + 8 / block + 32 / (block * self.group)


DYNAMIC_MIDPOINTS = ((DYNAMIC[:-1] + DYNAMIC[1:]) / F32(2)).astype(F32)
