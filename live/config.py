"""``live.toml``: the runner's configuration, validated with msgspec (one line per mistake, exit 2).

Example (every table but ``[broker]``, ``[symbol]`` and ``[strategy]`` is optional)::

    mode = "live"                       # or "dryrun" (``--dry-run`` forces it)
    journal = "/var/lib/simlab/eurusd.db"
    poll_interval_s = 1.0

    [broker]
    kind = "mt5linux"                   # mt5 (Windows, official package) | mt5linux (RPyC bridge) | fake
    host = "127.0.0.1"
    port = 18812
    login = 5123456
    server = "FTMO-Demo"
    password_env = "MT5_PASSWORD"       # or password_file = "~/.config/simlab/mt5.pass" (mode 600)
    server_tz = "America/New_York+7"    # the server's clock; checked by the preflight

    [symbol]
    name = "EURUSD"
    timeframe = "M1"
    magic = 26012001
    digits = 5                          # expected; the preflight compares the terminal's
    contract_size = 100000

    [strategy]
    name = "ma_cross"
    history_bars = 5000
    params = { fast = 20, slow = 50 }

    [account]
    program = "ftmo-2step"              # the firm's rules (``simlab programs``); omit: no rules
    phase = 1
    size = 100000
    risk = 0.01
    # phase_start = "2024-01-15"        # a phase already running: the day it started (its time limit)

    [governors]
    preset = "default"                  # none | default | conservative | a TOML file
    overrides = { daily_buffer_pct = 1.0 }

    [fills]                             # a fake terminal's and a dry run's fills (live: the broker's)
    exec_model = "EURUSD"               # none (default): at the quote | auto | SYMBOL@DATE | a model file
    spread = "data"                     # data | model (bid-only bars) | wider: a fake terminal's replay only
    seed = 7                            # the draws are keyed by (seed, bar); same seed, same fills

    [safety]
    kill_file = "/run/simlab/KILL"
    orders_per_minute = 10
    orders_per_hour = 60

    [observability]
    health_port = 8787                  # 127.0.0.1 only: /health, /metrics, POST /kill
    kill_token_env = "SIMLAB_KILL_TOKEN"
    alert_webhook = "https://hooks.example/..."
    fills_csv = "/var/lib/simlab/fills.csv"
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import msgspec

from simlab.errors import ConfigError


class _S(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class BrokerConfig(_S):
    kind: str
    host: str = "127.0.0.1"
    port: int = 18812
    path: str | None = None
    login: int | None = None
    server: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    server_tz: str = "UTC"
    data: str | None = None  # kind = "fake": the bars (or ticks) it replays
    replay: str = "bars"  # kind = "fake": bars (bar by bar) | ticks (tick by tick; data is a tick file)
    data_tz: str | None = None
    balance: float = 100_000.0  # kind = "fake": the starting balance
    start_bar: int = 0  # kind = "fake": replay from this bar


class SymbolConfig(_S):
    name: str
    timeframe: str = "M1"
    magic: int = 26_012_001
    digits: int | None = None
    contract_size: float | None = None
    deviation: int = 10
    spec_file: str | None = None


class StrategyConfig(_S):
    name: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    history_bars: int = 5000


class AccountConfig(_S):
    program: str | None = None
    phase: int = 1
    size: float = 100_000.0
    risk: float = 0.01
    fixed_volume: float = 0.0
    # a phase already running when the runner first starts (a new journal): the day it started, which its
    # time limit counts from ('YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM', the firm's time); omitted: the first day run
    phase_start: str | None = None


class GovernorsConfig(_S):
    preset: str = "none"
    overrides: dict[str, Any] = msgspec.field(default_factory=dict)


class FillsConfig(_S):
    """How a fake terminal and a dry run fill (``live.fills``): an execution model's spread and slippage."""

    exec_model: str = "none"  # none | auto | EURUSD | EURUSD@2024-06-01 | a model file
    model_dir: str | None = None
    spread: str = "data"  # data | model (bid-only bars: the model's spread) | wider
    slippage: bool = True
    latency_budget_ms: float = 0.0
    seed: int = 0


class SafetyConfig(_S):
    kill_file: str | None = None
    kill_env: str = "SIMLAB_KILL"
    orders_per_minute: int = 10
    orders_per_hour: int = 60
    max_retries: int = 3


class ObservabilityConfig(_S):
    health_port: int | None = None
    kill_token_env: str | None = None
    alert_webhook: str | None = None
    fills_csv: str | None = None
    log_file: str | None = None


