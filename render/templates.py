"""Product templates: one TOML file per product, describing its print file.

Templates are written by hand by shop staff, so they are validated on load and
every problem is reported with the file, the key, what is wrong and what is
expected, rather than surfacing as a wrong print file weeks later. Positions
and sizes are in inches; pixels follow from the template's DPI (300 for
production).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

from PIL import Image, ImageColor
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from podops.errors import RenderRefused
from podops.photos import DEFAULT_MIN_DPI
from podops.ports.fulfillment import DEFAULT_PLACEMENT
from render.typeface import Typeface, load_typeface, resolve_font_path

PRODUCTION_DPI = 300
T = TypeVar("T")
MAX_ARTWORK_PIXELS = 60_000_000
MAX_MIN_DPI = 1200


class TemplateInvalid(RenderRefused):
    """A product template file is missing, unreadable or wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Box(_Strict):
    """A rectangle on the print area, in inches from the top-left corner."""

    x: float = Field(ge=0)
    y: float = Field(ge=0)
    width: float = Field(gt=0)
    height: float = Field(gt=0)

    def pixels(self, dpi: int) -> tuple[int, int, int, int]:
        """(left, top, width, height) in pixels at this DPI; never below 1 x 1."""
        left, top = round(self.x * dpi), round(self.y * dpi)
        right, bottom = round((self.x + self.width) * dpi), round((self.y + self.height) * dpi)
        return left, top, max(1, right - left), max(1, bottom - top)


def _check_color(value: str) -> str:
    try:
        ImageColor.getrgb(value)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a colour; expected a colour like '#1a1a1a' or 'white'"
        ) from None
    return value


class ArtworkLayer(_Strict):
    """Fixed artwork from an image file next to the template."""

    type: Literal["artwork"]
    file: str
    box: Box
    fit: Literal["contain", "cover", "stretch"] = "contain"


class TextLayer(_Strict):
    """A customer's text, fitted into its box by shrinking down to a minimum size."""

    type: Literal["text"]
    field: str = Field(min_length=1)
    font: str = "DejaVuSans.ttf"
    size_pt: float = Field(gt=0, le=1000)
    min_size_pt: float | None = Field(default=None, gt=0)
    color: str = "#000000"
    box: Box
    align: Literal["left", "center", "right"] = "center"
    valign: Literal["top", "middle", "bottom"] = "middle"
    max_length: int = Field(default=40, ge=1, le=2000)
    case: Literal["upper", "lower", "title", "none"] = "none"
    multiline: bool = False
    line_spacing: float = Field(default=1.15, ge=0.8, le=3)
    required: bool = True
    sample: str = "Sample"

    _color = field_validator("color")(_check_color)

    @model_validator(mode="after")
    def _minimum_below_size(self) -> TextLayer:
        if self.min_size_pt is not None and self.min_size_pt > self.size_pt:
            raise ValueError(
                f"min_size_pt ({self.min_size_pt}) is larger than size_pt ({self.size_pt}); "
                "expected min_size_pt <= size_pt"
            )
        return self

    @property
    def smallest_pt(self) -> float:
        return self.min_size_pt if self.min_size_pt is not None else self.size_pt


class ImageLayer(_Strict):
    """A customer's photo, scaled into its box and optionally masked."""

    type: Literal["image"]
    field: str = Field(min_length=1)
    box: Box
    fit: Literal["cover", "contain"] = "cover"
    mask: Literal["none", "circle", "rounded_rect"] = "none"
    radius_in: float | None = Field(default=None, gt=0)
    required: bool = True
    min_dpi: int | None = Field(default=None, ge=0, le=MAX_MIN_DPI)
    """The least resolution this photo may print at (default: the template's)."""

    @model_validator(mode="after")
    def _radius_for_rounded_rect(self) -> ImageLayer:
        if self.mask == "rounded_rect" and self.radius_in is None:
            raise ValueError("mask 'rounded_rect' needs radius_in (the corner radius in inches)")
        return self


Layer = Annotated[ArtworkLayer | TextLayer | ImageLayer, Field(discriminator="type")]

PLACEMENT_NAME = r"^[a-z][a-z0-9_]*$"
MAX_PLACEMENTS = 8


