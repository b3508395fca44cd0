"""``simlab programs [NAME]``: the prop-firm programs (rule presets), their sizes, phases and rules."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import TYPE_CHECKING, Any

from simlab.errors import ConfigError

if TYPE_CHECKING:
    from challenges.rules import Program


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        metavar="NAME|FILE",
        help="show one program in detail: a preset name (e.g. ftmo-2step) or the path of a .toml rule file",
    )
    parser.add_argument(
        "--size", type=float, metavar="USD", help="with NAME: show the limits in money for this account size"
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with NAME: set a program parameter, e.g. --param target_pct=9 for e8-one",
    )
    parser.add_argument("--json", action="store_true", help="print the program(s) as JSON")


def _parse_params(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError("--param", f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise ConfigError("--param", f"{k.strip()}: expected a number, got {v.strip()!r}") from None
    return out


def _money(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def _short_size(x: float) -> str:
    if x >= 1000 and x % 1000 == 0:
        return f"{x / 1000:g}k"
    return f"{x:g}"


def _pct(x: float) -> str:
    return f"{x:g}%"


def run(args: argparse.Namespace) -> int:
    from challenges.rules import list_programs, load_program

    params = _parse_params(args.param)
    if args.name is None:
        if args.size is not None or params:
            raise ConfigError("--size/--param", "need a program NAME")
        programs = [load_program(n) for n in list_programs()]
        if args.json:
            print(json.dumps([program_to_json(p) for p in programs], indent=2))
        else:
            print(list_table(programs))
        return 0
    program = load_program(args.name, params=params or None)
    size = program.check_size(args.size) if args.size is not None else None
    if args.json:
        print(json.dumps(program_to_json(program, size), indent=2))
    else:
        print(detail(program, size))
    return 0


def list_table(programs: list[Program]) -> str:
    """One row per program: the readable overview of ``simlab programs``."""
    header = ("PROGRAM", "FIRM", "PHASES (TARGET)", "DAILY LOSS", "MAX LOSS", "MIN DAYS", "SIZES (USD)")
    rows = [header]
    for p in programs:
        ph = p.phases
        targets = " / ".join(_pct(x.profit_target_pct) if x.profit_target_pct else "-" for x in ph)
        daily = {(x.daily_loss.pct, x.daily_loss.basis, x.daily_loss.size_of) for x in ph}
        daily_s = "; ".join(
            f"{_pct(pct)} of {'init' if of == 'initial' else 'basis'}, {basis.replace('max_balance_equity', 'max(bal,eq)')}"
            if pct
            else "none"
            for pct, basis, of in sorted(daily)
        )
        mls = {(x.max_loss.pct, x.max_loss.mode) for x in ph}
        ml_s = "; ".join(f"{_pct(pct)} {mode}" if pct else "none" for pct, mode in sorted(mls))
        mds = {(x.min_days.count, x.min_days.counts) for x in ph}
        md_s = "; ".join(
            ("-" if c == 0 else f"{c} {'traded' if m == 'trade_opened' else 'profitable'}")
            for c, m in sorted(mds)
        )
        sizes = " ".join(_short_size(s) for s in p.sizes)
        rows.append((p.name, p.firm, f"{len(ph)} ({targets})", daily_s, ml_s, md_s, sizes))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("simlab programs NAME for the full rules of one; percents are of the initial balance.")
    return "\n".join(lines)


def detail(program: Program, size: float | None = None) -> str:
    """The full rules of one program, one column per phase."""
    from challenges.rules import phase_limits

    p = program
    out = [f"{p.name}: {p.title} ({p.firm})"]
    out.append(f"  source:        {p.source}")
    out.append(f"  last verified: {p.last_verified.isoformat()}")
    out.append(f"  sizes:         {', '.join(_money(s) for s in p.sizes)} {p.currency}")
    out.append(f"  day boundary:  {p.day_boundary.describe()} (daily loss resets, days are counted)")
    if p.fee is not None:
        fees = ", ".join(f"{_short_size(s)} {_money(a)}" for s, a in p.fee.amounts)
        refund = {True: "refunded with the first payout", False: "not refunded", None: "refund not known"}
        out.append(
            f"  fee:           {fees} {p.fee.currency}; {refund[p.fee.refunded]} "
            f"(verified {p.fee.verified.isoformat()}, {p.fee.source})"
        )
    if p.profit_split is not None:
        out.append(
            f"  profit split:  {p.profit_split.pct:g}% (verified {p.profit_split.verified.isoformat()}, "
            f"{p.profit_split.source})"
        )
    for prm in p.params:
        val = dict(p.param_values)[prm.name]
        out.append(
            f"  parameter:     {prm.name} = {val:g} (default {prm.default:g}, {prm.lo:g}..{prm.hi:g}) {prm.help}"
        )
    out.append("")
    descs = [ph.describe() for ph in p.phases]
    for i, (ph, d) in enumerate(zip(p.phases, descs)):
        out.append(f"  phase {i + 1}: {ph.name}")
        for k, v in d.items():
            line = f"    {k:<14} {v}"
            if size is not None:
                lim = phase_limits(ph, size)
                money = {
                    "profit target": lim["target"],
                    "daily loss": lim["daily_loss"],
                    "max loss": lim["max_loss"],
                }
                if k in money and money[k] > 0:
                    line += f"  [{_money(money[k])} {p.currency} on {_money(size)}]"
            out.append(line)
        out.append("")
    if p.notes:
        out.append("  notes:")
        out.extend(textwrap.wrap(p.notes, width=100, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(out).rstrip()


def program_to_json(p: Program, size: float | None = None) -> dict[str, Any]:
    from dataclasses import asdict

    d: dict[str, Any] = {
        "name": p.name,
        "firm": p.firm,
        "title": p.title,
        "source": p.source,
        "last_verified": p.last_verified.isoformat(),
        "currency": p.currency,
        "sizes": list(p.sizes),
        "day_boundary": {"zone": p.day_boundary.zone, "reset": p.day_boundary.reset},
        "params": dict(p.param_values),
        "phases": [asdict(ph) | {"rule_vector": ph.to_rule_vector().tolist()} for ph in p.phases],
        "notes": p.notes,
        "fee": None if p.fee is None else p.fee.to_json(),
        "profit_split": None if p.profit_split is None else p.profit_split.to_json(),
    }
    if size is not None:
        d["size"] = size
    return d
