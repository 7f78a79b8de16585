"""Perplexity, KL divergence and top-token agreement, as llama.cpp's ``perplexity --kl-divergence`` defines them.

Read in ggml-org/llama.cpp, ``tools/perplexity/perplexity.cpp``: the text is cut into chunks of ``n_ctx`` tokens;
each chunk is scored only from ``first = n_ctx/2`` on (so every prediction has at least half a context), the
logits at positions first … n_ctx−2 predicting tokens first+1 … n_ctx−1; perplexity = exp(mean negative
log-likelihood). With ``--kl-divergence`` each of those positions adds KL(p_base ‖ p) = Σ_i p_base,i ·
(log p_base,i − log p_i) over the tokens whose base log-probability exceeds −16, and counts whether the two
argmaxes agree ("Same top p"). Here the base (float) log-probabilities are kept in float64, where llama.cpp stores
them as 16-bit codes in its logits file.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

KL_LOG_FLOOR = -16.0  # llama.cpp skips base log-probabilities at or below this


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def scored_positions(n_ctx: int) -> slice:
    """Return the positions of a chunk whose logits are scored: first = n_ctx/2 up to n_ctx − 2.

    >>> scored_positions(128)
    slice(64, 127, None)
    """
    if n_ctx < 2:
        raise ValueError(f"a chunk needs at least 2 tokens, got {n_ctx}")
    return slice(n_ctx // 2, n_ctx - 1)


def perplexity(logits: np.ndarray, tokens: np.ndarray) -> float:
    """Return exp(mean NLL) of chunks ``tokens`` [n, n_ctx] under ``logits`` [n, n_ctx, vocab], llama.cpp-style.

    >>> round(perplexity(np.zeros((1, 4, 8)), np.zeros((1, 4), int)), 6)   # uniform over 8 tokens
    8.0
    """
    tokens = np.asarray(tokens)
    pos = scored_positions(tokens.shape[1])
    logp = _log_softmax(np.asarray(logits)[:, pos])
    targets = tokens[:, pos.start + 1 : pos.stop + 1]
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return float(np.exp(nll.mean()))


class Divergence(NamedTuple):
    """How far a model's next-token distributions are from the base model's, over the scored positions."""

    mean_kl: float  # mean KL(p_base ‖ p), nats
    top1_agreement: float  # fraction of positions where both argmaxes agree (llama.cpp "Same top p")
    count: int  # positions compared


def divergence(base_logits: np.ndarray, logits: np.ndarray, *, chunked: bool = True) -> Divergence:
    """Return the mean KL and top-1 agreement of ``logits`` against ``base_logits``.

    ``chunked``: the inputs are [n, n_ctx, vocab] chunks, scored at llama.cpp's positions; otherwise [rows, vocab],
    every row scored (a classifier's test set).

    >>> d = divergence(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), chunked=False); d.mean_kl, d.top1_agreement
    (0.0, 1.0)
    """
    base, other = np.asarray(base_logits), np.asarray(logits)
    if base.shape != other.shape:
        raise ValueError(f"the two sets of logits differ in shape: {base.shape} and {other.shape}")
    if chunked:
        pos = scored_positions(base.shape[1])
        base, other = base[:, pos], other[:, pos]
    base, other = base.reshape(-1, base.shape[-1]), other.reshape(-1, other.shape[-1])
    lb, lq = _log_softmax(base), _log_softmax(other)
    keep = lb > KL_LOG_FLOOR
    kl = np.where(keep, np.exp(lb) * (lb - lq), 0.0).sum(axis=-1)
    same = base.argmax(axis=-1) == other.argmax(axis=-1)
    return Divergence(mean_kl=float(kl.mean()), top1_agreement=float(same.mean()), count=int(kl.size))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Return the fraction of rows whose argmax is the label (ties go to the lowest index, as numpy's argmax).

    >>> accuracy(np.array([[0.0, 2.0], [1.0, 1.0]]), np.array([1, 1]))
    0.5
    """
    return float((np.asarray(logits).argmax(axis=-1) == np.asarray(labels)).mean())


class LogitScores(NamedTuple):
    """A task's metric on quantized and float logits, and how far the quantized logits moved from float's."""

    value: float
    float_value: float
    kl_divergence: float
    top1_agreement: float
    predictions: np.ndarray | None
    float_predictions: np.ndarray | None


def compare_logits(logits: np.ndarray, base: np.ndarray, labels: np.ndarray, *, classes: bool) -> LogitScores:
    """Return the accuracy and predicted classes (``classes``) or the perplexity of ``logits`` and of the float
    ``base``, with the KL divergence and top-1 agreement between them.

    >>> base = np.array([[2.0, 0.0], [0.0, 2.0]]); labels = np.array([0, 1])
    >>> s = compare_logits(base[:, ::-1], base, labels, classes=True)
    >>> s.value, s.float_value, s.top1_agreement
    (0.0, 1.0, 0.0)
    """
    if classes:
        div = divergence(base, logits, chunked=False)
        return LogitScores(
            value=accuracy(logits, labels),
            float_value=accuracy(base, labels),
            kl_divergence=div.mean_kl,
            top1_agreement=div.top1_agreement,
            predictions=logits.argmax(axis=1),
            float_predictions=base.argmax(axis=1),
        )
    div = divergence(base, logits)
    return LogitScores(
        value=perplexity(logits, labels),
        float_value=perplexity(base, labels),
        kl_divergence=div.mean_kl,
        top1_agreement=div.top1_agreement,
        predictions=None,
        float_predictions=None,
    )
