"""The configuration of shipping labels: where parcels leave from, what each product
weighs and measures, which rate a store takes, and which extra file format is kept.

    [shipping_origin]            # the shop's return address; a store may name its own
    name = "Example Prints"      # in [stores.NAME.labels.origin]
    street1 = "1 Print Way"
    city = "Springfield"
    state = "IL"
    zip = "62701"
    country = "US"
    phone = "+1 217 555 0100"

    [labels]
    extra_format = "png"         # the 4x6 PDF is always kept; "png" or "zpl" beside it
    [labels.parcels.mug-11oz]    # by product key (the template routing names)
    weight_oz = 16
    length_in = 6
    width_in = 6
    height_in = 6

    [stores.main.labels]
    rate = "cheapest"            # or "fastest"
    carriers = ["USPS"]          # only these (empty: any)
    services = []                # only these services (empty: any)
    max_price = 15.00            # never above this (empty: no cap)

Pure pydantic sections: `podops.settings` includes them; checked when loaded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from podops.countries import check_country

ORIGIN_REQUIRED = ("name", "street1", "city", "zip", "country")
DEFAULT_PARCEL = "default"
"""`[labels.parcels.default]`: the preset of a product without its own."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShippingOrigin(_Section):
    """Where parcels leave from: the label's sender and return address."""

    name: str = Field(default="", max_length=100)
    company: str = Field(default="", max_length=100)
    street1: str = Field(default="", max_length=100)
    street2: str = Field(default="", max_length=100)
    city: str = Field(default="", max_length=100)
    state: str = Field(default="", max_length=50)
    zip: str = Field(default="", max_length=20)
    country: str = Field(default="", max_length=2)
    phone: str = Field(default="", max_length=40)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        return check_country(value) if value else value

    @property
    def configured(self) -> bool:
        return any(getattr(self, name) for name in type(self).model_fields)

    def missing(self) -> list[str]:
        """The required fields left empty (a label needs every one)."""
        return [name for name in ORIGIN_REQUIRED if not getattr(self, name).strip()]


class ParcelPreset(_Section):
    """One product's packed parcel: ounces and inches, as EasyPost takes them."""

    weight_oz: float = Field(gt=0, le=2400)
    length_in: float = Field(gt=0, le=108)
    width_in: float = Field(gt=0, le=108)
    height_in: float = Field(gt=0, le=108)


class LabelsConfig(_Section):
    extra_format: Literal["png", "zpl"] = "png"
    """Kept beside the 4x6 PDF: the PNG image, or ZPL for a thermal printer."""
    parcels: dict[str, ParcelPreset] = Field(default_factory=dict)
    """Product key -> its parcel; `default` for products without their own."""
    buy_attempts: int = Field(default=3, ge=1, le=10)
    """How many times a buy whose answer was lost is looked up and tried again."""


class StoreLabels(_Section):
    """A store's rate rule (`[stores.NAME.labels]`) and its own origin if it ships from
    elsewhere."""

    rate: Literal["cheapest", "fastest"] = "cheapest"
    carriers: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    max_price: Decimal | None = Field(default=None, gt=0, le=10_000)
    origin: ShippingOrigin | None = None
