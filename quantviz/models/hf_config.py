"""A Hugging Face ``config.json`` beside a safetensors checkpoint: its ``quantization_config``, read and checked.

What it decides where tensor names alone are ambiguous: the bits packed per int32 in GPTQ's ``qweight``/``qzeros``
(``bits``; names alone assume 4) and whether the zero points carry AutoGPTQ's z − 1 offset (``checkpoint_format``:
``gptq`` stores z − 1, ``gptq_v2`` stores z). What it claims and the tensors can check (``quant_method``, ``bits``,
``group_size``, ``sym``) is compared with them: a contradiction is a likely problem, in words. A config that is too
large, not JSON, or whose fields have the wrong types is refused with a :class:`~quantviz.errors.ModelFileError`.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from quantviz.errors import ModelFileError

MAX_CONFIG_BYTES = 1 << 20  # a real config.json is a few KB
METHODS = {
    "gptq": "gptq",
    "awq": "awq",
    "compressed-tensors": "compressed-tensors",
    "bitsandbytes": "bitsandbytes-nf4",
    "fp8": "fp8",
}  # quant_method -> the file_type the tensors should read as
KEYS = ("bits", "group_size", "sym", "desc_act", "zero_point", "checkpoint_format", "quant_type", "format")


class QuantConfig(NamedTuple):
    """The claims of a ``quantization_config`` that QuantViz reads (None where the config does not say)."""

    source: str
    quant_method: str
    bits: int | None = None
    group_size: int | None = None
    sym: bool | None = None
    desc_act: bool | None = None
    zero_point: bool | None = None
    checkpoint_format: str | None = None
    quant_type: str | None = None
    format: str | None = None

    def claims(self) -> list[str]:
        """``key value`` for every field the config sets, in a fixed order."""
        return [f"{k} {_word(v)}" for k in ("quant_method", *KEYS) if (v := getattr(self, k)) is not None]


def _word(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


TYPES = {
    "bits": int,
    "group_size": int,
    "sym": bool,
    "desc_act": bool,
    "zero_point": bool,
    "checkpoint_format": str,
    "quant_type": str,
    "format": str,
}


def _checked(source: str, fields: dict) -> dict:
    """The known fields with the right types; a wrong type is refused, naming the field."""
    out = {}
    for key, kind in TYPES.items():
        value = fields.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ModelFileError(f"{source}: quantization_config.{key} is {value!r}, not a {kind.__name__}")
        out[key] = value
    if "bits" in out and not 1 <= out["bits"] <= 16:
        raise ModelFileError(f"{source}: quantization_config.bits is {out['bits']}, not between 1 and 16")
    return out


def _flatten(method: str, q: dict) -> dict:
    """The fields in one place: compressed-tensors nests them in a config group, bitsandbytes prefixes them."""
    if method == "compressed-tensors":
        groups = q.get("config_groups")
        group = next(iter(groups.values()), {}) if isinstance(groups, dict) and groups else {}
        weights = group.get("weights") if isinstance(group, dict) else None
        weights = weights if isinstance(weights, dict) else {}
        return {
            "bits": weights.get("num_bits"),
            "group_size": weights.get("group_size"),
            "sym": weights.get("symmetric"),
            "format": q.get("format"),
        }
    if method == "bitsandbytes":
        return {"quant_type": q.get("bnb_4bit_quant_type"), "bits": 4 if q.get("load_in_4bit") is True else None}
    return q


def read_config(source: str, data: bytes) -> QuantConfig | None:
    """The ``quantization_config`` of a ``config.json``'s bytes, checked; None for a config without one.

    >>> c = read_config("config.json", b'{"quantization_config": {"quant_method": "gptq", "bits": 4, "sym": true}}')
    >>> c.claims()
    ['quant_method gptq', 'bits 4', 'sym true']
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{source}: {len(data):,} bytes is more than a config.json holds (at most 1 MiB read)")
    try:
        config = json.loads(bytes(data))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{source}: not valid JSON") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{source}: not a JSON object (a config.json is one)")
    q = config.get("quantization_config")
    if q is None:
        return None
    if not isinstance(q, dict):
        raise ModelFileError(f"{source}: quantization_config is {type(q).__name__}, not an object")
    method = q.get("quant_method")
    if method not in METHODS:
        raise ModelFileError(
            f"{source}: quantization_config.quant_method is {method!r}; QuantViz reads {', '.join(METHODS)}"
        )
    return QuantConfig(source=source, quant_method=method, **_checked(source, _flatten(method, q)))


