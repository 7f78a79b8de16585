"""Which options a convention supports, and the nearest supported combination to what was asked."""

from __future__ import annotations

from typing import NamedTuple

from quantviz.conventions.registry import get_convention

OPTION_NAMES = ("signed", "symmetric", "narrow_range", "reduce_range")


class ResolvedOptions(NamedTuple):
    """Options a convention can run with, and why any asked-for option was changed or is fixed.

    Attributes
    ----------
    options : dict
        bits, signed, symmetric, narrow_range, reduce_range: the nearest supported combination.
    changed : dict
        option name -> why the asked-for value could not be used.
    locked : dict
        option name -> why its other value is not available (the control should be disabled).
    """

    options: dict[str, int | bool]
    changed: dict[str, str]
    locked: dict[str, str]


def resolve_options(
    convention: str,
    *,
    bits: int = 8,
    signed: bool = False,
    symmetric: bool = False,
    narrow_range: bool = False,
    reduce_range: bool = False,
) -> ResolvedOptions:
    """Return the supported options nearest to those asked for (fewest changes, bits closest).

    >>> r = resolve_options("tf_fake_quant", bits=8, signed=True)
    >>> r.options["signed"], "unsigned" in r.changed["signed"], "signed" in r.locked
    (False, True, True)
    >>> resolve_options("tflite", bits=4).options["bits"]
    8
    """
    conv = get_convention(convention)
    asked = {
        "bits": int(bits),
        "signed": bool(signed),
        "symmetric": bool(symmetric),
        "narrow_range": bool(narrow_range),
        "reduce_range": bool(reduce_range),
    }
    reason = conv.unsupported_reason(**asked)
    best = asked
    if reason:
        candidates = []
        for b in range(2, 17):
            for flags in range(16):
                option = {"bits": b, **{name: bool(flags >> i & 1) for i, name in enumerate(OPTION_NAMES)}}
                if conv.unsupported_reason(**option):
                    continue
                flips = sum(option[n] != asked[n] for n in OPTION_NAMES)
                # a flipped switch costs more than a few bits; prefer turning options off
                cost = (
                    10 * flips + abs(b - asked["bits"]) + sum(option[n] for n in OPTION_NAMES if option[n] != asked[n]),
                    b,
                )
                candidates.append((cost, option))
        best = min(candidates, key=lambda c: c[0])[1]
    changed = {
        name: conv.unsupported_reason(**{**best, name: asked[name]}) or reason
        for name in asked
        if best[name] != asked[name] and reason
    }
    locked = {}
    for name in OPTION_NAMES:
        other = {**best, name: not best[name]}
        why = conv.unsupported_reason(**other)
        if why:
            locked[name] = why
    return ResolvedOptions(best, changed, locked)
