"""Aboutness (issue 12): the `about` condition, `near` with `unit: lead`, the watchlist's
bindings as `vigia match` explains them, and the actors added to the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules import Document, load_rules
from rules.errors import RuleSyntaxError

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


@pytest.fixture(scope="module")
def watchlist():  # type: ignore[no-untyped-def]
    return load_rules([{"builtin": "mx-us-security"}], Path("."))


def rule(**condition: object):  # type: ignore[no-untyped-def]
    return load_rules([{"id": "r", **condition}], Path("."))


ABOUT = {"about": {"name": "de México", "lead": 1,
                   "sides": [{"name": "México", "terms": ["México", "mexicano"]}],
                   "rival": {"name": "Honduras", "terms": ["Honduras", "hondureño"]}}}


def test_about_holds_when_the_side_outweighs_the_rival() -> None:
    ruleset = rule(**ABOUT)
    doc = Document("México extradita a un capo", "El gobierno de México lo entregó.\n\nUn hondureño fue detenido también.")
    assert ruleset.match(doc)


def test_about_fails_when_the_rival_leads_and_outweighs() -> None:
    ruleset = rule(**ABOUT)
    doc = Document("Honduras extradita a un exjefe policial",
                   "El gobierno de Honduras lo entregó a la DEA.\n\nEl hondureño llevaba droga hacia México.")
    evaluation = ruleset.evaluate(doc)[0]
    assert not evaluation.matched
    # title 3 + ¶1 2 + ¶2 1 against México's ¶2 1, said in words
    assert "the story is about something else" in evaluation.reason
    assert "México 1 (¶2)" in evaluation.reason and "Honduras 6 (title, ¶1, ¶2)" in evaluation.reason


def test_a_rival_only_far_down_weighs_nothing() -> None:
    ruleset = rule(**ABOUT)
    text = "La Marina actuó.\n\nNada más.\n\nEn Honduras, Honduras y Honduras hubo otra cosa; México también."
    assert ruleset.match(Document("Operativo", text))


def test_near_in_the_lead_binds_across_fields() -> None:
    ruleset = rule(near={"unit": "lead", "within": 1, "all": ["soberanía", "Washington"]})
    assert ruleset.match(Document("La soberanía en juego", "La presión de Washington crece.\n\nOtro párrafo."))
    miss = ruleset.evaluate(Document("La soberanía en juego", "Primero.\n\nLa presión de Washington crece."))[0]
    assert not miss.matched and "never all in the title, summary and first 1 paragraph(s)" in miss.reason


def test_a_first_paragraph_repeating_the_headline_is_not_the_lead() -> None:
    ruleset = rule(near={"unit": "lead", "within": 1, "all": ["soberanía", "Washington"]})
    doc = Document("La soberanía en juego", "La soberanía en juego\n\nLa presión de Washington crece.")
    assert ruleset.match(doc)


@pytest.mark.parametrize(
    ("condition", "key", "message"),
    [
        ({"about": {"rival": "Honduras"}}, "about.sides", "non-empty list"),
        ({"about": {"sides": ["México"], "lead": -1}}, "about.lead", "integer ≥ 0"),
        ({"about": {"sides": ["México"], "over": "x"}}, "about.over", "unknown key"),
        ({"about": "México"}, "about", "must be a mapping"),
        ({"near": {"unit": "chapter", "all": ["a", "b"]}}, "near.unit", "words, sentence, paragraph or lead"),
    ],
)
def test_about_and_lead_mistakes_name_the_key(condition: dict, key: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        rule(**condition)
    assert key in str(caught.value) and message in str(caught.value)


def test_explanation_says_which_binding_held(watchlist) -> None:  # type: ignore[no-untyped-def]
    doc = Document("La soberanía como coartada",
                   "Cada exigencia de Washington recibe la misma respuesta del gobierno mexicano.\n\n"
                   "México envía reos y despliega soldados contra los cárteles.")
    text = watchlist.explain(doc, "mx-us-security")
    assert "MATCH" in text
    assert "bindings:" in text
    assert "✓ México, EE.UU. y un tema de seguridad en la entrada" in text
    assert "· México, EE.UU. y un tema de seguridad en el mismo párrafo" in text
    assert "✓ la historia es de México y EE.UU., no de otro país" in text


def test_third_country_story_is_explained_as_about_another_country(watchlist) -> None:  # type: ignore[no-untyped-def]
    doc = Document("Honduras extradita a exalcalde acusado de narcotráfico",
                   "TEGUCIGALPA, HONDURAS.- Un exalcalde hondureño fue extraditado a Estados Unidos por narcotráfico.\n\n"
                   "La droga que protegía seguía hacia México y la frontera, según la DEA; compradores del cártel de Sinaloa "
                   "la recibían en Honduras.\n\nEl traslado se hizo desde Palmerola.")
    evaluation = watchlist.evaluate(doc)[0]
    assert not evaluation.matched
    assert "no de otro país" in evaluation.reason and "the story is about something else" in evaluation.reason


def test_the_corpus_honduran_page_on_joh_does_not_match(watchlist, shared_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from crawler.extraction import extract_article

    page = shared_dir / "corpus" / "articles" / "trafilatura" / "elheraldo.hn-JOH.html"
    extracted = extract_article(page.read_bytes().decode("utf-8", "replace"), "https://www.elheraldo.hn/")
    doc = Document(extracted.title or "", "\n\n".join(extracted.paragraphs), extracted.description or "")
    assert watchlist.match(doc) == []
    assert "otro país" in watchlist.explain(doc, "mx-us-security")


@pytest.mark.parametrize(
    ("sentence", "entity"),
    [
        ("Agentes de la CBP revisaron el tráiler.", "CBP"),
        ("La Oficina de Aduanas y Protección Fronteriza lo detuvo.", "CBP"),
        ("El INM presentó a los migrantes.", "Instituto Nacional de Migración"),
        ("La ATF rastreó los fusiles.", "ATF"),
        ("ICE detuvo a 60 personas.", "ICE"),
        ("La Cofepris emitió una alerta.", "Cofepris"),
        ("La UIF congeló las cuentas.", "Unidad de Inteligencia Financiera"),
        ("La OFAC sancionó a la red.", "Departamento del Tesoro"),
        ("El Departamento del Tesoro sancionó a la red.", "Departamento del Tesoro"),
        ("El Departamento de Justicia presentó cargos.", "Departamento de Justicia"),
        ("La Agencia Nacional de Aduanas de México revisó la carga.", "Agencia Nacional de Aduanas de México"),
        ("La ANAM revisó la carga.", "Agencia Nacional de Aduanas de México"),
        ("Elementos de la Guardia Nacional llegaron.", "Guardia Nacional"),
        ("La Sedena desplegó tropas.", "Secretaría de la Defensa Nacional"),
        ("La Defensa desplegó tropas.", "Secretaría de la Defensa Nacional"),
        ("La Semar aseguró la lancha.", "Secretaría de Marina"),
        ("La Marina aseguró la lancha.", "Secretaría de Marina"),
        ("La FGR abrió una carpeta.", "Fiscalía General de la República"),
        ("El gobierno mexicano respondió.", "Gobierno de México"),
        ("La Guardia Costera de Estados Unidos dio el aviso.", "Guardia Costera de Estados Unidos"),
    ],
)
def test_catalogue_names_the_actor_the_article_names(sentence: str, entity: str) -> None:
    ruleset = load_rules([{"id": "r", "entity_groups": ["mx-institutions", "us-agencies"]}], Path("."))
    found = ruleset.match(Document("", sentence))
    assert found and found[0].entities == [entity]


@pytest.mark.parametrize("sentence", ["El ice de la montaña.", "La cbp no es una sigla aquí.", "Un inm en minúsculas.",
                                      "La atf, en minúsculas.", "El uif y el ofac, en minúsculas."])
def test_acronyms_count_in_upper_case_only(sentence: str) -> None:
    ruleset = load_rules([{"id": "r", "entity_groups": ["mx-institutions", "us-agencies"]}], Path("."))
    assert ruleset.match(Document("", sentence)) == []


def test_palacio_nacional_is_only_palacio_nacional() -> None:
    """Slack shows the entities of a match: it must never name one the article does not."""
    ruleset = load_rules([{"id": "r", "entities": ["palacio-nacional"]}], Path("."))
    assert ruleset.match(Document("", "El gobierno mexicano habló en la mañanera.")) == []
    assert ruleset.match(Document("", "Se habló en Palacio Nacional."))[0].entities == ["Palacio Nacional"]


def test_every_failure_kind_has_labelled_articles() -> None:
    for name in ("realnews-tuning.jsonl", "realnews-heldout.jsonl"):
        rows = [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        categories = {row["category"] for row in rows}
        assert {"distractor", "opinion", "relevant-clear", "syndicated"} <= categories
        assert any(row["group"] and row["category"] != "syndicated" for row in rows)  # one event, two outlets
        assert all({"title", "paragraphs", "outlet", "published", "relevant", "category", "group", "why"} <= set(row) for row in rows)


def test_a_us_state_national_guard_is_not_the_mexican_guardia_nacional() -> None:
    ruleset = load_rules([{"id": "r", "entity_groups": ["mx-institutions"]}], Path("."))
    assert ruleset.match(Document("", "La Guardia Nacional de Texas patrulla el río.")) == []
    both = ruleset.match(Document("", "La Guardia Nacional llegó a Reynosa; la Guardia Nacional de Texas, a Laredo."))
    assert [h.start for h in both[0].hits] == [3]


def test_entity_except_is_validated(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("entities:\n  - {id: x, name: X, groups: [g], except: 3}\nrules:\n  - {id: r, entities: [x]}\n",
                                     encoding="utf-8")
    with pytest.raises(RuleSyntaxError) as caught:
        load_rules([{"file": "r.yaml"}], tmp_path)
    assert "except" in str(caught.value)
