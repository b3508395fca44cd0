"""Bars: the columnar market data every simlab component consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Bars:
    """Bid and ask OHLC bars on a UTC time grid.

    ``time`` holds bar *open* times as int64 nanoseconds since the epoch, UTC,
    strictly increasing. ``bid`` and ``ask`` are float64 arrays of shape (n, 4)
    with columns open, high, low, close. ``volume`` is float64 (n,) (tick volume
    where that is all the source has; zeros where it has none).

    >>> import numpy as np
    >>> t = np.array([0, 60_000_000_000], dtype=np.int64)
    >>> bid = np.array([[1.1, 1.2, 1.0, 1.1], [1.1, 1.1, 1.1, 1.1]])
    >>> b = Bars(time=t, bid=bid, ask=bid + 0.0001, volume=np.zeros(2), symbol="EURUSD")
    >>> len(b), round(float(b.spread_open[0]), 5)
    (2, 0.0001)
    """

    time: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    volume: np.ndarray
    symbol: str = "EURUSD"
    source: str = ""
    meta: dict[str, object] = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    # named views, for readability at call sites
    @property
    def bid_open(self) -> np.ndarray:
        return self.bid[:, 0]

    @property
    def bid_high(self) -> np.ndarray:
        return self.bid[:, 1]

    @property
    def bid_low(self) -> np.ndarray:
        return self.bid[:, 2]

    @property
    def bid_close(self) -> np.ndarray:
        return self.bid[:, 3]

    @property
    def ask_open(self) -> np.ndarray:
        return self.ask[:, 0]

    @property
    def ask_high(self) -> np.ndarray:
        return self.ask[:, 1]

    @property
    def ask_low(self) -> np.ndarray:
        return self.ask[:, 2]

    @property
    def ask_close(self) -> np.ndarray:
        return self.ask[:, 3]

    @property
    def mid(self) -> np.ndarray:
        """Mid OHLC, shape (n, 4)."""
        return (self.bid + self.ask) / 2.0

    @property
    def spread_open(self) -> np.ndarray:
        return self.ask[:, 0] - self.bid[:, 0]

    def slice(self, start: int, stop: int) -> Bars:
        """Rows [start, stop) as new Bars (views, no copy)."""
        return Bars(
            time=self.time[start:stop],
            bid=self.bid[start:stop],
            ask=self.ask[start:stop],
            volume=self.volume[start:stop],
            symbol=self.symbol,
            source=self.source,
            meta=dict(self.meta),
        )

    def to_frame(self):  # -> pandas.DataFrame, imported lazily (pandas is slow to import)
        import pandas as pd

        idx = pd.DatetimeIndex(self.time.astype("datetime64[ns]"), tz="UTC", name="time")
        cols = {}
        for side, arr in (("bid", self.bid), ("ask", self.ask)):
            for j, name in enumerate(("open", "high", "low", "close")):
                cols[f"{side}_{name}"] = arr[:, j]
        cols["volume"] = self.volume
        return pd.DataFrame(cols, index=idx)
