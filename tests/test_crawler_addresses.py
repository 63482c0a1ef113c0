"""crawler.addresses: which addresses count as internal, and how allow-list entries read."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.addresses import AddressPolicy, endpoint, is_internal, parse_allowed_host
from vigia.config import load_config
from vigia.errors import ConfigError

INTERNAL = [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.10",
    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::", "64:ff9b::a9fe:a9fe", "2001:db8::1",
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses(address: str) -> None:
    assert is_internal(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert not is_internal(address)


def test_endpoints_have_default_ports_and_lowercase_hosts() -> None:
    assert endpoint("http://Example.COM./a") == ("example.com", 80)
    assert endpoint("https://example.com/a") == ("example.com", 443)
    assert endpoint("http://[::1]:8080/") == ("::1", 8080)
    assert endpoint("file:///etc/passwd") is None
    assert endpoint("http://host:99999/") is None


@pytest.mark.parametrize(
    "entry, parsed",
    [("intranet", ("intranet", None)), ("Intranet:8080", ("intranet", 8080)), ("10.0.0.5:80", ("10.0.0.5", 80)),
     ("::1", ("::1", None)), ("[::1]", ("::1", None)), ("[fd00::5]:8443", ("fd00::5", 8443))],
)
def test_allow_list_entries(entry: str, parsed: tuple[str, int | None]) -> None:
    assert parse_allowed_host(entry) == parsed


@pytest.mark.parametrize("entry", ["http://intranet", "intranet:http", "intranet:0", "[nothost]:80", "a b", ":80"])
def test_bad_allow_list_entries(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_allowed_host(entry)


def test_a_host_allows_every_port_a_host_port_one() -> None:
    policy = AddressPolicy.from_config(["intranet", "localhost:8080"])
    assert policy.allows(("intranet", 1234)) and policy.allows(("localhost", 8080))
    assert not policy.allows(("localhost", 8081))
    assert policy.allows(("127.0.0.1", 8001), own=[("127.0.0.1", 8001)])
    assert not policy.allows(("127.0.0.1", 8002), own=[("127.0.0.1", 8001)])


def test_config_names_a_bad_allow_list_entry(tmp_path: Path) -> None:
    path = tmp_path / "vigia.yaml"
    path.write_text("slack: {token: xoxb-1}\ncrawler:\n  allow_private_hosts: [intranet, 'http://x:80']\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.key == "crawler.allow_private_hosts[1]"
    assert "http://x:80" in caught.value.message
