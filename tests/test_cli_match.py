"""`vigia match` on what a newcomer has at hand: a text file, a pasted text, stdin, no config."""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import SHARED, run_cli

SEED = SHARED / "seed-article.txt"
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without vigia.yaml, and no $VIGIA_CONFIG."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIGIA_CONFIG", raising=False)
    return tmp_path


def test_a_plain_text_file_matches_without_any_config(no_config: Path) -> None:
    code, out, err = run_cli("match", str(SEED))
    assert code == 0, err
    assert "MATCH mx-us-security" in out
    assert "language: es" in out and "not Spanish" not in out
    assert "title: De la Fuente y Rubio fortalecen cooperación en seguridad" in out
    assert "0 words" not in out


def test_stdin_is_read_with_a_dash() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigia", "match", "-"], input=SEED.read_bytes(), capture_output=True, cwd="/", timeout=120,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "MATCH mx-us-security" in result.stdout.decode()


def test_text_given_on_the_command_line(no_config: Path) -> None:
    code, out, _ = run_cli("match", "--text", SEED.read_text(encoding="utf-8"))
    assert code == 0
    assert "MATCH mx-us-security" in out


def test_nothing_to_read_is_an_error_not_a_verdict(no_config: Path) -> None:
    empty = no_config / "empty.txt"
    empty.write_text("\n\n  \n", encoding="utf-8")
    code, out, err = run_cli("match", str(empty))
    assert code != 0
    assert "no text could be read" in err
    assert "Spanish" not in out and "match" not in out.lower().replace("vigia match", "")


def test_an_html_page_without_text_is_an_error(no_config: Path) -> None:
    page = no_config / "empty.html"
    page.write_text("<html><head><title></title></head><body></body></html>", encoding="utf-8")
    code, out, err = run_cli("match", str(page))
    assert code != 0
    assert "no text could be read" in err
    assert "not Spanish" not in out


def test_a_missing_file_is_an_error(no_config: Path) -> None:
    code, _, err = run_cli("match", str(no_config / "nope.txt"))
    assert code == 1
    assert "cannot read" in err and "nope.txt" in err


def test_a_miss_says_which_condition_failed_in_words(no_config: Path) -> None:
    # Mexico, the US and a security topic, but each in a different paragraph.
    text = (
        "Sheinbaum y Trump conversan\n"
        "La presidenta de México, Claudia Sheinbaum, habló por teléfono con el gobierno de Sinaloa sobre el clima.\n\n"
        "En Washington, el Congreso estadounidense debatió el presupuesto para el año próximo con los republicanos.\n\n"
        "Por otra parte, un enfrentamiento entre sicarios de un cártel dejó tres muertos en una colonia del centro.\n"
    )
    code, out, _ = run_cli("match", "--text", text)
    assert code == 0
    assert "no match mx-us-security" in out
    assert "“lado mexicano”, “lado estadounidense” and “tema de seguridad” found but not within one paragraph" in out
    assert "any[" not in out and ".near" not in out and "all[" not in out


def test_a_miss_names_what_is_missing(no_config: Path) -> None:
    text = ("Canadá y Estados Unidos refuerzan la cooperación contra el fentanilo\n"
            "Los gobiernos de Canadá y Estados Unidos firmaron un acuerdo contra el tráfico de fentanilo y armas.")
    code, out, _ = run_cli("match", "--text", text)
    assert code == 0
    assert "no “lado mexicano” found (needs one of: México, mexicano" in out
    assert "any[" not in out and "near" not in out


def test_a_config_is_used_when_given(tmp_path: Path) -> None:
    (tmp_path / "agua.yaml").write_text(
        "rules:\n  - id: agua\n    terms: [Tratado de Aguas]\n", encoding="utf-8"
    )
    config = tmp_path / "vigia.yaml"
    config.write_text("rules:\n  - file: agua.yaml\n", encoding="utf-8")  # no slack: match never posts
    code, out, err = run_cli("match", "--config", str(config), "--text", "Agua\nEl Tratado de Aguas de 1944 vence.")
    assert code == 0, err
    assert "MATCH agua" in out and "mx-us-security" not in out


def _match_url(url: str, config: Path | None) -> subprocess.CompletedProcess[str]:
    """`vigia match URL` in a subprocess: it runs Scrapy, and a Twisted reactor runs once per process."""
    argv = [sys.executable, "-m", "vigia", "match", *(["--config", str(config)] if config else []), url]
    return subprocess.run(argv, capture_output=True, text=True, cwd=config.parent if config else "/", timeout=120, env=ENV)


def _seed_page() -> str:
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    return (f'<html lang="es"><head><meta charset="utf-8"><title>{html.escape(lines[0])}</title></head>'
            f"<body><article><h1>{html.escape(lines[0])}</h1>{body}</article></body></html>")


def test_a_url_on_loopback_is_refused_unless_the_config_allows_it(tmp_path: Path) -> None:
    """The URL is untrusted like any link a crawl follows: the address guard stands before it."""
    from tests.support.news_site import NewsSite

    with NewsSite() as site:
        site.add("/nota.html", _seed_page())
        refused = _match_url(site.url("/nota.html"), None)
        asked_before = list(site.requests)
        config = tmp_path / "vigia.yaml"
        config.write_text("crawler:\n  allow_private_hosts: [127.0.0.1]\n", encoding="utf-8")
        allowed = _match_url(site.url("/nota.html"), config)
    assert refused.returncode == 1
    assert "refused: resolves to a private address 127.0.0.1" in refused.stderr
    assert "crawler.allow_private_hosts" in refused.stderr
    assert "MATCH" not in refused.stdout
    assert asked_before == []  # not even its robots.txt was asked for
    assert allowed.returncode == 0, allowed.stderr
    assert "MATCH mx-us-security" in allowed.stdout
    assert "language: es" in allowed.stdout


def test_a_saved_page_without_a_charset_is_read_as_the_crawl_reads_it(no_config: Path) -> None:
    """No declared charset and not UTF-8: Windows-1252, the crawl's guess for Spanish outlets."""
    page = no_config / "nota.html"
    page.write_bytes(_seed_page().replace('<meta charset="utf-8">', "").encode("cp1252"))
    code, out, err = run_cli("match", str(page))
    assert code == 0, err
    assert "title: De la Fuente y Rubio fortalecen cooperación en seguridad" in out
    assert "MATCH mx-us-security" in out


def test_a_file_over_the_configured_page_size_is_not_read(tmp_path: Path) -> None:
    config = tmp_path / "vigia.yaml"
    config.write_text("crawler:\n  max_page_size: 1000\n", encoding="utf-8")
    big = tmp_path / "grande.txt"
    big.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run_cli("match", "--config", str(config), str(big))
    assert code == 1
    assert "larger than 1000 bytes; not read" in err
    assert "MATCH" not in out
