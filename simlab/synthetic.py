"""Synthetic EURUSD bars: the bundled default data. THESE ARE NOT MARKET PRICES.

The Quickstart and the tests need data that ship with the package, and real
quote history cannot be redistributed. So simlab generates it: a seeded,
deterministic random process whose *statistics* are taken from real EURUSD
quotes (OANDA, via QuantConnect LEAN's public data), while every price it emits
is made up. Use it to try simlab, to test code and to compare strategies on a
level field; never to judge whether a strategy makes money in the real market.

How the bars are made (``synthetic_eurusd``):

* Calendar: the FX trading week, Sunday 17:00 America/New_York (22:00 UTC in
  winter, 21:00 UTC in summer) to Friday 17:00 New York, one bar per minute
  with no holes; no bars on Saturday. A trading day is 17:00 -> 17:00 New York.
* Volatility: per minute, sigma = base * HOUR_OF_WEEK_VOL[hour of the week]
  * day regime * sqrt(GARCH(1,1) variance). ``HOUR_OF_WEEK_VOL`` is measured
  from 12 years of real hourly bars (London and New York peaks, the quiet Asian
  night and rollover hour). The day regime is a slow log-AR(1) (vol regimes that
  last weeks to months) times an i.i.d. daily factor; the GARCH(1,1) term adds
  intraday clustering. ``base`` is set so a day's return has a standard
  deviation of ``DAILY_VOL`` (0.50 %, EURUSD 2016-2017), giving daily ranges of
  about 60-90 pips.
* Returns: Student-t innovations (``T_DF`` degrees of freedom, scaled to unit
  variance) for fat tails; a very weak mean reversion of the log price to
  ``ANCHOR_PRICE`` (half-life two years) keeps long series at sane levels.
* Intrabar extremes: the high and low of each minute are drawn from the exact
  distribution of the maximum and minimum of a Brownian bridge between the
  bar's open and close with the bar's sigma.
* Weekend gaps: the Sunday open is the Friday close plus a Student-t(3) jump
  (scale ``GAP_SCALE_PIPS``, median size about 6 pips, rare gaps of 50+).
* Spreads: one spread per bar, in whole points, drawn by inverse CDF from the
  bar's session table ``SPREAD_QUANTILES_POINTS`` (measured from real ticks),
  through a Gaussian copula whose latent state is half a persistent AR(1)
  (``SPREAD_AR``) and half noise, so wide spreads come in spells as they do in
  the ticks. ask = bid + spread for open, high, low and close alike.
* Prices are bid prices in whole points (5 digits); tick volume is 1 + a Poisson
  count with mean proportional to the bar's variance (each quote carries about
  the same price variance), ``TICKS_PER_MIN`` on average.

Everything is driven by one ``numpy.random.Generator(PCG64(seed))`` in a fixed
order of draws: the same seed gives the same arrays on every machine.
``default_bars()`` is the bundled default: two years (2016-2017 dates, 520
trading days, 748,800 one-minute bars), seed ``DEFAULT_SEED``, cached in-process
and read-only.
"""

from __future__ import annotations

import functools
import math
import re
import sys

import numpy as np
from numba import njit

from simlab import layout
from simlab._numba_cache import cache_dir
from simlab.bars import Bars
from simlab.calendar import NEW_YORK, NS_MIN, hours_since_week_open, sessions
from simlab.errors import ConfigError

