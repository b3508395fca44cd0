"""What the axes of ``simlab sweep --grid`` mean, and the ``simlab challenge`` settings of each cell.

An axis name is one of ``risk``, ``program``, ``size``, ``horizon``, ``trade_scale`` (trade-list
mode), ``gov.<governor field>`` or a parameter of the strategy (``fast``, ``period``, ...). Each
value is checked against what the matching ``simlab challenge`` option accepts, before any work,
and every problem is one line naming the axis (``--grid NAME``). A cell's settings become a copy
of the command's options with the axis values put in (``--risk``, ``--program``, ``--size``,
``--horizon-days``, ``--trade-scale``, one more ``--gov K=V`` or ``--param K=V``), so a cell *is* the
``simlab challenge`` run of those options.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simlab.errors import ConfigError
from simlab.grid import Axis
from simlab_cli.commands import _common as C

# axis -> (the challenge option it sets, its dest)
PLAIN_AXES: dict[str, tuple[str, str]] = {
    "risk": ("--risk", "risk"),
    "program": ("--program", "program"),
    "size": ("--size", "size"),
    "horizon": ("--horizon-days", "horizon_days"),
    "trade_scale": ("--trade-scale", "trade_scale"),
}
BAR_ONLY_AXES = ("risk",)
TRADE_LIST_ONLY_AXES = ("trade_scale",)


@dataclass(frozen=True)
class TypedAxis:
    """An axis with its values converted to what its option takes, and the option it sets."""

    axis: Axis
    option: str  # --risk, --gov, --param, ...
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        return self.axis.name

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "option": self.option,
            "given": self.axis.spec,
            "values": [json_value(v) for v in self.values],
        }


def _fmt(v: Any) -> str:
    """A value as its option's text (what the recorded command line shows)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "off"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _each(axis: Axis, convert: Callable[[Any], Any]) -> tuple[Any, ...]:
    out = []
    for v in axis.values:
        try:
            out.append(convert(v))
        except ConfigError as exc:
            raise axis.fail(f"value {_fmt(v)}: {exc.what}") from None
        except argparse.ArgumentTypeError as exc:
            raise axis.fail(f"value {_fmt(v)}: {exc}") from None
    return tuple(out)


def _whole(v: Any) -> int:
    x = float(v)
    if not x.is_integer():
        raise ConfigError("", f"expected a whole number, got {x:g}")
    return int(x)


def _risk(v: Any) -> float:
    x = C.finite_float(str(v))
    if not 0.0 < x <= 0.2:
        raise ConfigError("", f"{x:g} is outside (0, 0.2]; give a fraction, e.g. 0.01 for 1%")
    return x


def _program(params: dict[str, float]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        from challenges.rules import load_program

        load_program(str(v), params=params)  # an unknown name or a bad parameter: one line
        return str(v)

    return check


def axis_names(strategy_cls: Any, trade_mode: bool) -> str:
    """The axis names this mode accepts, for an unknown name's message."""
    plain = [n for n in PLAIN_AXES if n not in (BAR_ONLY_AXES if trade_mode else TRADE_LIST_ONLY_AXES)]
    text = ", ".join(plain) + ", gov.<governor field>"
    if not trade_mode and strategy_cls is not None:
        text += f", or a parameter of {strategy_cls.name} ({', '.join(strategy_cls.params) or 'none'})"
    return text


def type_axis(axis: Axis, args: argparse.Namespace, strategy_cls: Any, trade_mode: bool) -> TypedAxis:
    """Check an axis's name and values against this run; a one-line ConfigError naming the axis."""
    given = C.given(args)
    name = axis.name
    mode = "trade-list mode (--trades)" if trade_mode else "bar mode (no --trades)"
    if name in (BAR_ONLY_AXES if trade_mode else TRADE_LIST_ONLY_AXES):
        raise axis.fail(f"does not apply in {mode}")
    if name in PLAIN_AXES:
        option, dest = PLAIN_AXES[name]
        if dest in given:
            raise axis.fail(f"{option} is given too; give the value once, as {option} or as the axis")
        if name == "risk":
            values = _each(axis, _risk)
        elif name == "program":
            values = _each(axis, _program(C.parse_number_params(args.program_param, "--program-param")))
        elif name == "size":
            values = _each(axis, lambda v: C.account_size(str(v)))
        elif name == "horizon":
            values = _each(axis, lambda v: C.positive_int(str(_whole(v))))
        else:
            values = _each(axis, lambda v: C.positive_float(str(v)))
        return TypedAxis(axis, option, values)
    if name.startswith("gov."):
        from challenges.governors import FIELD_NAMES, FIELDS_LISTED_AT, GovernorConfig
        from simlab.errors import unknown_name
        from simlab_cli.commands.challenge import TRADE_LIST_GOVERNORS

        field = name[4:]
        if field not in FIELD_NAMES:
            raise axis.fail(unknown_name("governor field", field, FIELD_NAMES, FIELDS_LISTED_AT))
        if trade_mode and field not in TRADE_LIST_GOVERNORS:
            raise axis.fail(
                f"trade-list mode can apply only {', '.join(TRADE_LIST_GOVERNORS)} to past trades"
            )
        if any(o.split("=", 1)[0].strip() == field for o in args.gov):
            raise axis.fail(f"--gov {field}=... is given too; give the value once")
        values = _each(
            axis, lambda v: getattr(GovernorConfig().with_overrides({field: v}, axis.option), field)
        )
        return TypedAxis(axis, "--gov", values)
    if trade_mode or strategy_cls is None or name not in strategy_cls.params:
        raise axis.fail(f"unknown axis; expected {axis_names(strategy_cls, trade_mode)}")
    if name in C.parse_params(args.param):
        raise axis.fail(f"--param {name}=... is given too; give the value once")
    spec = strategy_cls.params[name]
    values = _each(axis, lambda v: spec.coerce(v, axis.option))
    return TypedAxis(axis, "--param", values)


def cell_namespace(
    args: argparse.Namespace, axes: Sequence[TypedAxis], values: Sequence[Any]
) -> argparse.Namespace:
    """The sweep's options with one cell's axis values put in: the ``simlab challenge`` run of the cell."""
    ns = argparse.Namespace(**vars(args))
    ns.gov = list(args.gov)
    ns.param = list(args.param)
    for ta, v in zip(axes, values):
        if ta.option == "--gov":
            ns.gov.append(f"{ta.name[4:]}={_fmt(v)}")
        elif ta.option == "--param":
            ns.param.append(f"{ta.name}={_fmt(v)}")
        else:
            setattr(ns, PLAIN_AXES[ta.name][1], v)
    return ns


def cell_label(settings: dict[str, Any]) -> str:
    """``"risk=0.01 program=ftmo-2step"``."""
    return " ".join(f"{k}={_fmt(v)}" for k, v in settings.items())


def json_value(v: Any) -> Any:
    """An axis value as the JSON records it (a governor switched off: "off")."""
    if v is None:
        return "off"
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


__all__ = ["PLAIN_AXES", "TypedAxis", "axis_names", "cell_label", "cell_namespace", "json_value", "type_axis"]
