"""``minipbx user ...``, ``minipbx setup-code`` and ``minipbx console``: accounts and the
installer's command line, for root on the box (the control socket needs no password).

Passwords are asked twice with getpass (never echoed, never an argument that ``ps`` would
show), or read from the first line of stdin with ``--password-stdin`` for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir
from firmware.core.errors import CommandError

ROLES = ("user", "installer", "admin")


def add_user_parser(sub: Any) -> None:
    user = sub.add_parser("user", help="accounts of the web page and the serial console")
    verbs = user.add_subparsers(metavar="VERB")
    add = verbs.add_parser("add", help="add an account (asks for its password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--extension", default=None, help="the person's own extension (role user)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin")
    add.set_defaults(func=_add)
    pw = verbs.add_parser("passwd", help="set an account's password (asks for it)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the password from the first line of stdin")
    pw.set_defaults(func=_passwd)
    ls = verbs.add_parser("list", help="the accounts, their roles and extensions")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    rm = verbs.add_parser("delete", help="delete an account and its API token")
    rm.add_argument("name")
    rm.set_defaults(func=_delete)
    tok = verbs.add_parser("token", help="a new API token for scripts (voids the old one)")
    tok.add_argument("name")
    tok.set_defaults(func=_token)

    code = sub.add_parser("setup-code", help="the one-time code that creates the first admin")
    code.set_defaults(func=_setup_code)
    console = sub.add_parser("console", help="the installer's command line (as on the serial "
                                              "console), as root")
    console.set_defaults(func=_console)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    second = getpass.getpass("again: ")
    if first != second:
        raise CommandError("the two passwords differ; nothing changed")
    return first


def _add(args: argparse.Namespace) -> int:
    payload = {"name": args.name, "role": args.role, "password": _password(args)}
    if args.extension:
        payload["extension"] = args.extension
    result = call(chosen_state_dir(args), "user.add", payload)
    ext = f", extension {result['extension']}" if result.get("extension") else ""
    print(f"account {result['name']} added: {result['role']}{ext}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    call(chosen_state_dir(args), "user.passwd", {"name": args.name, "password": _password(args)})
    print(f"password of {args.name} changed")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = call(chosen_state_dir(args), "user.list")
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    if not rows:
        print("no accounts yet: `minipbx setup-code` shows the code that creates the admin")
    for r in rows:
        print(f"{r['name']:<32} {r['role']:<9} ext {r.get('extension') or '-'}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    call(chosen_state_dir(args), "user.delete", {"name": args.name})
    print(f"account {args.name} deleted")
    return 0


def _token(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "user.token", {"name": args.name})
    print(result["token"])
    print(f"(API token of {args.name}; shown only now, and the old one no longer works)",
          file=sys.stderr)
    return 0


def _setup_code(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "setup.code")
    if result["code"] is None:
        print("the box has an admin account already; setup is done (`minipbx user add` adds "
              "more)")
        return 1
    print(result["code"])
    return 0


def _console(args: argparse.Namespace) -> int:
    from firmware.app.console_client import run_console

    return run_console(chosen_state_dir(args))
