"""Several markets on one time grid (``simlab.align``): the union of bar times, carried prices, absent legs."""

from __future__ import annotations

import numpy as np
import pytest
from _builders import hourly, make_bars

from simlab.align import align
from simlab.errors import InputError


def _legs():
    # leg A: hourly bars 10:00 .. 14:00; leg B: 11:00, 12:00, then 14:00 (no bar at 13:00), ends at 14:00
    ta = hourly("2024-03-04T10:00", 5)
    a = make_bars(
        ta,
        [
            [1.1 + i / 100, 1.1 + i / 100 + 0.005, 1.1 + i / 100 - 0.005, 1.1 + i / 100 + 0.001]
            for i in range(5)
        ],
        spread=0.0001,
    )
    tb = ta[[1, 2, 4]]
    b = make_bars(
        tb,
        [[1.3, 1.31, 1.29, 1.305], [1.305, 1.32, 1.30, 1.315], [1.32, 1.33, 1.31, 1.325]],
        spread=0.0002,
        symbol="GBPUSD",
    )
    return a, b


def test_the_grid_is_the_union_of_bar_times_and_each_leg_knows_its_rows():
    a, b = _legs()
    g = align([a, b], ["A", "B"])
    assert g.time.tolist() == a.time.tolist()  # B's times are a subset of A's
    la, lb = g.legs
    assert la.has_bar.tolist() == [True] * 5
    assert lb.has_bar.tolist() == [False, True, True, False, True]
    assert lb.own.tolist() == [-1, 0, 1, 1, 2]  # absent before its first bar, then its last bar's index
    assert lb.rows.tolist() == [1, 2, 4]
    assert lb.next_row.tolist() == [1, 2, 4, 4, 5]  # an order decided at row 2 fills on its bar at row 4
    assert lb.first_row == 1


def test_a_missing_bar_carries_the_last_close_as_a_flat_bar():
    a, b = _legs()
    lb = align([a, b], ["A", "B"]).legs[1]
    # row 3 (13:00): B has no bar: bid and ask flat at its 12:00 bar's close
    assert lb.bid[3].tolist() == [1.315] * 4
    assert lb.ask[3].tolist() == [1.315 + 0.0002] * 4
    # its bars are there as they are
    assert lb.bid[2].tolist() == [1.305, 1.32, 1.30, 1.315]
    assert lb.bid[4].tolist() == [1.32, 1.33, 1.31, 1.325]
    # before its first bar: flat at its first open (never traded on: the leg is absent there)
    assert lb.bid[0].tolist() == [1.3] * 4


def test_intents_go_on_the_rows_of_the_legs_bars_and_values_carry():
    a, b = _legs()
    lb = align([a, b], ["A", "B"]).legs[1]
    assert lb.scatter(np.array([1, -1, 2], dtype=np.int8), 0).tolist() == [0, 1, -1, 0, 2]
    assert lb.carry(np.array([10.0, 20.0, 30.0]), np.nan)[1:].tolist() == [10.0, 20.0, 20.0, 30.0]
    assert np.isnan(lb.carry(np.array([10.0, 20.0, 30.0]), np.nan)[0])


def test_interleaved_times_make_a_union():
    t1 = hourly("2024-03-04T10:00", 3, step_min=120)  # 10, 12, 14
    t2 = hourly("2024-03-04T11:00", 3, step_min=120)  # 11, 13, 15
    flat = [[1.0, 1.0, 1.0, 1.0]] * 3
    g = align([make_bars(t1, flat), make_bars(t2, flat, symbol="GBPUSD")], ["A", "B"])
    assert len(g) == 6
    assert g.legs[0].has_bar.tolist() == [True, False, True, False, True, False]
    assert g.legs[1].own.tolist() == [-1, 0, 0, 1, 1, 2]


def test_legs_of_different_bar_sizes_are_refused_in_one_line():
    a, _ = _legs()
    m1 = make_bars(hourly("2024-03-04T10:00", 120, step_min=1), [[1.0, 1.0, 1.0, 1.0]] * 120, symbol="GBPUSD")
    with pytest.raises(InputError) as e:
        align([a, m1], ["--data EURUSD=a.csv", "--data GBPUSD=b.csv"])
    msg = str(e.value)
    assert msg.startswith("--data GBPUSD=b.csv: bars of 1min, but --data EURUSD=a.csv's are 1h")
    assert 'timeframe = "1h"' in msg and "\n" not in msg
