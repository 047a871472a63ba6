"""Chart axes a person reads at a glance: values at 1-2-5 steps, time in UTC."""

from __future__ import annotations

import math

import pytest

from pytest_peak_testnet.reporting.scales import time_scale, value_scale


@pytest.mark.parametrize(("low", "high"), [(9999.77, 10000.0), (9999.83, 9999.94), (0.0, 2866.0), (38812.5, 39003.1),
                                           (-0.23, 0.41), (5.0, 5.0), (0.0, 0.0)])
def test_value_ticks_are_whole_multiples_of_a_1_2_5_step_around_the_data(low: float, high: float) -> None:
    scale = value_scale(low, high)
    step = scale.ticks[1] - scale.ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5, 10))
    assert all(math.isclose(t / step, round(t / step), abs_tol=1e-6) for t in scale.ticks)
    assert scale.low <= low and scale.high >= high and 3 <= len(scale.ticks) <= 9
    assert len(set(scale.labels)) == len(scale.labels)  # no two ticks read the same


def test_the_equity_ladder_of_the_issue_reads_in_tenths() -> None:
    assert value_scale(9999.83, 9999.94).labels == ("9,999.80", "9,999.85", "9,999.90", "9,999.95")


def test_time_ticks_fall_on_whole_utc_minutes_with_the_date_where_it_changes() -> None:
    midnight = 1704067200  # 2024-01-01 00:00 UTC
    assert time_scale(midnight + 60, midnight + 840).labels == ("01-01 00:05", "00:10")
    assert time_scale(midnight - 3600, midnight + 3600).labels == ("12-31 23:00", "23:30", "01-01 00:00", "00:30",
                                                                   "01:00")
