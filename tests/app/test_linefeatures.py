"""Forwarding set from the web page or the API (LineFeatureStore.change, firmware/app/
linefeatures.py) over a real exchange: the same values the star codes change, seen by
both at once, followed by the next call and dial tone, saved to features.json at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.app.linefeatures import ForwardingError, LineFeatureStore
from firmware.core.errors import NotFoundError
from firmware.core.events import Release, Seize, Setup, Tone
from firmware.pbx.features import LineFeatures
from tests.pbx.office import Driver, office_plan


def driver() -> Driver:
    return Driver(office_plan(forwarding=tuple((n, LineFeatures())
                                               for n in ("101", "102", "103"))))


def code(drv: Driver, leg: str, digits: str) -> None:
    drv.send(Seize(leg))
    drv.dial(leg, digits)
    drv.advance(5.0)  # the interdigit timeout ends a code with a number
    drv.send(Release(leg))


def test_a_change_is_followed_at_once_and_saved(tmp_path: Path) -> None:
    drv = driver()
    store = LineFeatureStore(tmp_path, drv.pbx)
    result = store.change("102", {"forward_always": "103", "forward_after_s": "30"})
    assert result["changed"] == ["forward_after_s", "forward_always"] and result["saved"]
    assert result["current"]["forward_always"] == "103"
    saved = json.loads((tmp_path / "features.json").read_text())
    assert saved["102"]["current"]["forward_always"] == "103"
    assert drv.send(Seize("fxs2")) == [Tone("fxs2", "stutter")]  # the reminder follows
    drv.send(Release("fxs2"))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert [(o.leg, o.called) for o in out if isinstance(o, Setup)] == [("fxs3", "103")]
    assert store.change("102", {"forward_always": "103"})["changed"] == []


def test_star_codes_and_the_store_see_each_others_changes(tmp_path: Path) -> None:
    drv = driver()
    store = LineFeatureStore(tmp_path, drv.pbx)
    code(drv, "fxs2", "*78")
    assert store.view("102")["current"]["dnd"] is True
    store.change("102", {"dnd": "off", "forward_busy": "101"})
    assert drv.pbx.line_features()["102"].dnd is False
    code(drv, "fxs2", "*91")  # forward-busy off by star code
    assert store.view("102")["current"]["forward_busy"] == ""
    store.save_if_changed()
    assert json.loads((tmp_path / "features.json").read_text())["102"]["current"][
        "forward_busy"] == ""


def test_a_refused_change_changes_nothing_and_names_the_field(tmp_path: Path) -> None:
    drv = driver()
    store = LineFeatureStore(tmp_path, drv.pbx)
    with pytest.raises(ForwardingError) as caught:
        store.change("101", {"forward_always": "102", "forward_after_s": "900"})
    assert [f["path"] for f in caught.value.fields] == ["forward_after_s"]
    assert str(caught.value).startswith("forward_after_s: must be from 1 to 300")
    assert drv.pbx.line_features()["101"].forward_always == ""
    assert not (tmp_path / "features.json").exists()
    with pytest.raises(NotFoundError):
        store.change("555", {"dnd": "on"})


def test_web_set_values_come_back_after_a_restart(tmp_path: Path) -> None:
    drv = driver()
    LineFeatureStore(tmp_path, drv.pbx).change("103", {"call_waiting": "false",
                                                       "forward_no_answer": "101"})
    again = driver()
    store = LineFeatureStore(tmp_path, again.pbx)
    store.load()
    view = store.view("103")
    assert view["current"]["call_waiting"] is False
    assert view["current"]["forward_no_answer"] == "101"
    assert view["configured"]["call_waiting"] is True
    assert view["codes"]["forward_always"] == ["*72", "*73"]
