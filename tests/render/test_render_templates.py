"""Product templates: the shipped ones load; broken ones are explained precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from render.templates import (
    ArtworkLayer,
    TemplateInvalid,
    TextLayer,
    load_template,
    load_templates,
)
from tests.render.render_test_support import SHIPPED_TEMPLATES, SMALL_TEE, write_template


def test_the_three_shipped_products_load_at_300_dpi() -> None:
    templates = load_templates(SHIPPED_TEMPLATES)
    assert set(templates) == {"tee-front", "tee-front-back", "mug-11oz", "poster-12x18"}
    assert templates["tee-front"].size_px == (4500, 5400)
    assert templates["tee-front"].transparent
    assert templates["mug-11oz"].size_px == (2550, 1050)
    assert templates["mug-11oz"].background == "#ffffff"
    assert templates["poster-12x18"].size_px == (3600, 5400)
    assert all(template.dpi == 300 for template in templates.values())


def broken(tmp_path: Path, body: str) -> str:
    path = write_template(tmp_path, "broken", body)
    with pytest.raises(TemplateInvalid) as refused:
        load_template(path)
    return refused.value.message


def test_a_wrong_value_names_file_key_problem_and_expectation(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace('fit = "cover"', 'fit = "squash"'))
    assert message.startswith("broken.toml: ")
    assert "layers[0].fit" in message
    assert "'cover' or 'contain'" in message
    assert "squash" in message


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace("size_pt = 110\n", ""))
    assert "layers[1].size_pt" in message and "required" in message.lower()


def test_a_bad_colour_says_what_a_colour_looks_like(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace('"#183461"', '"navy-ish"'))
    assert "layers[1].color" in message and "'navy-ish' is not a colour" in message
    assert "#1a1a1a" in message


def test_a_box_outside_the_print_area_is_refused(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace("x = 0.75,", "x = 5,"))
    assert "layers[1].box reaches outside the 15.0 x 18.0 in print area" in message


def test_a_missing_font_file_is_refused_with_where_to_put_it(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace("DejaVuSans-Bold.ttf", "Nope.ttf"))
    assert "layers[1].font" in message and "'Nope.ttf' was not found" in message


def test_a_font_file_that_is_not_a_font_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Fake.ttf").write_bytes(b"this is not a font")
    message = broken(tmp_path, SMALL_TEE.replace("DejaVuSans-Bold.ttf", "Fake.ttf"))
    assert "cannot be read" in message


def test_missing_artwork_is_refused(tmp_path: Path) -> None:
    body = SMALL_TEE + (
        '\n[[layers]]\ntype = "artwork"\nfile = "ring.png"\n'
        "box = { x = 0, y = 0, width = 2, height = 2 }\n"
    )
    message = broken(tmp_path, body)
    assert "layers[2].file" in message and "'ring.png' was not found" in message


def test_a_truncated_artwork_is_refused_when_the_template_loads(tmp_path: Path) -> None:
    """Artwork is decoded at first render, yet a broken file is still the template's
    error at once, not a failed render later."""
    whole = (SHIPPED_TEMPLATES / "artwork" / "poster-border.png").read_bytes()
    (tmp_path / "ring.png").write_bytes(whole[: len(whole) // 2])
    body = SMALL_TEE + (
        '\n[[layers]]\ntype = "artwork"\nfile = "ring.png"\n'
        "box = { x = 0, y = 0, width = 2, height = 2 }\n"
    )
    message = broken(tmp_path, body)
    assert "layers[2].file" in message and "'ring.png' is not a readable image" in message


LOADED_RSS = """
import sys
from pathlib import Path
import PIL.Image, render.renderer
from render.templates import load_templates
def rss():
    lines = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in lines if line.startswith("VmRSS:")) / 1024
before = rss()
templates = load_templates(Path(sys.argv[1]))
print(rss() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_loaded_templates_hold_no_decoded_artwork_until_a_render_needs_it() -> None:
    """The idle service loads every template (staff edits are checked against them):
    the shipped tee ring (3000 x 3000) and poster border decoded would hold 53 MB of
    it for nothing; they are decoded by the first render that draws them."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", LOADED_RSS, str(SHIPPED_TEMPLATES)],
        capture_output=True, text=True, cwd=root, env={"PYTHONPATH": str(root)}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1]) < 15


def test_artwork_is_decoded_at_its_first_render_and_kept() -> None:
    template = load_templates(SHIPPED_TEMPLATES)["tee-front"]
    ring = next(layer for layer in template.all_layers if isinstance(layer, ArtworkLayer))
    first = template.artwork(ring)
    assert first.size == (3000, 3000) and first.mode == "RGBA"
    assert template.at_dpi(30).artwork(ring) is first


def test_invalid_toml_is_refused_with_the_parser_position(tmp_path: Path) -> None:
    message = broken(tmp_path, "name = \n")
    assert "broken.toml: is not valid TOML" in message and "line 1" in message


def test_rounded_frame_without_radius_says_what_is_missing(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace('mask = "circle"', 'mask = "rounded_rect"'))
    assert "radius_in" in message


def test_minimum_text_size_above_nominal_is_refused(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace("min_size_pt = 30", "min_size_pt = 300"))
    assert "expected min_size_pt <= size_pt" in message


def test_unknown_keys_are_refused_so_typos_do_not_pass_silently(tmp_path: Path) -> None:
    message = broken(tmp_path, SMALL_TEE.replace("case = ", "cas = "))
    assert "layers[1].cas" in message


def test_loading_a_folder_reports_every_broken_file(tmp_path: Path) -> None:
    write_template(tmp_path, "good", SMALL_TEE)
    write_template(tmp_path, "bad-one", SMALL_TEE.replace("dpi = 20", "dpi = -1"))
    write_template(tmp_path, "bad-two", "width_in = 'wide'")
    with pytest.raises(TemplateInvalid) as refused:
        load_templates(tmp_path)
    assert "bad-one.toml" in refused.value.message and "bad-two.toml" in refused.value.message


def test_fonts_next_to_the_template_and_bundled_fonts_are_found(tmp_path: Path) -> None:
    template = load_template(write_template(tmp_path, "good", SMALL_TEE))
    layer = template.layers[1]
    assert isinstance(layer, TextLayer)
    assert template.typeface(layer).name == "DejaVu Sans Bold"
