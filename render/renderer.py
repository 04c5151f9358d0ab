"""The one entry point the core calls: render a line item's print file.

Fetching, decoding, composing, encoding and storing are each done by their own
module; this class only strings them together in order, so the core depends on
a single small surface (see NOTES_FOR_CORE.md for the Protocol).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image

from podops.errors import InvalidInput, RenderRefused
from podops.photos import Crop, CropRefused, PhotoFit
from podops.ports.storage import FileStorage
from podops.refs import print_file_stem
from render.compose import compose
from render.design_checks import refuse_unprinted
from render.export import encode_print_file, make_preview, store_revision
from render.images import FetchPolicy, decode_image, fetch_image
from render.photo_decode import (
    LAZY_DECODE_BYTES,
    decode_cost,
    return_freed_memory,
    upright_size,
)
from render.sample_photo import make_sample_photo
from render.templates import ImageLayer, ProductTemplate, TemplateInvalid, load_template

SAMPLE_PHOTO_SIZE = (800, 800)


@dataclass(frozen=True)
class RenderedPlacement:
    """One placement's file in a render (a tee's back), stored like the first."""

    placement: str
    path: Path
    preview_path: Path
    sha256: str
    revision: int
    width_px: int
    height_px: int
    location: str = ""
    preview_location: str = ""


@dataclass(frozen=True)
class RenderedFile:
    """One stored revision of a line item's print file: the first placement's file
    here, every placement's (the first included) in `placements`."""

    path: Path
    preview_path: Path
    sha256: str
    revision: int
    width_px: int
    height_px: int
    dpi: int
    photos: tuple[PhotoFit, ...] = ()
    """How each photo fits its frame (its own pixels): the effective DPI follows."""
    placements: tuple[RenderedPlacement, ...] = ()
    """Every file of the render with its placement name, in the template's order."""
    location: str = ""
    """Where the print file is kept for every host (`podops.ports.storage`): its local
    path, or `s3://bucket/key`; `preview_location` likewise. With a bucket, `path` and
    `preview_path` were this host's copies, deleted once uploaded (`store_revision`)."""
    preview_location: str = ""


class PrintFileRenderer:
    """Renders print files from the templates in one folder into another folder."""

    def __init__(
        self,
        templates_folder: Path,
        output_folder: Path,
        fetch_policy: FetchPolicy,
        storage: FileStorage | None = None,
    ) -> None:
        self.templates_folder = Path(templates_folder)
        self.output_folder = Path(output_folder)
        self.fetch_policy = fetch_policy
        self.storage = storage
        """Where files are kept for every host (a bucket); None: the output folder."""
        self._templates: dict[str, ProductTemplate] = {}
        self._broken: dict[str, str] = {}
        self.reload_templates()

    def reload_templates(self) -> None:
        """Read the templates folder again (after staff changed a template)."""
        if not self.templates_folder.is_dir():
            raise TemplateInvalid(f"the templates folder {self.templates_folder} does not exist")
        templates: dict[str, ProductTemplate] = {}
        broken: dict[str, str] = {}
        for path in sorted(self.templates_folder.glob("*.toml")):
            try:
                template = load_template(path)
            except TemplateInvalid as error:
                broken[path.stem] = error.message
                continue
            templates[template.key] = template
        self._templates, self._broken = templates, broken

    @property
    def product_keys(self) -> list[str]:
        return sorted(self._templates)

    def template(self, product_key: str) -> ProductTemplate:
        """The loaded template for a product, or a refusal naming the problem."""
        if product_key in self._templates:
            return self._templates[product_key]
        if product_key in self._broken:
            raise RenderRefused(
                f"the print template for product '{product_key}' is broken: "
                f"{self._broken[product_key]}"
            )
        raise RenderRefused(f"no print template for product '{product_key}'")

    def render_item(
        self,
        order_ref: str,
        line_position: int,
        product_key: str,
        personalization: dict[str, str],
        image_urls: dict[str, str],
        crops: Mapping[str, Crop] | None = None,
        revision: int | None = None,
    ) -> RenderedFile:
        """Fetch the photos, render, and store a new revision of the print file
        (`revision`, handed out by the core; None: the next one in the folder)."""
        template = self.template(product_key)
        refuse_unprinted(template, personalization, image_urls)  # a filled field must print
        photos: dict[str, bytes] = {}
        for layer in template.all_layers:
            if isinstance(layer, ImageLayer):
                url = (image_urls.get(layer.field) or "").strip()
                if url:
                    photos[layer.field] = fetch_image(url, self.fetch_policy)
        return self.render_fetched(
            order_ref, line_position, product_key, personalization, photos, crops, revision
        )

    def render_fetched(
        self,
        order_ref: str,
        line_position: int,
        product_key: str,
        personalization: dict[str, str],
        photos: dict[str, bytes],
        crops: Mapping[str, Crop] | None = None,
        revision: int | None = None,
    ) -> RenderedFile:
        """Render from photo bytes already in hand (uploads, tests, benchmarks): one
        file per placement of the template, each stored as its own revision."""
        template = self.template(product_key)
        fits = measure_photos(template, photos, crops or {})
        files = []
        for placement, side in template.sides:
            image = compose_print_file(
                side, personalization, photos, self.fetch_policy.max_pixels, crops
            )
            where = f"order {order_ref} line {line_position}"
            if template.placements:
                where += f" {placement}"
            notes = [("Title", side.name), ("Comment", where)]
            encoded = encode_print_file(image, dpi=side.dpi, file_format=side.format, notes=notes)
            preview = make_preview(image)
            stem = print_file_stem(order_ref, line_position)
            if template.placements:
                stem += f"-{placement}"
            stored = store_revision(
                self.output_folder, stem, encoded, preview, self.storage, revision=revision
            )
            files.append(
                RenderedPlacement(
                    placement,
                    stored.path,
                    stored.preview_path,
                    encoded.sha256,
                    stored.revision,
                    image.width,
                    image.height,
                    stored.location,
                    stored.preview_location,
                )
            )
            del image
        first = files[0]
        return RenderedFile(
            path=first.path,
            preview_path=first.preview_path,
            sha256=first.sha256,
            revision=first.revision,
            width_px=first.width_px,
            height_px=first.height_px,
            dpi=template.dpi,
            photos=fits,
            placements=tuple(files),
            location=first.location,
            preview_location=first.preview_location,
        )

    def check_templates(self) -> list[tuple[str, bool, str]]:
        """Every template file: whether it loads and renders a sample, and what went wrong."""
        self.reload_templates()
        results: list[tuple[str, bool, str]] = [
            (name, False, message) for name, message in self._broken.items()
        ]
        for key, template in self._templates.items():
            sizes = []
            try:
                for placement, side in template.sides:
                    image = render_sample(side)
                    encode_print_file(image, dpi=side.dpi, file_format=side.format)
                    size = f"{image.width} x {image.height} px"
                    sizes.append(f"{placement} {size}" if template.placements else size)
            except RenderRefused as error:
                results.append((key, False, f"sample render failed: {error.message}"))
                continue
            shown = ", ".join(sizes)
            results.append((key, True, f"{template.name}: {shown} at {template.dpi} DPI"))
        return sorted(results)