def packed_bits(config: QuantConfig | None) -> int:
    """The bits per code in GPTQ/AWQ int32 packs: the config's, else 4 (what the tensor names alone suggest)."""
    if config is None or config.quant_method not in ("gptq", "awq") or config.bits is None:
        return 4
    if config.bits not in (2, 4, 8):
        raise ModelFileError(f"{config.source}: {config.bits}-bit packs cross int32 boundaries; QuantViz reads 2, 4, 8")
    return config.bits


def stores_z_minus_one(config: QuantConfig | None) -> bool:
    """AutoGPTQ's historical offset: qzeros hold z − 1, except in the ``gptq_v2`` checkpoint format."""
    return config is None or config.checkpoint_format != "gptq_v2"


def _group_of(t) -> int:
    """The group size a Linear pack was read with: its block, or its whole row where it has one scale per row."""
    q = t.quantization
    return q.block_size or t.shape[-1]


def _zero_point_problem(config: QuantConfig, packs: list) -> tuple[str, str] | None:
    """A symmetric claim against the zero points: GPTQ/AWQ symmetric z = 2^(bits−1); compressed-tensors z = 0."""
    if not config.sym or config.quant_method not in ("gptq", "awq", "compressed-tensors"):
        return None
    bits = config.bits or 4
    expected = 0 if config.quant_method == "compressed-tensors" else 1 << (bits - 1)
    for t in packs:
        zs = t.quantization.zero_points
        if (zs != expected).any():
            other = int(zs[zs != expected][0])
            return t.name, f"config.json says sym true (every z = {expected}) but {t.name} has z = {other}"
    return None


def config_problems(model, config: QuantConfig) -> list:
    """What the config claims and the tensors contradict, each a likely problem naming its tensor (or the config).

    >>> from quantviz.models.base import Model
    >>> config_problems(Model("m.safetensors", "safetensors", []), QuantConfig("config.json", "awq"))[0].text
    'config.json says quant_method awq but the tensors read as unquantized (no awq tensors found)'
    """
    from quantviz.models.base import Problem

    found = []
    expected = METHODS[config.quant_method]
    if config.quant_method == "bitsandbytes" and config.quant_type == "fp4":
        expected = "bitsandbytes-fp4"
    if model.file_type != expected:
        found.append(
            Problem(
                severity=3.5,
                tensor=config.source,
                text=f"{config.source} says quant_method {config.quant_method} but the tensors read as "
                f"{model.file_type or 'unquantized'} (no {config.quant_method} tensors found)",
            )
        )
    packs = [t for t in model.tensors if t.op == "Linear" and t.quantization is not None]
    if config.group_size is not None and config.quant_method in ("gptq", "awq", "compressed-tensors"):
        for t in packs:
            claimed = t.shape[-1] if config.group_size == -1 else config.group_size
            if _group_of(t) != claimed:
                found.append(
                    Problem(
                        severity=3.0,
                        tensor=t.name,
                        text=f"{config.source} says group_size {config.group_size} but {t.name} has groups of "
                        f"{_group_of(t)}",
                    )
                )
                break
    zero = _zero_point_problem(config, packs)
    if zero is not None:
        found.append(Problem(severity=2.5, tensor=zero[0], text=zero[1].replace("config.json", config.source, 1)))
    return found


def config_sentence(config: QuantConfig | None) -> str:
    """Which claims came from the config, and what they decided; empty without a config.

    >>> words = config_sentence(QuantConfig("config.json", "gptq", bits=4, checkpoint_format="gptq"))
    >>> words.split("; ")[0]
    'From config.json (quantization_config): quant_method gptq, bits 4, checkpoint_format gptq'
    >>> words.split("; ")[1]
    'it decided the bits per packed code (4) and the z − 1 offset of the zero points (stored).'
    """
    if config is None:
        return ""
    decided = []
    if config.quant_method in ("gptq", "awq") and config.bits is not None:
        decided.append(f"the bits per packed code ({config.bits})")
    if config.quant_method == "gptq" and config.checkpoint_format is not None:
        decided.append(f"the z − 1 offset of the zero points ({'stored' if stores_z_minus_one(config) else 'none'})")
    tail = f"; it decided {' and '.join(decided)}" if decided else "; checked against the tensors"
    return f"From {config.source} (quantization_config): {', '.join(config.claims())}{tail}."
