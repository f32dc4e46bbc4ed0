"""Fixtures for the routing core tests."""

from __future__ import annotations

import pytest

from .office import Driver, office_plan


@pytest.fixture
def drv() -> Driver:
    """The office exchange, idle, with its clock at 1000 s."""
    return Driver(office_plan())