class Placement(_Strict):
    """One print area of a product with several (a tee's front and back, a mug's left
    and right side): its own canvas and layers, rendered to its own file. DPI, format
    and the photo rules are the template's; the background may differ."""

    width_in: float = Field(gt=0, le=120)
    height_in: float = Field(gt=0, le=120)
    background: str | None = None
    """The template's background when left out."""
    layers: list[Layer] = Field(min_length=1)

    @field_validator("background")
    @classmethod
    def _background(cls, value: str | None) -> str | None:
        return value if value in (None, "transparent") else _check_color(value)

    @model_validator(mode="after")
    def _inside(self) -> Placement:
        _check_boxes(self.layers, self.width_in, self.height_in)
        return self


def _check_boxes(layers: list[Layer], width_in: float, height_in: float) -> None:
    for index, layer in enumerate(layers):
        box = layer.box
        if box.x + box.width > width_in + 1e-9 or box.y + box.height > height_in + 1e-9:
            raise ValueError(
                f"layers[{index}].box reaches outside the {width_in} x "
                f"{height_in} in print area; expected a box inside it"
            )


class ProductTemplate(_Strict):
    """The print file of one product: its size, background and layers, in order."""

    key: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    width_in: float | None = Field(default=None, gt=0, le=120)
    height_in: float | None = Field(default=None, gt=0, le=120)
    """The print area; a template with `placements` gives one per placement instead."""
    dpi: int = Field(default=PRODUCTION_DPI, ge=10, le=1200)
    background: str = "transparent"
    format: Literal["png", "jpeg"] = "png"
    min_dpi: int = Field(default=DEFAULT_MIN_DPI, ge=0, le=MAX_MIN_DPI)
    """The least resolution a customer photo may print at; below it the order waits
    for staff (0: never checked). An image layer's own `min_dpi` wins."""
    layers: list[Layer] = Field(default_factory=list)
    placements: dict[Annotated[str, Field(pattern=PLACEMENT_NAME, max_length=32)], Placement] = (
        Field(default_factory=dict, max_length=MAX_PLACEMENTS)
    )
    """Named print areas, each rendered to its own file (`[placements.front]`,
    `[placements.back]`), in the order written; none: one file at "front"."""
    noun: str | None = Field(default=None, min_length=1, max_length=40)
    """What staff call the product in sentences ("mug": "this mug prints no name");
    by default the template's name without its sizes in parentheses."""
    ignore: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    """Fields customers may fill that this product knowingly does not print (a gift
    note): without this, a filled field the template has no layer for stops the order."""

    _artwork: dict[str, Artwork] = PrivateAttr(default_factory=dict)
    _typefaces: dict[str, Typeface] = PrivateAttr(default_factory=dict)
    _folder: Path = PrivateAttr(default=Path("."))
    _memo: dict[tuple[object, ...], Any] = PrivateAttr(default_factory=dict)
    _sides: tuple[tuple[str, ProductTemplate], ...] | None = PrivateAttr(default=None)

    @field_validator("background")
    @classmethod
    def _background(cls, value: str) -> str:
        return value if value == "transparent" else _check_color(value)

    @model_validator(mode="after")
    def _consistent(self) -> ProductTemplate:
        self._one_layout()
        fields = [layer.field for layer in self.all_layers if not isinstance(layer, ArtworkLayer)]
        duplicates = sorted({name for name in fields if fields.count(name) > 1})
        if duplicates:
            raise ValueError(f"field names {duplicates} are used twice; expected unique names")
        printed = sorted(set(fields) & set(self.ignore))
        if printed:
            raise ValueError(
                f"ignore lists {printed}, which layers print; expected only fields no layer prints"
            )
        backgrounds = {name: p.background or self.background for name, p in self.placements.items()}
        transparent = [name for name, bg in backgrounds.items() if bg == "transparent"]
        if not self.placements and self.transparent:
            transparent = [DEFAULT_PLACEMENT]
        if self.format == "jpeg" and transparent:
            where = "" if not self.placements else f" (placement {', '.join(transparent)})"
            raise ValueError(
                f"format 'jpeg' cannot keep a transparent background{where}; use 'png'"
            )
        return self

    def _one_layout(self) -> None:
        """Either one print area at the top, or named placements, never both."""
        if self.placements:
            given = [
                key
                for key, value in (
                    ("width_in", self.width_in),
                    ("height_in", self.height_in),
                    ("layers", self.layers),
                )
                if value
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)} given at the top of a template with placements; "
                    "expected them inside each [placements.NAME]"
                )
            return
        missing = [
            key
            for key, value in (
                ("width_in", self.width_in),
                ("height_in", self.height_in),
                ("layers", self.layers),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} missing; expected the print area's width_in, height_in "
                "and at least one [[layers]], or named [placements.NAME] each with their own"
            )
        assert self.width_in is not None and self.height_in is not None
        _check_boxes(self.layers, self.width_in, self.height_in)

    @property
    def sides(self) -> tuple[tuple[str, ProductTemplate], ...]:
        """(placement name, a one-area template) per print file this product gets: the
        template itself at DEFAULT_PLACEMENT when it declares no placements."""
        if self._sides is None:
            if not self.placements:
                self._sides = ((DEFAULT_PLACEMENT, self),)
            else:
                self._sides = tuple(
                    (name, self._side(name, placement))
                    for name, placement in self.placements.items()
                )
        return self._sides

    def _side(self, name: str, placement: Placement) -> ProductTemplate:
        side = self.model_copy(
            update={
                "name": f"{self.name} - {name}",
                "width_in": placement.width_in,
                "height_in": placement.height_in,
                "background": placement.background or self.background,
                "layers": placement.layers,
                "placements": {},
            }
        )
        side._artwork, side._typefaces, side._folder = self._artwork, self._typefaces, self._folder
        side._memo, side._sides = self._memo, None
        return side

    @property
    def all_layers(self) -> list[Layer]:
        """Every layer of every placement, in order (fields are unique across them)."""
        if not self.placements:
            return list(self.layers)
        return [layer for placement in self.placements.values() for layer in placement.layers]

    @property
    def placement_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.sides)

    def min_dpi_of(self, layer: ImageLayer) -> int:
        """The least resolution the layer's photo may print at."""
        return self.min_dpi if layer.min_dpi is None else layer.min_dpi

    @property
    def transparent(self) -> bool:
        return self.background == "transparent"

    @property
    def product_noun(self) -> str:
        """`noun`, or the name without parentheses: "Name tag (2 x 1 in)" -> "name tag"."""
        if self.noun:
            return self.noun
        return re.sub(r"\s*\([^)]*\)", "", self.name).strip().lower() or self.key

    @property
    def size_px(self) -> tuple[int, int]:
        """The canvas in pixels (of a one-area template, or of one of `sides`)."""
        if self.width_in is None or self.height_in is None:
            raise TemplateInvalid(f"template '{self.key}' has placements; size each of its sides")
        return round(self.width_in * self.dpi), round(self.height_in * self.dpi)

    def artwork(self, layer: ArtworkLayer) -> Image.Image:
        """The decoded artwork of a layer (checked with the template, decoded at first use)."""
        return self._artwork[layer.file].image()

    def typeface(self, layer: TextLayer) -> Typeface:
        """The typeface of a text layer (loaded with the template)."""
        return self._typefaces[layer.font]

    def memo(self, key: tuple[object, ...], build: Callable[[], T]) -> T:
        """A value derived from this template's assets, built once (e.g. artwork tiles).

        Keys must include everything the value depends on besides the assets
        (sizes in pixels, fit); two threads may both build it, which is harmless.
        """
        if key not in self._memo:
            self._memo[key] = build()
        return cast(T, self._memo[key])

    def at_dpi(self, dpi: int) -> ProductTemplate:
        """The same template at another resolution (small test renders, previews)."""
        copy = self.model_copy(update={"dpi": dpi})
        copy._artwork, copy._typefaces, copy._folder = self._artwork, self._typefaces, self._folder
        copy._memo, copy._sides = self._memo, None
        return copy


