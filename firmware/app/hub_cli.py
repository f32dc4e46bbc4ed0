"""``minipbx hub render``: the Kamailio configuration of the hub for a sites file
(firmware/app/hubcfg.py says what it does; docs/multisite.md how to run it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from firmware.app.hubcfg import dispatcher_list, load_sites, render


def add_hub_parser(sub: Any) -> None:
    hub = sub.add_parser("hub", help="the Kamailio hub that joins the sites of an organisation")
    verbs = hub.add_subparsers(metavar="VERB")
    r = verbs.add_parser("render", help="print kamailio.cfg for a sites file (--out DIR: "
                                        "write kamailio.cfg and dispatcher.list there)")
    r.add_argument("--sites", type=Path, required=True,
                   help="TOML: [hub] listen/port/transports/tls, [[site]] name/prefix/"
                        "password, [[shared]] number/sites")
    r.add_argument("--out", type=Path, default=None,
                   help="folder to write kamailio.cfg and dispatcher.list into")
    r.add_argument("--dispatcher-list", default="/etc/kamailio/dispatcher.list",
                   help="where the printed config looks for dispatcher.list")
    r.set_defaults(func=_render)


def _render(args: argparse.Namespace) -> int:
    spec = load_sites(args.sites)
    if args.out is None:
        sys.stdout.write(render(spec, args.dispatcher_list))
        if spec.shared:
            print(f"minipbx: shared numbers need {args.dispatcher_list}; write it with"
                  " --out DIR", file=sys.stderr)
        return 0
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    listing = (out / "dispatcher.list").resolve()
    (out / "kamailio.cfg").write_text(render(spec, str(listing)), encoding="utf-8")
    written = ["kamailio.cfg"]
    if spec.shared:
        listing.write_text(dispatcher_list(spec), encoding="utf-8")
        written.append("dispatcher.list")
    print(f"{out}: {', '.join(written)} for sites "
          f"{', '.join(s.name for s in spec.sites)}")
    return 0
