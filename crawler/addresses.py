"""Which addresses an untrusted URL may reach: the address guard's policy, without Scrapy.

Everything a feed, sitemap or section page links to, and every redirect, is chosen by
whoever controls the page. On a server that opens the door to cloud metadata
(169.254.169.254), the loopback admin port and the office network, so a URL may reach
a loopback, private, link-local, multicast, unspecified or reserved address only when
its host and port are exactly those of its source's configured URL (the admin chose
those), or are listed in ``crawler.allow_private_hosts``.

The check is on addresses, after resolution: ``crawler.resolver.GuardedResolver`` vets
every answer before Scrapy connects, and ``crawler.middlewares.AddressGuardMiddleware``
applies the per-source rule to each request (redirects included).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 addresses carry an IPv4 address in their last 32 bits; a gateway would connect to it.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Endpoint = tuple[str, int]


def is_internal(address: str) -> bool:
    """True for an address no untrusted URL should reach on its own: loopback, private
    (RFC 1918, fc00::/7), shared (100.64/10), link-local, multicast, unspecified, reserved,
    documentation ranges, and IPv6 forms that embed one of those (IPv4-mapped, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and is_internal(str(embedded)):
            return True
    # is_global leaves out everything private, shared, reserved and link-local, but counts
    # multicast (224/4, ff00::/8) as global.
    return ip.is_multicast or not ip.is_global


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def endpoint(url: str) -> Endpoint | None:
    """The (host, port) a URL connects to, host lowercased and without IPv6 brackets;
    None for a URL without a host or with a scheme that is not HTTP."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is no number, or out of range
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def parse_allowed_host(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address → (host, port or None).

    Raises ValueError on anything else (for the config's validation message)."""
    text = entry.strip().lower()
    if is_ip_literal(text):  # a bare IPv6 address: its colons are not a port
        return text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not is_ip_literal(host) or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r} is not host, host:port or [IPv6]:port")
        port_text = rest[1:] if rest else None
    else:
        host, _, port_text = text.partition(":")
        port_text = port_text if ":" in text else None
    if not host or any(c.isspace() or c in "/@?#[]" for c in host):
        raise ValueError(f"{entry!r} is not host, host:port or [IPv6]:port")
    if port_text is None:
        return host.rstrip("."), None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return host.rstrip("."), int(port_text)


@dataclass
class AddressPolicy:
    """The crawl's exceptions to "no internal addresses": hosts (any port) and endpoints."""

    hosts: set[str] = field(default_factory=set)
    endpoints: set[Endpoint] = field(default_factory=set)

    @classmethod
    def from_config(cls, allow_private_hosts: Iterable[str]) -> AddressPolicy:
        policy = cls()
        for entry in allow_private_hosts:
            host, port = parse_allowed_host(entry)
            if port is None:
                policy.hosts.add(host)
            else:
                policy.endpoints.add((host, port))
        return policy

    def allows(self, target: Endpoint, own: Iterable[Endpoint] = ()) -> bool:
        """May ``target`` be reached whatever it resolves to? Yes for the source's own
        configured endpoint(s) and for what the config lists."""
        return target[0] in self.hosts or target in self.endpoints or target in set(own)

    def may_resolve_internal(self, name: str, own_hosts: Iterable[str]) -> bool:
        """May the resolver hand out an internal address for ``name``? Only for names the
        admin wrote down: a configured source's host or an allow-list entry. The per-port
        and per-source rule is the middleware's, which sees the request."""
        name = name.lower().rstrip(".")
        return name in self.hosts or any(name == host for host, _ in self.endpoints) or name in set(own_hosts)