class LiveConfig(_S):
    broker: BrokerConfig
    symbol: SymbolConfig
    strategy: StrategyConfig
    mode: str = "live"
    journal: str = "live-journal.db"
    poll_interval_s: float = 1.0
    account: AccountConfig = msgspec.field(default_factory=AccountConfig)
    governors: GovernorsConfig = msgspec.field(default_factory=GovernorsConfig)
    safety: SafetyConfig = msgspec.field(default_factory=SafetyConfig)
    fills: FillsConfig = msgspec.field(default_factory=FillsConfig)
    observability: ObservabilityConfig = msgspec.field(default_factory=ObservabilityConfig)


def load_config(path: str | Path) -> LiveConfig:
    p = Path(path)
    where = str(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(where, f"cannot read: {exc.strerror or exc}") from None
    try:
        cfg = msgspec.toml.decode(raw, type=LiveConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(where, str(exc).splitlines()[0]) from None
    except msgspec.DecodeError as exc:
        raise ConfigError(where, f"not valid TOML: {str(exc).splitlines()[0]}") from None
    if cfg.mode not in ("live", "dryrun"):
        raise ConfigError(where, f"mode = {cfg.mode!r}: expected 'live' or 'dryrun'")
    if cfg.broker.kind not in ("mt5", "mt5linux", "fake"):
        raise ConfigError(where, f"broker.kind = {cfg.broker.kind!r}: expected 'mt5', 'mt5linux' or 'fake'")
    if cfg.broker.kind == "fake" and not cfg.broker.data:
        raise ConfigError(where, "broker.data: a fake terminal needs the bars file it replays")
    if cfg.broker.replay not in ("bars", "ticks"):
        raise ConfigError(where, f"broker.replay = {cfg.broker.replay!r}: expected 'bars' or 'ticks'")
    if cfg.broker.replay == "ticks" and cfg.broker.kind != "fake":
        raise ConfigError(where, 'broker.replay: a replay is a fake terminal\'s (kind = "fake")')
    if cfg.broker.replay == "ticks" and cfg.fills.spread != "data":
        raise ConfigError(
            where, f"fills.spread = {cfg.fills.spread!r}: a tick replay quotes the ticks' own bid and ask"
        )
    if cfg.broker.host not in ("127.0.0.1", "localhost", "::1") and cfg.broker.kind == "mt5linux":
        raise ConfigError(
            where, f"broker.host = {cfg.broker.host!r}: the RPyC bridge must stay on loopback (tunnel it)"
        )
    from live.mt5_api import TIMEFRAMES

    if cfg.symbol.timeframe not in TIMEFRAMES:
        raise ConfigError(
            where, f"symbol.timeframe = {cfg.symbol.timeframe!r}: expected one of {', '.join(TIMEFRAMES)}"
        )
    if not 0.0 < cfg.account.risk <= 0.2 and cfg.account.fixed_volume <= 0.0:
        raise ConfigError(
            where, f"account.risk = {cfg.account.risk}: expected a fraction in (0, 0.2], e.g. 0.01"
        )
    if cfg.strategy.history_bars < 10:
        raise ConfigError(where, "strategy.history_bars: expected at least 10 bars")
    if cfg.fills.spread not in ("data", "model", "wider"):
        raise ConfigError(where, f"fills.spread = {cfg.fills.spread!r}: expected 'data', 'model' or 'wider'")
    if cfg.fills.exec_model == "none" and (cfg.fills.spread != "data" or cfg.fills.latency_budget_ms > 0):
        what = "fills.spread" if cfg.fills.spread != "data" else "fills.latency_budget_ms"
        raise ConfigError(where, f"{what}: needs an execution model (fills.exec_model)")
    if cfg.broker.kind != "fake" and cfg.fills.spread != "data":
        raise ConfigError(
            where,
            f"fills.spread = {cfg.fills.spread!r}: a real terminal's quotes carry their own spread "
            "(model or wider spreads are for a fake terminal's replay)",
        )
    if cfg.broker.password_env and cfg.broker.password_file:
        raise ConfigError(where, "broker: give password_env or password_file, not both")
    return cfg


def read_password(cfg: BrokerConfig, where: str) -> str | None:
    """The terminal password from an environment variable or a file only its owner can read."""
    if cfg.password_env:
        v = os.environ.get(cfg.password_env)
        if not v:
            raise ConfigError(
                where, f"broker.password_env: environment variable {cfg.password_env} is not set"
            )
        return v
    if cfg.password_file:
        p = Path(cfg.password_file).expanduser()
        try:
            st = p.stat()
        except OSError:
            raise ConfigError(where, f"broker.password_file: {p} does not exist") from None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                where,
                f"broker.password_file: {p} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); chmod 600 it",
            )
        return p.read_text(encoding="utf-8").strip()
    return None
