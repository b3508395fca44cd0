"""Wire a ``live.toml`` into a running runner: broker, strategy, rules, governors, safety, observability."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from live.clock import ServerClock
from live.config import LiveConfig, read_password
from live.fills import FillModel
from live.guard import Guard
from live.journal import Journal
from live.mt5 import MT5Broker, import_module
from live.observability import Alerts, EventLog, HttpEndpoint, Metrics
from live.preflight import preflight
from live.runner import Runner, RunnerConfig
from live.safety import KillSwitch, RateLimiter
from simlab.errors import ConfigError


def build(
    cfg: LiveConfig, where: str, *, dry_run: bool, log_stream: Any = None
) -> tuple[Runner, Any, dict[str, Any]]:
    """The runner and the API module it drives (and, for ``kind = "fake"``, the terminal in ``extra``)."""
    from simlab.engine import config_vector, no_rules
    from simlab.governors_nb import no_governors
    from simlab.symbols import get_symbol
    from strategies.registry import load_strategy

    mode = "dryrun" if dry_run or cfg.mode == "dryrun" else "live"
    # what the runner cannot do as the simulator does is refused before anything connects
    strategy = load_strategy(cfg.strategy.name, {k: str(v) for k, v in cfg.strategy.params.items()})
    refuse_closed_loop(strategy, where)
    program = None
    if cfg.account.program:
        from challenges.rules import load_program

        program = load_program(cfg.account.program)
        if not 1 <= cfg.account.phase <= len(program.phases):
            raise ConfigError(
                where,
                f"account.phase = {cfg.account.phase}: {program.name} has {len(program.phases)} phase(s)",
            )
    start_day = phase_start_day(cfg, program, where)
    password = read_password(cfg.broker, where)
    stream = log_stream
    if stream is None and cfg.observability.log_file:
        stream = open(Path(cfg.observability.log_file).expanduser(), "a", encoding="utf-8")  # noqa: SIM115 - lives with the runner
    log = EventLog(mode, stream=stream, secrets=(password,) if password else ())
    extra: dict[str, Any] = {}
    clock = ServerClock.parse(cfg.broker.server_tz, "broker.server_tz")
    spec = get_symbol(cfg.symbol.name, cfg.symbol.spec_file)
    fills = fill_model(cfg, where, spec, mode)
    if fills is not None:
        extra["fills"] = fills.describe()
        log.event("fills", **fills.describe())
    if cfg.broker.kind == "fake":
        from live.fake import FakeTerminal
        from simlab.loaders import load_bars, load_ticks_info

        assert cfg.broker.data is not None
        term_kw: dict[str, Any] = dict(
            server_tz=cfg.broker.server_tz, start=cfg.broker.start_bar, balance=cfg.broker.balance,
            login=cfg.broker.login or 5_000_001, server=cfg.broker.server or "SimLab-Fake", password=password,
            fills=fills,
        )  # fmt: skip
        try:
            if cfg.broker.replay == "ticks":
                ticks = load_ticks_info(cfg.broker.data, tz=cfg.broker.data_tz, symbol=cfg.symbol.name)
                module: Any = FakeTerminal.from_ticks(
                    ticks.time, ticks.bid, ticks.ask, spec, timeframe=cfg.symbol.timeframe, **term_kw
                )
            else:
                bars = load_bars(cfg.broker.data, tz=cfg.broker.data_tz, symbol=cfg.symbol.name)
                module = FakeTerminal(bars, spec, **term_kw)
        except ValueError as exc:  # the replay's start outside the data
            raise ConfigError(where, f"broker.start_bar: {exc}") from None
        extra["terminal"] = module
    else:
        module = import_module(cfg.broker.kind, host=cfg.broker.host, port=cfg.broker.port)
    alerts = Alerts(cfg.observability.alert_webhook, mode, log)
    broker = MT5Broker(
        module, login=cfg.broker.login, password=password, server=cfg.broker.server, path=cfg.broker.path,
        on_reconnect=lambda n, d: log.event("reconnecting", attempt=n, delay_s=d),
    )  # fmt: skip
    rules = no_rules()
    day_zone, day_reset = "Europe/Prague", "00:00"
    if program is not None:
        rules = program.phases[cfg.account.phase - 1].to_rule_vector()
        day_zone, day_reset = program.day.zone, program.day.reset
    gov_vec = no_governors()
    reset_w = weekend_w = 0.0
    if cfg.governors.preset != "none" or cfg.governors.overrides:
        from challenges.governors import load_governors

        g = load_governors(cfg.governors.preset).with_overrides(
            cfg.governors.overrides, where=f"{where}: governors.overrides"
        )
        gov_vec = g.to_vector()
        reset_w, weekend_w = g.reset_window_min, g.weekend_window_min
    guard = Guard(
        sym=spec.to_vector(),
        cfg=config_vector(initial_balance=cfg.account.size, risk=cfg.account.risk, fixed_volume=cfg.account.fixed_volume),
        rules=rules, gov=gov_vec, day_zone=day_zone, day_reset=day_reset,
        reset_window_min=reset_w, weekend_window_min=weekend_w,
    )  # fmt: skip
    token = os.environ.get(cfg.observability.kill_token_env) if cfg.observability.kill_token_env else None
    if token:
        log.add_secret(token)
    kill = KillSwitch(cfg.safety.kill_file, cfg.safety.kill_env, token=token)
    runner = Runner(
        broker, strategy, guard, clock, Journal(Path(cfg.journal).expanduser()),
        RunnerConfig(cfg.symbol.name, cfg.symbol.timeframe, cfg.symbol.magic, cfg.strategy.history_bars,
                     cfg.symbol.deviation, cfg.safety.max_retries, dry_run=mode == "dryrun",
                     phase_start_day=start_day, where=where),
        log=log, metrics=Metrics(mode), alerts=alerts, kill=kill,
        limiter=RateLimiter(cfg.safety.orders_per_minute, cfg.safety.orders_per_hour), fills=fills,
    )  # fmt: skip
    extra["spec"] = spec
    return runner, module, extra


def refuse_closed_loop(strategy: Any, where: str) -> None:
    """A strategy that decides from its own account (an RL policy: ``run_challenge``) is not run live yet.

    The runner acts on ``signals()`` of the latest window; such a strategy's ``signals()`` imagine an account
    that starts inside that window, so its live decisions would be neither the live account's nor the
    backtest's.
    """
    if getattr(strategy, "run_challenge", None) is not None:
        raise ConfigError(
            where,
            f"strategy.name = {getattr(strategy, 'name', '')!r}: it decides from its own account, which the live "
            "runner does not pass to a strategy yet (its signals() would imagine an account that starts inside "
            "each window); it runs in simlab backtest and simlab challenge",
        )


def phase_start_day(cfg: LiveConfig, program: Any, where: str) -> int | None:
    """``account.phase_start`` as a rule day (``simlab.calendar.trading_days``' numbering), or None.

    A date names the rule day its 12:00 falls in, in the firm's day zone (with a 17:00 reset, the trading day
    that ends that date at 17:00); a date and time (``YYYY-MM-DDTHH:MM``, the firm's local time) the rule day
    it falls in. Only the time limit reads it: without one it would do nothing, so it is refused.
    """
    text = cfg.account.phase_start
    if text is None:
        return None
    import numpy as np

    from simlab import layout as L
    from simlab.calendar import NS_DAY, NS_HOUR, parse_reset

    if program is None or program.phases[cfg.account.phase - 1].to_rule_vector()[L.RULE_MAX_DAYS] <= 0.0:
        what = (
            "no program" if program is None else f"{program.name} phase {cfg.account.phase} has no time limit"
        )
        raise ConfigError(
            where, f"account.phase_start: {what}; only a time limit counts from the phase's start"
        )
    try:
        local = np.datetime64(text.strip(), "ns")
    except ValueError:
        local = None
    if local is None or len(text.strip()) not in (10, 16, 19):
        raise ConfigError(
            where,
            f"account.phase_start = {text!r}: expected a date 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM' (the firm's time)",
        )
    ns = int(local.astype(np.int64)) + (12 * NS_HOUR if len(text.strip()) == 10 else 0)
    return (ns - parse_reset(program.day.reset)) // NS_DAY


def fill_model(cfg: LiveConfig, where: str, spec: Any, mode: str) -> FillModel | None:
    """The execution model of ``[fills]`` (``None``: fills at the quote). It prices a fake terminal's fills and a
    dry run's virtual fills; a live run on a real terminal fills at the broker, so there it is refused."""
    f = cfg.fills
    if f.exec_model == "none":
        return None
    if cfg.broker.kind != "fake" and mode == "live":
        raise ConfigError(
            where,
            "fills.exec_model: a live run on a real terminal fills at the broker; the execution model prices "
            "a fake terminal's fills and a dry run's virtual fills",
        )
    from execution_models.setup import resolve_costs
    from live.mt5_api import TIMEFRAMES

    try:
        costs = resolve_costs(spec, f.exec_model, model_dir=f.model_dir, spread=f.spread, slippage=f.slippage,
                              latency_budget_ms=f.latency_budget_ms)  # fmt: skip
    except ConfigError as exc:  # the option is a config key here, not the CLI's
        raise ConfigError(where, f"fills: {exc}") from None
    if not costs.has_model:
        raise ConfigError(where, f"fills.exec_model = {f.exec_model!r}: no execution model for {spec.name}")
    _, tf_sec = TIMEFRAMES[cfg.symbol.timeframe]
    return FillModel(costs.setup, seed=f.seed, bar_ns=tf_sec * 1_000_000_000, digits=int(spec.digits),
                     name=costs.label)  # fmt: skip


def run(
    cfg: LiveConfig, where: str, *, dry_run: bool, max_polls: int | None = None, log_stream: Any = None
) -> int:
    runner, module, extra = build(cfg, where, dry_run=dry_run, log_stream=log_stream)
    term = extra.get("terminal")
    runner.broker.connect()
    now = (lambda: term.now_utc_ns()) if term is not None else (lambda: time.time_ns())
    notes = preflight(
        runner.broker, symbol=cfg.symbol.name, clock=runner.clock, now_utc_ns=now, login=cfg.broker.login,
        server=cfg.broker.server, digits=cfg.symbol.digits, contract_size=cfg.symbol.contract_size,
        fixed_volume=cfg.account.fixed_volume,
    )  # fmt: skip
    for n in notes:
        runner.log.event("preflight_note", note=n)
    runner.log.event("preflight_ok")
    endpoint = None
    if cfg.observability.health_port is not None:
        kill = runner.kill
        endpoint = HttpEndpoint(
            cfg.observability.health_port, runner.health, runner.metrics or Metrics(runner.log.mode),
            kill.trip_by_token,
        ).start()  # fmt: skip
        runner.log.event("http", host="127.0.0.1", port=endpoint.port)
    stop = {"flag": False}

    def _stop(signum: int, frame: Any) -> None:
        stop["flag"] = True

    if sys.platform != "win32":
        signal.signal(signal.SIGTERM, _stop)
    polls = 0
    written = -1  # fills in the CSV: rewritten when the journal has more
    try:
        runner.start()
        while not stop["flag"] and (max_polls is None or polls < max_polls):
            runner.poll()
            polls += 1
            if cfg.observability.fills_csv and runner.journal.fill_count() != written:
                from simlab.atomic import atomic_write_text

                written = runner.journal.fill_count()
                atomic_write_text(Path(cfg.observability.fills_csv).expanduser(), runner.journal.fills_csv())
            if term is not None:  # a paper replay: the next bar arrives at the next poll
                if not term.advance():
                    break
            else:
                runner.sleep(cfg.poll_interval_s)
    finally:
        if endpoint is not None:
            endpoint.stop()
        runner.log.event("stopped", polls=polls, bar_index=runner.state.bar_index)
    return 0
