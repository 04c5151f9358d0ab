"""Country codes a routing rule may name: ISO 3166-1 alpha-2, and named groups.

Stores send the shipping country as an ISO code (WooCommerce `shipping.country`,
the CSV `country` column), so rules name countries the same way. A group is a
convenience for a set of codes that a shop routes together ("EU": the 27 member
states, Greece as `GR` as stores write it, not the EU's own `EL`).
"""

from __future__ import annotations


def _codes(text: str) -> frozenset[str]:
    """Codes written as words (a long list reads better as text than as literals)."""
    return frozenset(text.split())


ISO_CODES: frozenset[str] = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """
)
"""Every officially assigned ISO 3166-1 alpha-2 code (249)."""

GROUPS: dict[str, frozenset[str]] = {
    "EU": _codes(
        "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
    ),
}
"""Names a rule may use for several countries at once."""


def expand(names: list[str]) -> frozenset[str]:
    """The ISO codes `names` stand for (groups expanded); names must be valid already."""
    codes: set[str] = set()
    for name in names:
        codes |= GROUPS.get(name, frozenset({name}))
    return frozenset(codes)


def check_country(name: str) -> str:
    """`name` as a rule stores it (upper case), or ValueError saying what is expected."""
    code = name.strip().upper()
    if code in ISO_CODES or code in GROUPS:
        return code
    groups = ", ".join(sorted(GROUPS))
    raise ValueError(
        f"unknown country {name!r}: use ISO 3166-1 two-letter codes (US, DE, GB...) "
        f"or a group ({groups})"
    )