# ============================================================================= derived from real data
#
# Spread quantile tables, in points (0.00001), per session (rows: layout.SESSION_*
# order asia, london, overlap, newyork, rollover) at the cumulative probabilities
# SPREAD_PROBS. Computed by ``derive_spread_quantiles`` from
# ../shared/data/eurusd_ticks_2014-05.csv.gz (532,903 OANDA EURUSD quotes,
# 2014-05-01 .. 2014-05-15, 13 trading days): spread = round((ask - bid) / 0.00001);
# each quote weighted by how long it stood (time to the next quote, capped at 60 s);
# session of the quote time by simlab.calendar.sessions; the q-quantile is the
# smallest spread whose cumulative time share is >= q (q = 0: the minimum). Time
# weighting gives the spread a bar open meets (ticks cluster in bursts of news,
# when spreads are wide, so a per-tick count over-weights those bursts).
SPREAD_PROBS = np.array([0.0, 0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999, 1.0])
SPREAD_QUANTILES_POINTS = np.array(
    [
        [6, 8, 9, 10, 11, 12, 13, 15, 16, 19, 23, 49],  # asia
        [6, 8, 9, 9, 10, 10, 11, 13, 13, 15, 22, 150],  # london
        [7, 8, 9, 9, 10, 10, 11, 12, 13, 18, 35, 150],  # overlap
        [7, 8, 9, 9, 10, 11, 12, 12, 13, 18, 39, 98],  # newyork
        [8, 11, 13, 15, 16, 18, 21, 31, 41, 72, 127, 135],  # rollover
    ],
    dtype=np.float64,
)
# The same ticks counted per quote (not weighted by time), median / p90 / p99, for
# reference: these are the figures quoted in ../shared/data/README.md.
SPREAD_TICK_WEIGHTED_POINTS = {
    "asia": (12, 15, 23),
    "london": (11, 14, 71),
    "overlap": (12, 22, 148),
    "newyork": (11, 14, 26),
    "rollover": (20, 39, 87),
}
# Persistence of the spread, from the same ticks: the spread at each minute's open,
# turned into normal scores within its session, has lag-k autocorrelation about
# 0.49, 0.46, 0.43, 0.39, 0.29 at k = 1, 2, 5, 10, 30 minutes; a latent state that
# is SPREAD_SLOW_WEIGHT of an AR(1) with coefficient SPREAD_AR plus white noise
# reproduces w * phi**k = 0.49 (k = 1) and 0.29 (k = 30).
SPREAD_AR = 0.982
SPREAD_SLOW_WEIGHT = 0.5

# Volatility by hour of the trading week, normalised to mean 1. Index h = hours since
# the week's open, Sunday 17:00 America/New_York (h = 0 .. 119; row d below is
# trading day d, Monday .. Friday, column = hour from 17:00 New York the evening
# before). Computed by ``derive_hour_of_week_profile`` from
# ../shared/data/eurusd_h1_bidask_2007_2018.csv.gz (74,439 OANDA hourly bars,
# 2007-2018): mean over all bars of |log(mid_close / mid_open)| by the bar's hour
# of week in New York time, divided by the mean over the 120 hours. Peaks: London
# open (03:00 NY, column 10), US data and the New York open (08:00-10:00 NY,
# columns 15-17); troughs: the rollover hour (17:00 NY) and the late Asian session.
HOUR_OF_WEEK_VOL = np.array(
    [
        # 17    18     19     20     21     22     23     00     01     02     03     04
        # 05    06     07     08     09     10     11     12     13     14     15     16  (New York)
        [1.657, 0.874, 0.859, 0.978, 0.776, 0.635, 0.519, 0.518, 0.718, 1.221, 1.493, 1.146,
         1.015, 0.973, 0.999, 1.208, 1.277, 1.497, 1.093, 0.953, 0.910, 0.704, 0.730, 0.549],
        [0.440, 0.538, 0.714, 0.842, 0.763, 0.647, 0.583, 0.568, 0.830, 1.280, 1.490, 1.307,
         1.179, 1.052, 1.098, 1.514, 1.391, 1.672, 1.289, 0.977, 0.992, 1.010, 0.778, 0.599],
        [0.461, 0.523, 0.663, 0.841, 0.756, 0.591, 0.543, 0.584, 0.797, 1.101, 1.318, 1.251,
         1.117, 1.111, 1.077, 1.566, 1.539, 1.711, 1.280, 1.009, 1.019, 1.451, 0.966, 0.659],
        [0.542, 0.582, 0.684, 0.868, 0.778, 0.645, 0.587, 0.572, 0.799, 1.203, 1.595, 1.352,
         1.223, 1.062, 1.271, 2.030, 1.730, 1.714, 1.346, 1.116, 1.124, 0.975, 0.854, 0.600],
        [0.499, 0.531, 0.684, 0.834, 0.691, 0.657, 0.509, 0.614, 0.806, 1.093, 1.403, 1.273,
         1.140, 1.100, 1.073, 2.106, 1.721, 1.645, 1.346, 1.072, 0.907, 0.823, 0.736, 0.697],
    ]
).reshape(-1)  # fmt: skip

