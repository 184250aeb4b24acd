"""The Streamlit chat UI, run headless with ``AppTest`` over real indexes (real PDFs, embedder, Chroma)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmqa.answering.highlight import highlight, supporting_sentences
from mmqa.cli import UI_APP, ui_command
from mmqa.errors import MMQAError
from mmqa.index.lock import WriterLock
from mmqa.schema import Answer, AnswerSentence, Citation, Passage
from mmqa.service import MMQA, safe_upload_name
from mmqa.webview import answer_html, md_escape, passage_html, source_card_html
from tests.pdf_factory import text_pdf

TIMEOUT = 180  # the first run of a home loads the embedder


def start(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app pointed at ``home`` (as ``MMQA_HOME=home streamlit run ui/app.py`` would be), run once."""
    monkeypatch.setenv("MMQA_HOME", str(home))
    at = AppTest.from_file(str(UI_APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    """Type a question into the chat box."""
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def html_bodies(at: AppTest) -> list[str]:
    """Every ``st.html`` fragment on the page."""
    return [element.proto.body for element in at.html]


def cards(at: AppTest) -> list[str]:
    """The source cards (HTML) on the page."""
    return [body for body in html_bodies(at) if 'class="mmqa-source"' in body]


def cited_docs(at: AppTest) -> set[str]:
    """Doc ids named by the source cards."""
    return {doc for card in cards(at) for doc in re.findall(r"<code>([^<]+)</code>", card)}


def cited_sections(at: AppTest) -> list[str]:
    """The section line of each source card ('§3.1 Vision Transformer (ViT) · p. 3')."""
    return [re.search(r'class="mmqa-source-where">([^<]*)<', card).group(1) for card in cards(at)]


def test_chat_turn_streams_answer_with_source_cards_and_follow_up(ui_home, monkeypatch):
    at = ask(start(ui_home, monkeypatch), "What is multi-head attention and why is it used?")
    answers = [body for body in html_bodies(at) if 'class="mmqa-answer"' in body]
    assert len(answers) == 1 and 'href="#mmqa-t0-s1"' in answers[0]
    assert "attention" in answers[0].lower()
    assert cards(at) and 'id="mmqa-t0-s1"' in cards(at)[0]
    assert cited_docs(at) == {"1706.03762"}
    for where in cited_sections(at):  # section number and title, then pages
        assert re.fullmatch(r"§\d+(\.\d+)* \S.* · pp?\. \d+(–\d+)?", where), where
    assert any("<mark" in card for card in cards(at)), "the supporting sentences are highlighted"
    assert "Attention Is All You Need" in cards(at)[0]
    # the page image of each card, rendered once into HOME/pages/<doc>/<sha12>-p<N>.png
    assert at.image and all(c.startswith("page ") for image in at.image for c in image.captions)
    pngs = list((ui_home / "pages" / "1706.03762").glob("*-p*.png"))
    assert pngs and all(re.fullmatch(r"[0-9a-f]{12}-p\d+\.png", p.name) for p in pngs)

    at = ask(at, "How many heads does it use?")  # a follow-up: "it" is resolved from the previous turn
    history = at.session_state["chat"].history
    assert [t.question for t in history] == ["What is multi-head attention and why is it used?",
                                             "How many heads does it use?"]  # fmt: skip
    assert "attention" in history[1].standalone.lower()
    assert len([b for b in html_bodies(at) if 'class="mmqa-answer"' in b]) == 2
    assert any('id="mmqa-t1-s1"' in card for card in cards(at))


def test_scope_to_one_paper_and_a_section(ui_home, monkeypatch):
    at = start(ui_home, monkeypatch)
    at.selectbox(key="scope_doc").set_value("2010.11929").run()
    at = ask(at, "What is attention?")  # both papers talk about attention; only ViT may be cited
    assert cited_docs(at) == {"2010.11929"}

    at.button(key="toc-2010.11929-3.1").click().run()  # "browse sections": scope to §3.1 by clicking it
    assert at.selectbox(key="scope_section").value == "3.1"
    at = ask(at, "How is an image turned into a sequence of tokens?")
    new_cards = [c for c in cards(at) if 'id="mmqa-t1-' in c]
    assert new_cards and cited_docs(at) == {"2010.11929"}
    assert all(re.search(r'mmqa-source-where">§3\.1', card) for card in new_cards)


def test_empty_home_says_how_to_ingest_then_ingests_and_escapes_pdf_text(tmp_path, monkeypatch):
    at = start(tmp_path / "home", monkeypatch)
    assert not at.error and not at.chat_input
    assert "Nothing is indexed yet" in at.info[0].value and "mmqa ingest" in at.info[0].value

    evil = text_pdf(tmp_path / "evil.pdf", [[
        b"1 Introduction",
        b"The Zorblax encoder <script>alert('pdf')</script> maps image patches to visual tokens for the decoder.",
        b"The Zorblax decoder <img src=x onerror=alert(1)> reconstructs the masked image patches from the tokens.",
        b"Both parts of Zorblax are trained jointly on a large collection of images without any labels.",
    ]])  # fmt: skip
    at.text_input(key="ingest_path").set_value(str(evil)).run()
    at.button(key="ingest").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "1 added" in at.success[0].value
    assert at.chat_input, "the chat appears once something is indexed"

    at = ask(at, "What does the Zorblax encoder map image patches to?")
    assert cards(at), "the passage with the injected markup is cited"
    assert not any("<script" in body or "<img" in body for body in html_bodies(at))
    markdown = [m.value for m in at.markdown] + [e.label for e in at.expander] + [c.value for c in at.caption]
    assert not any(re.search(r"(?<!\\)<(script|img)", text) for text in markdown)  # only as escaped \<
    page = "\n".join(cards(at))
    assert "&lt;script&gt;alert(&#x27;pdf&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_index_from_other_settings_is_offered_for_rebuilding(tmp_path, settings_for, monkeypatch):
    paper = text_pdf(tmp_path / "zorblax.pdf", [[
        b"1 Introduction",
        b"The Zorblax encoder maps image patches to visual tokens for a small decoder that reconstructs them.",
        b"Both parts of Zorblax are trained jointly on a large collection of images without any labels.",
    ]])  # fmt: skip
    home = tmp_path / "home"
    assert MMQA(settings_for(home)).ingest([paper]).files[0].status == "added"
    monkeypatch.setenv("MMQA_CHUNKING__MAX_TOKENS", "200")  # stands in for a new parser: another index key
    at = start(home, monkeypatch)
    assert not at.chat_input and "earlier mmqa version" in at.info[0].value
    at.button(key="rebuild").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "1 added" in at.success[0].value
    assert at.chat_input, "the chat appears once the rebuilt index holds the paper"


def test_index_locked_by_another_writer_is_a_readable_error(ui_home, monkeypatch):
    at = start(ui_home, monkeypatch)
    with WriterLock(ui_home):  # another writer holds the index
        at.button(key="reingest").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "is being written by mmqa pid" in at.error[0].value
    assert "Traceback" not in at.error[0].value


def test_llm_down_is_a_readable_message(ui_home, monkeypatch):
    monkeypatch.setenv("MMQA_LLM", "openai-compatible:x")
    monkeypatch.setenv("MMQA_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9
    at = start(ui_home, monkeypatch)
    assert at.radio(key="backend").value == "openai-compatible:x"
    at = ask(at, "What is multi-head attention?")
    messages = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any("cannot connect" in m for m in messages), messages  # the fallback says why
    assert not any("Traceback" in m for m in messages)


def test_corrupt_manifest_is_a_readable_error(tmp_path, monkeypatch):
    from mmqa.settings import Settings

    manifest = MMQA(Settings.load(home=tmp_path)).manifest_path
    manifest.parent.mkdir(parents=True)
    manifest.write_text("{ not json")
    at = start(tmp_path, monkeypatch)
    assert len(at.error) == 1 and "unreadable manifest" in at.error[0].value


# -- the library pieces behind the page -------------------------------------------------------------


def _passage(text: str, **meta) -> Passage:
    base = {"doc_id": "2010.11929", "short_name": "ViT", "title": "An Image is Worth 16x16 Words",
            "section": "3.1", "section_title": "Vision Transformer (ViT)", "page_start": 3, "page_end": 3}  # fmt: skip
    return Passage("c1", text, {**base, **meta}, 1.0)


def test_highlight_marks_the_quoted_and_the_paraphrased_sentence():
    text = (
        "Transformers lack some inductive biases. The image is split into fixed-size patches, each linearly "
        "embedded. Position embeddings are added. We use a standard Transformer encoder."
    )
    quoted = highlight(text, ["Position embeddings are added."])
    assert [s.text for s in quoted if s.highlighted] == ["Position embeddings are added."]
    assert "".join(s.text for s in quoted) == text
    spans = supporting_sentences(text, ["ViT splits every image into patches of a fixed size and embeds them"])
    assert [text[a:b] for a, b in spans] == ["The image is split into fixed-size patches, each linearly embedded."]
    assert supporting_sentences(text, ["Completely unrelated words about cooking pasta"]) == []


def test_answer_html_links_sources_and_marks_unsupported_sentences():
    passage = _passage("Position embeddings are added. <b>Bold</b> & more.")
    answer = Answer("q", [AnswerSentence("Position embeddings are added.", [1]),
                          AnswerSentence("ViT <i>invented</i> attention.", [1], supported=False)],
                    [Citation(1, passage)], abstained=False)  # fmt: skip
    html = answer_html(answer, 3)
    assert '<a class="mmqa-ref" href="#mmqa-t3-s1">[1]</a>' in html
    assert 'class="mmqa-unsupported"' in html and "(unsupported)" in html
    assert "ViT &lt;i&gt;invented&lt;/i&gt; attention." in html and "<i>" not in html
    card = source_card_html(answer, answer.citations[0], 3)
    assert 'id="mmqa-t3-s1"' in card and "§3.1 Vision Transformer (ViT) · p. 3" in card
    assert "<code>2010.11929</code>" in card and "&lt;b&gt;Bold&lt;/b&gt; &amp; more." in card
    assert passage_html("a <script>x</script>", []) == "a &lt;script&gt;x&lt;/script&gt;"
    abstained = Answer("q", [], [], abstained=True, message="Not <covered>.")
    assert "Not &lt;covered&gt;." in answer_html(abstained, 0)


def test_markdown_escape():
    assert md_escape("[click](javascript:x) *b* $x$ :red[y] <b>") == (
        r"\[click\]\(javascript\:x\) \*b\* \$x\$ \:red\[y\] \<b\>"
    )


def test_uploads_stay_in_the_uploads_folder(tmp_path, settings_for):
    assert safe_upload_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert safe_upload_name("..\\..\\evil name?.PDF") == "evil_name.pdf"
    assert safe_upload_name("...") == "upload.pdf"
    service = MMQA(settings_for(tmp_path / "home"))
    stored = service.save_upload("../../../outside.pdf", b"%PDF-1.4 tiny")
    assert stored == tmp_path / "home" / "uploads" / "outside.pdf" and stored.read_bytes() == b"%PDF-1.4 tiny"
    with pytest.raises(MMQAError, match="not a PDF"):
        service.save_upload("page.pdf", b"<html><body>")
    with pytest.raises(MMQAError, match="too large"):
        service.save_upload("big.pdf", b"%PDF-" + b"0" * (50 * 2**20))


def test_page_image_is_rendered_once_and_checked(ui_home, settings_for):
    service = MMQA(settings_for(ui_home))
    path = service.page_image("2010.11929", 1)
    assert path.parent == ui_home / "pages" / "2010.11929" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mtime = path.stat().st_mtime_ns
    assert service.page_image("2010.11929", 1).stat().st_mtime_ns == mtime
    with pytest.raises(MMQAError, match="has no page 99"):
        service.page_image("2010.11929", 99)
    with pytest.raises(MMQAError, match="not indexed"):
        service.page_image("../etc", 1)


def test_ui_command_binds_loopback_without_usage_stats():
    command = ui_command(UI_APP, "127.0.0.1", 8765)
    assert command[1:4] == ["-m", "streamlit", "run"] and UI_APP.is_file()
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8765"
    assert flags["--browser.gatherUsageStats"] == "false" and flags["--server.headless"] == "true"


def test_progress_observer_draws_one_bar_over_all_files():
    from mmqa.ingest_report import FileResult
    from mmqa.webview import ProgressObserver

    drawn: list[tuple[float, str]] = []

    class Bar:
        def progress(self, value: float, text: str | None = None) -> None:
            drawn.append((value, text or ""))

    observer = ProgressObserver(Bar())
    observer.file_started(Path("a_paper.pdf"), 0, 2)
    observer.embedding(50, 100)
    observer.file_done(FileResult("a_paper.pdf", "added"))
    observer.file_started(Path("b.pdf"), 1, 2)
    observer.file_done(FileResult("b.pdf", "failed", reason="not a PDF"))
    assert [value for value, _ in drawn] == [0.0, 0.25, 0.5, 0.5, 1.0]
    assert drawn[1][1] == r"a\_paper\.pdf (1/2): embedding 50/100" and drawn[-1][1].endswith("(2/2): failed")
    assert [r.status for r in observer.results] == ["added", "failed"]
