"""Each feature of the rule language, shown on a Spanish sentence."""

from __future__ import annotations

import pathlib
import sys

import pytest

from rules import Document, RuleMatch, load_rules
from rules.spanish import _LOWER_LETTERS_ONLY, detect_language

HERE = pathlib.Path(__file__).resolve().parent


def rules(*entries: dict):
    return load_rules(list(entries), HERE)


def matched(ruleset, title: str = "", text: str = "", summary: str = "") -> list[str]:
    return [m.rule_id for m in ruleset.match(Document(title=title, text=text, summary=summary))]


def test_phrase_is_case_and_accent_insensitive_on_word_boundaries():
    rs = rules({"id": "armas", "terms": ["tráfico de armas"]})
    assert matched(rs, text="Detienen a red de TRAFICO DE ARMAS en Sonora.") == ["armas"]
    assert matched(rs, text="El contrabando de armamento creció.") == []


def test_word_boundary_blocks_substrings():
    rs = rules({"id": "ice", "terms": ["seguridad"]})
    assert matched(rs, text="La inseguridad alimentaria persiste en la región.") == []


def test_n_tilde_is_kept():
    rs = rules({"id": "anos", "terms": ["años"]})
    assert matched(rs, text="Tiene cinco anos de experiencia.") == []
    assert matched(rs, text="Hace cinco años de la firma.") == ["anos"]


def test_wildcard_matches_rest_of_word():
    rs = rules({"id": "coop", "terms": ["cooperaci*"]})
    assert matched(rs, text="Las cooperaciones regionales avanzan.") == ["coop"]
    assert matched(rs, text="El cooperativismo crece.") == []


def test_stems_match_inflections_of_topic_words():
    rs = rules({"id": "coop", "stems": ["cooperación"]})
    for sentence in ("México y EU acuerdan cooperar.", "Cooperaron en la frontera.", "Nuevas cooperaciones."):
        assert matched(rs, text=sentence) == ["coop"], sentence


def test_multiword_stem_phrase():
    rs = rules({"id": "ext", "stems": ["extraditar capos"]})
    assert matched(rs, text="El gobierno extraditó a varios capos.") == []
    assert matched(rs, text="Acordaron extraditaron capos del cártel.") == ["ext"]


def test_all_any_none_nest():
    rs = rules({"id": "r", "all": [{"any": ["fentanilo", "cocaína"]}, "frontera"], "none": ["serie"]})
    assert matched(rs, text="Decomisan fentanilo en la frontera de Sonora.") == ["r"]
    assert matched(rs, text="Decomisan fentanilo en el puerto.") == []
    assert matched(rs, text="La serie muestra fentanilo en la frontera.") == []


def test_any_min_counts_members():
    rs = rules({"id": "r", "any": [{"terms": ["DEA"]}, {"terms": ["FBI"]}, {"terms": ["ATF"]}], "min": 2})
    assert matched(rs, text="La DEA participó en el operativo.") == []
    assert matched(rs, text="La DEA y el FBI participaron en el operativo.") == ["r"]


def test_near_within_words():
    rs = rules({"id": "r", "near": {"terms": ["seguridad", "cooperación"], "within": 3}})
    assert matched(rs, text="Refuerzan la cooperación en seguridad.") == ["r"]
    assert matched(rs, text="La cooperación cultural entre ambos países incluye becas, intercambios y por supuesto seguridad.") == []


def test_near_same_sentence_and_paragraph():
    sentence = rules({"id": "s", "near": {"terms": ["Sinaloa", "Texas"], "unit": "sentence"}})
    assert matched(sentence, text="Detienen en Sinaloa a un fugitivo de Texas. Era buscado.") == ["s"]
    assert matched(sentence, text="Detienen en Sinaloa a un fugitivo. Era buscado en Texas.") == []
    paragraph = rules({"id": "p", "near": {"terms": ["Sinaloa", "Texas"], "unit": "paragraph"}})
    assert matched(paragraph, text="Detienen en Sinaloa a un fugitivo. Era buscado en Texas.") == ["p"]
    assert matched(paragraph, text="Detienen en Sinaloa a un fugitivo.\n\nEra buscado en Texas.") == []


def test_near_item_can_be_alternatives():
    rs = rules({"id": "r", "near": {"terms": [["fentanilo", "cocaína"], "Manzanillo"], "within": 5}})
    assert matched(rs, text="Aseguran cocaína en el puerto de Manzanillo.") == ["r"]


