"""`lianban`: one command to run everything, plus the operator's and the office's commands."""
import json
import logging
import sys
from datetime import datetime
from pathlib import Path

import typer

app = typer.Typer(help="lianban 联办 — case workflow of the anti-fraud joint office", no_args_is_help=True)
audit_app = typer.Typer(help="the audit trail 审计日志", no_args_is_help=True)
policy_app = typer.Typer(help="policy files 策略", no_args_is_help=True)
case_app = typer.Typer(help="cases 案件", no_args_is_help=True)
approval_app = typer.Typer(help="approvals 审批", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(policy_app, name="policy")
app.add_typer(case_app, name="case")
app.add_typer(approval_app, name="approval")
circulation_app = typer.Typer(help="monthly circulation 月通报", no_args_is_help=True)
app.add_typer(circulation_app, name="circulation")
from cli.backup import backup, restore  # noqa: E402  (lianban backup <dir|file>, lianban restore <file>)
for _command in (backup, restore): app.command()(_command)  # noqa: E701
from cli.statistics import app as statistics_app  # noqa: E402

app.add_typer(statistics_app, name="statistics")
from cli.topology import app as scaled_app  # noqa: E402  (the scale-out mode's roles)

app.add_typer(scaled_app, name="scaled")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _user(session, username: str):
    from sqlmodel import select

    from domain.users.models import User

    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        _fail(f"no such user: {username}")
    return user


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema."""
    from domain.bootstrap import migrate as run_migrations
    from domain.settings import get_settings

    run_migrations(get_settings().resolved_database_url)
    typer.echo("database is at the newest schema")


@app.command("demo")
def load_demo() -> None:
    """Load the demo city (units, users of every role, a few cases) into an empty database."""
    from domain import demo
    from domain.db import session_scope

    with session_scope() as session:
        loaded = demo.load(session=session, with_history=True)
    typer.echo("demo city loaded" if loaded else "database already has users: demo not loaded")


@app.command()
def up(demo: bool = typer.Option(False, help="demo mode: load the demo city into an empty database and accept "
                                               "its public tokens and passwords (demo-<username>)"),
       topology: str = typer.Option(None, help="embedded | scaled (default: LIANBAN_TOPOLOGY, else embedded)")) -> None:
    """Run everything on this machine: database, Prefect server, runner, task worker, web app.
    Without --demo an empty database gets one administrator with a one-time password, printed once."""
    import os

    from domain.settings import get_settings

    if demo:  # every child reads it from the environment
        os.environ["LIANBAN_DEMO"] = "true"
        get_settings.cache_clear()

    if (topology or get_settings().topology) == "scaled":  # docs/scaling.md
        from cli.topology import run_scaled

        return run_scaled(load_demo=demo)
    from cli.supervisor import run_embedded

    run_embedded(load_demo=demo)


def _quiet_http_logs() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("httpx", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def worker() -> None:
    """Serve the flows (the Prefect runner)."""
    _quiet_http_logs()
    from flows.serve import run_runner

    run_runner()


@app.command("task-worker")
def task_worker() -> None:
    """Serve the background tasks that the web app's nudges start."""
    _quiet_http_logs()
    from flows.serve import run_task_worker

    run_task_worker()


@app.command()
def web(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web app and the JSON API."""
    import uvicorn

    from server.serving import uvicorn_options

    uvicorn.run("server.main:app", host=host, port=port, log_level="info", **uvicorn_options())


@app.command()
def sweep() -> None:
    """One pass over everything due, without Prefect (an operator's last resort)."""
    from flows.escalation import advance_due_steps

    typer.echo(json.dumps(advance_due_steps(via_prefect=False)))


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first broken link. Exit code 1 if broken."""
    from domain.audit import checkpoints
    from domain.db import session_scope

    with session_scope() as session:
        report = checkpoints.check(session=session)  # the chain, and against every signed checkpoint
    if report.ok:
        typer.echo(f"audit chain intact: {report.checked} entries verified")
        return
    _fail(f"audit chain BROKEN at entry {report.broken_seq}: {report.reason} "
          f"({report.checked} entries before it verified)")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head with the key outside the database (`lianban up` does it on a schedule)."""
    from domain.audit import checkpoints
    from domain.db import session_scope

    try:
        with session_scope() as session:
            mark = checkpoints.write(session=session)
    except RuntimeError as exc:
        _fail(str(exc))
    typer.echo(f"checkpoint: entry {mark.seq} signed at {mark.at}" if mark else "the audit chain is empty")


user_app = typer.Typer(help="web sign-in accounts 账号", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("first-admin")
def user_first_admin() -> None:
    """On an empty database: create `admin` with a one-time password, printed here once
    (`lianban up` does this by itself; systemd deployments run it by hand after the first start)."""
    from domain.accounts import first_admin
    from domain.db import session_scope

    with session_scope() as session:
        password = first_admin.create_if_empty(session=session)
    if password is None:
        _fail("the database already has users: nothing created (reset a password with `lianban user password`)")
    typer.echo(first_admin.announce(password))


@user_app.command("password")
def user_password(username: str) -> None:
    """Set a user's web sign-in password (asked twice, not echoed); their sessions end."""
    from domain.accounts import service as accounts
    from domain.db import session_scope
    from domain.errors import DomainError

    password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            accounts.operator_set_password(session=session, username=username, new_password=password,
                                           operator="operator:cli")
    except DomainError as exc:
        _fail(f"refused: {exc.zh} / {exc.en}", 2)
    typer.echo(f"password of {username} set; their open sessions were signed out")


@policy_app.command("check")
def policy_check(folder: Path = typer.Argument(None, help="policy folder (default: the configured one)")) -> None:
    """Validate a policy folder; print its version, or the file, line and reason it is refused."""
    from domain.settings import get_settings
    from policies.loader import PolicyError, load_policy_dir

    try:
        policy = load_policy_dir(folder or get_settings().policy_dir)
    except PolicyError as exc:
        _fail(f"policy refused: {exc}")
    typer.echo(f"policy ok: {policy.folder} version {policy.version[:12]}")
    for name, digest in sorted(policy.file_hashes.items()):
        typer.echo(f"  {name}.yaml {digest[:12]}")


@case_app.command("register")
def case_register(case_number: str, amount: str, area: str, fraud_type: str = "未分类",
                  victim_name: str = typer.Option(..., help="受害人姓名"),
                  victim_phone: str = typer.Option(..., help="受害人电话"),
                  reported_at: datetime = typer.Option(None, help="报案时间 (Beijing time); default now"),
                  as_user: str = typer.Option("office", "--as", help="acting user")) -> None:
    """Register a case (as the office) and print the tier decision."""
    from domain.cases import service as cases
    from domain.db import session_scope
    from domain.errors import DomainError
    from domain.timeutil import utcnow

    try:
        with session_scope() as session:
            case = cases.register(session=session, actor=_user(session, as_user), case_in=cases.CaseIn(
                case_number=case_number, amount_cny=amount, fraud_type=fraud_type, victim_name=victim_name,
                victim_phone=victim_phone, area=area, reported_at=reported_at or utcnow()))
    except DomainError as exc:
        _fail(f"refused ({exc.field or exc.code}): {exc.zh} / {exc.en}", 2)
    typer.echo(f"case {case.case_number} registered (id {case.id}): {case.tier_basis}")


@approval_app.command("list")
def approval_list(as_user: str = typer.Option(..., "--as", help="the leader")) -> None:
    """A leader's pending approvals."""
    from domain.cases import overview
    from domain.db import session_scope

    with session_scope() as session:
        for a, _case in overview.leader_approvals(session=session, actor=_user(session, as_user)):
            typer.echo(f"{a.id}\tcase {a.case_id}\t{a.leader_tier}\tdue {a.due_at:%Y-%m-%d %H:%M} UTC\t{a.rule_id}")


@approval_app.command("decide")
def approval_decide(approval_id: int, decision: str = typer.Argument(..., help="approve | return"),
                    comment: str = typer.Option(None), as_user: str = typer.Option(..., "--as")) -> None:
    """Approve or return an approval addressed to you."""
    from domain.db import session_scope
    from domain.errors import DomainError
    from domain.escalation import service as escalation

    try:
        with session_scope() as session:
            approval = escalation.decide(session=session, actor=_user(session, as_user), approval_id=approval_id,
                                         decision=decision, comment=comment)
    except DomainError as exc:
        _fail(f"refused: {exc.zh} / {exc.en}", 2)
    typer.echo(f"approval {approval.id} {approval.status}; the escalation flow follows up")


@circulation_app.command("run")
def circulation_run(month: str = typer.Option(None, help="the month to rank, e.g. 2026-10 (default: last month)"),
                    prefect: bool = typer.Option(False, help="run as the Prefect flow (needs the Prefect server)")) -> None:
    """Rank a month and circulate it: cards, listing (挂牌整治), delisting and the 通报 PDF. Re-running
    a month changes nothing."""
    from domain.errors import DomainError
    from flows.circulation import circulate, monthly_circulation

    try:
        done = monthly_circulation(month or "") if prefect else circulate(month, via_prefect=False)
    except DomainError as exc:
        _fail(f"refused ({exc.field or exc.code}): {exc.zh} / {exc.en}", 2)
    typer.echo(json.dumps(done, ensure_ascii=False))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
