"""`pulse`: the operator's everyday tasks against the running services, with an admin (or department) sign-in.

Every command calls the services' HTTP APIs (`PULSE_INTAKE_URL`, `PULSE_REPORTING_URL`, ...) except `dlq replay`
(Kafka itself, as the `pulse-operator` KafkaUser) and `audit verify` (the audit chains in the store); both use
the same `PULSE_*` settings as the services. Output is a table, or JSON with `--json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pulse_libs.cli.client import CliError, Session

app = typer.Typer(name="pulse", help=__doc__, no_args_is_help=True, add_completion=False)
users = typer.Typer(help="Users of intake: create, deactivate, reset a password, list.", no_args_is_help=True)
units = typer.Typer(help="Administrative units: import from CSV or JSON.", no_args_is_help=True)
dlq = typer.Typer(help="Dead-letter topics: replay poison events after a fix.", no_args_is_help=True)
audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
period = typer.Typer(help="Reporting periods: close one (freezes its periodic report).", no_args_is_help=True)
for sub, name in ((users, "users"), (units, "units"), (dlq, "dlq"), (audit, "audit"), (period, "period")):
    app.add_typer(sub, name=name)

_state: dict[str, Any] = {}
_out = Console()


@app.callback()
def _sign_in(
    username: Annotated[str | None, typer.Option(envvar="PULSE_CLI_USERNAME", help="Who signs in (admin).")] = None,
    password: Annotated[str | None, typer.Option(envvar="PULSE_CLI_PASSWORD", help="Their password.")] = None,
    token: Annotated[str | None, typer.Option(envvar="PULSE_TOKEN", help="A bearer token instead.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Sign in once for the command that follows."""
    _state["session"] = Session(username=username, password=password, token=token)
    _state["json"] = as_json


def _session() -> Session:
    session: Session = _state["session"]
    return session


def _show(rows: list[dict[str, Any]] | dict[str, Any], columns: list[str], title: str) -> None:
    items = rows if isinstance(rows, list) else [rows]
    if _state.get("json"):
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for item in items:
        table.add_row(*("" if item.get(c) is None else str(item.get(c)) for c in columns))
    _out.print(table)


def _run(action: Any) -> Any:
    try:
        return action()
    except CliError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _user_id(who: str) -> str:
    """A user id from an id or a username."""
    found = _session().call("intake", "GET", "/v1/users", params={"q": who, "limit": 500})["items"]
    exact = [u for u in found if u["username"] == who or u["id"] == who]
    if not exact:
        try:
            return str(_session().call("intake", "GET", f"/v1/users/{who}")["id"])
        except CliError:
            raise CliError(f"no user {who!r}") from None
    return str(exact[0]["id"])


def _asked(help_text: str) -> Any:
    """An option asked for without echo (twice) when not given on the command line."""
    return typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help=help_text)


ROLES_HELP = "collaborator, unit_officer, department, standing_committee, admin or agency"
USER_COLUMNS = ["id", "username", "full_name", "role", "unit_codes", "active"]


@users.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Sign-in name (a-z, 0-9, . _ -).")],
    full_name: Annotated[str, typer.Option(help="Full name, with diacritics (Nguyễn Thị Hoa).")],
    role: Annotated[str, typer.Option(help=ROLES_HELP)],
    password: Annotated[str, _asked("First password (asked when not given).")],
    unit: Annotated[list[str] | None, typer.Option("--unit", help="A unit code (repeatable).")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    agency: Annotated[str | None, typer.Option(help="Agency code (role agency).")] = None,
) -> None:
    """Create a user (for example the first department officer)."""
    body = {"username": username, "password": password, "full_name": full_name, "role": role,
            "unit_codes": unit or [], "phone": phone, "email": email, "agency_code": agency}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    _show(_run(lambda: _session().call("intake", "POST", "/v1/users", json=body)), USER_COLUMNS, "Created")


