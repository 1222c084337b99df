"""Accounts and access: roles and purposes, Argon2id password hashes, expiring signed bearer tokens.

Owns who a user is (``service``: accounts in the store), what they may do and why (``roles``), how their
password is kept (``passwords``) and how a login is carried between requests (``tokens``). How endpoints
declare the roles and purpose they serve is ``shuzhi.api.access``.
"""

from shuzhi.accounts.passwords import hash_password, verify_password
from shuzhi.accounts.roles import PURPOSES, STAFF, Purpose, Role, check_declaration, may_serve
from shuzhi.accounts.service import (
    AccountError,
    AccountExists,
    WrongPassword,
    account_for,
    authenticate,
    change_password,
    create_account,
    find_account,
    set_password,
    speaks_for,
)
from shuzhi.accounts.tokens import (
    Claims,
    Clock,
    TokenError,
    TokenPolicy,
    TokenSigner,
    load_or_create_key,
    utcnow,
)

__all__ = [
    "PURPOSES",
    "STAFF",
    "AccountError",
    "AccountExists",
    "Claims",
    "Clock",
    "Purpose",
    "Role",
    "TokenError",
    "TokenPolicy",
    "TokenSigner",
    "WrongPassword",
    "account_for",
    "authenticate",
    "change_password",
    "check_declaration",
    "create_account",
    "find_account",
    "set_password",
    "speaks_for",
    "hash_password",
    "load_or_create_key",
    "may_serve",
    "utcnow",
    "verify_password",
]
