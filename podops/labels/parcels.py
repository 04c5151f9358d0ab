"""The parcel and the sender of a label, from the configuration: pure checks.

A parcel's weight is the sum of its units' preset weights; its size is the
largest preset's length and width, the heights stacked (a simple packing rule,
written in docs/shipping.md). A product without a preset takes
`[labels.parcels.default]`; without either the label is refused with the key to
add. The origin is the store's own (`[stores.NAME.labels.origin]`) or the shop's
`[shipping_origin]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from podops.errors import DomainRefusal
from podops.label_settings import DEFAULT_PARCEL, ParcelPreset, ShippingOrigin
from podops.ports.address import PostalAddress
from podops.ports.labels import Parcel


def parcel_for(units: Sequence[tuple[str, int]], presets: Mapping[str, ParcelPreset]) -> Parcel:
    """The parcel holding `units` ((product key, quantity) per line)."""
    chosen: list[tuple[ParcelPreset, int]] = []
    missing = []
    for key, quantity in units:
        preset = presets.get(key) or presets.get(DEFAULT_PARCEL)
        if preset is None:
            missing.append(key or "(no product key)")
            continue
        chosen.append((preset, quantity))
    if missing:
        names = ", ".join(sorted(set(missing)))
        raise DomainRefusal(
            f"no parcel size for {names}: add [labels.parcels.{missing[0]}] (weight_oz, "
            "length_in, width_in, height_in) or [labels.parcels.default] to the config"
        )
    return Parcel(
        weight_oz=sum(p.weight_oz * q for p, q in chosen),
        length_in=max(p.length_in for p, _ in chosen),
        width_in=max(p.width_in for p, _ in chosen),
        height_in=min(108.0, sum(p.height_in * q for p, q in chosen)),
    )


def sender(shop: ShippingOrigin, store: ShippingOrigin | None) -> PostalAddress:
    """Where the parcel leaves from, or a refusal naming what to configure."""
    origin = store if store is not None and store.configured else shop
    missing = origin.missing()
    if missing:
        raise DomainRefusal(
            f"no shipping origin to buy labels from: set {', '.join(missing)} in "
            "[shipping_origin] (or the store's [stores.NAME.labels.origin])"
        )
    return PostalAddress(
        name=origin.name,
        company=origin.company,
        line1=origin.street1,
        line2=origin.street2,
        city=origin.city,
        state=origin.state,
        postcode=origin.zip,
        country=origin.country,
        phone=origin.phone,
    )
