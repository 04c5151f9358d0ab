"""Templates with several placements: one 300-DPI print file per placement, each with
its own canvas and layers; a template without placements renders as it always did."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from podops.errors import RenderRefused
from render.design_checks import TemplateChecks
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer
from render.templates import TemplateInvalid, load_template
from tests.render.render_test_support import (
    SHIPPED_TEMPLATES,
    Reply,
    ink_bounds,
    local_server,
    sample_jpeg,
    write_template,
)

LOOPBACK_OK = FetchPolicy(allow_loopback=True, timeout_s=5)

MUG_SIDES = """
name = "Mug, two sides"
noun = "mug"
format = "png"
background = "#ffffff"

[placements.left]
width_in = 3
height_in = 3
[[placements.left.layers]]
type = "text"
field = "left_text"
size_pt = 40
box = { x = 0.2, y = 0.2, width = 2.6, height = 1.0 }

[placements.right]
width_in = 4
height_in = 3
background = "#ffeecc"
[[placements.right.layers]]
type = "text"
field = "right_text"
size_pt = 40
box = { x = 0.2, y = 1.8, width = 3.6, height = 1.0 }
"""


def test_a_front_and_back_tee_renders_two_300_dpi_files_each_with_its_own_layers(
    tmp_path: Path,
) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, LOOPBACK_OK)
    photo = sample_jpeg((1200, 900))
    with local_server(
        {"/p.jpg": Reply(body=photo, headers={"Content-Type": "image/jpeg"})}
    ) as base:
        rendered = renderer.render_item(
            "main-77",
            1,
            "tee-front-back",
            {"name": "Zoë", "back_text": "Team Zoë"},
            {"photo": f"{base}/p.jpg"},
        )
    front, back = rendered.placements
    assert (front.placement, back.placement) == ("front", "back")
    assert (rendered.path, rendered.sha256) == (front.path, front.sha256)
    assert front.path.name == f"main-77-1-front-r001-{front.sha256[:12]}.png"
    assert back.path.name == f"main-77-1-back-r001-{back.sha256[:12]}.png"
    assert front.sha256 != back.sha256 and back.preview_path.is_file()
    with Image.open(front.path) as image:
        assert image.size == (4500, 5400)
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert image.info["Comment"] == "order main-77 line 1 front"
        front_ink = ink_bounds(image.convert("RGBA"))
    with Image.open(back.path) as image:
        assert image.size == (4500, 5400)
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        back_ink = ink_bounds(image.convert("RGBA"))
    # the front carries the photo (from 1.5 in down), the back only its text at the top
    assert front_ink is not None and front_ink[1] >= 1.5 * 300 - 2 and front_ink[3] > 11.5 * 300
    assert back_ink is not None and back_ink[1] >= 1.0 * 300 - 2 and back_ink[3] <= 4.0 * 300 + 2


def test_each_placement_has_its_own_canvas_size_and_background(tmp_path: Path) -> None:
    write_template(tmp_path / "t", "mug-sides", MUG_SIDES)
    renderer = PrintFileRenderer(tmp_path / "t", tmp_path / "out", LOOPBACK_OK)
    rendered = renderer.render_item("9", 2, "mug-sides", {"left_text": "L", "right_text": "R"}, {})
    left, right = rendered.placements
    with Image.open(left.path) as image:
        assert image.size == (900, 900) and image.getpixel((5, 5))[:3] == (255, 255, 255)
    with Image.open(right.path) as image:
        assert image.size == (1200, 900) and image.getpixel((5, 5))[:3] == (255, 238, 204)
    fields = TemplateChecks(renderer.template, LOOPBACK_OK).template_fields("mug-sides")
    assert fields.texts == ("left_text", "right_text")


def test_a_field_no_placement_prints_is_refused_as_before(tmp_path: Path) -> None:
    write_template(tmp_path / "t", "mug-sides", MUG_SIDES)
    renderer = PrintFileRenderer(tmp_path / "t", tmp_path / "out", LOOPBACK_OK)
    with pytest.raises(RenderRefused, match="prints no name"):
        renderer.render_item("9", 1, "mug-sides", {"left_text": "L", "name": "Ana"}, {})


def test_a_one_area_template_renders_one_file_named_as_before(tmp_path: Path) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, LOOPBACK_OK)
    rendered = renderer.render_fetched(
        "5", 1, "mug-11oz", {"message": "Hi"}, {"photo": sample_jpeg((600, 600))}
    )
    [only] = rendered.placements
    assert only.placement == "front" and only.path == rendered.path
    assert rendered.path.name == f"5-1-r001-{rendered.sha256[:12]}.png"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        [rendered.path.name, rendered.preview_path.name]
    )


def test_templates_check_names_each_placement_and_its_size(tmp_path: Path) -> None:
    write_template(tmp_path / "t", "mug-sides", MUG_SIDES)
    renderer = PrintFileRenderer(tmp_path / "t", tmp_path / "out", LOOPBACK_OK)
    [(key, ok, message)] = renderer.check_templates()
    assert key == "mug-sides"
    assert ok and message == "Mug, two sides: left 900 x 900 px, right 1200 x 900 px at 300 DPI"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda t: "width_in = 3\nheight_in = 3\n" + t,
            "width_in, height_in given at the top of a template with placements",
        ),
        (lambda t: t.replace("[placements.right]", "[placements.Right]"), "placements.Right"),
        (
            lambda t: t.replace("width = 3.6", "width = 4.6"),
            "key 'placements.right': layers[0].box reaches outside the 4.0 x 3.0 in print area",
        ),
        (
            lambda t: t.replace('field = "right_text"', 'field = "left_text"'),
            "field names ['left_text'] are used twice",
        ),
        (
            lambda t: t.replace(
                "size_pt = 40\nbox = { x = 0.2, y = 1.8", "box = { x = 0.2, y = 1.8"
            ),
            "placements.right.layers[0].size_pt",
        ),
        (
            lambda t: t.replace('format = "png"', 'format = "jpeg"').replace(
                'background = "#ffffff"', 'background = "transparent"'
            ),
            "format 'jpeg' cannot keep a transparent background (placement left)",
        ),
        (
            lambda t: t.split("[placements.left]")[0],
            "width_in, height_in, layers missing",
        ),
    ],
    ids=[
        "both-layouts",
        "bad-name",
        "box-outside",
        "field-twice",
        "missing-size",
        "jpeg-transparent",
        "no-area",
    ],
)
def test_placement_definitions_are_checked_with_the_key_and_the_reason(
    tmp_path: Path,
    change,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    path = write_template(tmp_path, "mug-sides", change(MUG_SIDES))
    with pytest.raises(TemplateInvalid) as refused:
        load_template(path)
    assert expected in refused.value.message
    assert refused.value.message.startswith("mug-sides.toml: ")


def test_a_placement_font_that_is_missing_names_its_placement(tmp_path: Path) -> None:
    body = MUG_SIDES.replace('field = "right_text"', 'field = "right_text"\nfont = "Nope.ttf"')
    path = write_template(tmp_path, "mug-sides", body)
    with pytest.raises(TemplateInvalid, match=r"placements\.right\.layers\[0\]\.font"):
        load_template(path)
