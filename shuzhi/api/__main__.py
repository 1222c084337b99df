"""``python -m shuzhi.api``: serve the API, or add an account (the first administrator) from the shell."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from shuzhi.accounts import Role
from shuzhi.api.schemas import AccountIn
from shuzhi.api.server import DEFAULT_HOST, DEFAULT_PORT, add_account, serve
from shuzhi.api.settings import ApiSettings
from shuzhi.settings import DataDir

PASSWORD_ENV = "SHUZHI_PASSWORD"


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    data = DataDir.resolve(args.data).root
    if args.command == "serve":
        serve(data, args.host, args.port)
        return
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"password for {args.username}: ")
    spec = AccountIn(username=args.username, password=password, role=args.role, id_number=args.id_number)
    account = add_account(ApiSettings(data_dir=data), spec)
    print(f"created {account.role} account {account.username!r} (id {account.id})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shuzhi.api", description=__doc__)
    parser.add_argument("--data", type=Path, help="data directory (default: $SHUZHI_DATA or ./shuzhi-data)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the API under uvicorn")
    run.add_argument("--host", default=DEFAULT_HOST)
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    add = commands.add_parser("add-account", help=f"add an account (password: ${PASSWORD_ENV} or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", type=Role, choices=list(Role), required=True)
    add.add_argument("--id-number", help="a resident's GB 11643 ID number (pseudonymised, never stored)")
    return parser


if __name__ == "__main__":
    main()
