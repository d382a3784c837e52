"""`python -m services.admin <command>`: manage who may use the API, straight in the database.

    create-admin NAME                   the first admin (password from a prompt, or --password-stdin)
    create-user NAME --role organiser|viewer [--sub-branch SB]
    create-key --role source|organiser|admin --label TEXT
    create-display-token --sub-branch SB [--label TEXT]
    list                                users and keys (never a secret)
    revoke KEY_ID                       a key or display token stops working at once
    disable-user NAME
    dev-bootstrap [--write FILE]        development only: a dev admin, keys and a display token,
                                        kept from FILE while the database still accepts them
    rotate-dev [--write FILE]           development only: all new dev credentials (the old stop working)

Keys are printed once, when made; only their argon2 hashes are stored. Every change is audited
with the actor "cli:<login name>".
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from services.admin import dev_credentials
from services.settings import ServiceSettings
from services.store import Store, StoreError
from services.store.credentials import Credentials

DEV_SUB_BRANCH = "sb-chengdong"  # the demo roster's first sub-branch (services/demo/roster.py)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("admin: the passwords differ")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.admin", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("create-admin", help="create an admin user")
    admin.add_argument("username")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user = sub.add_parser("create-user", help="create an organiser or a viewer")
    user.add_argument("username")
    user.add_argument("--role", required=True, choices=["admin", "organiser", "viewer"])
    user.add_argument("--sub-branch", help="a viewer's sub-branch")
    user.add_argument("--password-stdin", action="store_true")
    key = sub.add_parser("create-key", help="create an API key")
    key.add_argument("--role", required=True, choices=["source", "organiser", "admin"])
    key.add_argument("--label", required=True, help="what uses it, e.g. 'core-banking ETL'")
    display = sub.add_parser("create-display-token", help="create a read-only token for a wall screen")
    display.add_argument("--sub-branch", required=True)
    display.add_argument("--label", default=None)
    sub.add_parser("list", help="users and keys")
    revoke = sub.add_parser("revoke", help="revoke a key or display token")
    revoke.add_argument("key_id")
    disable = sub.add_parser("disable-user", help="a user can no longer log in")
    disable.add_argument("username")
    for name, help_text in (
        ("dev-bootstrap", "development only: dev admin, keys and display token (kept if still valid)"),
        ("rotate-dev", "development only: new dev admin password, keys and display token"),
    ):
        dev = sub.add_parser(name, help=help_text)
        dev.add_argument(
            "--write", type=Path, help="read the previous ones from and write to this file (mode 600)"
        )
        dev.add_argument("--sub-branch", default=DEV_SUB_BRANCH)
    return parser


def run(args: argparse.Namespace, settings: ServiceSettings) -> int:
    store = Store.from_url(settings.database_url)
    try:
        store.create_schema()
        credentials = Credentials(store)
        return _command(args, settings, credentials)
    finally:
        store.close()


def _command(args: argparse.Namespace, settings: ServiceSettings, credentials: Credentials) -> int:
    actor = _actor()
    if args.command == "create-admin":
        credentials.create_user(args.username, _password(args), "admin", actor=actor)
        print(f"admin {args.username} created")
    elif args.command == "create-user":
        credentials.create_user(
            args.username, _password(args), args.role, sub_branch_id=args.sub_branch, actor=actor
        )
        print(f"{args.role} {args.username} created")
    elif args.command == "create-key":
        token, row = credentials.create_key(args.role, args.label, actor=actor)
        print(f"{row['role']} key {row['key_id']} ({row['label']}); keep it, it is not shown again:")
        print(token)
    elif args.command == "create-display-token":
        label = args.label or f"wall screen {args.sub_branch}"
        token, row = credentials.create_key("display", label, sub_branch_id=args.sub_branch, actor=actor)
        print(f"display token {row['key_id']} for {args.sub_branch}; keep it, it is not shown again:")
        print(token)
        print(
            f"screen: http://{settings.api_host}:{settings.api_port}/screen?sub_branch={args.sub_branch}&token={token}"
        )
    elif args.command == "list":
        _list(credentials)
    elif args.command == "revoke":
        if not credentials.revoke_key(args.key_id, actor=actor):
            print(f"admin: no live key {args.key_id}", file=sys.stderr)
            return 1
        print(f"key {args.key_id} revoked")
    elif args.command == "disable-user":
        credentials.disable_user(args.username, actor=actor)
        print(f"user {args.username} disabled")
    elif args.command in ("dev-bootstrap", "rotate-dev"):
        return _dev_credentials(args, settings, credentials)
    return 0


def _list(credentials: Credentials) -> None:
    for user in credentials.users():
        state = "disabled" if user["disabled_at"] else "active"
        scope = f" ({user['sub_branch_id']})" if user["sub_branch_id"] else ""
        print(f"user  {user['username']:<20} {user['role']}{scope}  {state}")
    for key in credentials.api_keys():
        state = "revoked" if key["revoked_at"] else "live"
        scope = f" ({key['sub_branch_id']})" if key["sub_branch_id"] else ""
        print(f"key   {key['key_id']:<20} {key['role']}{scope}  {state}  {key['label']}")


def _dev_credentials(args: argparse.Namespace, settings: ServiceSettings, credentials: Credentials) -> int:
    """`make run`'s credentials (services/admin/dev_credentials.py): dev-bootstrap keeps those of
    --write FILE that still work, so a second `make run` locks nobody out; rotate-dev makes all anew.
    Never a fixed, known secret."""
    if settings.environment != "development":
        print(f"admin: {args.command} runs only with CAMPAIGNS_ENVIRONMENT=development", file=sys.stderr)
        return 2
    if args.command == "rotate-dev":
        made = dev_credentials.rotate(credentials, args.sub_branch)
        print("admin: new dev credentials; the previous ones no longer work", file=sys.stderr)
    else:
        previous = dev_credentials.read(args.write) if args.write else {}
        made, fresh = dev_credentials.bootstrap(credentials, previous, args.sub_branch)
        if fresh:
            print(f"admin: dev credentials made: {', '.join(fresh)}", file=sys.stderr)
        else:
            print(f"admin: dev credentials kept from {args.write}", file=sys.stderr)
    text = made.text(f"http://{settings.api_host}:{settings.api_port}")
    if args.write:
        dev_credentials.write(args.write, text)
    print(text, end="")
    return 0


def main() -> None:
    args = _parser().parse_args()
    try:
        sys.exit(run(args, ServiceSettings()))
    except StoreError as exc:
        print(f"admin: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
