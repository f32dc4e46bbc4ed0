"""The ring frequency a co-processor port uses: the country's, or the nearest one the board
profile and the co-processor both allow, or a clear error when there is none."""

from __future__ import annotations

import pytest

from drivers.coproc import RingError
from drivers.coproc.timing import ring_frequency

MCU_10_60 = (1000, 6000)
MCU_25_60 = (2500, 6000)


def test_the_country_frequency_when_both_allow_it() -> None:
    assert ring_frequency("fxs1", 20.0, (20.0, 25.0), MCU_10_60) == 2000
    assert ring_frequency("fxs1", 25.0, (20.0, 25.0), MCU_25_60) == 2500


def test_the_nearest_frequency_both_allow() -> None:
    assert ring_frequency("fxs1", 20.0, (20.0, 25.0), MCU_25_60) == 2500
    assert ring_frequency("fxs1", 16.0, (20.0, 25.0, 50.0), MCU_10_60) == 2000
    assert ring_frequency("fxs1", 50.0, (20.0, 25.0), MCU_10_60) == 2500
    assert ring_frequency("fxs1", 22.5, (20.0, 25.0), MCU_10_60) == 2000  # a tie: the lower


def test_without_a_profile_list_the_co_processor_range_decides() -> None:
    assert ring_frequency("fxs1", 20.0, None, MCU_25_60) == 2500
    assert ring_frequency("fxs1", 100.0, None, MCU_10_60) == 6000
    assert ring_frequency("fxs1", 16.67, None, MCU_10_60) == 1667


def test_before_the_hello_the_profile_list_decides() -> None:
    assert ring_frequency("fxs1", 16.0, (20.0, 25.0), None) == 2000


def test_no_frequency_both_allow_is_an_error_that_says_what_to_do() -> None:
    with pytest.raises(RingError, match=r"fxs2 cannot ring: .* lists 20 Hz and the "
                                        r"co-processor makes 25 to 60 Hz"):
        ring_frequency("fxs2", 20.0, (20.0,), MCU_25_60)
