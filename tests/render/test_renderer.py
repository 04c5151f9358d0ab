"""The render service end to end: URL in, print file and preview out, as the core calls it."""

from __future__ import annotations

import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from podops.errors import RenderRefused
from render.export import encode_print_file, make_preview
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer
from render.sample_photo import make_sample_photo
from tests.render.render_test_support import (
    SHIPPED_TEMPLATES,
    SMALL_TEE,
    Reply,
    local_server,
    sample_jpeg,
    write_template,
)

LOOPBACK_OK = FetchPolicy(allow_loopback=True, timeout_s=5)


@pytest.fixture
def renderer(tmp_path: Path) -> PrintFileRenderer:
    write_template(tmp_path / "templates", "tee", SMALL_TEE)
    return PrintFileRenderer(tmp_path / "templates", tmp_path / "out", LOOPBACK_OK)


def test_a_shipped_tee_renders_at_300_dpi_from_a_photo_url(tmp_path: Path) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, LOOPBACK_OK)
    photo = sample_jpeg((1200, 900))
    with local_server(
        {"/p.jpg": Reply(body=photo, headers={"Content-Type": "image/jpeg"})}
    ) as base:
        rendered = renderer.render_item(
            "#1234",
            1,
            "tee-front",
            {"name": "Zoë", "message": "Since 2015"},
            {"photo": f"{base}/p.jpg"},
        )
    assert (rendered.width_px, rendered.height_px, rendered.dpi) == (4500, 5400, 300)
    assert rendered.path.name == f"1234-1-r001-{rendered.sha256[:12]}.png"
    with Image.open(rendered.path) as printed:
        assert printed.size == (4500, 5400) and printed.mode == "RGBA"
        assert printed.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert printed.info["icc_profile"]
        assert printed.info["Comment"] == "order #1234 line 1"
    with Image.open(rendered.preview_path) as preview:
        assert preview.format == "JPEG" and 900 <= max(preview.size) <= 1100


def test_each_render_is_a_new_revision_and_none_is_overwritten(renderer: PrintFileRenderer) -> None:
    photo = {"photo": sample_jpeg()}
    first = renderer.render_fetched("1001", 2, "tee", {"name": "Ann"}, photo)
    second = renderer.render_fetched("1001", 2, "tee", {"name": "Anna"}, photo)
    again = renderer.render_fetched("1001", 2, "tee", {"name": "Ann"}, photo)
    assert [first.revision, second.revision, again.revision] == [1, 2, 3]
    assert first.sha256 != second.sha256 and first.sha256 == again.sha256
    assert first.path.exists() and second.path.exists() and again.path.exists()


def test_concurrent_renders_of_one_line_get_distinct_revisions(renderer: PrintFileRenderer) -> None:
    photo = {"photo": sample_jpeg()}
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda name: renderer.render_fetched("77", 1, "tee", {"name": name}, photo),
                ["A", "B", "C", "D", "E", "F", "G", "H"],
            )
        )
    assert sorted(result.revision for result in results) == list(range(1, 9))
    # the lock that kept them apart is gone: the folder keeps no file per line rendered
    assert [p.name for p in renderer.output_folder.iterdir() if p.name.startswith(".")] == []


def test_a_revision_handed_out_by_the_core_names_the_file(renderer: PrintFileRenderer) -> None:
    photo = {"photo": sample_jpeg()}
    renderer.render_fetched("1001", 2, "tee", {"name": "Ann"}, photo)
    given = renderer.render_fetched("1001", 2, "tee", {"name": "Bo"}, photo, revision=7)
    assert given.revision == 7
    assert given.path.name == f"1001-2-r007-{given.sha256[:12]}.png" and given.path.exists()
    assert [p.name for p in renderer.output_folder.iterdir() if p.name.startswith(".")] == []


def test_the_file_hash_matches_the_file(renderer: PrintFileRenderer) -> None:
    import hashlib

    rendered = renderer.render_fetched("5", 1, "tee", {"name": "Bo"}, {"photo": sample_jpeg()})
    assert hashlib.sha256(rendered.path.read_bytes()).hexdigest() == rendered.sha256


