"""A split order's new address after submission: a mug made in-house (the manual
provider: its packing slip) and a tee at ShineOn (the fake API). The address goes to
each provider with a part, one after the other; when ShineOn refuses (its order is in
production) or cannot be reached, the in-house part still gets it, and staff see
exactly which part ships where: the answer, the timeline, the card, `orders show`
and the sheet. The same change run again goes only to the part left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podops import reports, services
from podops.address import one_line
from podops.fulfillment.address_change import AddressDesk
from podops.models import Event
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule
from podops.sheet.data import load_sheet_lines
from podops.wording import describe_event
from sync.console_notifier import card_text
from tests.cli.conftest import workdir
from tests.factories import ADDRESS, STAFF
from tests.fakes.shineon import TOKEN
from tests.fulfillment.conftest import LINK_SECRET, Shop
from tests.fulfillment.pdf_text import pdf_lines
from tests.fulfillment.test_mixed_carts import mixed_order

IN_HOUSE = ShopPolicy(
    {"main": StorePolicy(1, "so")},
    [
        RoutingRule(sku="TEE-*", provider="so", provider_sku="SO-TEE", product_key="tee-front"),
        RoutingRule(sku="MUG-*", provider="manual", product_key="mug-11oz"),
    ],
)
"""Tees at ShineOn, mugs printed in-house (packing slips); the factory's order has both."""

OLD = one_line(ADDRESS)
__all__ = ["workdir"]


def sent_split(shop: Shop) -> str:
    """Given a split order at both providers: part 1 (the tee) at ShineOn, part 2 (the
    mug) in-house."""
    number = mixed_order(shop, IN_HOUSE)
    shop.service.tick()
    assert [(p.provider, p.status.value) for p in shop.get(number).parts] == [
        ("so", "submitted"),
        ("manual", "submitted"),
    ]
    return number


def shineon_address(shop: Shop, number: str) -> dict[str, str]:
    return dict(shop.shineon.by_source(f"main-{number}")["shipping_address"])


def slip(shop: Shop, number: str) -> Path:
    return Path(shop.settings.data_dir) / "print-files" / f"packing-slip-main--{number}_P2.pdf"


def own_addresses(shop: Shop, number: str) -> dict[str, str | None]:
    """Each part's own address (its provider kept an older one), by provider."""
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return {
            p.provider: (p.shipping_address or {}).get("address_2") if p.shipping_address else None
            for p in order.parts
        }


def timeline(shop: Shop, number: str) -> list[str]:
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        found = session.query(Event).filter_by(order_id=order.id).order_by(Event.id)
        return [describe_event(e, number) for e in found if "address" in e.action]


def test_shineon_in_production_keeps_the_old_address_and_staff_see_it_beside_its_part(
    shop: Shop,
) -> None:
    number = sent_split(shop)
    shop.shineon.by_source(f"main-{number}")["status"] = "in_production"
    desk = AddressDesk(shop.db, shop.service.roster)

    outcome = desk.change(number, {"line2": "Apt 4"}, STAFF)

    # the answer: what changed, where, and what did not
    assert outcome.partial and outcome.changed == {"line2": ("", "Apt 4")}
    assert outcome.words.startswith(
        f"Changed the address of order {number} and sent it to manual: line2 '' -> 'Apt 4'."
    )
    assert f"Not changed for part 1 at so (order {number} is already in production at ShineOn" in (
        outcome.words
    )
    assert "it still ships to the old address. Run the same change again" in outcome.words
    # the providers: the in-house slip has the new address, ShineOn the old one
    assert "Apt 4" in "\n".join(pdf_lines(slip(shop, number).read_bytes()))
    assert shineon_address(shop, number)["address2"] == ""
    # what podops keeps: the order's new address, the tee's part on the old one
    order = shop.get(number)
    assert order.shipping_address["address_2"] == "Apt 4"
    assert own_addresses(shop, number) == {"so": "", "manual": None}
    with shop.db.unit_of_work() as session:  # a late call to ShineOn sends what it has
        tee = services.get_order(session, number).parts[0]
        assert shop.service.roster.request_for(tee).address["address_2"] == ""

    told = timeline(shop, number)
    assert told[-2] == (
        f"maria changed the shipping address of order {number}: line2 '' -> 'Apt 4'; manual "
        "has it now; part 1 at so still ships to the old address"
    )
    assert told[-1].startswith(
        f"the shipping address of part 1 of order {number} was not changed: so kept the old "
        f"address: order {number} is already in production at ShineOn"
    )
    assert told[-1].endswith(
        "part 1 still ships to the old address (run the same change again to send it there, "
        "or change it at so)"
    )

    with shop.db.unit_of_work() as session:
        card = reports.order_card(session, services.get_order(session, number))
    tee_part, mug_part = card.fulfillments
    assert tee_part.note.endswith(f"; still ships to the old address: {OLD}")
    assert "old address" not in mug_part.note
    assert f"still ships to the old address: {OLD}" in card_text(card)
    with shop.db.unit_of_work() as session:
        rows = load_sheet_lines(session, cutoff=order.placed_at.replace(year=2000))
    parts = {row.reference: row.part for row in rows if row.order_number == number}
    assert parts[f"{number}-01"].endswith(f"; still ships to the old address: {OLD}")
    assert "old address" not in parts[f"{number}-02"]


