"""`podops outbox`: the side effects that gave up, and sending them again."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from podops import events, outbox
from podops.cli.args import UsageProblem
from podops.events import EventName
from podops.models import Order, utcnow
from podops.outbox.retrying import ATTEMPTS, WAITING, retrying

LISTED = 200

outbox_app = typer.Typer(
    help="Store updates and Slack messages waiting or parked.", no_args_is_help=True
)


@outbox_app.command("parked")
def parked_command() -> None:
    """List messages that gave up after their retries, with the last error."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        found = outbox.parked(session)
        if not found:
            out.print("Nothing is parked.")
            return
        table = Table(show_edge=False)
        for column in ("Id", "Topic", "Order", "Tries", "Parked", "Last error"):
            table.add_column(column, overflow="fold")
        for message in found:
            order = session.get(Order, message.order_id) if message.order_id else None
            table.add_row(
                str(message.id),
                message.topic,
                order.number if order else "",
                str(message.attempts),
                message.dead_at.strftime("%Y-%m-%d %H:%M") if message.dead_at else "",
                message.last_error or "",
            )
        out.print(table)
        out.print("Send them again with: podops outbox retry --all (or by id)")


@outbox_app.command("retrying")
def retrying_command() -> None:
    """List messages that keep failing but are still retried (before they are parked)."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    with rt.db.reading() as session:
        found, total = retrying(session, utcnow(), limit=LISTED)
    if not found:
        minutes = int(WAITING.total_seconds() // 60)
        out.print(f"Nothing has failed {ATTEMPTS} times or waited {minutes} minutes.")
        return
    table = Table(show_edge=False)
    for column in ("Id", "Order", "What", "Tries", "Waiting since", "Last error"):
        table.add_column(column, overflow="fold")
    for item in found:
        since = item.since.strftime("%Y-%m-%d %H:%M")
        table.add_row(str(item.id), item.order, item.kind, str(item.attempts), since, item.error)
    out.print(table)
    if total > len(found):
        out.print(f"and {total - len(found)} more")


@outbox_app.command("retry")
def retry_command(
    ids: Annotated[list[int] | None, typer.Argument(help="Message ids (see `parked`).")] = None,
    all_parked: Annotated[bool, typer.Option("--all", help="Every parked message.")] = False,
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
) -> None:
    """Send parked messages again (after fixing the store, Slack or the sheet)."""
    from podops.cli.main import out, runtime
    from podops.cli.orders import cli_actor

    if not ids and not all_parked and not topic:
        raise UsageProblem("name message ids, or say --all (or --topic TOPIC)")
    rt = runtime()
    rt.db.check()
    actor = cli_actor()
    with rt.db.unit_of_work() as session:
        messages = outbox.requeue(session, ids=ids or None, topic=topic)
        for message in messages:
            order = session.get(Order, message.order_id) if message.order_id else None
            events.record(session, order, actor, EventName.OUTBOX_RETRY, topic=message.topic)
        count = len(messages)
    out.print(f"{count} message(s) will be sent again within seconds by `podops run`.")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
