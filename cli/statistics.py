"""`lianban statistics`: the office's figures from the command line, and recounting the monthly
warning counts after a bulk load or a repair."""
from datetime import date
from pathlib import Path

import typer

app = typer.Typer(help="statistics 统计", no_args_is_help=True)


@app.command("export")
def export_figures(out: Path = typer.Argument(..., help="file to write: .csv or .xlsx"),
                   start: str = typer.Option(None, help="first day, e.g. 2026-10-01 (default: last month)"),
                   end: str = typer.Option(None, help="last day, e.g. 2026-10-31"),
                   unit: str = typer.Option(None, help="unit code (default: the whole city)"),
                   language: str = typer.Option("zh", help="zh | en"),
                   username: str = typer.Option("office", help="whose permissions to use")) -> None:
    """Write the dashboard's figures (with 环比, 同比 and twelve months) to a CSV or Excel file."""
    from sqlmodel import select

    from domain.db import session_scope
    from domain.errors import DomainError
    from domain.statistics import export, service
    from domain.timeutil import SHANGHAI, utcnow
    from domain.users.models import User

    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError:
        typer.echo("dates look like 2026-10-31", err=True)
        raise typer.Exit(2) from None
    with session_scope(reading=True) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            typer.echo(f"no such user: {username}", err=True)
            raise typer.Exit(1)
        try:
            span = service.period(first, last, today=utcnow().astimezone(SHANGHAI).date())
            board = service.dashboard(session=session, actor=user, span=span, unit=unit)
        except DomainError as exc:
            typer.echo(f"refused ({exc.field or exc.code}): {exc.zh} / {exc.en}", err=True)
            raise typer.Exit(2) from None
        body, _, _ = export.render(board, "xlsx" if out.suffix.lower() == ".xlsx" else "csv",
                                   "en" if language == "en" else "zh")
    out.write_bytes(body)
    typer.echo(f"{out}: {board.unit.name} {span.start} ~ {span.end}")


@app.command("rebuild")
def rebuild() -> None:
    """Recount the monthly warning counts from the warnings (after loading warnings by SQL)."""
    from domain.db import session_scope
    from domain.warnings.service import rebuild_month_counts

    with session_scope() as session:
        rows = rebuild_month_counts(session=session)
    typer.echo(f"warning_months: {rows} rows recounted")
