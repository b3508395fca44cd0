"""The runner's journal (SQLite): what it decided, sent and booked, so a restart resumes exactly.

Write-ahead: an order intent is recorded (with the comment that identifies it on
the broker) *before* ``order_send``; its outcome after. A runner that restarts
finds intents still marked ``sent`` and reconciles them against the broker by
magic number and comment before it sends anything — never a duplicate order.
The runner's state (the ``ACC_*`` / ``POS_*`` vectors of ``live.guard``, the last
bar processed, the position it manages and which stop is on it) is saved after
every bar. Fills are kept in the shape ``simlab calibrate --fills`` reads.

WAL mode with ``synchronous=NORMAL``: a crash of the process loses nothing
committed; a power loss may lose the last commit, which the next start
reconciles like any uncertain outcome.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from live.types import Fill

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,             -- open | close | modify
    side INTEGER NOT NULL,
    volume REAL NOT NULL,
    sl_dist REAL, tp_dist REAL,
    position INTEGER NOT NULL DEFAULT 0,
    bar INTEGER NOT NULL,
    reason INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,            -- sent | filled | partial | not_executed | rejected | waiting | stopped
    attempts TEXT NOT NULL DEFAULT '[]',  -- comments of every order_send try
    retcode INTEGER, deal INTEGER, ticket INTEGER, price REAL, filled REAL,
    updated_ns INTEGER
);
CREATE TABLE IF NOT EXISTS fills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ns INTEGER NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL,
    entry TEXT NOT NULL, requested_price REAL, filled_price REAL NOT NULL, volume REAL NOT NULL,
    spread REAL, latency_ms REAL, session TEXT, ticket INTEGER, deal INTEGER UNIQUE,
    virtual INTEGER NOT NULL DEFAULT 0  -- 1: a dry run's fill (what a live run would have done)
);
"""


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # no automatic checkpoint: it would run (and fsync) inside whichever commit fills the WAL — the
        # write-ahead record of an order about to be sent, 1-15 ms on a busy disk. ``checkpoint`` runs it
        # when the runner is done with a bar instead.
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        self._commits = 0
        self.db.executescript(_SCHEMA)
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(fills)")}
        if "virtual" not in cols:  # a journal written before dry runs kept their fills
            self.db.execute("ALTER TABLE fills ADD COLUMN virtual INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ state
    def save_state(self, state: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO state(key, value) VALUES('runner', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (json.dumps(state, allow_nan=True),),
        )

    def checkpoint(self, every: int = 64) -> None:
        """Copy the WAL into the database every ``every`` calls (the runner calls it after each bar's orders)."""
        self._commits += 1
        if self._commits % every == 0:
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def load_state(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT value FROM state WHERE key='runner'").fetchone()
        return None if row is None else dict(json.loads(row[0]))

    # ------------------------------------------------------------------ intents
    def new_intent(
        self,
        *,
        created_ns: int,
        kind: str,
        side: int,
        volume: float,
        bar: int,
        sl_dist: float = float("nan"),
        tp_dist: float = float("nan"),
        position: int = 0,
        reason: int = 0,
        first_attempt: Callable[[int], str] | None = None,
    ) -> int:
        """A new intent; its id. ``first_attempt``: the comment of its first try from the id, recorded with the
        intent in one statement (the write-ahead record of an order about to be sent: state ``sent``)."""
        values = (created_ns, kind, side, volume, _num(sl_dist), _num(tp_dist), position, bar, reason)
        cols = "created_ns, kind, side, volume, sl_dist, tp_dist, position, bar, reason"
        if first_attempt is None:
            cur = self.db.execute(
                f"INSERT INTO intents({cols}, state) VALUES(?,?,?,?,?,?,?,?,?,'new')", values
            )
            return int(cur.lastrowid or 0)
        # the id is taken here so that the comment carrying it goes in with the row (one runner per journal)
        i = int(self.db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM intents").fetchone()[0])
        self.db.execute(
            f"INSERT INTO intents(id, {cols}, state, attempts) VALUES(?,?,?,?,?,?,?,?,?,?,'sent',?)",
            (i, *values, json.dumps([first_attempt(i)])),
        )
        return i

    def add_attempt(self, intent_id: int, comment: str, before: list[str] | None = None) -> None:
        """Recorded before the order is sent (write-ahead). ``before``: the intent's earlier attempts when the
        caller holds them (one statement instead of a read and a write)."""
        if before is None:
            row = self.db.execute("SELECT attempts FROM intents WHERE id=?", (intent_id,)).fetchone()
            before = json.loads(row[0])
        attempts = [*before, comment]
        self.db.execute(
            "UPDATE intents SET attempts=?, state='sent' WHERE id=?", (json.dumps(attempts), intent_id)
        )

    def finish(self, intent_id: int, state: str, **fields: Any) -> None:
        cols = ["state=?"] + [f"{k}=?" for k in fields]
        self.db.execute(
            f"UPDATE intents SET {', '.join(cols)} WHERE id=?", (state, *fields.values(), intent_id)
        )

    def intent(self, intent_id: int) -> dict[str, Any]:
        cur = self.db.execute("SELECT * FROM intents WHERE id=?", (intent_id,))
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        d = dict(zip(names, row, strict=True))
        d["attempts"] = json.loads(d["attempts"])
        return d

    def open_intents(self) -> list[dict[str, Any]]:
        """Intents whose outcome is not known yet (sent, or waiting for the session)."""
        ids = [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM intents WHERE state IN ('new','sent','waiting') ORDER BY id"
            )
        ]
        return [self.intent(i) for i in ids]

    def intents(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM intents ORDER BY id")]
        return [self.intent(i) for i in ids]

    # ------------------------------------------------------------------ fills
    def add_fill(self, f: Fill, entry: str, virtual: bool = False) -> bool:
        """Record a fill once (a deal ticket is unique); False if it was already there. ``virtual``: a dry
        run's fill, kept apart from the broker's (never calibration data)."""
        try:
            self.db.execute(
                "INSERT INTO fills(time_ns, symbol, side, order_type, entry, requested_price, filled_price, volume,"
                " spread, latency_ms, session, ticket, deal, virtual) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    f.time_ns, f.symbol, "buy" if int(f.side) > 0 else "sell", f.order_type, entry,
                    _num(f.requested_price), f.filled_price, f.volume, _num(f.spread), _num(f.latency_ms),
                    f.session, f.ticket, f.deal or None, 1 if virtual else 0,
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError:
            return False
        return True

    def fills(self, virtual: bool | None = None) -> list[dict[str, Any]]:
        """The fills in time order; ``virtual``: only a dry run's (True) or only the broker's (False)."""
        where = "" if virtual is None else f" WHERE virtual = {1 if virtual else 0}"
        cur = self.db.execute(f"SELECT * FROM fills{where} ORDER BY time_ns, id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def fill_count(self) -> int:
        """The broker's fills recorded (what ``fills_csv`` writes)."""
        return int(self.db.execute("SELECT COUNT(*) FROM fills WHERE virtual = 0").fetchone()[0])

    def fills_csv(self) -> str:
        """The broker's fills as ``simlab calibrate --fills`` reads them (see ``execution_models.calibrate``); a
        dry run's virtual fills are left out: they are the quote plus the model's own draws, not measurements."""
        import datetime as dt

        lines = [
            "time,symbol,side,order_type,entry,requested_price,filled_price,volume,spread,latency_ms,session"
        ]
        for r in self.fills(virtual=False):
            t = dt.datetime.fromtimestamp(r["time_ns"] / 1e9, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            lines.append(
                ",".join(
                    [
                        t,
                        r["symbol"],
                        r["side"],
                        r["order_type"],
                        r["entry"],
                        _fmt(r["requested_price"]),
                        _fmt(r["filled_price"]),
                        _fmt(r["volume"]),
                        _fmt(r["spread"]),
                        _fmt(r["latency_ms"]),
                        r["session"] or "",
                    ]
                )  # fmt: skip
            )
        return "\n".join(lines) + "\n"


def _num(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)


def _fmt(x: float | None) -> str:
    return "" if x is None else repr(float(x))
