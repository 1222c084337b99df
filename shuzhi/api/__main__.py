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
from shuzhi.api.verifier import Verifier, credentials_verifier, signed_trust_list
from shuzhi.credentials import acceptance
from shuzhi.settings import DataDir

PASSWORD_ENV = "SHUZHI_PASSWORD"


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    data = DataDir.resolve(args.data).root
    if args.command == "serve":
        serve(data, args.host, args.port, verifier=verifier_from_args(args))
        return
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"password for {args.username}: ")
    spec = AccountIn(username=args.username, password=password, role=args.role, id_number=args.id_number)
    account = add_account(ApiSettings(data_dir=data), spec)
    print(f"created {account.role} account {account.username!r} (id {account.id})")


def verifier_from_args(args: argparse.Namespace) -> Verifier | None:
    if args.trust_list is None:
        return None
    if not args.anchor or not args.region:
        raise SystemExit("--trust-list needs --anchor (the national public key PEM) and --region")
    trust = signed_trust_list(args.trust_list, args.anchor)
    policy = acceptance.load(args.acceptance) if args.acceptance else None
    return credentials_verifier(trust, args.region, policy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shuzhi.api", description=__doc__)
    parser.add_argument("--data", type=Path, help="data directory (default: $SHUZHI_DATA or ./shuzhi-data)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the API under uvicorn")
    run.add_argument("--host", default=DEFAULT_HOST)
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument(
        "--trust-list", type=Path, help="signed trust list for checkpoint scans (else scans get 503)"
    )
    run.add_argument("--anchor", type=Path, action="append", help="PEM public key that signs trust lists")
    run.add_argument("--region", help="GB/T 2260 code of this instance's region (whose pseudonyms it holds)")
    run.add_argument("--acceptance", help="acceptance policy: a region code (shipped rules) or a JSON file")
    add = commands.add_parser("add-account", help=f"add an account (password: ${PASSWORD_ENV} or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", type=Role, choices=list(Role), required=True)
    add.add_argument("--id-number", help="a resident's GB 11643 ID number (pseudonymised, never stored)")
    return parser


if __name__ == "__main__":
    main()