@users.command("deactivate")
def users_deactivate(who: Annotated[str, typer.Argument(help="Username or user id.")]) -> None:
    """Deactivate a user: every service refuses their tokens within a minute."""
    user = _run(lambda: _session().call("intake", "PATCH", f"/v1/users/{_user_id(who)}", json={"active": False}))
    _show(user, USER_COLUMNS, "Deactivated")


@users.command("reset-password")
def users_reset_password(who: Annotated[str, typer.Argument(help="Username or user id.")]) -> None:
    """Give a user a one-time password (shown once; changed at the next sign-in)."""
    result = _run(lambda: _session().call("intake", "POST", f"/v1/users/{_user_id(who)}/password-reset"))
    _show(result, ["id", "one_time_password", "password_change_required"], "One-time password")


@users.command("list")
def users_list(
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    q: Annotated[str | None, typer.Option(help="Words of the username or name.")] = None,
) -> None:
    """List users."""
    params = {k: v for k, v in {"role": role, "q": q, "limit": 500}.items() if v is not None}
    _show(_run(lambda: _session().call("intake", "GET", "/v1/users", params=params))["items"], USER_COLUMNS, "Users")


def _read_units(path: Path) -> tuple[str, bytes]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        json.loads(text)  # refuse a broken file before sending it
        return "application/json", text.encode()
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise CliError(f"{path}: no rows (header code,name,kind,parent_code,replaced_by)")
    return "text/csv", text.encode()


@units.command("import")
def units_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .json")]) -> None:
    """Import units from CSV (header code,name,kind,parent_code,replaced_by) or a JSON array; all or nothing."""

    def send() -> Any:
        media, body = _read_units(file)
        return _session().call("intake", "POST", "/v1/units:import", content=body, headers={"content-type": media})

    _show(_run(send), ["created", "updated", "unchanged"], f"Imported {file.name}")


@dlq.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="The topic whose dead letters to replay, e.g. intake.reports.v1.")],
    limit: Annotated[int | None, typer.Option(help="Replay at most this many.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count without republishing.")] = False,
) -> None:
    """Send a topic's dead letters back to it (Kafka, with the PULSE_KAFKA_* settings)."""
    from pulse_libs.events.topics import ALL_TOPICS
    from pulse_libs.kafka.dlq_replay import replay
    from pulse_libs.settings import ServiceSettings

    if topic not in ALL_TOPICS:
        typer.echo(f"error: unknown topic {topic}; one of {', '.join(ALL_TOPICS)}", err=True)
        raise typer.Exit(2)
    settings = ServiceSettings(service_name="pulse-cli")
    with contextlib.redirect_stdout(sys.stderr):  # its per-letter lines must not mix with --json output
        count = asyncio.run(replay(settings, topic, limit=limit, dry_run=dry_run))
    _show({"topic": topic, "replayed": count, "dry_run": dry_run}, ["topic", "replayed", "dry_run"], "DLQ replay")


@audit.command("verify")
def audit_verify(
    db: Annotated[
        list[str] | None,
        typer.Option("--db", help="A service database, e.g. pulse_intake (repeatable; default: all four services)."),
    ] = None,
) -> None:
    """Verify every audit chain of the databases (python -m pulse_libs.audit verify); exit 1 if one is broken."""
    from pulse_libs.audit import main as audit_main

    status = audit_main(["verify", *[a for name in db or () for a in ("--db", name)]])
    raise typer.Exit(status)


@period.command("close")
def period_close(
    period_: Annotated[str, typer.Argument(metavar="PERIOD", help="2026-11, 2026-Q4, 2026-H2 or 2026.")],
) -> None:
    """Close a reporting period (department): its periodic report is frozen; late reports become a late delta."""
    result = _run(lambda: _session().call("reporting", "POST", f"/v1/periods/{period_}/close"))
    _show(result, sorted(result) if isinstance(result, dict) else ["period"], f"Closed {period_}")


def main() -> None:
    """Entry point of the `pulse` command."""
    try:
        app()
    finally:
        session = _state.get("session")
        if session is not None:
            session.close()
