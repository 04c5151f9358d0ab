"""Which addresses a customer photo may be fetched from.

A photo URL is chosen by whoever placed the order, so a fetch must never reach
our own network, and above all never a cloud's instance metadata service: it
hands out the machine's credentials. Link-local addresses (169.254.0.0/16,
fe80::/10) are always refused, but several clouds serve metadata elsewhere
(AWS's IPv6 `fd00:ec2::254`, Alibaba's `100.100.100.200`, Azure's host agent
`168.63.129.16`...), inside ranges `allow_private_image_hosts` opens for a
shop's own image server. `METADATA_ADDRESSES` and `METADATA_HOSTS` are refused
whatever the settings, also when an IPv6 address carries one of them inside
(IPv4-mapped, NAT64, 6to4).
"""

from __future__ import annotations

import ipaddress
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack, Hetzner
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "169.254.170.23",  # AWS EKS Pod Identity agent
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud (in shared address space, 100.64.0.0/10)
        "168.63.129.16",  # Azure WireServer / host agent (a public-range address)
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS, IPv6 (Nitro instances)
        "fd00:ec2::23",  # AWS EKS Pod Identity agent, IPv6
        "fd20:ce::254",  # Google Cloud, IPv6
    )
)
"""Cloud instance metadata services, refused always (the link-local range is too)."""

METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)
"""Names the clouds give their metadata services, refused before any DNS lookup
(a host's resolver may answer them with an address outside the list above)."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressPolicy(Protocol):
    """What a fetch may reach besides public addresses (both off for real shops)."""

    @property
    def allow_loopback(self) -> bool: ...

    @property
    def allow_private(self) -> bool: ...


def metadata_host(host: str) -> bool:
    """Whether `host` names a cloud metadata service."""
    return host.lower().rstrip(".") in METADATA_HOSTS


def embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), else itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return address


def is_metadata(address: IPAddress) -> bool:
    """Whether `address` (or the IPv4 address inside it) is a cloud metadata service."""
    return embedded_ipv4(address) in METADATA_ADDRESSES


def forbidden_reason(address: IPAddress, policy: AddressPolicy) -> str | None:
    """Why we must not connect to `address` (e.g. "a private address"), or None."""
    address = embedded_ipv4(address)
    if is_metadata(address) and not address.is_link_local:  # link-local: refused below
        return "a cloud metadata address"
    if address.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return None if policy.allow_private else "a private address"
    return None
