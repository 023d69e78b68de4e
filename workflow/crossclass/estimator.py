"""The estimator settings of a spectral density (Appendix C / D.2), defined once.

`SETTINGS` lists every keyword of `crossclass.linalg.estimate_spectrum` with its type, default,
range and help. From it come: the library's validation (`check`), the `--FLAG` arguments of
the `crossclass` spectrum commands (`add_arguments`, `from_arguments`), the JSON schema of a
`spectrum` block in the config (`json_schema`, patched into config/schema.yaml while planning)
and the command-line flags the rules pass (`command_flags`). Torch-free: the workflow imports
it while planning.

deflate is a rank: an integer, "C" (the number of classes) or "C2" (C^2 + 1, which deflates the
C(C-1) mini-bulk's eigenvalues too), resolved by `resolve_rank` once the operator is known.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossclass.errors import UserError

SYMBOLIC_RANKS = ("C", "C2")


@dataclass(frozen=True)
class Setting:
    """One keyword: `kind` is int, float, bool, str or "rank"; bounds are inclusive unless
    `open_minimum`; `choices` for strings."""

    name: str
    kind: Any
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    open_minimum: bool = False
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS = (
    Setting("method", str, "lanczos", "lanczos (matrix-free) or exact (dense eigh: small "
            "operators only)", choices=("lanczos", "exact")),
    Setting("M", int, 128, "Lanczos iterations", minimum=2, maximum=16384),
    Setting("n_vec", int, 1, "random start vectors, run as one block", minimum=1, maximum=4096),
    Setting("K", int, 1024, "density grid points", minimum=2, maximum=65536),
    Setting("kappa", float, 3.0, "Gaussian width factor", minimum=1, open_minimum=True),
    Setting("M0", int, 32, "Lanczos steps of a separate bounds run (bounds = normalization)",
            minimum=2, maximum=4096),
    Setting("tau", float, 0.05, "relative margin of the spectral bounds", minimum=0, maximum=1),
    Setting("bounds", str, "block", "spectral bounds from the density's own block run, or "
            "from a separate M0-step Normalization run (Alg. 4)",
            choices=("block", "normalization")),
    Setting("log", bool, False, "estimate the density of log(|lambda| + eps)"),
    Setting("eps", float, 1e-5, "the shift of log(|lambda| + eps)", minimum=0,
            open_minimum=True),
    Setting("deflate", "rank", 0, "rank deflated first: an integer, C (the classes) or C2 "
            "(C^2 + 1)", minimum=0),
    Setting("deflate_method", str, "krylov", "top eigenpairs of the deflation by block Lanczos "
            "(krylov) or by subspace iteration (subspace, the paper's Alg. 5)",
            choices=("krylov", "subspace")),
    Setting("deflate_iters", int, 128, "subspace iterations T (deflate_method subspace)",
            minimum=1),
    Setting("seed", int, 0, "seed of the start vectors", minimum=0),
)
BY_NAME = {s.name: s for s in SETTINGS}


def defaults() -> dict:
    return {s.name: s.default for s in SETTINGS}


def _problem(setting: Setting, value: Any) -> str | None:
    """Why `value` is not allowed for `setting`, or None."""
    kind = setting.kind
    if kind == "rank":
        if value in SYMBOLIC_RANKS:
            return None
        kind = int
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        expected = "an integer, C or C2" if setting.kind == "rank" else kind.__name__
        return f"expected {expected}, got {value!r}"
    if setting.choices and value not in setting.choices:
        return f"{value!r} is not one of {list(setting.choices)}"
    low, high = setting.minimum, setting.maximum
    if low is not None and (value <= low if setting.open_minimum else value < low):
        return f"{value} must be {'>' if setting.open_minimum else '>='} {low:g}"
    if high is not None and value > high:
        return f"{value} must be <= {high:g}"
    return None


def check(settings: Mapping[str, Any], where: str = "estimator") -> dict:
    """`settings` completed with the defaults; UserError naming the first unknown or bad key."""
    unknown = sorted(set(settings) - set(BY_NAME))
    if unknown:
        raise UserError(f"{where}.{unknown[0]}: unknown setting; allowed: "
                        f"{', '.join(BY_NAME)}")
    full = {**defaults(), **settings}
    for setting in SETTINGS:
        problem = _problem(setting, full[setting.name])
        if problem:
            raise UserError(f"{where}.{setting.name}: {problem}")
    return full


def resolve_rank(rank: int | str, num_classes: int | None) -> int:
    """An integer deflation rank: C -> num_classes, C2 -> num_classes^2 + 1."""
    if rank not in SYMBOLIC_RANKS:
        return int(rank)
    if num_classes is None:
        raise UserError(f"deflate {rank} needs a classification operator; give an integer rank")
    return num_classes if rank == "C" else num_classes**2 + 1


def json_schema() -> dict:
    """The JSON schema of a config `spectrum` block (every key optional, with its default)."""
    properties = {}
    for s in SETTINGS:
        if s.kind == "rank":
            prop = {"oneOf": [{"type": "integer", "minimum": 0}, {"enum": list(SYMBOLIC_RANKS)}]}
        elif s.choices:
            prop = {"enum": list(s.choices)}
        else:
            prop = {"type": {int: "integer", float: "number", bool: "boolean", str: "string"}[
                s.kind]}
            if s.minimum is not None:
                prop["exclusiveMinimum" if s.open_minimum else "minimum"] = s.minimum
            if s.maximum is not None:
                prop["maximum"] = s.maximum
        properties[s.name] = {**prop, "default": s.default, "description": s.help}
    return {"description": "estimate_spectrum settings (Appendix C / D.2), defined in "
            "crossclass.estimator", "type": "object", "additionalProperties": False,
            "properties": properties}


def _parse(setting: Setting):
    def parse(text: str):
        if setting.kind == "rank" and text in SYMBOLIC_RANKS:
            return text
        kind = int if setting.kind == "rank" else setting.kind
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        problem = _problem(setting, value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (--n-vec for n_vec, --log/--no-log for booleans)."""
    group = parser.add_argument_group("estimator (crossclass.estimator.SETTINGS)")
    for s in SETTINGS:
        text = f"{s.help}; default %(default)s"
        if s.kind is bool:
            group.add_argument(s.flag, dest=s.name, action=argparse.BooleanOptionalAction,
                               default=s.default, help=text)
        else:
            group.add_argument(s.flag, dest=s.name, type=_parse(s), default=s.default,
                               choices=list(s.choices) or None, help=text)


def from_arguments(args: argparse.Namespace, num_classes: int | None = None) -> dict:
    """The estimate_spectrum keywords from parsed flags, the deflation rank resolved."""
    values = {s.name: getattr(args, s.name) for s in SETTINGS}
    return {**values, "deflate": resolve_rank(values["deflate"], num_classes)}


def command_flags(settings: Mapping[str, Any]) -> str:
    """The command-line flags of a (checked) settings block, every setting spelled out."""
    flags = []
    for name, value in check(settings).items():
        setting = BY_NAME[name]
        if setting.kind is bool:
            flags.append(setting.flag if value else "--no-" + setting.flag[2:])
        else:
            flags.append(f"{setting.flag} {value}")
    return " ".join(flags)
