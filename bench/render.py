"""Benchmark: one 15 x 18 in apparel print file at 300 DPI, plain Pillow vs podops.

The workload is the shipped `tee-front` template: a 4500 x 5400 RGBA print file
with a transparent background, a 3000 x 3000 customer photo cut into a 9 in
circle, the ring artwork and two text lines.

The photo (`phone_photo`) is generated deterministically to compress like a
phone picture, because PNG time depends on it: flat colour deflates in no time
and pure noise is worse than any photo. It has a sky-to-ground scene with
fourteen soft-edged shapes, multi-scale texture (value noise at feature sizes
from 256 px down to 1 px, each octave at 0.8 of the amplitude of the next
coarser one, strong in "busy" regions such as foliage or fabric, a quarter of
that in calm ones such as sky), some colour texture, a slight lens blur,
luminance and chroma sensor noise (2 px grain), phone-style sharpening, and is
stored as a JPEG at quality 90. The table prints its bits per pixel as a JPEG
and as a PNG; phone photos are typically 2-4 and 12-17 bits per pixel.

Paths timed in the same run, interleaved (one plain run, then two podops runs,
five times) so both meet the same machine load, on the same JPEG bytes:
  plain   what a typical integration writes: full JPEG decode, `ImageOps.fit`
          with LANCZOS, an anti-aliased circle mask (drawn at 2x, LANCZOS
          down), `alpha_composite` of each layer, `ImageDraw.text` shrunk
          until it fits, then `img.save(buf, "PNG")` with Pillow's defaults;
  podops  the production code (`render.renderer.compose_print_file` and
          `render.export.encode_print_file`, as `PrintFileRenderer` runs them).
Every podops file is checked to decode to exactly the composed pixels. Next to
wall time, the CPU seconds of each run (all threads) are reported: on a machine
shared with other work they show how much less work podops does, whatever the
load at the moment.

Peak memory is the peak RSS (VmHWM, else ru_maxrss) of a fresh subprocess doing
one render per path, templates loaded as the service loads them, and a batch
of 50 full renders (decode, compose, encode, preview, store) is run with two
thread workers and with two process workers; every batch file is decoded and
a sample is compared pixel for pixel with a fresh composition.

Run: python bench/render.py   (prints a table, then one JSON line)
"""

from __future__ import annotations

import io
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont, ImageOps  # noqa: E402

from render.export import encode_print_file  # noqa: E402
from render.images import DEFAULT_MAX_PIXELS, FetchPolicy  # noqa: E402
from render.renderer import PrintFileRenderer, compose_print_file  # noqa: E402
from render.sample_photo import phone_photo  # noqa: E402
from render.templates import (  # noqa: E402
    ArtworkLayer,
    ImageLayer,
    ProductTemplate,
    TextLayer,
    load_templates,
)

TEMPLATES = ROOT / "render" / "templates"
PRODUCT = "tee-front"
PERSONALIZATION = {"name": "Maria", "message": "Best mom since 2015"}
PHOTO_SIZE = (3000, 3000)
PHOTO_SEED = 7
PLAIN_RUNS = 5
PODOPS_PER_PLAIN = 2  # podops runs per plain run, interleaved
BATCH_FILES = 50
BATCH_WORKERS = 2
BATCH_CHECKED = 3
NOTES = [("Title", "bench"), ("Comment", "order B1 line 1")]


def photo_jpeg() -> bytes:
    buffer = io.BytesIO()
    phone_photo(PHOTO_SIZE, PHOTO_SEED).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def photo_bits_per_pixel(jpeg: bytes) -> tuple[float, float]:
    """(JPEG, default PNG) bits per pixel of the generated photo."""
    photo = Image.open(io.BytesIO(jpeg)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "PNG")
    pixels = photo.width * photo.height
    return len(jpeg) * 8 / pixels, len(buffer.getvalue()) * 8 / pixels