def test_an_unknown_product_is_refused(renderer: PrintFileRenderer) -> None:
    with pytest.raises(RenderRefused) as refused:
        renderer.render_item("1", 1, "hoodie-back", {}, {})
    assert refused.value.message == "no print template for product 'hoodie-back'"


def test_a_product_with_a_broken_template_says_what_is_broken(tmp_path: Path) -> None:
    write_template(tmp_path, "cap", SMALL_TEE.replace("dpi = 20", "dpi = 'high'"))
    renderer = PrintFileRenderer(tmp_path, tmp_path / "out", LOOPBACK_OK)
    with pytest.raises(RenderRefused, match=r"template for product 'cap' is broken: cap.toml"):
        renderer.render_item("1", 1, "cap", {}, {})


def test_a_photo_url_on_a_private_address_stops_the_render(renderer: PrintFileRenderer) -> None:
    strict = PrintFileRenderer(renderer.templates_folder, renderer.output_folder, FetchPolicy())
    with pytest.raises(RenderRefused, match=r"resolves to a private address \(10.0.0.5\)"):
        strict.render_item("1", 1, "tee", {"name": "A"}, {"photo": "http://10.0.0.5/p.jpg"})
    assert not list(renderer.output_folder.glob("*.png"))


@pytest.mark.slow
def test_check_templates_renders_each_and_reports_broken_ones(tmp_path: Path) -> None:
    for path in SHIPPED_TEMPLATES.glob("*.toml"):
        write_template(tmp_path, path.stem, path.read_text())
    shutil.copytree(SHIPPED_TEMPLATES / "artwork", tmp_path / "artwork")
    write_template(tmp_path, "zz-broken", SMALL_TEE.replace("DejaVuSans-Bold.ttf", "Gone.ttf"))
    cramped = SMALL_TEE.replace("min_size_pt = 30", "min_size_pt = 110")
    write_template(tmp_path, "zz-cramped", cramped + 'sample = "WWWWWWWWWWWWWWWWWWWW"\n')
    results = PrintFileRenderer(tmp_path, tmp_path / "out", FetchPolicy()).check_templates()
    by_name = {name: (ok, message) for name, ok, message in results}
    assert by_name["tee-front"][0] and "4500 x 5400 px at 300 DPI" in by_name["tee-front"][1]
    assert by_name["mug-11oz"][0] and by_name["poster-12x18"][0]
    assert not by_name["zz-broken"][0] and "'Gone.ttf' was not found" in by_name["zz-broken"][1]
    assert not by_name["zz-cramped"][0]
    assert "sample render failed: the text in field 'name' does not fit" in by_name["zz-cramped"][1]


def test_poster_is_written_as_a_300_dpi_jpeg_with_profile(tmp_path: Path) -> None:
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, tmp_path, FetchPolicy())
    rendered = renderer.render_fetched(
        "9", 1, "poster-12x18", {"title": "our first home"}, {"photo": sample_jpeg((600, 700))}
    )
    assert rendered.path.suffix == ".jpg"
    with Image.open(rendered.path) as printed:
        assert printed.format == "JPEG" and printed.size == (3600, 5400)
        assert printed.info["dpi"] == (300, 300) and printed.info["icc_profile"]


def test_previews_show_transparency_on_a_light_checkerboard() -> None:
    image = Image.new("RGBA", (4000, 2000), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 2000, 2000))
    preview = Image.open(io.BytesIO(make_preview(image)))
    assert preview.size == (1000, 500)
    assert preview.getpixel((100, 100)) == pytest.approx((200, 0, 0), abs=8)
    assert min(preview.getpixel((900, 400))) > 220  # light, not black, where nothing prints


def test_print_files_decode_to_the_exact_composed_pixels() -> None:
    image = make_sample_photo((640, 480)).convert("RGBA")
    encoded = encode_print_file(image, dpi=300)
    with Image.open(io.BytesIO(encoded.data)) as decoded:
        assert decoded.tobytes() == image.tobytes()
