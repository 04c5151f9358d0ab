"""`podops edit N address.FIELD=VALUE`: staff fix a shipping address from the terminal.

The order held for "no shipping address" gets one and goes back to its countdown;
the provider (a fake CustomCat, then a fake ShineOn) receives the new address;
bad input is refused with the reason and changes nothing; after submission the
provider takes the change where its API allows, or staff are told where to go.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podops import services
from podops.cli.main import main
from podops.models import Event
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.factories import SYSTEM, incoming
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.shineon import TOKEN, FakeShineOn
from tests.fulfillment.conftest import give_print_files

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 24
default_provider = "{provider}"

[providers.cc]
kind = "customcat"
base_url = "{cc_url}"
rate_limit_per_s = 50

[providers.so]
kind = "shineon"
base_url = "{so_url}"
rate_limit_per_s = 50

[render]
public_base_url = "https://podops.example"
"""

NEW_ADDRESS = [
    "address.name=Ana Smith",
    "address.line1=350 5th Ave",
    "address.line2=Apt 4",
    "address.city=New York",
    "address.state=NY",
    "address.postcode=10118",
    "address.country=us",
]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeCustomCat, FakeShineOn]]:
    customcat, shineon = FakeCustomCat().start(), FakeShineOn().start()
    yield customcat, shineon
    customcat.stop()
    shineon.stop()


def open_shop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    fakes: tuple[FakeCustomCat, FakeShineOn],
    provider: str,
) -> Runtime:
    customcat, shineon = fakes
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "PODOPS_DATABASE__URL": db_url,
        "PODOPS_PROVIDERS__CC__API_KEY": API_KEY,
        "PODOPS_PROVIDERS__SO__API_KEY": TOKEN,
        "PODOPS_RENDER__LINK_SECRET": "cli-address-test-link-secret-0123456789",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    config = CONFIG.format(provider=provider, cc_url=customcat.base_url, so_url=shineon.url)
    Path("podops.toml").write_text(config)
    return Runtime.from_config(Path("podops.toml"))


def receive(rt: Runtime, number: str, address: dict[str, str] | None = None) -> None:
    with rt.db.unit_of_work() as session:
        order = incoming(number, customer_phone="+1 217 555 0100")
        if address is not None:
            order.shipping_address = address
        services.receive_orders(session, [order], rt.policy, SYSTEM)
    give_print_files(rt.db, number)


def order_of(rt: Runtime, number: str):  # type: ignore[no-untyped-def]
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, number)
        _ = order.items
        return order


def test_an_order_held_without_an_address_gets_one_and_customcat_receives_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    fakes: tuple[FakeCustomCat, FakeShineOn],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rt = open_shop(tmp_path, monkeypatch, db_url, fakes, "cc")
    receive(rt, "A100", address={})
    held = order_of(rt, "A100")
    assert held.status == OrderStatus.ON_HOLD and held.problems == ["no shipping address"]

    assert main(["edit", "A100", *NEW_ADDRESS]) == 0
    out = capsys.readouterr().out
    assert "Changed the address of order A100" in out
    assert "line2 '' -> 'Apt 4'" in out
    assert "Order A100 is now: pending" in out

    order = order_of(rt, "A100")
    assert order.status == OrderStatus.PENDING and order.problems == []
    assert order.shipping_address["address_2"] == "Apt 4"
    assert order.shipping_address["country"] == "US"
    assert (order.shipping_address["first_name"], order.shipping_address["last_name"]) == (
        "Ana",
        "Smith",
    )
    with rt.db.unit_of_work() as session:
        edit = session.query(Event).filter_by(action="edit_address").one()
        assert edit.actor.startswith("cli:") and edit.channel == "cli"
        assert edit.detail["changes"]["line2"] == ["", "Apt 4"]
        assert session.query(Event).filter_by(action="release").count() == 1

    assert main(["submit", "A100"]) == 0
    customcat = fakes[0]
    body = customcat.orders["main-A100"]["body"]
    assert body["shipping_address1"] == "350 5th Ave"
    assert body["shipping_address2"] == "Apt 4"
    assert (body["shipping_city"], body["shipping_state"], body["shipping_zip"]) == (
        "New York",
        "NY",
        "10118",
    )
    assert (body["shipping_first_name"], body["shipping_last_name"]) == ("Ana", "Smith")


def test_bad_address_input_is_refused_with_the_reason_and_changes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    fakes: tuple[FakeCustomCat, FakeShineOn],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rt = open_shop(tmp_path, monkeypatch, db_url, fakes, "cc")
    receive(rt, "A101")
    before = dict(order_of(rt, "A101").shipping_address)
    cases = [
        (["address.line2=Apt 4", "address.city=" + "X" * 51], "address.city is 51 characters"),
        (["address.line2=Apt 4", "address.postcode="], "address.postcode cannot be empty"),
        (["address.country=UK"], "use GB for the United Kingdom"),
        (["address.country=Germany"], "use the two-letter code DE"),
        (["address.country=XX"], "not a country code"),
        (["address.line2=Apt\x074"], "control or invisible character (U+0007)"),
        (["address.street=1 Main St"], "address.street is not an address field"),
    ]
    for words, reason in cases:
        assert main(["edit", "A101", *words]) == 1, words
        assert reason in capsys.readouterr().err
    assert order_of(rt, "A101").shipping_address == before

    assert main(["edit", "A101", "address.line2=Apt 4", "name=Bea"]) == 2
    assert "two commands" in capsys.readouterr().err
    assert main(["edit", "A101", "--line", "1", "address.line2=Apt 4"]) == 2
    assert "--line is for personalization" in capsys.readouterr().err
    with rt.db.unit_of_work() as session:
        assert session.query(Event).filter_by(action="edit_address").count() == 0


def test_after_submission_shineon_takes_the_new_address_and_customcat_sends_staff_there(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    fakes: tuple[FakeCustomCat, FakeShineOn],
    capsys: pytest.CaptureFixture[str],
) -> None:
    customcat, shineon = fakes
    rt = open_shop(tmp_path, monkeypatch, db_url, fakes, "so")
    receive(rt, "A102")
    assert main(["submit", "A102"]) == 0
    capsys.readouterr()

    assert main(["edit", "A102", "address.line2=Apt 9"]) == 0
    assert "Changed the address of order A102 and sent it to so" in capsys.readouterr().out
    assert shineon.by_source("main-A102")["shipping_address"]["address2"] == "Apt 9"
    assert order_of(rt, "A102").shipping_address["address_2"] == "Apt 9"

    shineon.by_source("main-A102")["status"] = "in_production"
    assert main(["edit", "A102", "address.line2=Apt 10"]) == 1
    err = capsys.readouterr().err
    assert "order A102 is already in production at ShineOn: change the address there" in err
    assert order_of(rt, "A102").shipping_address["address_2"] == "Apt 9"

    receive(rt, "A103")
    with rt.db.unit_of_work() as session:
        for item in services.get_order(session, "A103").items:
            item.provider = "cc"  # setup: this one goes to CustomCat
    assert main(["submit", "A103"]) == 0
    capsys.readouterr()
    assert main(["edit", "A103", "address.line2=Apt 9"]) == 1
    err = capsys.readouterr().err
    assert "order A103 is already at CustomCat: change the address there" in err
    assert customcat.orders["main-A103"]["body"]["shipping_address2"] == ""
    assert order_of(rt, "A103").shipping_address["address_2"] == ""