def compose_print_file(
    template: ProductTemplate,
    personalization: dict[str, str],
    photos: dict[str, bytes],
    max_pixels: int,
    crops: Mapping[str, Crop] | None = None,
) -> Image.Image:
    """Decode the photos and compose the print file: the pixels, before encoding."""
    decoders = photo_decoders(template, photos, max_pixels, crops)
    return compose(template, personalization, decoders, crops)


def measure_photos(
    template: ProductTemplate, photos: Mapping[str, bytes], crops: Mapping[str, Crop]
) -> tuple[PhotoFit, ...]:
    """How each photo fits its frame, from its header (its own pixels, upright); a crop
    that would leave part of a frame empty is refused here, before any decoding."""
    fits = []
    for layer in template.all_layers:
        if not isinstance(layer, ImageLayer) or layer.field not in photos:
            continue
        size = upright_size(photos[layer.field])
        if size is None:
            continue  # decoding says what is wrong with it
        fits.append(
            PhotoFit(
                layer.field,
                size[0],
                size[1],
                layer.box.width,
                layer.box.height,
                layer.fit,
                template.min_dpi_of(layer),
            )
        )
    for fit in fits:
        try:
            fit.check(crops.get(fit.field, Crop()))
        except InvalidInput as problem:
            raise CropRefused(problem.message, tuple(fits)) from problem
    return tuple(fits)


def photo_decoders(
    template: ProductTemplate,
    photos: dict[str, bytes],
    max_pixels: int,
    crops: Mapping[str, Crop] | None = None,
) -> dict[str, Callable[[], Image.Image]]:
    """For each photo, a function decoding it at no more than the size its box needs
    (a zoomed photo needs that many times more of its pixels).

    A photo whose decode takes a lot of memory (`photo_decode.LAZY_DECODE_BYTES`) is
    decoded here, before the canvas exists, so the two peaks never add up."""
    decoders: dict[str, Callable[[], Image.Image]] = {}
    for layer in template.layers:
        if isinstance(layer, ImageLayer) and layer.field in photos:
            _, _, box_width, box_height = layer.box.pixels(template.dpi)
            zoom = (crops or {}).get(layer.field, Crop()).zoom
            width, height = math.ceil(box_width * zoom), math.ceil(box_height * zoom)
            data = photos[layer.field]
            if decode_cost(data, (width, height)) > LAZY_DECODE_BYTES:
                decoded = decode_image(data, max_pixels, (width, height))
                return_freed_memory()
                decoders[layer.field] = partial(_given, decoded)
            else:
                decoders[layer.field] = partial(decode_image, data, max_pixels, (width, height))
    return decoders


def _given(image: Image.Image) -> Image.Image:
    return image


def render_sample(template: ProductTemplate) -> Image.Image:
    """The template (one area: a template without placements, or one of `sides`)
    filled with its sample texts and a generated photo."""
    personalization = {
        layer.field: layer.sample for layer in template.layers if layer.type == "text"
    }
    photo = make_sample_photo(SAMPLE_PHOTO_SIZE)
    images = {layer.field: photo for layer in template.layers if layer.type == "image"}
    return compose(template, personalization, images)