# ============================================================================= model parameters
#
# Chosen, not fitted: set so the bars look like 2016-2017 EURUSD (daily return sd
# 0.49 % and median daily range 76 pips in the hourly file above, 2016-2017).
DAILY_VOL = 0.0050  # sd of a trading day's log return
T_DF = 5.0  # Student-t degrees of freedom of the 1-minute innovations
GARCH_ALPHA = 0.06  # GARCH(1,1) on the de-seasonalised 1-minute returns:
GARCH_BETA = 0.93  # g_t = (1 - a - b) + (a * eps_{t-1}**2 + b) * g_{t-1}, half-life ~70 min
GARCH_CAP = 50.0  # g never exceeds this (keeps a freak draw from running away)
REGIME_AR = 0.985  # daily AR(1) of the slow log-vol regime (half-life ~46 trading days)
REGIME_SD = 0.30  # stationary sd of the slow log-vol regime
DAY_SD = 0.15  # sd of the i.i.d. daily log-vol factor
GAP_SCALE_PIPS = 7.8  # weekend gap: GAP_SCALE_PIPS * Student-t(GAP_DF) pips
GAP_DF = 3.0
ANCHOR_PRICE = 1.15  # the log price reverts to this with a two-year half-life
REVERSION_PER_MIN = math.log(2.0) / (2 * 52 * 5 * 1440)
TICKS_PER_MIN = 29.0  # mean tick volume per minute (the tick file: 532,903 quotes / 18,184 minutes)

POINT = 0.00001
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 5 * MINUTES_PER_DAY
GENERATOR_VERSION = 1  # bump when the generator changes: it names the on-disk cache
DEFAULT_SEED = 20160103
DEFAULT_START = "2016-01-03"
DEFAULT_N_DAYS = 520  # two years of trading days


# ============================================================================= derivations (need the real files)


def _read_times(series) -> np.ndarray:
    import pandas as pd

    return np.asarray(
        pd.to_datetime(series, utc=True).dt.tz_localize(None).astype("datetime64[ns]").astype(np.int64)
    )


def _frame(source):
    """A DataFrame as it is, or read from a CSV path."""
    import pandas as pd

    return source if isinstance(source, pd.DataFrame) else pd.read_csv(source)


def derive_spread_quantiles(ticks_csv, probs: np.ndarray = SPREAD_PROBS) -> np.ndarray:
    """Time-weighted spread quantiles in points, (N_SESSIONS, len(probs)), from a ``time,bid,ask`` tick file.

    ``ticks_csv``: a path or an already read DataFrame. How ``SPREAD_QUANTILES_POINTS``
    was computed (see the comment there).
    """
    df = _frame(ticks_csv)
    t = _read_times(df["time"])
    spread = np.rint((df["ask"].to_numpy() - df["bid"].to_numpy()) / POINT).astype(np.int64)
    sess = sessions(t)
    dur = np.minimum(np.diff(t, append=t[-1]), NS_MIN).astype(np.float64)
    out = np.zeros((layout.N_SESSIONS, len(probs)))
    for k in range(layout.N_SESSIONS):
        m = sess == k
        x, w = spread[m], dur[m]
        order = np.argsort(x, kind="stable")
        cw = np.cumsum(w[order]) / w.sum()
        idx = np.minimum(np.searchsorted(cw, probs), x.shape[0] - 1)
        out[k] = x[order][idx]
        out[k, 0] = x.min()
    return out


