"""Rule regexes run on RE2: linear time on hostile pages, backtracking-only syntax refused by `vigia check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.spec import SourceSpec
from rules import Document, RuleSyntaxError, load_rules
from tests.support.news_site import NewsSite
from tests.test_crawler_address_guard import serve_feed, stored
from tests.test_crawler_run import crawl, make_spec

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def matched(ruleset, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.rule_id for m in ruleset.match(Document("", text, ""))]


@pytest.mark.parametrize(
    "pattern",
    [r"(cartel)\s+\1", r"(?P<w>\w+) (?P=w)", r"fentanilo(?= )", r"(?<!no )extradicion", r"(?!x)y", r"a++"],
)
def test_backtracking_syntax_is_refused_naming_rule_and_key(pattern: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        load_rules([{"id": "armas", "any": [{"terms": ["armas"]}, {"regex": pattern}]}], HERE, source="vigia.yaml")
    error = caught.value
    assert (error.file, error.rule_id, error.key) == ("vigia.yaml", "armas", "any[1].regex")
    assert "RE2" in error.message and repr(pattern) in error.message


def test_word_classes_include_enye() -> None:
    ruleset = load_rules([{"id": "anio", "regex": r"\bel \w+ pasado"}], HERE)
    assert matched(ruleset, "Lo dijo el año pasado en Sonora.") == ["anio"]
    assert matched(ruleset, "Lo dijo en Sonora.") == []


def test_vigia_check_refuses_a_lookahead_in_a_rule_file(tmp_path: Path) -> None:
    (tmp_path / "mias.yaml").write_text("rules:\n  - id: armas\n    regex: 'rifles(?! de aire)'\n", encoding="utf-8")
    config = tmp_path / "vigia.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'v.db'}'}}\nslack: {{token: xoxb-1}}\n"
                      "rules:\n  - file: mias.yaml\n", encoding="utf-8")

    # A real process: RE2 logs refused patterns from C++ straight to fd 2 unless told not to.
    result = subprocess.run([sys.executable, "-m", "vigia", "check", "--config", str(config)],
                            capture_output=True, text=True, cwd=REPO, timeout=120)

    assert result.returncode == 2
    assert result.stderr.startswith("vigia: rule error: mias.yaml: rule 'armas': key 'regex': bad regular expression")
    assert result.stderr.count("\n") == 1


def test_a_catastrophic_regex_on_a_hostile_page_does_not_hang_the_crawl(tmp_path: Path) -> None:
    """``(a+)+$`` backtracks exponentially in Python's re on "aaaa…b"; on RE2 the crawl just ends."""
    ruleset = load_rules([{"id": "risa", "regex": "(a+)+$"}, {"id": "armas", "terms": ["armas"]}], HERE)
    hostile = "a" * 50_000 + "b"
    page = (f"<html><head><title>Aseguran armas en Sonora</title></head><body><article><h1>Aseguran armas</h1>"
            f"<p>Las autoridades aseguraron armas largas en un operativo en Sonora este martes.</p><p>{hostile}</p>"
            "</article></body></html>")
    with NewsSite() as site:
        site.add("/2026/12/01/armas.html", page)
        source: SourceSpec = serve_feed(site, [site.url("/2026/12/01/armas.html")])
        database_url = f"sqlite:///{tmp_path / 'vigia.db'}"

        report = crawl(make_spec(database_url, [source], ruleset))

    assert report.errors == [] and report.fetched == 1
    [article] = stored(database_url)[0]
    assert hostile in (article.text or "")  # the page reached the matcher whole
    assert article.status == "matched"
