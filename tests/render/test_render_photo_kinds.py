"""Every kind of photo a customer may send prints as it looks: 16-bit and
floating-point photos scaled to 8 bits (not clipped to white), CMYK JPEGs the
right way round, transparency kept, phone photos upright, the first frame of an
animation, and HEIC refused with advice staff can pass on."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from podops.errors import RenderRefused
from render import photo_decode
from render.images import FetchPolicy, fetch_image
from render.photo_decode import decode_image
from render.renderer import PrintFileRenderer
from tests.render.render_test_support import Reply, local_server, write_template

WIDTH = 256
STEPS = (0, 64, 128, 192, 255)  # columns of a left-to-right gradient, 0 to 255 in 8 bits


def saved(image: Image.Image, kind: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def grey16(width: int = WIDTH, height: int = 8) -> Image.Image:
    """A 16-bit grey gradient, black on the left (0) to white on the right (65535)."""
    gradient = Image.new("I", (width, height))
    gradient.putdata([x * 65535 // (width - 1) for _ in range(height) for x in range(width)])
    return gradient.convert("I;16")


def png16(colour_type: int, samples: Callable[[int], tuple[int, ...]], height: int = 8) -> bytes:
    """A 16-bit PNG written by hand (Pillow writes 16 bits only for grey): each
    column's samples from `samples(x)`."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + b"".join(struct.pack(f">{len(samples(x))}H", *samples(x)) for x in range(WIDTH))
    header = struct.pack(">IIBBBBB", WIDTH, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def row(image: Image.Image) -> list[tuple[int, ...]]:
    """The pixels at `STEPS` of the way across the top row (0: left edge, 255: right)."""
    last = image.width - 1
    return [image.getpixel((round(x * last / 255), 0)) for x in STEPS]  # type: ignore[misc]


def follows_gradient(values: list[int], tolerance: int = 3) -> bool:
    return all(abs(value - step) <= tolerance for value, step in zip(values, STEPS, strict=True))


# --- more than 8 bits a sample ----------------------------------------------------------


def test_a_16_bit_grey_png_follows_its_gradient_instead_of_turning_white() -> None:
    data = saved(grey16(), "PNG")
    assert data[24:26] == b"\x10\x00"  # IHDR: 16 bits, grey - what a scanner sends
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.mode == "I;16"
    decoded = decode_image(data)
    assert decoded.mode == "RGB"
    assert follows_gradient([red for red, _, _ in row(decoded)])
    assert all(red == green == blue for red, green, blue in row(decoded))


@pytest.mark.parametrize(
    ("needed", "kept_bytes"),
    [((WIDTH, 8), photo_decode.KEPT_BYTES), ((64, 2), photo_decode.KEPT_BYTES), ((100, 3), 1)],
    ids=["own-size", "reduced", "resized"],
)
def test_a_16_bit_grey_png_keeps_its_gradient_when_shrunk_for_its_box(
    needed: tuple[int, int], kept_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(photo_decode, "KEPT_BYTES", kept_bytes)  # "resized": Lanczos bands
    decoded = decode_image(saved(grey16(), "PNG"), needed=needed)
    assert decoded.size[0] == max(needed[0], decoded.size[0]) and decoded.mode == "RGB"
    assert follows_gradient([red for red, _, _ in row(decoded)], tolerance=6)


def test_a_16_bit_grey_tiff_in_either_byte_order_follows_its_gradient() -> None:
    for mode in ("I;16", "I;16B"):
        data = saved(grey16().convert("I").convert(mode), "TIFF")
        with Image.open(io.BytesIO(data)) as opened:
            assert opened.mode == mode
        assert follows_gradient([red for red, _, _ in row(decode_image(data))])


def test_16_bit_colour_pngs_keep_their_colours() -> None:
    rgb = png16(2, lambda x: (x * 257, 0, 65535 - x * 257))
    reds_blues = [(red, blue) for red, _, blue in row(decode_image(rgb))]
    assert follows_gradient([red for red, _ in reds_blues])
    assert follows_gradient([255 - blue for _, blue in reds_blues])
    grey_alpha = png16(4, lambda x: (x * 257, 65535 - x * 257))
    decoded = decode_image(grey_alpha, needed=(WIDTH, 8))
    assert decoded.mode == "RGBA"
    assert follows_gradient([grey for grey, _, _, _ in row(decoded)])
    assert follows_gradient([255 - alpha for _, _, _, alpha in row(decoded)])


def test_floating_point_and_32_bit_tiffs_follow_their_gradient() -> None:
    unit = Image.new("F", (WIDTH, 8))
    unit.putdata([x / (WIDTH - 1) for _ in range(8) for x in range(WIDTH)])  # 0.0 to 1.0
    wide = grey16().convert("I")  # 16-bit data in 32-bit integers
    for photo in (unit, wide):
        data = saved(photo, "TIFF")
        with Image.open(io.BytesIO(data)) as opened:
            assert opened.mode == photo.mode
        shrunk = decode_image(data, needed=(64, 2))
        assert follows_gradient([red for red, _, _ in row(shrunk)], tolerance=6)
        assert follows_gradient([red for red, _, _ in row(decode_image(data))])


GRADIENT_FRAME = """
name = "Photo only"
width_in = 10
height_in = 10
dpi = 20
background = "transparent"

[[layers]]
type = "image"
field = "photo"
box = { x = 0.5, y = 0.5, width = 9.0, height = 9.0 }
fit = "cover"
"""


def test_a_16_bit_grey_photo_prints_its_gradient_and_is_measured(tmp_path: Path) -> None:
    write_template(tmp_path / "templates", "frame", GRADIENT_FRAME)
    renderer = PrintFileRenderer(tmp_path / "templates", tmp_path / "out", FetchPolicy())
    photo = saved(grey16(720, 720).resize((720, 720)), "PNG")
    rendered = renderer.render_fetched("16", 1, "frame", {}, {"photo": photo})
    with Image.open(rendered.path) as printed:
        box = printed.convert("RGB").crop((10, 10, 190, 190))  # the 9 in frame at 20 DPI
        greys = [box.getpixel((round(x * 179 / 255), 90))[0] for x in STEPS]  # type: ignore[index]
    assert follows_gradient(greys, tolerance=6)  # not a white blob
    [fit] = rendered.photos
    assert (fit.width_px, fit.height_px, fit.dpi()) == (720, 720, 80)
    assert fit.too_low()  # the quality check still sees the photo's own pixels


# --- other kinds customers send -------------------------------------------------------


def test_an_adobe_cmyk_jpeg_prints_the_right_way_round() -> None:
    cmyk = Image.new("CMYK", (64, 64), (0, 0, 0, 0))  # paper white on the left
    cmyk.paste((255, 0, 0, 0), (32, 0, 64, 64))  # cyan ink on the right
    data = saved(cmyk, "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as opened:
        assert opened.mode == "CMYK" and "adobe" in opened.info  # stored inverted, as Photoshop
    for needed in (None, (16, 16)):
        decoded = decode_image(data, needed=needed)
        right = decoded.width - 3
        assert decoded.getpixel((2, 2)) == pytest.approx((255, 255, 255), abs=4)
        assert decoded.getpixel((right, 2)) == pytest.approx((0, 255, 255), abs=4)


@pytest.mark.parametrize("needed", [None, (64, 64), (16, 16)])
def test_a_palette_png_keeps_its_transparent_and_half_transparent_colours(
    needed: tuple[int, int] | None,
) -> None:
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255, 0, 160, 0])
    palette.paste(1, (22, 0, 43, 64))
    palette.paste(2, (43, 0, 64, 64))
    decoded = decode_image(saved(palette, "PNG", transparency=bytes([0, 255, 128])), needed=needed)
    assert decoded.mode == "RGBA"
    third = decoded.width // 3
    assert decoded.getpixel((1, 1))[3] == 0  # type: ignore[index]
    assert decoded.getpixel((third + third // 2, 1)) == (0, 0, 255, 255)
    assert decoded.getpixel((decoded.width - 2, 1)) == pytest.approx((0, 160, 0, 128), abs=2)


@pytest.mark.parametrize("needed", [None, (64, 64), (16, 16)])
def test_a_grey_photo_with_transparency_keeps_both(needed: tuple[int, int] | None) -> None:
    grey_alpha = Image.new("LA", (64, 64), (50, 0))
    grey_alpha.paste((200, 255), (32, 0, 64, 64))
    decoded = decode_image(saved(grey_alpha, "PNG"), needed=needed)
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((1, 1))[3] == 0  # type: ignore[index]
    assert decoded.getpixel((decoded.width - 2, 1)) == (200, 200, 200, 255)


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize(
    ("orientation", "size", "top_left"),
    [
        (2, (200, 100), "red"),  # mirrored
        (3, (200, 100), "red"),  # upside down
        (6, (100, 200), "blue"),  # camera turned right
        (8, (100, 200), "red"),  # camera turned left
    ],
)
def test_phone_photos_of_every_kind_are_turned_upright(
    kind: str, orientation: int, size: tuple[int, int], top_left: str
) -> None:
    picture = Image.new("RGB", (200, 100), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 100, 100))  # blue on the left, red on the right
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = saved(picture, kind, exif=exif.tobytes())
    for needed in (None, (size[0] // 2, size[1] // 2)):
        upright = decode_image(data, needed=needed)
        assert upright.size == size if needed is None else needed
        red, _, blue = upright.getpixel((3, 3))  # type: ignore[misc]
        assert (blue > 200 and red < 60) if top_left == "blue" else (red > 200 and blue < 60)


@pytest.mark.parametrize("kind", ["GIF", "WEBP", "PNG"])
def test_an_animation_prints_its_first_frame(kind: str) -> None:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ("#ff0000", "#00ff00", "#0000ff")]
    data = saved(frames[0], kind, save_all=True, append_images=frames[1:], duration=100)
    with Image.open(io.BytesIO(data)) as opened:
        assert getattr(opened, "n_frames", 1) == 3
    for needed in (None, (16, 16)):
        assert decode_image(data, needed=needed).getpixel((3, 3)) == pytest.approx(
            (255, 0, 0), abs=2
        )


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)


def test_a_heic_photo_is_refused_with_what_to_ask_the_customer_for() -> None:
    with pytest.raises(RenderRefused) as refused:
        decode_image(HEIC)
    assert refused.value.message == (
        "the photo is a HEIC file, which we cannot print: ask the customer for a JPEG or PNG "
        "(an iPhone sends JPEG with Settings > Camera > Formats > Most Compatible)"
    )
    policy = FetchPolicy(allow_loopback=True, timeout_s=3)
    routes = {"/IMG_0001.HEIC": Reply(body=HEIC, headers={"Content-Type": "image/heic"})}
    with local_server(routes) as base, pytest.raises(RenderRefused) as fetched:
        fetch_image(f"{base}/IMG_0001.HEIC", policy)
    assert fetched.value.message.startswith(
        f"the file at {base}/IMG_0001.HEIC is a HEIC photo, which we cannot print: "
        "ask the customer for a JPEG or PNG"
    )


def test_an_avif_photo_is_refused_by_name() -> None:
    with pytest.raises(RenderRefused, match="the photo is a AVIF file, which we cannot print"):
        decode_image(saved(Image.new("RGB", (16, 16)), "AVIF"))
