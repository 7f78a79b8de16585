"""Which options a convention supports, and the nearest supported combination to what was asked."""

from __future__ import annotations

from typing import NamedTuple

from quantviz.conventions.registry import get_convention
from quantviz.grid import MAX_BITS, MIN_BITS, OPTION_FIELDS, GridOptions, every_grid_options

OPTION_NAMES = ("signed", "symmetric", "narrow_range", "reduce_range")


class ResolvedOptions(NamedTuple):
    """Options a convention can run with, and why any asked-for option was changed or is fixed.

    Attributes
    ----------
    options : GridOptions
        The nearest supported combination.
    changed : dict
        option name -> why the asked-for value could not be used.
    locked : dict
        option name -> why its other value is not available (the control should be disabled).
    """

    options: GridOptions
    changed: dict[str, str]
    locked: dict[str, str]


def _cost(option: GridOptions, asked: GridOptions) -> tuple[int, int]:
    """How far ``option`` is from ``asked``: a flipped switch costs more than a few bits; turning options off is
    preferred."""
    flipped = [name for name in OPTION_NAMES if getattr(option, name) != getattr(asked, name)]
    return 10 * len(flipped) + abs(option.bits - asked.bits) + sum(getattr(option, n) for n in flipped), option.bits


def supported_bits(convention: str, options: GridOptions) -> list[int]:
    """Return the bit widths ``convention`` supports with the other options as they are.

    >>> supported_bits("tflite", GridOptions()), supported_bits("onnxruntime", GridOptions())
    ([8], [4, 8, 16])
    """
    conv = get_convention(convention)
    return [b for b in range(MIN_BITS, MAX_BITS + 1) if not conv.unsupported_reason(options.replace(bits=b))]


def nearest_supported(convention: str, asked: GridOptions) -> GridOptions:
    """Return the supported options nearest to ``asked`` (``asked`` itself when supported).

    >>> nearest_supported("tflite", GridOptions(bits=4)).bits
    8
    """
    conv = get_convention(convention)
    if not conv.unsupported_reason(asked):
        return asked
    candidates = [o for o in every_grid_options() if not conv.unsupported_reason(o)]
    return min(candidates, key=lambda o: _cost(o, asked))


def resolve_options(convention: str, options: GridOptions | None = None, **loose: object) -> ResolvedOptions:
    """Return the supported options nearest to those asked for (fewest changes, bits closest).

    Takes a GridOptions, or its five fields as loose keywords.

    >>> r = resolve_options("tf_fake_quant", bits=8, signed=True)
    >>> r.options.signed, "unsigned" in r.changed["signed"], "signed" in r.locked
    (False, True, True)
    >>> resolve_options("tflite", GridOptions(bits=4)).options.bits
    8
    """
    conv = get_convention(convention)
    asked = GridOptions.coerce(options, loose)
    reason = conv.unsupported_reason(asked)
    best = nearest_supported(convention, asked)
    changed = {
        name: conv.unsupported_reason(best.replace(**{name: getattr(asked, name)})) or reason
        for name in OPTION_FIELDS
        if getattr(best, name) != getattr(asked, name) and reason
    }
    locked = {}
    for name in OPTION_NAMES:
        why = conv.unsupported_reason(best.replace(**{name: not getattr(best, name)}))
        if why:
            locked[name] = why
    return ResolvedOptions(best, changed, locked)