def load_template(path: Path) -> ProductTemplate:
    """Read, validate and load one template file with its artwork and fonts."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TemplateInvalid(f"{path.name}: cannot be read ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise TemplateInvalid(f"{path.name}: is not valid TOML ({error})") from error
    raw.setdefault("key", path.stem)
    try:
        template = ProductTemplate.model_validate(raw)
    except ValidationError as error:
        raise TemplateInvalid(_describe(path, error)) from error
    template._folder = path.parent
    _load_assets(template, path)
    return template


def load_templates(folder: Path) -> dict[str, ProductTemplate]:
    """Every `*.toml` template in `folder`, by product key; all problems in one error."""
    if not folder.is_dir():
        raise TemplateInvalid(f"the templates folder {folder} does not exist")
    templates: dict[str, ProductTemplate] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            template = load_template(path)
        except TemplateInvalid as error:
            problems.append(error.message)
            continue
        if template.key in templates:
            problems.append(f"{path.name}: key '{template.key}' is used by another template")
        templates[template.key] = template
    if problems:
        raise TemplateInvalid("; ".join(problems))
    return templates


def _load_assets(template: ProductTemplate, path: Path) -> None:
    groups = [("", template.layers)] + [
        (f"placements.{name}.", placement.layers) for name, placement in template.placements.items()
    ]
    for prefix, layers in groups:
        for index, layer in enumerate(layers):
            _load_layer_assets(template, path, f"{prefix}layers[{index}]", layer)


class Artwork:
    """A template's artwork file: read in full when the template loads, so a missing or
    broken file is the template's error at once, but kept decoded only from the first
    render that uses it (a 3000 x 3000 ring is 34 MB; a service that renders nothing,
    or other products, holds none)."""

    def __init__(self, path: Path, key: str, file: str) -> None:
        self.path, self.key, self.file = path, key, file
        self._image: Image.Image | None = None
        _load_artwork(path, key, file)  # checked now, the pixels dropped

    def image(self) -> Image.Image:
        if self._image is None:  # two threads may both decode it, which is harmless
            self._image = _load_artwork(self.path, self.key, self.file)
        return self._image


def _load_layer_assets(template: ProductTemplate, path: Path, key: str, layer: Layer) -> None:
    if isinstance(layer, ArtworkLayer) and layer.file not in template._artwork:
        template._artwork[layer.file] = Artwork(path, key, layer.file)
    elif isinstance(layer, TextLayer) and layer.font not in template._typefaces:
        font_path = resolve_font_path(layer.font, path.parent)
        if font_path is None:
            raise TemplateInvalid(
                f"{path.name}: key '{key}.font': the font file '{layer.font}' "
                "was not found; expected a .ttf/.otf next to the template or in render/fonts"
            )
        try:
            template._typefaces[layer.font] = load_typeface(font_path)
        except RenderRefused as error:
            raise TemplateInvalid(f"{path.name}: {error.message}") from error


def _load_artwork(path: Path, key: str, file: str) -> Image.Image:
    artwork_path = (path.parent / file).resolve()
    where = f"{path.name}: key '{key}.file'"
    if not artwork_path.is_relative_to(path.parent.resolve()):
        raise TemplateInvalid(f"{where}: '{file}' is outside the templates folder")
    try:
        with Image.open(artwork_path) as image:
            if image.width * image.height > MAX_ARTWORK_PIXELS:
                raise TemplateInvalid(f"{where}: '{file}' is larger than 60 megapixels")
            image.load()
            return image if image.mode == "RGBA" else image.convert("RGBA")
    except FileNotFoundError as error:
        raise TemplateInvalid(
            f"{where}: the artwork '{file}' was not found; expected an image next to the template"
        ) from error
    except (OSError, Image.DecompressionBombError) as error:
        raise TemplateInvalid(f"{where}: '{file}' is not a readable image ({error})") from error


def _describe(path: Path, error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = _key_path(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        got = problem.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        lines.append(f"key '{key or 'top level'}': {message}{shown}")
    return f"{path.name}: " + "; ".join(lines)


def _key_path(location: tuple[int | str, ...]) -> str:
    """('layers', 2, 'text', 'size_pt') -> 'layers[2].size_pt' (the layer tag dropped)."""
    key = ""
    for position, part in enumerate(location):
        if isinstance(part, int):
            key += f"[{part}]"
        elif position > 0 and isinstance(location[position - 1], int) and part in _LAYER_TAGS:
            continue
        else:
            key += f".{part}"
    return key.lstrip(".")


_LAYER_TAGS = {"artwork", "text", "image"}
