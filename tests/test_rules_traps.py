"""The traps of issue 3: each is a Spanish sentence the built-in watchlist must get right."""

from __future__ import annotations

import pathlib

import pytest

from rules import Document, load_rules

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def watchlist():
    return load_rules([{"builtin": "mx-us-security"}], HERE)


@pytest.fixture(scope="module")
def officials():
    return load_rules([{"id": "mx", "entity_groups": ["mx-officials"]},
                       {"id": "us", "entity_groups": ["us-officials"]}], HERE)


def ids(ruleset, title: str, text: str) -> list[str]:
    return [m.rule_id for m in ruleset.match(Document(title, text))]


def test_rubio_as_hair_colour_is_not_the_secretary(officials):
    assert ids(officials, "Tendencias", "El rubio miel y el rubio cenizo dominarán este otoño.") == []
    assert ids(officials, "Tendencias", "Rubio cenizo: el tono de la temporada.") == []


def test_other_people_called_rubio(officials):
    assert ids(officials, "Fichajes", "Emiliano Rubio firmó con el Houston Dynamo.") == []


def test_rubio_counts_with_a_title_next_to_him(officials):
    assert ids(officials, "", "El secretario Rubio habló con su homólogo.") == ["us"]
    assert ids(officials, "", "Según dijo Rubio, secretario de Estado, el diálogo sigue.") == ["us"]


def test_rubio_counts_after_his_full_name(officials):
    text = "Marco Rubio viajó a México. Más tarde, Rubio se reunió con empresarios."
    match = officials.match(Document("", text))[0]
    assert [h.term for h in match.hits] == ["Marco Rubio", "Rubio"]


def test_de_la_fuente_as_a_fountain(officials):
    assert ids(officials, "", "¿Es seguro beber agua de la fuente en los parques?") == []


def test_other_de_la_fuente(officials):
    assert ids(officials, "", "Luis de la Fuente dio la lista para el Mundial.") == []


def test_canciller_de_la_fuente(officials):
    assert ids(officials, "", "El canciller De la Fuente llamó a su homólogo.") == ["mx"]


def test_johnson_needs_the_ambassador(officials):
    assert ids(officials, "", "Johnson presentó su nuevo champú para bebés.") == []
    assert ids(officials, "", "El embajador Johnson visitó Monterrey.") == ["us"]


def test_harfuch_short_form_needs_context(officials):
    assert ids(officials, "", "El secretario Harfuch viajó a Washington.") == ["mx"]
    assert ids(officials, "", "La familia Harfuch celebró una boda.") == []


def test_cooperation_between_other_countries(watchlist):
    text = ("España y Marruecos refuerzan su cooperación policial contra el narcotráfico en el Estrecho, "
            "con patrullas conjuntas y el intercambio de información sobre redes criminales.")
    assert ids(watchlist, "España y Marruecos contra el narcotráfico", text) == []


def test_us_canada_without_mexico(watchlist):
    text = "Estados Unidos y Canadá crean una fuerza de tarea contra el tráfico de fentanilo en su frontera."
    assert ids(watchlist, "EE.UU. y Canadá contra el fentanilo", text) == []


def test_domestic_crime_without_us_side(watchlist):
    text = "Una jornada violenta en Culiacán dejó nueve muertos; el Ejército reforzó la presencia ante el cártel."
    assert ids(watchlist, "Jornada violenta en Culiacán", text) == []


def test_us_drug_news_without_mexican_side(watchlist):
    text = "Las muertes por sobredosis de fentanilo en Estados Unidos caen por segundo año, según los CDC."
    assert ids(watchlist, "Caen las sobredosis en EE.UU.", text) == []


def test_trade_without_security(watchlist):
    text = "El arancel de 50% de Estados Unidos al acero golpea las exportaciones de México, dijo Canacero."
    assert ids(watchlist, "Arancel al acero", text) == []


def test_migration_without_security(watchlist):
    text = "Las remesas que los mexicanos envían desde Estados Unidos cayeron 4.6% por el temor a trámites migratorios."
    assert ids(watchlist, "Caen las remesas", text) == []


def test_cybersecurity(watchlist):
    text = ("Un ataque de ransomware paraliza al gobierno de Zacatecas; expertos de Estados Unidos piden "
            "reforzar la seguridad informática y la cooperación en ciberseguridad con México.")
    assert ids(watchlist, "Ransomware en Zacatecas", text) == []


def test_food_safety(watchlist):
    text = ("México y Estados Unidos firman un acuerdo de seguridad alimentaria para la inocuidad de las "
            "exportaciones agrícolas.")
    assert ids(watchlist, "Acuerdo de seguridad alimentaria", text) == []


def test_fiction_about_cartels(watchlist):
    text = ("La serie sobre un cártel mexicano y agentes de la DEA de Estados Unidos es la más vista en "
            "streaming; el elenco confirmó una segunda temporada.")
    assert ids(watchlist, "La serie de narcos más vista", text) == []


def test_road_traffic(watchlist):
    text = "Hasta tres horas de espera en la garita de Tijuana hacia San Diego por el tráfico decembrino."
    assert ids(watchlist, "Tráfico en garitas de Tijuana", text) == []


def test_words_inside_navigation_boxes(watchlist):
    text = ("El ayuntamiento de Mérida inauguró un parque con 300 árboles.\n\n"
            "Lee también: México y EU acuerdan frenar el tráfico de armas y fentanilo\n\n"
            "El parque abrirá de 6:00 a 22:00 horas.")
    assert ids(watchlist, "Nuevo parque en Mérida", text) == []


def test_story_without_the_word_cooperacion(watchlist):
    text = ("La FGR entregó a Estados Unidos a 17 integrantes de cárteles requeridos por el Departamento de "
            "Justicia, informó el secretario García Harfuch.")
    assert ids(watchlist, "México envía a EU a 17 reos", text) == ["mx-us-security"]


def test_english_copy_does_not_match(watchlist):
    text = ("Mexico sent 17 cartel suspects to the United States, Security Minister Omar Garcia Harfuch said, "
            "as Washington presses for action against fentanyl trafficking.")
    assert ids(watchlist, "Mexico sends 17 cartel suspects to US", text) == []
