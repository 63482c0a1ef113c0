"""Message rendering (alerts.blocks, mrkdwn, story_messages, listings): safe, readable, within Slack's limits (no network, no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alerts.blocks import BLOCK_LIMIT, HEADER_LIMIT, SECTION_LIMIT
from alerts.listings import digest_message
from alerts.mrkdwn import escape
from alerts.snippets import bold_snippet, lead_sentences
from alerts.story_messages import RuleHit, Story, copy_message, story_message

STORY = Story(
    url="https://www.milenio.com/politica/nota?id=1&utm=x",
    outlet="Milenio",
    title="Sheinbaum y Rubio acuerdan cooperación contra el fentanilo",
    author="Redacción",
    published_at=datetime(2026, 3, 2, 15, 7, tzinfo=UTC),
    text="Primera oración del texto. Segunda oración aquí. Tercera oración. Cuarta que no cabe.",
)


def hit(**explanation: object) -> RuleHit:
    return RuleHit.from_match("mx-us", "Seguridad MX-EU", 7.25, explanation)


def all_text(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False) + message.text


def test_story_message_shows_everything_an_analyst_needs() -> None:
    message = story_message(STORY, [hit(terms=["fentanilo"], entities=["Marco Rubio"],
                                        snippet="Rubio habló del fentanilo.", snippet_highlights=[[0, 5], [16, 25]])])
    body = all_text(message)
    assert "<https://www.milenio.com/politica/nota?id=1&amp;utm=x|Sheinbaum y Rubio" in body
    assert "*Milenio*" in body and "2 mar 2026, 15:07 UTC" in body and "Por Redacción" in body
    assert "Regla:* Seguridad MX-EU (puntuación 7.25)" in body
    assert "Términos:* fentanilo" in body and "Entidades:* Marco Rubio" in body
    assert "> *Rubio* habló del *fentanilo*." in body
    assert message.text.startswith("Sheinbaum y Rubio") and "https://www.milenio.com" in message.text


def test_missing_explanation_keys_are_fine() -> None:
    message = story_message(Story(url="https://x.example/a", outlet="X"), [RuleHit.from_match("r", None, None, None)])
    assert "(sin título)" in all_text(message)
    # Without a snippet from the matcher, the article's first sentences stand in.
    message = story_message(STORY, [hit(terms=["texto"], snippet_highlights="garbage")])
    assert "Primera oración del *texto*. Segunda oración aquí. Tercera oración." in all_text(message)


def test_injection_is_escaped_everywhere() -> None:
    evil = Story(url="https://evil.example/x|<!channel>", outlet="<!here>", title="<!channel> <https://evil|click>",
                 author="<@U1>")
    message = story_message(evil, [hit(terms=["<!everyone>"], snippet="<!channel> hola", snippet_highlights=[[0, 10]])])
    body = all_text(message)
    for raw in ("<!channel>", "<!here>", "<https://evil|click>", "<@U1>", "<!everyone>"):
        assert raw not in body
    assert "&lt;!channel&gt; &lt;https://evil|click&gt;" in body
    assert "https://evil.example/x%7C%3C!channel%3E" in body
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"


def test_non_http_links_are_not_linked() -> None:
    message = story_message(Story(url="javascript:alert(1)", outlet="X", title="T"), [hit()])
    assert "javascript:" not in json.dumps(message.blocks)


def test_limits_hold_for_huge_inputs() -> None:
    long = Story(url="https://x.example/a", outlet="O" * 5000, title="T" * 5000, author="A" * 5000, text="x. " * 5000)
    message = story_message(long, [hit(terms=[f"t{i}" for i in range(2000)], snippet="s" * 10000)] * 80)
    assert len(message.blocks) <= BLOCK_LIMIT
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
    stories = [(Story(url=f"https://x.example/{i}", outlet="O", title="&" * 400), []) for i in range(500)]
    digest = digest_message("H" * 400, [(f"regla {r}", stories) for r in range(30)])
    assert len(digest.blocks) <= BLOCK_LIMIT
    assert len(digest.blocks[0]["text"]["text"]) <= HEADER_LIMIT
    for block in digest.blocks[1:]:
        text = block["text"]["text"]
        assert len(text) <= SECTION_LIMIT and not text.endswith("&amp")


def test_english_locale_and_also_in_list() -> None:
    message = story_message(STORY, [hit(), hit()], locale="en", also_in=[("Infobae", "https://infobae.example/1")])
    body = all_text(message)
    assert "Rules:*" in body and "score 7.25" in body and "Mar 2, 2026" in body
    assert "Also in: <https://infobae.example/1|Infobae>" in body
    assert "También en *Milenio*" in copy_message(STORY).text.replace("También en Milenio", "También en *Milenio*")


def test_bold_snippet_merges_overlaps_and_escapes() -> None:
    assert bold_snippet("a <b> c", [(2, 5), (3, 4)]) == "a *&lt;b&gt;* c"
    assert bold_snippet("abc", [(5, 9)]) == "abc"


def test_lead_sentences() -> None:
    assert lead_sentences("Uno. Dos. Tres. Cuatro.", count=2) == "Uno. Dos."
    assert lead_sentences(None) == ""


def test_only_the_first_terms_are_listed_with_a_count_of_the_rest() -> None:
    from alerts.story_messages import SHOWN_TERMS

    terms = [f"término{i}" for i in range(SHOWN_TERMS + 3)]
    body = all_text(story_message(STORY, [hit(terms=terms, snippet="Texto.")]))
    assert f"término{SHOWN_TERMS - 1} (+3)" in body
    assert f"término{SHOWN_TERMS}," not in body and f"término{SHOWN_TERMS + 2}" not in body


# -- issue 10, item 17: page text cannot format, hide or break a message ------------------------


def test_mrkdwn_markers_from_a_page_do_not_format() -> None:
    sly = Story(url="https://x.example/a_b*c~d", outlet="*Diario* _Sur_", title="*Urgente*: _todo_ ~falso~ `rm -rf`",
                author="~Nadie~")
    message = story_message(sly, [hit(terms=["*negrita*"], snippet="Un *aviso* _falso_ ~tachado~ `código`")])
    body = all_text(message).replace("https://x.example/a_b*c~d", "")
    for marked in ("*Urgente*", "_todo_", "~falso~", "`rm -rf`", "*Diario*", "_Sur_", "~Nadie~", "*aviso*",
                   "_falso_", "~tachado~", "`código`", "*negrita*"):
        assert marked not in body
    # The look-alikes are the point here: the reader still sees the words.
    assert "∗Urgente∗: ＿todo＿ ∼falso∼ ˋrm -rfˋ" in body
    assert "<https://x.example/a_b*c~d|" in json.dumps(message.blocks)  # URLs are left as they are


def test_a_5000_character_title_is_cut_inside_the_label_not_the_link() -> None:
    long = Story(url="https://x.example/larga", outlet="O", title="Palabra " * 625)
    message = story_message(long, [hit()])
    first = message.blocks[0]["text"]["text"]
    assert first.startswith("*<https://x.example/larga|Palabra") and first.endswith("…>*")
    assert len(first) <= SECTION_LIMIT
    copy = copy_message(long)
    assert copy.blocks[0]["text"]["text"].endswith("…>")


def test_bidi_overrides_and_zero_width_characters_are_dropped() -> None:
    hidden = "\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth\u200c\u200d\ufeff"
    message = story_message(Story(url="https://x.example/b", outlet="O\u202e", title=hidden), [hit(snippet=hidden)])
    body = all_text(message)
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\ufeff":
        assert char not in body
    assert "evil iso zerowidth" in body


def test_a_date_in_year_9998_is_not_shown() -> None:
    future = Story(url="https://x.example/f", outlet="Diario", title="T",
                   published_at=datetime(9998, 1, 1, tzinfo=UTC))
    assert "9998" not in all_text(story_message(future, [hit()]))
