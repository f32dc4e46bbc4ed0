"""[callback] and [inform]: validation errors name the key; the call-back's token is a
secret in diffs and the history (firmware/config/callback_rules.py, store.mask_secrets)."""

from __future__ import annotations

import pytest

from firmware.config.loader import parse_config
from firmware.config.store import diff_texts
from firmware.core.errors import ConfigError

BASE = '[[fxs]]\nport = 1\nextension = "101"\n'
GOOD = BASE + ('[callback]\nenabled = true\nto = "ext:101"\nallowed = ["9x."]\n'
               'token = "0123456789abcdef"\norigins = ["https://www.example.com"]\n')


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "box.toml")
    return str(info.value)


def test_a_good_callback_table_loads() -> None:
    config = parse_config(GOOD, "box.toml")
    assert config.callback.to == "ext:101" and config.callback.allowed == ("9x.",)
    assert config.inform.permission == "national" and config.inform.reserve == 1


@pytest.mark.parametrize(("change", "where", "says"), [
    (('to = "ext:101"', 'to = "ext:199"'), "callback.to", "no ext '199'"),
    (('to = "ext:101"', 'to = "sales"'), "callback.to", "is not a destination"),
    (('to = "ext:101"', 'to = "hangup"'), "callback.to", "rings nobody"),
    (('to = "ext:101"', 'to = "group:sals"'), "callback.to", "no group 'sals'"),
    (('token = "0123456789abcdef"', 'token = "short"'), "callback.token", "at least 16"),
    (('allowed = ["9x."]', 'allowed = []'), "callback.allowed", "must list"),
    (('allowed = ["9x."]', 'allowed = ["9x.", "nine"]'), "callback.allowed[1]",
     "not a digit-map pattern"),
    (('"https://www.example.com"', '"https://www.example.com/"'), "callback.origins[0]",
     "no path, no trailing slash"),
])
def test_mistakes_name_the_key(change: tuple[str, str], where: str, says: str) -> None:
    text = problems(GOOD.replace(*change))
    assert f"{where}: " in text and says in text, text


def test_inform_keys_are_range_checked() -> None:
    assert "inform.reserve" in problems(BASE + "[inform]\nreserve = 0\n")
    assert "inform.permission" in problems(BASE + '[inform]\npermission = "world"\n')


def test_the_token_is_masked_in_a_diff() -> None:
    before = GOOD
    after = GOOD.replace("0123456789abcdef", "fedcba9876543210")
    diff = diff_texts(before, after, "v1", "v2")
    assert "0123456789abcdef" not in diff and "fedcba9876543210" not in diff
    assert '-token = "<secret 1>"' in diff and '+token = "<secret 2>"' in diff
