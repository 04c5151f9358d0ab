"""Event names are one enum: each lifecycle step has its name, each name has its
words for people (or is told with the general sentence on purpose), no module
writes or looks up an event by a free string, and rows store the plain word."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from podops import events, services, wording
from podops.db import Database
from podops.events import EventName
from podops.models import Event, Order
from podops.routing import ShopPolicy
from podops.status import Action
from tests.factories import STAFF, received_order

TOP = Path(__file__).parents[2]


def test_every_lifecycle_step_is_written_under_its_own_name() -> None:
    assert {EventName.of(action).value for action in Action} == {a.value for a in Action}


def test_every_event_name_has_words_for_people_or_is_silent_on_purpose() -> None:
    worded, silent = set(wording.WORDING), set(wording.SILENT)
    assert worded & silent == set()
    assert worded | silent == set(EventName)


def test_a_silent_event_is_told_with_the_general_sentence() -> None:
    event = Event(actor="slack:U1 (maria)", action="sheet_note", detail={})
    assert wording.describe_event(event, "1001") == "sheet note on order 1001 by maria"


def test_an_event_name_the_code_no_longer_writes_still_reads() -> None:
    event = Event(actor="scheduler", action="retired_word", detail={})
    assert wording.describe_event(event, "7") == "retired word on order 7 by podops"


def _free_strings(path: Path) -> list[str]:
    """`record(session, order, actor, "word")` or `Event.action == "word"` in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("events.record", "record"):
            named = node.args[3] if len(node.args) > 3 else None
            if isinstance(named, ast.Constant):
                found.append(f"{path.relative_to(TOP)}:{node.lineno}: {named.value!r}")
        if isinstance(node, ast.Compare) and ast.unparse(node.left) == "Event.action":
            for right in node.comparators:
                if isinstance(right, ast.Constant):
                    found.append(f"{path.relative_to(TOP)}:{node.lineno}: {right.value!r}")
    return found


def test_no_module_names_an_event_by_a_free_string() -> None:
    found = [f for path in sorted((TOP / "podops").rglob("*.py")) for f in _free_strings(path)]
    assert found == []


def test_the_stored_name_is_the_plain_word(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "check the photo")
    with db.unit_of_work() as session:
        stored = session.scalars(select(Event.action).order_by(Event.id)).all()
        assert stored == ["receive", "hold"]
        assert all(type(name) is str for name in stored)


class _Added:
    """Stands in for a session: keeps what is added."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, thing: object) -> None:
        self.added.append(thing)


def test_a_shared_event_has_one_shape_and_leaves_out_what_it_was_not_given() -> None:
    session, order = _Added(), Order(id=1)
    plain = events.edit_personalization(
        session, order, STAFF, line="1001-01", old={"name": "A"}, new={"name": "B"}
    )
    replaced = events.design_replaced(session, order, STAFF, provider="shineon", files=["a"])
    assert plain.detail == {"line": "1001-01", "old": {"name": "A"}, "new": {"name": "B"}}
    assert replaced.detail == {"provider": "shineon", "files": ["a"]}
    assert (plain.action, replaced.action) == ("edit_personalization", "design_replaced")
    assert session.added == [plain, replaced]
