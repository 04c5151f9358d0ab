"""`podops edit`: staff fix a design from the terminal and see the new preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from podops import services
from podops.cli.main import main
from podops.models import Event, OutboxMessage, utcnow
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.factories import SYSTEM, incoming

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 24
default_provider = "sandbox"

[providers.sandbox]
kind = "sandbox"

[[routing]]
sku = "*"
provider = "sandbox"
product_key = "name-tag"

[render]
templates_dir = "templates"
output_dir = "print-files"
"""

# A small text-only product: each line needs a `name` (the sample mug line has none);
# the mug line's message is not printed on a name tag, and the template says so.
TEMPLATE = """
name = "Name tag (2 x 1 in)"
ignore = ["message"]
width_in = 2
height_in = 1
dpi = 300
background = "#ffffff"
format = "png"

[[layers]]
type = "text"
field = "name"
font = "DejaVuSans-Bold.ttf"
size_pt = 20
min_size_pt = 6
color = "#222222"
box = { x = 0.1, y = 0.1, width = 1.8, height = 0.8 }
align = "center"
max_length = 24
sample = "Ana"
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Runtime:
    """A shop whose order 5001 waits for a design: line 2 has no name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    Path("podops.toml").write_text(CONFIG)
    Path("var/templates").mkdir(parents=True)
    Path("var/templates/name-tag.toml").write_text(TEMPLATE)
    rt = Runtime.from_config(Path("podops.toml"))
    with rt.db.unit_of_work() as session:
        order = incoming("T5001", placed_at=utcnow())
        services.receive_orders(session, [order], rt.policy, SYSTEM)
    rt.print_files.render_order("T5001", SYSTEM)
    assert _status(rt) == OrderStatus.NEEDS_DESIGN
    return rt


def _status(rt: Runtime, number: str = "T5001") -> OrderStatus:
    with rt.db.unit_of_work() as session:
        return OrderStatus(services.get_order(session, number).status)


def test_edit_fixes_a_needs_design_order_and_prints_the_new_preview(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edit", "T5001", "--line", "2", "name=Rose Marie"]) == 0
    out = capsys.readouterr().out
    assert "T5001-02: saved and rendered" in out
    preview = Path(out.split("preview", 1)[1].split()[0])
    assert preview.is_file() and Image.open(preview).size[0] > 0
    assert "Order T5001 is now: pending, submits in 23h" in out
    assert _status(shop) == OrderStatus.PENDING
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, "T5001")
        assert order.items[1].personalization["name"] == "Rose Marie"
        assert order.items[1].print_file_current
        edits = [e for e in session.query(Event) if e.action == "edit_personalization"]
        assert edits and edits[0].actor.startswith("cli:")
        topics = [m.topic for m in session.query(OutboxMessage)]
        assert "slack.preview" in topics  # the thread gets the new preview too


def test_edit_refusals_and_usage_errors(shop: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edit", "T5001", "name=Bea"]) == 2
    assert "has 2 lines (1, 2); say which with --line" in capsys.readouterr().err
    assert main(["edit", "T5001", "--line", "7", "name=Bea"]) == 2
    assert "has no line 7" in capsys.readouterr().err
    assert main(["edit", "T5001", "--line", "1", "name"]) == 2
    assert "'name' is not FIELD=VALUE" in capsys.readouterr().err
    assert main(["edit", "T5001", "--line", "1", "name=ANA"]) == 0
    assert "Nothing changed on order T5001" in capsys.readouterr().out
    assert main(["edit", "T5001", "--line", "1", "name=" + "X" * 30]) == 1
    out = capsys.readouterr().out
    assert "T5001-01: saved, but not rendered" in out and "at most 24 fit" in out
    assert "is now: needs design" in out
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, "T5001")
        services.cancel(session, order.number, SYSTEM, "customer asked")
    assert main(["edit", "T5001", "--line", "1", "name=Bea"]) == 1
    assert "can no longer be changed" in capsys.readouterr().err


def test_edit_after_submission_sends_the_new_design_to_the_provider(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edit", "T5001", "--line", "2", "name=Rose"]) == 0
    assert main(["submit", "T5001"]) == 0
    assert "Order T5001 is submitted at sandbox" in capsys.readouterr().out
    assert main(["edit", "T5001", "--line", "1", "name=Bea"]) == 0
    out = capsys.readouterr().out
    assert "Sent the new design of order T5001 to sandbox." in out
    preview = Path(out.split("preview", 1)[1].split()[0])
    assert preview.is_file()
    assert _status(shop) == OrderStatus.SUBMITTED
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, "T5001")
        assert order.items[0].personalization["name"] == "Bea"
        assert any(e.action == "design_replaced" for e in session.query(Event))
