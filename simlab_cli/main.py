"""The ``simlab`` command: the one place that wires data, strategies, costs, rules and reports together.

Each sub-command lives in ``simlab_cli/commands/<name>.py`` with two functions,
``add_arguments(parser)`` and ``run(args) -> int``, and is imported only when it
is the one being run: ``simlab --help`` never pays for numba or pandas.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

# name -> one-line help. Order is the order shown by --help.
COMMANDS: dict[str, str] = {
    "challenge": "Monte Carlo prop-challenge attempts: pass rate, days to pass, what breaks it (one symbol or a portfolio)",
    "sweep": "a grid of challenge runs (risk, parameters, governors, firms): the best cell, checked out of sample",
    "backtest": "one backtest of a strategy on a data file, or of a portfolio of symbols under one account",
    "calibrate": "learn a per-session spread / slippage / latency model from ticks, fills or MT5 deals",
    "check-strategy": "look-ahead check: do decisions change when the future is added?",
    "programs": "list the prop-firm programs (rule presets) and their account sizes",
    "inspect": "describe a data file: rows, span, bar size, spread by session, gaps",
    "live": "run a strategy live on MetaTrader 5 under the same rules and governors (live.toml)",
    "rerun": "run a result file's recorded settings again (same inputs and seed: the same bytes)",
    "report": "the HTML report of a result file: equity paths against the limits, pass odds, costs",
    "rl": "reinforcement learning: train a policy on the challenge environment, export it to ONNX",
}


# the commands that may compile numba kernels on a first run (they say so on stderr while they do)
COMPILING = ("challenge", "sweep", "backtest", "check-strategy", "calibrate", "rl")


def _interrupted(command: str) -> int:
    """Ctrl-C: one line, exit 130. Outputs are written atomically, so nothing half-written is left.

    A worker thread may still be compiling a kernel (``simlab.runner``): the interpreter's shutdown
    would wait a second or two for it, so the process ends at once instead.
    """
    import threading

    print(f"simlab {command}: interrupted", file=sys.stderr, flush=True)
    if any(t.name.startswith("simlab-") and t.is_alive() for t in threading.enumerate()):
        import os

        sys.stdout.flush()
        os._exit(130)
    return 130


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Ctrl-C inside a numba call surfaces as "SystemError: CPUDispatcher(...) returned a result with an
    exception set", the KeyboardInterrupt as its context: it is still Ctrl-C, not a bug."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _module_name(command: str) -> str:
    return "simlab_cli.commands." + command.replace("-", "_")


class OneLineParser(argparse.ArgumentParser):
    """argparse with simlab's error convention: one line on stderr, exit code 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of one sub-command on its own (``simlab NAME``): what provenance and tests walk."""
    p = OneLineParser(prog=f"simlab {name}", description=COMMANDS[name])
    importlib.import_module(_module_name(name)).add_arguments(p)
    return p


def given_options(name: str, argv: list[str]) -> set[str]:
    """The ``dest`` of every option of command ``name`` given on ``argv`` (the words after the command),
    so that a command can tell "left at its default" from "given with the default value"."""
    p = command_parser(name)
    for action in p._actions:
        action.default = argparse.SUPPRESS
        action.required = False
    ns, _ = p.parse_known_args(argv)
    return set(vars(ns))


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="simlab",
        description="Will your strategy pass the prop-firm challenge? Simulate it under your broker's real costs.",
    )
    from simlab import __version__

    parser.add_argument("--version", action="version", version=f"simlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, prog=f"simlab {name}")
        if name == selected:
            module = importlib.import_module(_module_name(name))
            module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in argv if not a.startswith("-")), None)
    if selected not in COMMANDS:
        selected = None
    parser = build_parser(selected)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    rest = list(argv)
    rest.remove(args.command)
    args._argv = rest  # the command's own words: simlab_cli.commands._common.given() reads them
    from simlab.errors import SimlabError

    try:
        module = importlib.import_module(_module_name(args.command))
        from simlab.stack_room import call_with_stack_room

        if args.command not in COMPILING:
            return int(module.run(args) or 0)
        from simlab._numba_cache import tolerate_damage
        from simlab.interrupt import ctrl_c
        from simlab.progress import install_compile_notice, say

        prog = f"simlab {args.command}"
        install_compile_notice(prog)
        tolerate_damage(lambda line: say(prog, line))
        with ctrl_c(prog):
            return int(call_with_stack_room(module.run, args) or 0)  # numba may compile in there
    except SimlabError as exc:
        print(f"simlab {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted(args.command)
    except BrokenPipeError:  # `simlab ... | head`: the reader has what it wanted; say nothing more
        import contextlib
        import os

        with contextlib.suppress(AttributeError, OSError, ValueError):  # no second error at exit's flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not bad input: still one line, the traceback on request
        import os

        if _caused_by_interrupt(exc):
            return _interrupted(args.command)
        if os.environ.get("SIMLAB_DEBUG"):
            raise
        from simlab.errors import one_line

        msg = one_line(str(exc)) if str(exc) else ""
        print(
            f"simlab {args.command}: internal error: {type(exc).__name__}: {msg} "
            "(set SIMLAB_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