def derive_spread_autocorrelation(ticks_csv, lags=(1, 2, 5, 10, 30)) -> dict[int, float]:
    """Lag-k autocorrelation of the spread at minute opens, as normal scores within each session (needs scipy)."""
    from scipy.stats import norm, rankdata

    df = _frame(ticks_csv)
    t = _read_times(df["time"])
    spread = np.rint((df["ask"].to_numpy() - df["bid"].to_numpy()) / POINT)
    mins = np.arange((t[0] // NS_MIN + 1) * NS_MIN, t[-1], NS_MIN, dtype=np.int64)
    last = np.searchsorted(t, mins, side="right") - 1
    ok = mins - t[last] < 5 * NS_MIN  # a quote within the last 5 minutes: the market is open
    mins, sp = mins[ok], spread[last[ok]]
    sess = sessions(mins)
    z = np.empty(sp.shape[0])
    for k in range(layout.N_SESSIONS):
        m = sess == k
        z[m] = norm.ppf((rankdata(sp[m]) - 0.5) / m.sum())
    out = {}
    for lag in lags:
        same = (mins[lag:] - mins[:-lag]) == lag * NS_MIN
        out[lag] = float(np.corrcoef(z[:-lag][same], z[lag:][same])[0, 1])
    return out


def derive_hour_of_week_profile(h1_csv) -> np.ndarray:
    """Mean |log(mid close / mid open)| by hour of week (120,), normalised to mean 1, from an hourly bid/ask file.

    How ``HOUR_OF_WEEK_VOL`` was computed (see the comment there).
    """
    df = _frame(h1_csv)
    h = hours_since_week_open(_read_times(df["time"]))
    mo = (df["bid_open"].to_numpy() + df["ask_open"].to_numpy()) / 2.0
    mc = (df["bid_close"].to_numpy() + df["ask_close"].to_numpy()) / 2.0
    r = np.abs(np.log(mc / mo))
    keep = h < 120
    prof = np.bincount(h[keep], weights=r[keep], minlength=120) / np.bincount(h[keep], minlength=120)
    return prof / prof.mean()


# ============================================================================= the generator


def _parse_timeframe(timeframe: str) -> int:
    """'1min', '5min', '15m', '1h', '4h', 'M5', 'H1' -> minutes (must divide a day)."""
    tf = str(timeframe).strip()
    m = re.fullmatch(r"(\d+)\s*(min|m|h)", tf, re.IGNORECASE) or re.fullmatch(r"([MH])(\d+)", tf)
    minutes = 0
    if m is not None:
        if m.group(1).isdigit():
            minutes = int(m.group(1)) * (60 if m.group(2).lower() == "h" else 1)
        else:
            minutes = int(m.group(2)) * (60 if m.group(1) == "H" else 1)
    if minutes <= 0 or MINUTES_PER_DAY % minutes:
        raise ConfigError(
            "timeframe",
            f"expected a bar length that divides a day, like '1min', '5min', '1h', got {timeframe!r}",
        )
    return minutes


def _week_opens(start: str, n_weeks: int) -> np.ndarray:
    """UTC ns of the first n_weeks Sunday 17:00 New York opens at or after the date ``start``."""
    import pandas as pd

    try:
        d0 = pd.Timestamp(start).normalize().tz_localize(None)
    except (ValueError, TypeError):
        raise ConfigError("start", f"expected a date like '2016-01-03', got {start!r}") from None
    d0 = d0 + pd.Timedelta(days=(6 - d0.day_of_week) % 7)  # the first Sunday on or after
    local = pd.DatetimeIndex([d0 + pd.Timedelta(weeks=w, hours=17) for w in range(n_weeks)])
    return np.asarray(local.tz_localize(NEW_YORK).tz_convert("UTC").tz_localize(None).as_unit("ns").asi8)


@njit(cache=True)
def _simulate_nb(
    eps, u_hi, u_lo, sigma_season, week_first, gaps, log_p0, alpha, beta, cap, kappa, log_anchor
):
    """Bid path in price units: open, high, low, close (n, 4) and each bar's sigma (n,)."""
    n = eps.shape[0]
    ohlc = np.empty((n, 4))
    sig = np.empty(n)
    omega = 1.0 - alpha - beta
    g = 1.0
    logp = log_p0
    w = 0
    for i in range(n):
        if week_first[i]:
            logp += math.log1p(gaps[w] / math.exp(logp))
            w += 1
        if i > 0:
            g = omega + (alpha * eps[i - 1] * eps[i - 1] + beta) * g
            if g > cap:
                g = cap
        s = sigma_season[i] * math.sqrt(g)
        p_open = math.exp(logp)
        logp += s * eps[i] - kappa * (logp - log_anchor)
        p_close = math.exp(logp)
        x = p_close - p_open
        sp = s * p_open  # the bar's sigma in price
        hi = 0.5 * (x + math.sqrt(x * x - 2.0 * sp * sp * math.log(1.0 - u_hi[i])))
        lo = 0.5 * (x - math.sqrt(x * x - 2.0 * sp * sp * math.log(1.0 - u_lo[i])))
        ohlc[i, 0] = p_open
        ohlc[i, 1] = p_open + hi
        ohlc[i, 2] = p_open + lo
        ohlc[i, 3] = p_close
        sig[i] = s
    return ohlc, sig


@njit(cache=True)
def _spread_uniforms_nb(e_slow, e_noise, ar, slow_weight):
    """Uniforms of the spread copula: Phi(sqrt(w) * AR(1) + sqrt(1 - w) * noise), marginally U(0, 1)."""
    n = e_slow.shape[0]
    out = np.empty(n)
    a = e_slow[0]
    innov = math.sqrt(1.0 - ar * ar)
    ws, wn = math.sqrt(slow_weight), math.sqrt(1.0 - slow_weight)
    for i in range(n):
        if i > 0:
            a = ar * a + innov * e_slow[i]
        z = ws * a + wn * e_noise[i]
        out[i] = 0.5 * math.erfc(-z / math.sqrt(2.0))
    return out


def _sample_spreads(session: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = np.empty(u.shape[0])
    for k in range(layout.N_SESSIONS):
        m = session == k
        out[m] = np.interp(u[m], SPREAD_PROBS, SPREAD_QUANTILES_POINTS[k])
    return np.maximum(np.rint(out), 1.0)


def synthetic_eurusd(
    n_days: int = 260,
    timeframe: str = "1min",
    seed: int = 0,
    *,
    start: str = DEFAULT_START,
    start_price: float = 1.0850,
) -> Bars:
    """``n_days`` trading days of synthetic EURUSD bid/ask bars (see the module docstring).

    The first bar opens at the first Sunday 17:00 New York on or after ``start``.
    Bars of ``timeframe`` minutes are built from the same 1-minute path (so the
    1-hour bars of a seed are the 1-minute bars of that seed aggregated; the spread
    of an aggregated bar is that of its first minute). Deterministic in ``seed``.
    """
    if isinstance(n_days, bool) or not isinstance(n_days, int | np.integer) or n_days < 1:
        raise ConfigError("n_days", f"expected a whole number of trading days >= 1, got {n_days!r}")
    if not start_price > 0:
        raise ConfigError("start_price", f"expected a price > 0, got {start_price!r}")
    tf = _parse_timeframe(timeframe)
    n = int(n_days) * MINUTES_PER_DAY
    n_weeks = -(-int(n_days) // 5)

    opens = _week_opens(start, n_weeks)
    minute = np.arange(n, dtype=np.int64)
    week = minute // MINUTES_PER_WEEK
    in_week = minute % MINUTES_PER_WEEK
    time = opens[week] + in_week * NS_MIN

    rng = np.random.Generator(np.random.PCG64(seed))
    eps = rng.standard_t(T_DF, n) / math.sqrt(T_DF / (T_DF - 2.0))
    u_hi = rng.random(n)
    u_lo = rng.random(n)
    e_slow = rng.standard_normal(n)
    e_noise = rng.standard_normal(n)
    reg_e = rng.standard_normal(int(n_days))
    day_e = rng.standard_normal(int(n_days))
    gaps = rng.standard_t(GAP_DF, n_weeks) * GAP_SCALE_PIPS * 10.0 * POINT
    gaps[0] = 0.0  # the series starts at start_price

    # the day regime: slow log-AR(1) + i.i.d. factor, mean 1 in variance
    reg = np.empty(int(n_days))
    reg[0] = REGIME_SD * reg_e[0]
    k = math.sqrt(1.0 - REGIME_AR**2) * REGIME_SD
    for d in range(1, int(n_days)):  # n_days is small: a Python loop is fine
        reg[d] = REGIME_AR * reg[d - 1] + k * reg_e[d]
    var = REGIME_SD**2 + DAY_SD**2
    day_mult = np.exp(reg + DAY_SD * day_e - var)

    base = DAILY_VOL / math.sqrt(MINUTES_PER_DAY * float(np.mean(HOUR_OF_WEEK_VOL**2)))
    sigma_season = base * HOUR_OF_WEEK_VOL[in_week // 60] * day_mult[minute // MINUTES_PER_DAY]
    week_first = in_week == 0

    ohlc, sig = _simulate_nb(
        eps,
        u_hi,
        u_lo,
        sigma_season,
        week_first,
        gaps,
        math.log(start_price),
        GARCH_ALPHA,
        GARCH_BETA,
        GARCH_CAP,
        REVERSION_PER_MIN,
        math.log(ANCHOR_PRICE),
    )
    bid_pts = np.rint(ohlc / POINT)
    bid_pts[1:, 0] = bid_pts[:-1, 3]  # open = previous close, to the point
    bid_pts[week_first, 0] = np.rint(ohlc[week_first, 0] / POINT)  # except across a weekend gap
    bid_pts[:, 1] = np.maximum(bid_pts[:, 1], bid_pts[:, [0, 3]].max(axis=1))
    bid_pts[:, 2] = np.minimum(bid_pts[:, 2], bid_pts[:, [0, 3]].min(axis=1))

    session = sessions(time)
    spread_pts = _sample_spreads(session, _spread_uniforms_nb(e_slow, e_noise, SPREAD_AR, SPREAD_SLOW_WEIGHT))
    sig2 = sig * sig
    volume = rng.poisson(TICKS_PER_MIN * sig2 / sig2.mean()).astype(np.float64) + 1.0  # the last draw

    if tf > 1:
        m = n // tf
        b = bid_pts.reshape(m, tf, 4)
        bid_pts = np.stack([b[:, 0, 0], b[:, :, 1].max(axis=1), b[:, :, 2].min(axis=1), b[:, -1, 3]], axis=1)
        spread_pts = spread_pts[::tf]
        volume = volume.reshape(m, tf).sum(axis=1)
        time = time[::tf]

    bid = bid_pts / 1e5
    ask = (bid_pts + spread_pts[:, None]) / 1e5
    return _synthetic_bars(time, bid, ask, volume, seed, int(n_days), timeframe, tf, start)


def _synthetic_bars(
    time: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    volume: np.ndarray,
    seed: int,
    n_days: int,
    timeframe: str,
    tf: int,
    start: str,
) -> Bars:
    """The generator's output as ``Bars``, labelled with how it was made (fresh or from the cache file)."""
    return Bars(
        time=time,
        bid=bid,
        ask=ask,
        volume=volume,
        symbol="EURUSD",
        source=f"synthetic:eurusd(seed={seed}, n_days={n_days}, timeframe={timeframe}, start={start})",
        meta={
            "synthetic": True,
            "generator": "simlab.synthetic.synthetic_eurusd",
            "seed": seed,
            "n_days": n_days,
            "timeframe_min": tf,
            "start": start,
            "digits": 5,
        },
    )


@functools.lru_cache(maxsize=2)
def _default_bars(timeframe: str) -> Bars:
    # Generating two years of minute bars takes a second or two; the result is a pure function of
    # (generator version, seed, days, timeframe), so it is kept in a cache file named after them.
    # A cache that cannot be read or written is simply regenerated: it is never trusted blindly.
    key = f"eurusd_{timeframe}_{DEFAULT_SEED}_{DEFAULT_N_DAYS}_{DEFAULT_START}_v{GENERATOR_VERSION}_np{np.__version__}"
    path = cache_dir() / f"{key}.npz"
    bars: Bars | None = None
    try:
        with np.load(path) as z:
            bars = _synthetic_bars(
                z["time"], z["bid"], z["ask"], z["volume"],
                DEFAULT_SEED, DEFAULT_N_DAYS, timeframe, int(z["timeframe_min"]), DEFAULT_START,
            )  # fmt: skip
        _check_cached(bars, timeframe)
    except FileNotFoundError:
        bars = None
    except Exception as exc:  # truncated, bit-flipped (the zip's CRC), or not what it should hold
        msg = str(exc).splitlines()[0][:120] if str(exc) else ""
        print(
            f"simlab: the cached bundled data {path} were damaged ({type(exc).__name__}: {msg}); regenerating them",
            file=sys.stderr,
            flush=True,
        )
        bars = None
    if bars is None:
        bars = synthetic_eurusd(DEFAULT_N_DAYS, timeframe, DEFAULT_SEED, start=DEFAULT_START)
        try:
            import io

            from simlab.atomic import atomic_write_bytes

            buf = io.BytesIO()
            np.savez(
                buf,
                time=bars.time,
                bid=bars.bid,
                ask=bars.ask,
                volume=bars.volume,
                timeframe_min=np.int64(int(str(bars.meta["timeframe_min"]))),
            )
            atomic_write_bytes(path, buf.getvalue())
        except OSError:
            pass  # a read-only home is fine: we regenerate next time
    for a in (bars.time, bars.bid, bars.ask, bars.volume):
        a.setflags(write=False)
    return bars


def _check_cached(bars: Bars, timeframe: str) -> None:
    """What a cache file of the default data must hold, or ValueError: one bar per ``timeframe`` step."""
    n = bars.time.shape[0]
    tf = int(str(bars.meta["timeframe_min"]))
    if (
        bars.time.dtype != np.int64
        or tf != _parse_timeframe(timeframe)
        or bars.bid.shape != (n, 4)
        or bars.ask.shape != (n, 4)
        or bars.volume.shape != (n,)
        or n != DEFAULT_N_DAYS * MINUTES_PER_DAY // tf
        or not np.all(np.diff(bars.time) > 0)
    ):
        raise ValueError("the arrays are not the default data's shapes")


def default_bars(timeframe: str = "1min") -> Bars:
    """The bundled default data: two years of synthetic EURUSD, cached, read-only.

    ``timeframe="1min"`` gives the 748,800 minute bars; ``"1h"`` the same path as 12,480 hourly
    bars (what ``simlab challenge`` runs by default). ``bars.meta["synthetic"]`` is True: these
    are not market prices (see the module docstring).
    """
    b = _default_bars(timeframe)
    return Bars(
        time=b.time,
        bid=b.bid,
        ask=b.ask,
        volume=b.volume,
        symbol=b.symbol,
        source=b.source,
        meta=dict(b.meta),
    )
