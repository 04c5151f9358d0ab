"""A field the customer filled and the template does not print stops the render with the
reason, unless the template lists it in `ignore`; the templates answer the core's
`DesignChecks` port (fields, photo links checked as a render fetches them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops.errors import RenderRefused
from render.design_checks import TemplateChecks
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer
from render.templates import TemplateInvalid, load_template
from tests.render.render_test_support import (
    SHIPPED_TEMPLATES,
    Reply,
    local_server,
    sample_jpeg,
    write_template,
)

LOOPBACK_OK = FetchPolicy(allow_loopback=True, timeout_s=5)
CARD = """
name = "Greeting card (5 x 7 in)"
width_in = 5
height_in = 7
dpi = 20
ignore = ["gift_note"]

[[layers]]
type = "text"
field = "name"
size_pt = 40
min_size_pt = 10
box = { x = 0.5, y = 0.5, width = 4, height = 2 }
"""


def test_a_name_on_a_mug_that_prints_none_is_refused_with_the_reason(tmp_path: Path) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, LOOPBACK_OK)
    with pytest.raises(RenderRefused) as refused:
        renderer.render_item("1", 1, "mug-11oz", {"message": "Hej", "name": "BJÖRN"}, {})
    assert refused.value.message.startswith("the customer wrote a name; this mug prints no name")
    assert list(tmp_path.iterdir()) == []  # nothing rendered, nothing fetched


def test_an_ignorable_field_passes_and_the_others_are_named(tmp_path: Path) -> None:
    write_template(tmp_path / "templates", "card", CARD)
    renderer = PrintFileRenderer(tmp_path / "templates", tmp_path / "out", LOOPBACK_OK)

    rendered = renderer.render_item("1", 1, "card", {"name": "Ana", "gift_note": "from Bo"}, {})
    assert rendered.path.is_file()

    with pytest.raises(RenderRefused) as refused:
        renderer.render_item(
            "1", 1, "card", {"name": "Ana", "nickname": "Bo", "engraving": " x "}, {"photo": "u"}
        )
    assert refused.value.message.startswith(
        "the customer wrote a nickname and an engraving and sent a photo; this greeting card "
        "prints no nickname, engraving or photo"
    )
    # an empty field is not a field the customer filled
    renderer.render_item("1", 1, "card", {"name": "Ana", "nickname": "  "}, {"photo": ""})


def test_ignore_may_not_list_a_field_a_layer_prints(tmp_path: Path) -> None:
    path = write_template(tmp_path, "card", CARD.replace('["gift_note"]', '["name"]'))
    with pytest.raises(TemplateInvalid, match=r"ignore lists \['name'\], which layers print"):
        load_template(path)


def test_the_templates_answer_which_fields_a_product_prints(tmp_path: Path) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, LOOPBACK_OK)
    checks = TemplateChecks(renderer.template, renderer.fetch_policy)
    mug = checks.template_fields("mug-11oz")
    assert (mug.noun, mug.texts, mug.images) == ("mug", ("message",), ("photo",))
    assert checks.template_fields("tee-front").listed() == "name, message, photo (a photo link)"
    with pytest.raises(RenderRefused, match="no print template for product 'hoodie'"):
        checks.template_fields("hoodie")


def test_a_photo_link_is_checked_as_a_render_fetches_it(tmp_path: Path) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, LOOPBACK_OK)
    checks = TemplateChecks(renderer.template, renderer.fetch_policy)
    strict = TemplateChecks(renderer.template, FetchPolicy())
    routes = {
        "/p.jpg": Reply(body=sample_jpeg((300, 300)), headers={"Content-Type": "image/jpeg"}),
        "/broken.jpg": Reply(body=b"\xff\xd8\xff" + b"\0" * 64),
    }
    with local_server(routes) as base:
        checks.check_photo("mug-11oz", "photo", f"{base}/p.jpg")
        with pytest.raises(RenderRefused, match=r"damaged|not an image we can read"):
            checks.check_photo("mug-11oz", "photo", f"{base}/broken.jpg")
        with pytest.raises(RenderRefused, match="loopback"):
            strict.check_photo("mug-11oz", "photo", f"{base}/p.jpg")
        with pytest.raises(RenderRefused, match="prints no photo named 'logo'"):
            checks.check_photo("mug-11oz", "logo", f"{base}/p.jpg")
