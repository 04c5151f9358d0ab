"""Large photos render in bounded memory: a legal 49-megapixel JPEG (baseline,
progressive, or turned by its EXIF orientation) renders the shipped tee within the
render bench's 400 MB peak resident memory, measured in a fresh process; a photo
whose decoder would need more is refused with a reason staff can pass on. Other
formats: test_render_memory_formats."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from podops.errors import RenderRefused
from render.photo_decode import decode_image

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 8575, 5715  # 49 megapixels, under the 50-megapixel limit
PEAK_LIMIT_MB = 400
RENDER = """
import sys
from pathlib import Path
from render.renderer import compose_print_file, encode_print_file
from render.templates import load_templates
template = load_templates(Path("render/templates"))["tee-front"]
photo = Path(sys.argv[1]).read_bytes()
image = compose_print_file(template, {"name": "Ana", "message": "Hi"}, {"photo": photo}, 50_000_000)
encode_print_file(image, dpi=template.dpi, file_format=template.format)
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
peak = [int(line.split()[1]) // 1024 for line in lines if line.startswith("VmHWM:")]
if not peak:
    import resource
    peak = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024]
print(peak[0])
"""


def big_photo(path: Path, kind: str) -> Path:
    """A 49-megapixel photo with detail (a gradient), saved the way `kind` says."""
    gradient = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    photo = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient))
    options: dict[str, object] = {"quality": 85}
    if kind == "progressive":
        options["progressive"] = True
    if kind == "rotated":
        exif = Image.Exif()
        exif[0x0112] = 6  # taken with the phone on its side
        options["exif"] = exif.tobytes()
    target = path / f"{kind}.jpg"
    photo.save(target, "JPEG", **options)
    return target


def peak_render_mb(photo: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(photo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["baseline", "progressive", "rotated"])
def test_a_49_megapixel_jpeg_renders_under_the_bench_memory(tmp_path: Path, kind: str) -> None:
    peak = peak_render_mb(big_photo(tmp_path, kind))
    assert peak < PEAK_LIMIT_MB, f"{kind}: peak resident memory {peak} MB"


def test_a_photo_too_costly_to_decode_is_refused_with_a_reason() -> None:
    """WebP has no reduced decoding in Pillow and needs about 17 bytes a pixel."""
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), "orange").save(buffer, "WEBP", quality=50)
    with pytest.raises(RenderRefused) as refused:
        decode_image(buffer.getvalue(), needed=(2700, 2700))
    message = refused.value.message
    assert "8575 x 5715 WEBP" in message and "megapixels" in message and "JPEG" in message
