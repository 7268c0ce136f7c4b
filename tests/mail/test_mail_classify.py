"""The classifier on constructed messages, hostile input, and the `butler mail classify` output format."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from butler.mail import Category, Memory, classify
from butler.mail.message import read_facts
from tests.mail.mailfactory import list_mail, personal, promotion, receipt


def _msg(headers: str, body: str, ctype: str = "text/plain") -> bytes:
    return (headers.strip() + f"\nContent-Type: {ctype}; charset=utf-8\n\n" + body).replace("\n", "\r\n").encode()


def test_esp_marketing_is_a_promotion_with_reasons() -> None:
    c = classify(promotion())
    assert c.category is Category.PROMOTION
    text = c.explain()
    assert "one-click" in text and "discount code" in text and "tracking pixel" in text


def test_receipt_from_the_same_brand_is_transactional() -> None:
    assert classify(receipt()).category is Category.TRANSACTIONAL


@pytest.mark.parametrize("subject", ["Reset your password", "Verify your email address",
                                     "Security alert: new sign-in from Firefox", "Your invoice #2291"])
def test_account_and_billing_mail_from_marketing_senders_stays(subject: str) -> None:
    raw = _msg(f"From: Shoply <no-reply@shoply.example>\nSubject: {subject}\nFeedback-ID: a:b:c\n"
               "List-Unsubscribe: <https://shoply.example/u>\nMessage-ID: <x@shoply.example>",
               "Click the link below within 24 hours. Save 10% on your next order with code WELCOME10.")
    assert classify(raw).category is Category.TRANSACTIONAL


def test_discussion_list_is_never_a_promotion() -> None:
    assert classify(list_mail()).category is Category.LIST


def test_personal_mail() -> None:
    assert classify(personal()).category is Category.PERSONAL
    reply = _msg("From: a@b.example\nTo: me@c.example\nSubject: Re: the sale\nIn-Reply-To: <1@b.example>",
                 "Sure, the 30% off sale sounds good, shall we go on Saturday?")
    assert classify(reply).category is Category.PERSONAL


def test_newsletter_that_sells_nothing() -> None:
    raw = _msg("From: Weekly <newsletter@news.example>\nSubject: This week in science\n"
               "List-Unsubscribe: <https://news.example/u>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
               "Message-ID: <n@news.example>", "Three stories about comets, coral reefs and bees.")
    assert classify(raw).category is Category.NEWSLETTER


def test_schema_org_discount_markup_counts() -> None:
    raw = _msg("From: deals@store.example\nSubject: Picked for you\nList-Unsubscribe: <https://store.example/u>",
               '<div itemscope itemtype="http://schema.org/DiscountOffer"><p>Great picks</p></div>', "text/html")
    c = classify(raw)
    assert any(s.name == "schema-offer" for s in c.signals)
    assert c.category is Category.PROMOTION


def test_upstream_spam_flag() -> None:
    raw = _msg("From: x@y.example\nSubject: hello\nX-Spam-Flag: YES", "hi")
    assert classify(raw).category is Category.SPAM


def test_memory_keeps_a_rescued_sender_and_promotes_a_filed_one() -> None:
    memory = Memory()
    c = classify(promotion("keep.example"), memory)
    memory.rescued(c.sender, c.category.value, c.tokens)
    assert classify(promotion("keep.example"), memory).kept_by_memory
    assert not classify(promotion("other.example"), memory).kept_by_memory
    memory.promoted("ana@friends.example", [])
    assert classify(personal(), memory).category is Category.PROMOTION


def test_a_rescue_keeps_that_kind_of_mail_from_a_shared_address_not_all_its_promotions() -> None:
    # hello@shop sends both: receipts that read like marketing, and promotions
    receipt_like = _msg("From: Shop <hello@shop.example>\nTo: me@home.example\nSubject: Thanks, Sam!\n"
                        "Message-ID: <r1@shop.example>\nFeedback-ID: a:b:c\nX-SG-EID: x\n"
                        "List-Unsubscribe: <https://shop.example/u>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click",
                        "Thanks for your order. Your receipt: boots $89.00. Summer sale: 30% off with code SUN30, "
                        "shop now, ends Sunday! Unsubscribe from offers.")
    memory = Memory()
    c = classify(receipt_like, memory)
    assert c.category in (Category.PROMOTION, Category.SPAM)  # the mistake the person corrects
    memory.rescued(c.sender, c.category.value, c.tokens, c.kind, read_facts(receipt_like).words)
    again = receipt_like.replace(b"r1@", b"r2@").replace(b"boots $89.00", b"a scarf $29.00")
    assert classify(again, memory).kept_by_memory  # that sender's similar mail never moves again
    sale = promotion("shop.example").replace(b"news@shop.example", b"hello@shop.example")
    kept = classify(sale, memory)
    assert kept.sender == "hello@shop.example" and kept.category is Category.PROMOTION
    assert not kept.kept_by_memory  # its promotions still move
    restored = Memory.from_json(memory.to_json())
    assert classify(again, restored).kept_by_memory and not classify(sale, restored).kept_by_memory
    restored.senders["hello@shop.example"].keep("promotion")  # `undo --sender`: the whole category
    assert classify(sale, restored).kept_by_memory


def test_classifier_is_pure() -> None:
    raw = promotion()
    assert classify(raw) == classify(raw)


HOSTILE = {
    "empty": b"",
    "binary": bytes(range(256)) * 40,
    "no-headers": b"just a body\r\n",
    "bad-charset": b"From: a@b.example\r\nSubject: =?x-unknown?B?SGVsbG8=?=\r\nContent-Type: text/plain; "
                   b"charset=x-nonexistent\r\n\r\n\xff\xfe bad bytes\r\n",
    "header-injection": b"From: a@b.example\r\nSubject: hi\r\n\tBcc: victim@c.example\r\nList-Unsubscribe: "
                        b"<https://x.example/u\r\n\x00>\r\n\r\nbody",
    "broken-mime": b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\n"
                   b"Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n",
    "deep-nesting": b"From: a@b.example\r\n" + b"".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode() for i in range(3000)),
    "huge-attachment": b"From: a@b.example\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
                       b"--q\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--q\r\nContent-Type: "
                       b"application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                       + b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n" * 400_000
                       + b"--q--\r\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_mail_never_crashes(name: str) -> None:
    raw = HOSTILE[name]
    start = time.thread_time()  # the work this thread did, which a busy machine does not stretch
    c = classify(raw)
    assert isinstance(c.category, Category)
    assert time.thread_time() - start < 2.0
    facts = read_facts(raw)
    assert all("\n" not in v and "\r" not in v for v in facts.headers.values())


def test_classify_command_prints_one_line_per_file_without_a_vault(tmp_path: Path) -> None:
    files = []
    for name, raw in (("promo.eml", promotion()), ("receipt.eml", receipt()), ("ana.eml", personal())):
        (tmp_path / name).write_bytes(raw)
        files.append(str(tmp_path / name))
    out = subprocess.run([sys.executable, "-m", "butler", "mail", "classify", *files], capture_output=True,
                         text=True, check=True, timeout=60).stdout.splitlines()
    assert [line.split("\t")[:2] for line in out] == [[files[0], "promotion"], [files[1], "transactional"],
                                                     [files[2], "personal"]]
    assert all(0.0 <= float(line.split("\t")[2]) <= 1.0 for line in out)


def test_reader_decodes_what_the_classifier_needs() -> None:
    raw = (b"From nobody Mon Jun  2 10:00:00 2025\r\n"
           b"From: =?utf-8?q?Caf=C3=A9_Nord?= <News@Cafe.example>\r\n"
           b"Subject: =?iso-8859-1?q?Sommer=2DRabatt_f=FCr?=\r\n =?utf-8?b?U2llIQ==?=\r\n"
           b"To: a@home.example, b@home.example\r\n"
           b"Content-Type: multipart/alternative; boundary=\"xx\"\r\n\r\n"
           b"preamble\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"R3LDvMOfZSBhdXMgZGVtIE5vcmRlbg==\r\n--xx\r\nContent-Type: text/html; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<a href=3D\"https://shop.cafe.example/x\">Shop</a>"
           b"<img src=3D\"https://t.example/o.gif\" width=3D\"1\" height=3D\"1\">\r\n--xx--\r\n")
    facts = read_facts(raw)
    assert (facts.sender, facts.sender_domain, facts.display_name) == ("news@cafe.example", "cafe.example",
                                                                       "Café Nord")
    assert facts.subject == "Sommer-Rabatt fürSie!"
    assert facts.text == "Grüße aus dem Norden"
    assert facts.recipients == 2 and facts.tracking_pixels == 1 and facts.urls == ["https://shop.cafe.example/x"]


def test_phrases_match_whole_words_in_several_languages() -> None:
    de = _msg("From: Laden <news@laden.example>\nSubject: Nur heute\nList-Unsubscribe: <https://laden.example/u>",
              "Versandkostenfrei bis Sonntag. Jetzt kaufen! Newsletter abbestellen.")
    names = {s.name for s in classify(de).signals}
    assert {"sales-language", "a-call-to-buy", "a-marketing-footer"} <= names
    assert "sales-language" not in {s.name for s in classify(_msg("From: a@b.example\nSubject: x",
                                                                  "The wholesale market and salesforce")).signals}


def test_skipping_the_token_model_never_changes_a_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from butler.demo.samples import modern_set, trap_set

    memory = Memory()
    for item in modern_set(400, seed=1):
        memory.tokens.learn(classify(item.raw).tokens, item.label in ("promotion", "spam"))
    messages = [i.raw for i in modern_set(300, seed=2) + trap_set(60)] + [list_mail(), receipt(), personal()]
    skipped = [classify(raw, memory) for raw in messages]
    monkeypatch.setattr(importlib.import_module("butler.mail.classify"), "_settled", lambda *_: False)
    consulted = [classify(raw, memory) for raw in messages]
    assert [(c.category, c.score) for c in skipped] == [(c.category, c.score) for c in consulted]
    assert sum(c.learned == 0 for c in skipped) > sum(c.learned == 0 for c in consulted)  # some were skipped


def test_the_token_model_reads_each_word_once_and_no_link_domains() -> None:
    raw = promotion()
    facts = read_facts(raw)
    tokens = classify(raw).tokens
    assert set(facts.subject_words) & {t for t in tokens if ":" not in t}  # subject words come in as words
    assert not [t for t in tokens if t.startswith(("subj:", "link:"))]
    assert {t for t in tokens if ":" in t} <= {f"sig:{s.name}" for s in classify(raw).signals} | {
        "from:" + ".".join(facts.sender_domain.split(".")[-2:])}


def test_a_saved_model_drops_tokens_older_versions_made() -> None:
    from butler.mail.learn import TokenModel

    saved = {"promo": {"sale": 4, "subj:sale": 4, "link:shop.example": 3}, "other": {"meeting": 5, "subj:re": 2},
             "n_promo": 4, "n_other": 5}
    model = TokenModel.from_json(saved)
    assert model.promo == {"sale": 4} and model.other == {"meeting": 5}
    assert (model.n_promo, model.n_other) == (4, 5)


def test_log_odds_is_the_mean_of_the_strongest_tokens() -> None:
    """The ranked table gives what a plain reading of the definition gives: the 30 strongest capped log-likelihood
    ratios of the message's known tokens, summed and divided by the square root of their number."""
    import math

    from butler.demo.samples import modern_set, trap_set
    from butler.mail.learn import TokenModel
    from butler.mail.signals import extra_tokens, read_signals

    model = TokenModel()
    for item in modern_set(300, seed=4):
        model.learn(classify(item.raw).tokens, item.label in ("promotion", "spam"))
    shift = math.log(model.n_other + 1) - math.log(model.n_promo + 1)
    compared = 0
    for item in modern_set(120, seed=5) + trap_set(40):
        facts = read_facts(item.raw)
        extra = extra_tokens(facts, read_signals(facts))
        scores = []
        for token in facts.words | set(extra):
            p, o = model.promo.get(token, 0), model.other.get(token, 0)
            if p + o >= 2:
                scores.append(max(-2.5, min(2.5, math.log(p + 0.5) - math.log(o + 0.5) + shift)))
        scores.sort(key=abs, reverse=True)
        if len(scores) > 30 and abs(scores[29]) == abs(scores[30]):
            continue  # which of two equally strong tokens is kept is a free choice
        best = scores[:30]
        expected = sum(best) / math.sqrt(len(best)) if best else 0.0
        assert model.log_odds(facts.words, extra) == pytest.approx(expected, abs=1e-9)
        compared += 1
    assert compared >= 40