def plain_compose(template: ProductTemplate, jpeg: bytes) -> Image.Image:
    """The print file as a typical integration composes it with plain Pillow."""
    canvas = Image.new("RGBA", template.size_px, (0, 0, 0, 0))
    for layer in template.layers:
        left, top, width, height = layer.box.pixels(template.dpi)
        if isinstance(layer, ImageLayer):
            photo = Image.open(io.BytesIO(jpeg)).convert("RGB")
            fitted = ImageOps.fit(photo, (width, height), Image.Resampling.LANCZOS)
            mask = Image.new("L", (2 * width, 2 * height), 0)
            ImageDraw.Draw(mask).ellipse((0, 0, 2 * width - 1, 2 * height - 1), fill=255)
            fitted.putalpha(mask.resize((width, height), Image.Resampling.LANCZOS))
            canvas.alpha_composite(fitted, (left, top))
        elif isinstance(layer, ArtworkLayer):
            art = ImageOps.contain(template.artwork(layer), (width, height))
            position = (left + (width - art.width) // 2, top + (height - art.height) // 2)
            canvas.alpha_composite(art, position)
        elif isinstance(layer, TextLayer):
            plain_text(canvas, template, layer, PERSONALIZATION[layer.field])
    return canvas


def plain_text(canvas: Image.Image, template: ProductTemplate, layer: TextLayer, text: str) -> None:
    """Centred text, a point smaller until it fits its box."""
    left, top, width, height = layer.box.pixels(template.dpi)
    text = text.upper() if layer.case == "upper" else text
    draw = ImageDraw.Draw(canvas)
    font_path = template.typeface(layer).path
    size_pt = layer.size_pt
    while True:
        font = ImageFont.truetype(str(font_path), round(size_pt * template.dpi / 72))
        centre = (left + width / 2, top + height / 2)
        box = draw.textbbox(centre, text, font=font, anchor="mm")
        if (box[2] - box[0] <= width and box[3] - box[1] <= height) or size_pt <= 8:
            break
        size_pt -= 1
    draw.text(centre, text, fill=layer.color, font=font, anchor="mm")


def plain_render(template: ProductTemplate, jpeg: bytes) -> tuple[float, float, Image.Image]:
    """Plain compose, then Pillow's default PNG save; (compose s, encode s, image)."""
    start = time.perf_counter()
    image = plain_compose(template, jpeg)
    composed = time.perf_counter()
    image.save(io.BytesIO(), "PNG")
    return composed - start, time.perf_counter() - composed, image


def podops_render(
    template: ProductTemplate, jpeg: bytes
) -> tuple[float, float, Image.Image, bytes]:
    """podops' production path; (compose s, encode s, image, PNG bytes)."""
    start = time.perf_counter()
    image = compose_print_file(template, PERSONALIZATION, {"photo": jpeg}, DEFAULT_MAX_PIXELS)
    composed = time.perf_counter()
    encoded = encode_print_file(image, dpi=template.dpi, file_format=template.format, notes=NOTES)
    return composed - start, time.perf_counter() - composed, image, encoded.data


def decodes_to(data: bytes, image: Image.Image) -> bool:
    """Whether the PNG `data` decodes to exactly the pixels of `image`."""
    with Image.open(io.BytesIO(data)) as decoded:
        decoded.load()
        return decoded.mode == image.mode and decoded.tobytes() == image.tobytes()


def peak_rss_mb(path: str, jpeg: bytes) -> float:
    """Peak resident memory (MB) of a fresh interpreter doing one render on `path`.

    The photo is handed over as a file, so the subprocess's high-water mark is
    the render's alone.
    """
    with tempfile.NamedTemporaryFile(suffix=".jpg") as photo:
        photo.write(jpeg)
        photo.flush()
        command = [sys.executable, __file__, "--peak", path, photo.name]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def measure_peak(path: str, photo_file: str) -> None:
    template = load_templates(TEMPLATES)[PRODUCT]
    jpeg = Path(photo_file).read_bytes()
    if path == "plain":
        plain_render(template, jpeg)
    else:
        podops_render(template, jpeg)
    print(f"{own_peak_mb():.1f}")


def own_peak_mb() -> float:
    """This process's peak RSS in MB.

    Linux carries ru_maxrss over fork and exec, so a child started by a big
    parent would report the parent's size; VmHWM belongs to this process's own
    address space only. ru_maxrss is the fallback elsewhere.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_worker_renderer: PrintFileRenderer | None = None


def _init_worker(output: str) -> None:
    global _worker_renderer
    _worker_renderer = PrintFileRenderer(TEMPLATES, Path(output), FetchPolicy())


def _batch_personalization(index: int) -> dict[str, str]:
    return {**PERSONALIZATION, "name": f"Maria {index}"}


def _render_one(job: tuple[int, bytes]) -> str:
    index, jpeg = job
    assert _worker_renderer is not None
    rendered = _worker_renderer.render_fetched(
        f"B{index}", 1, PRODUCT, _batch_personalization(index), {"photo": jpeg}
    )
    return str(rendered.path)


def batch_rate(kind: str, template: ProductTemplate, jpeg: bytes) -> float:
    """Files per second for BATCH_FILES full renders with two workers of `kind`."""
    with tempfile.TemporaryDirectory() as output:
        jobs = [(index, jpeg) for index in range(BATCH_FILES)]
        start = time.perf_counter()
        pool: Executor
        if kind == "threads":
            _init_worker(output)
            pool = ThreadPoolExecutor(BATCH_WORKERS)
        else:
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(
                BATCH_WORKERS, mp_context=context, initializer=_init_worker, initargs=(output,)
            )
        with pool:
            paths = list(pool.map(_render_one, jobs))
        elapsed = time.perf_counter() - start
        check_batch(template, jpeg, [Path(path) for path in paths])
    return BATCH_FILES / elapsed


def check_batch(template: ProductTemplate, jpeg: bytes, paths: list[Path]) -> None:
    """Every batch file decodes in full; a few equal a fresh composition exactly."""
    if len(set(paths)) != BATCH_FILES:
        raise SystemExit("batch: files were overwritten or lost")
    step = max(1, BATCH_FILES // BATCH_CHECKED)
    for index, path in enumerate(paths):
        with Image.open(path) as decoded:
            decoded.load()
            if index % step:
                continue
            personalization = _batch_personalization(index)
            image = compose_print_file(
                template, personalization, {"photo": jpeg}, DEFAULT_MAX_PIXELS
            )
            if decoded.mode != image.mode or decoded.tobytes() != image.tobytes():
                raise SystemExit(f"batch file {path.name} does not decode to its pixels")


@dataclass
class Runs:
    """Per run: (compose s, encode s) wall times and the CPU seconds of all threads."""

    plain: list[tuple[float, float]] = field(default_factory=list)
    podops: list[tuple[float, float]] = field(default_factory=list)
    plain_cpu: list[float] = field(default_factory=list)
    podops_cpu: list[float] = field(default_factory=list)


def timed_runs(template: ProductTemplate, jpeg: bytes) -> tuple[Runs, Image.Image, bytes]:
    """Plain and podops runs, interleaved so both meet the same machine load."""
    runs = Runs()
    for run in range(PLAIN_RUNS):
        cpu = time.process_time()
        compose_s, encode_s, plain_image = plain_render(template, jpeg)
        runs.plain_cpu.append(time.process_time() - cpu)
        runs.plain.append((compose_s, encode_s))
        print(f"  plain  run {run + 1}: compose {compose_s:.3f} s  encode {encode_s:.3f} s")
        for _ in range(PODOPS_PER_PLAIN):
            cpu = time.process_time()
            compose_s, encode_s, image, data = podops_render(template, jpeg)
            runs.podops_cpu.append(time.process_time() - cpu)
            if not decodes_to(data, image):
                raise SystemExit("podops PNG does not decode to the composed pixels")
            runs.podops.append((compose_s, encode_s))
            print(
                f"  podops run {len(runs.podops)}: compose {compose_s:.3f} s  "
                f"encode {encode_s:.3f} s"
            )
    return runs, plain_image, data


def _report(label_values: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in label_values)
    print()
    for label, value in label_values:
        print(f"{label:<{width}}  {value}")


def main() -> None:
    template = load_templates(TEMPLATES)[PRODUCT]
    jpeg = photo_jpeg()
    jpeg_bpp, png_bpp = photo_bits_per_pixel(jpeg)
    print(
        f"render bench: {PRODUCT} {template.size_px[0]} x {template.size_px[1]} RGBA, "
        f"photo {PHOTO_SIZE[0]} x {PHOTO_SIZE[1]} JPEG q90 ({len(jpeg) / 1e6:.1f} MB, "
        f"{jpeg_bpp:.1f} bits/pixel; {png_bpp:.1f} bits/pixel as a PNG)"
    )
    podops_render(template, jpeg)  # warm-up: thread pools, fonts, the ICC profile
    runs, plain_image, data = timed_runs(template, jpeg)
    plain_runs, podops_runs = runs.plain, runs.podops
    plain_cpu, podops_cpu = statistics.median(runs.plain_cpu), statistics.median(runs.podops_cpu)
    plain_png = io.BytesIO()
    plain_image.save(plain_png, "PNG")

    plain_total = statistics.median(c + e for c, e in plain_runs)
    podops_total = statistics.median(c + e for c, e in podops_runs)
    compose_s = statistics.median(c for c, _ in podops_runs)
    encode_s = statistics.median(e for _, e in podops_runs)
    plain_compose_s = statistics.median(c for c, _ in plain_runs)
    plain_encode = statistics.median(e for _, e in plain_runs)
    peak_podops, peak_plain = peak_rss_mb("podops", jpeg), peak_rss_mb("plain", jpeg)
    threads_rate = batch_rate("threads", template, jpeg)
    processes_rate = batch_rate("processes", template, jpeg)
    best = max(threads_rate, processes_rate)

    _report(
        [
            ("plain median (compose + Pillow PNG)", f"{plain_total:.3f} s"),
            ("  plain compose / PNG save", f"{plain_compose_s:.3f} s / {plain_encode:.3f} s"),
            ("podops median (compose + encode)", f"{podops_total:.3f} s   target <= 1.5 s"),
            ("  podops compose (incl. photo decode)", f"{compose_s:.3f} s"),
            ("  podops encode", f"{encode_s:.3f} s"),
            ("speedup end to end", f"{plain_total / podops_total:.1f} x   target >= 8 x"),
            (
                "CPU s (all threads) plain / podops",
                f"{plain_cpu:.3f} s / {podops_cpu:.3f} s   "
                f"({plain_cpu / podops_cpu:.1f} x less work)",
            ),
            (
                "speedup of compose / of encoding",
                f"{plain_compose_s / compose_s:.1f} x / {plain_encode / encode_s:.1f} x",
            ),
            (
                "file size plain / podops",
                f"{len(plain_png.getvalue()) / 1e6:.1f} MB / {len(data) / 1e6:.1f} MB",
            ),
            ("podops files decode pixel-identical", "yes (every run and batch sample)"),
            (
                "peak RSS podops / plain",
                f"{peak_podops:.0f} MB / {peak_plain:.0f} MB   target <= 400",
            ),
            (f"batch {BATCH_FILES}, 2 threads", f"{threads_rate:.2f} files/s"),
            (f"batch {BATCH_FILES}, 2 processes", f"{processes_rate:.2f} files/s"),
        ]
    )
    figures = {
        "seconds_median": {"value": round(podops_total, 3), "unit": "s", "target": "<= 1.5"},
        "plain_seconds_median": {"value": round(plain_total, 3), "unit": "s"},
        "speedup": {"value": round(plain_total / podops_total, 2), "unit": "x", "target": ">= 8"},
        "compose_s": {"value": round(compose_s, 3), "unit": "s"},
        "encode_s": {"value": round(encode_s, 3), "unit": "s"},
        "plain_compose_s": {"value": round(plain_compose_s, 3), "unit": "s"},
        "plain_encode_s": {"value": round(plain_encode, 3), "unit": "s"},
        "peak_mb": {"value": round(peak_podops, 1), "unit": "MB", "target": "<= 400"},
        "plain_peak_mb": {"value": round(peak_plain, 1), "unit": "MB"},
        "cpu_s_median": {"value": round(podops_cpu, 3), "unit": "s"},
        "plain_cpu_s_median": {"value": round(plain_cpu, 3), "unit": "s"},
        "batch_files_per_s": {
            "value": round(best, 2),
            "unit": "files/s",
            "workers": "threads" if threads_rate >= processes_rate else "processes",
        },
        "photo_jpeg_bits_per_pixel": {"value": round(jpeg_bpp, 2), "unit": "bit/px"},
    }
    print(json.dumps({"bench": "render", "figures": figures}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--peak":
        measure_peak(sys.argv[2], sys.argv[3])
    else:
        main()