def test_field_weights_and_threshold():
    rs = rules({"id": "r", "terms": ["fentanilo"], "threshold": 3})
    assert matched(rs, title="Decomisan fentanilo en Sonora") == ["r"]          # title weight 3
    assert matched(rs, text="Decomisan fentanilo en Sonora.") == []               # body weight 1
    evaluation = rs.evaluate(Document(title="", text="Decomisan fentanilo en Sonora."))[0]
    assert evaluation.reason == "score 1 < threshold 3"


def test_leaf_restricted_to_fields():
    rs = rules({"id": "r", "terms": ["extradición"], "in": ["title"]})
    assert matched(rs, title="Otra nota", text="Piden la extradición del capo.") == []
    assert matched(rs, title="Piden la extradición del capo", text="") == ["r"]


def test_except_drops_hits_inside_longer_phrases():
    rs = rules({"id": "r", "terms": ["seguridad"], "except": ["seguridad alimentaria"]})
    assert matched(rs, text="La FAO alerta sobre la seguridad alimentaria.") == []
    assert matched(rs, text="La FAO alerta sobre la seguridad en la región.") == ["r"]


def test_case_sensitive_terms():
    rs = rules({"id": "r", "terms": ["EU"], "case": "sensitive"})
    assert matched(rs, text="EU y México pactan más revisiones.") == ["r"]
    assert matched(rs, text="eu-funded projects") == []


def test_regex_runs_on_folded_text():
    rs = rules({"id": "r", "regex": r"\d+ (?:armas|rifles)"})
    assert matched(rs, text="Aseguran 48 ARMAS largas en Nuevo Laredo.") == ["r"]


def test_entity_groups_and_channel_mode_digest():
    rs = load_rules([{"file": "fixtures/rules/agua.yaml"}], HERE)
    rule = rs.rules[0]
    assert (rule.id, rule.channel, rule.mode) == ("agua", "#agua", "digest")
    assert rule.digest == {"every": "daily", "at": "08:00", "timezone": "America/Mexico_City"}
    found = rs.match(Document("Tensión por el agua", "México adeuda agua a Estados Unidos según el Tratado de Aguas de 1944."))
    assert [m.rule_id for m in found] == ["agua"]
    assert found[0].channel == "#agua" and found[0].mode == "digest"


def test_entity_group_leaf():
    rs = rules({"id": "r", "all": [{"entity_groups": ["us-agencies"]}, "Culiacán"]})
    assert matched(rs, text="La DEA aportó información para el operativo en Culiacán.") == ["r"]
    assert matched(rs, text="La dea del templo fue restaurada en Culiacán.") == []


def test_match_result_has_hits_snippet_and_explanation():
    rs = rules({"id": "r", "name": "Armas", "all": ["tráfico de armas", {"entities": ["atf"]}]})
    text = "El clima fue templado. La ATF rastreó las armas; el tráfico de armas hacia el sur creció. Fin."
    match: RuleMatch = rs.match(Document("Aseguran armas", text))[0]
    assert match.terms == ["tráfico de armas"] and match.entities == ["ATF"]
    for hit in match.hits:
        assert getattr(Document("Aseguran armas", text), hit.field)[hit.start:hit.end] == hit.term
    assert "tráfico de armas" in match.snippet
    bold = [match.snippet[a:b] for a, b in match.snippet_highlights]
    assert "ATF" in bold and "tráfico de armas" in bold
    assert "ATF" in match.explanation and "score" in match.explanation
    assert RuleMatch.from_dict(match.to_dict()) == match


def test_offsets_map_back_when_folding_changes_length():
    rs = rules({"id": "r", "terms": ["fentanilo"]})
    text = "Straße İstanbul: decomisan fentanilo."
    hit = rs.match(Document("", text))[0].hits[0]
    assert text[hit.start:hit.end] == "fentanilo"


def test_evaluate_reports_which_group_failed():
    rs = rules({"id": "r", "all": [{"name": "lado mexicano", "terms": ["México"]},
                                   {"name": "lado estadounidense", "terms": ["Estados Unidos"]}]})
    evaluation = rs.evaluate(Document("", "México refuerza la vigilancia en Chiapas."))[0]
    assert not evaluation.matched
    assert "lado estadounidense" in evaluation.reason and "no term found" in evaluation.reason