def test_an_outage_at_shineon_is_sent_again_by_the_same_change_and_only_there(
    shop: Shop,
) -> None:
    number = sent_split(shop)
    desk = AddressDesk(shop.db, shop.service.roster)
    shop.shineon.down = True

    first = desk.change(number, {"line2": "Apt 4"}, STAFF)
    assert first.partial and "part 1 at so (ShineOn (so) had a server error (503)" in first.words
    assert own_addresses(shop, number) == {"so": "", "manual": None}
    slip_written = slip(shop, number).stat().st_mtime_ns

    shop.shineon.down = False
    puts = shop.shineon.requests.count
    before = puts(("PUT", f"/v1/orders/{shop.shineon.by_source(f'main-{number}')['id']}"))
    again = desk.change(number, {"line2": "Apt 4"}, STAFF)

    assert not again.partial and again.changed == {}
    assert again.caught_up == ("part 1 at so",)
    assert again.words == (
        f"Sent the address of order {number} to part 1 at so, which had kept the old one: it "
        "has the new address now."
    )
    assert shineon_address(shop, number)["address2"] == "Apt 4"
    assert own_addresses(shop, number) == {"so": None, "manual": None}
    assert slip(shop, number).stat().st_mtime_ns == slip_written  # in-house not asked again
    assert timeline(shop, number)[-1] == (
        f"maria changed the shipping address of part 1 of order {number}: line2 '' -> 'Apt 4'; "
        "so has it now"
    )

    third = desk.change(number, {"line2": "Apt 4"}, STAFF)
    assert third.words == f"Nothing changed on the address of order {number}."
    so_id = shop.shineon.by_source(f"main-{number}")["id"]
    assert puts(("PUT", f"/v1/orders/{so_id}")) == before + 1


def test_the_form_tells_which_part_still_ships_to_the_old_address(shop: Shop) -> None:
    number = sent_split(shop)
    shop.shineon.by_source(f"main-{number}")["status"] = "in_production"
    desk = AddressDesk(shop.db, shop.service.roster)
    desk.change(number, {"line2": "Apt 4"}, STAFF)
    route = desk.route(shop.get(number))
    assert route.refusal == ""
    assert route.behind == (f"part 1 at so still ships to {OLD}",)


def test_the_shops_change_reaches_the_in_house_part_and_says_where_it_did_not(
    shop: Shop,
) -> None:
    """A change made in the shop after submission travels the outbox the same way."""
    from podops.events import Actor, Channel
    from podops.services.address import follow_store_address
    from tests.factories import incoming

    number = sent_split(shop)
    shop.shineon.by_source(f"main-{number}")["status"] = "in_production"
    moved = incoming(number, shipping_address={**ADDRESS, "address_2": "Apt 9"})
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        follow_store_address(session, order, moved, Actor("store:main", Channel.STORE))
    AddressDesk(shop.db, shop.service.roster).drain()

    assert "Apt 9" in "\n".join(pdf_lines(slip(shop, number).read_bytes()))
    assert shineon_address(shop, number)["address2"] == ""
    assert shop.get(number).shipping_address["address_2"] == "Apt 9"
    assert own_addresses(shop, number) == {"so": "", "manual": None}
    told = timeline(shop, number)
    assert told[-2].endswith("manual has it now; part 1 at so still ships to the old address")
    assert told[-1].startswith(f"the shipping address of part 1 of order {number} was not changed")


def test_orders_show_prints_the_old_address_beside_its_part(
    shop: Shop, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from podops.cli.main import main

    number = sent_split(shop)
    shop.shineon.by_source(f"main-{number}")["status"] = "in_production"
    AddressDesk(shop.db, shop.service.roster).change(number, {"line2": "Apt 4"}, STAFF)
    capsys.readouterr()
    assert main(["orders", "show", number]) == 0
    shown = capsys.readouterr().out
    assert f"still ships to the old address: {OLD}" in shown
    assert main(["orders", "show", number, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [f["old_address"] for f in data["fulfillments"]] == [OLD, None]
    assert data["shipping_address"]["address_2"] == "Apt 4"


CLI_CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 1
default_provider = "so"

[providers.so]
kind = "shineon"
base_url = "SHINEON"

[providers.manual]
kind = "manual"

[render]
public_base_url = "https://podops.example"

[[routing]]
sku = "TEE-*"
provider = "so"
provider_sku = "SO-TEE"

[[routing]]
sku = "MUG-*"
provider = "manual"
"""


def test_the_cli_says_which_part_kept_the_old_address_and_the_same_edit_sends_it_again(
    shop: Shop,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from podops.cli.main import main

    (workdir / "podops.toml").write_text(CLI_CONFIG.replace("SHINEON", shop.shineon.url))
    monkeypatch.setenv("PODOPS_PROVIDERS__SO__API_KEY", TOKEN)
    monkeypatch.setenv("PODOPS_RENDER__LINK_SECRET", LINK_SECRET)
    number = sent_split(shop)
    shop.shineon.down = True
    capsys.readouterr()

    assert main(["edit", number, "address.line2=Apt 4"]) == 1
    said = capsys.readouterr().out
    assert f"Changed the address of order {number} and sent it to manual" in said
    assert "Not changed for part 1 at so (ShineOn (so) had a server error (503)" in said
    assert f"podops edit {number} address.FIELD=VALUE" in said

    shop.shineon.down = False
    assert main(["edit", number, "address.line2=Apt 4"]) == 0
    said = capsys.readouterr().out
    assert f"Sent the address of order {number} to part 1 at so" in said
    assert shineon_address(shop, number)["address2"] == "Apt 4"
    assert own_addresses(shop, number) == {"so": None, "manual": None}
