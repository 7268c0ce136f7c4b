"""The reader: every MailFacts field is set, text whitespace is collapsed, quotes and pixels are counted."""

from __future__ import annotations

import dataclasses

from butler.mail.message import MailFacts, read_facts

RAW = (b"From: Shop <news@shop.example>\r\nTo: me@example.org\r\nSubject: =?utf-8?q?50=25_off?=\r\n"
       b"Message-ID: <1@shop.example>\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
       b"--b\r\nContent-Type: text/plain\r\n\r\nHello  there,\r\n> quoted\r\n--b\r\n"
       b"Content-Type: text/html\r\n\r\n<p>Hi</p><img src=x width=1 height=1>\r\n--b--\r\n")


def test_read_facts_sets_every_field_like_the_dataclass() -> None:
    facts = read_facts(RAW)
    values = {f.name: getattr(facts, f.name) for f in dataclasses.fields(MailFacts)}
    assert set(values) <= set(vars(facts))
    rebuilt = MailFacts(**values)
    assert rebuilt == facts
    assert facts.subject == "50% off" and facts.sender == "news@shop.example" and facts.tracking_pixels == 1
    assert facts.text == "Hello there, > quoted" and facts.quoted == 1


def test_unreadable_bytes_still_give_complete_facts() -> None:
    for raw in (b"", b"\x00\xff" * 50, b"no header at all\n\nbody"):
        facts = read_facts(raw)
        assert all(hasattr(facts, f.name) for f in dataclasses.fields(MailFacts))


def test_an_html_document_sent_as_plain_text_is_read_as_html() -> None:
    page = (b"<html><head><style>p {color: red}</style></head><body><p>Big   <b>savings</b></p>"
            b"<img src=http://x.example/a.gif><img src=http://x.example/o.gif width=1 height=1></body></html>")
    for ctype in (b"Content-Type: text/plain; charset=us-ascii\r\n", b""):  # declared as text, or not declared
        facts = read_facts(b"From: a@b.example\r\nSubject: hi\r\n" + ctype + b"\r\n  " + page)
        assert facts.html.lstrip().startswith("<html>") and facts.html_only
        assert facts.text == "Big savings" and facts.images == 2 and facts.tracking_pixels == 1
    prose = read_facts(b"From: a@b.example\r\nSubject: hi\r\n\r\nUse <html> and <body> tags like this.")
    assert prose.html == "" and prose.text == "Use <html> and <body> tags like this."