def test_navigation_boxes_do_not_count():
    rs = rules({"id": "r", "terms": ["fentanilo"]})
    text = "Abren un nuevo parque en Mérida.\n\nLee también: Decomisan fentanilo en Sonora\n\nEl parque abre a las 8."
    assert matched(rs, text=text) == []
    text = "Abren un nuevo parque.\n\nTe puede interesar\n\nDecomisan fentanilo en Sonora\n\nEl parque abre."
    assert matched(rs, text=text) == []


@pytest.mark.parametrize("entry", [{"builtin": "mx-us-security"}])
def test_builtin_loads(entry):
    rs = load_rules([entry], HERE)
    assert rs.rules[0].id == "mx-us-security"


def test_language_es_skips_portuguese_and_english_copies():
    rs = rules({"id": "fent", "language": "es", "terms": ["fentanilo", "fentanil"]})
    spanish = "La presidenta de México dijo que conversó con el presidente de Estados Unidos sobre el fentanilo y las armas."
    portuguese = "A presidente do México disse que conversou com o presidente dos Estados Unidos sobre o fentanil e as armas."
    english = "The Mexican president said she talked with the US president about fentanyl and the guns that cross the border."
    assert matched(rs, text=spanish) == ["fent"]
    assert matched(rs, text=portuguese) == []
    assert matched(rs, text=english) == []


def test_role_context_terms_count_but_are_listed_after_the_decisive_ones():
    rs = rules({"id": "armas", "all": [
        {"name": "lugar", "role": "context", "any": [{"terms": ["Ciudad de México", "Tijuana"]}]},
        {"any": [{"terms": ["tráfico de armas"]}, {"near": {"terms": ["seguridad", "reunión"], "within": 3}, "role": "context"}]},
    ]})
    doc = Document("Reunión de seguridad en Tijuana", "En la Ciudad de México se habló del tráfico de armas.")
    match = rs.match(doc)[0]
    assert match.terms == ["tráfico de armas", "Reunión", "seguridad", "Tijuana", "Ciudad de México"]
    assert {h.term for h in match.hits} >= {"Tijuana", "Ciudad de México", "tráfico de armas"}
    assert "(context)" in match.explanation
    # context words alone still decide: without the decisive term the rule matches on them
    only_context = rs.match(Document("Reunión de seguridad en Tijuana", ""))[0]
    assert only_context.terms == ["Reunión", "seguridad", "Tijuana"]


def test_role_decisive_inside_a_context_group_and_bad_role():
    rs = rules({"id": "r", "any": [{"role": "context", "any": [{"terms": ["Tijuana"]}, {"terms": ["fentanilo"], "role": "decisive"}]}]})
    match = rs.match(Document("", "Fentanilo decomisado en Tijuana."))[0]
    assert match.terms == ["Fentanilo", "Tijuana"]
    with pytest.raises(Exception, match="role"):
        rules({"id": "r", "terms": ["x"], "role": "weak"})


def test_the_spanish_detectors_byte_path_reads_words_as_str_lower_does():
    """rules.spanish counts words on Latin-1 bytes, lowered by a byte table, when no character
    beyond Latin-1 is a letter: that is the words of ``text.lower()`` only if every Latin-1
    letter lowers to one Latin-1 letter and nothing else lowers to a Latin-1 letter."""
    for code in range(256):
        char = chr(code)
        expected = char.lower() if char.isalpha() else " "
        assert chr(_LOWER_LETTERS_ONLY[code]) == expected, hex(code)
    wrong = [hex(code) for code in range(256, sys.maxunicode + 1)
             if not chr(code).isalpha() and any(c <= "\xff" and c.isalpha() for c in chr(code).lower())]
    assert wrong == []
    # a capitalised Spanish text with quotes and dashes beyond Latin-1 is still read as Spanish
    text = ("“EL GOBIERNO DE MÉXICO Y LOS ESTADOS UNIDOS” — dijo la secretaria — firmaron con "
            "el apoyo de las fuerzas que se reunieron para el acuerdo, pero también según los datos "
            "de la fiscalía hay una red que opera desde hace años en la frontera con el país vecino.")
    assert detect_language(text) == "es"
    assert detect_language(text.upper()) == "es"
