"""The phrase vocabulary of the mail classifier, and how phrases are found in a message's words.

Phrase signals are word sequences (`{a|b}` for choices) matched whole-word against the message's words with set
operations and one substring search, never a regex scan per phrase. The lists are general marketing,
transactional, editorial and junk wording in English, German, French, Spanish, Italian and Portuguese.
"""

from __future__ import annotations

__all__ = ["ASK", "BOOK", "EDITORIAL", "FOOTER", "NEWS", "OFFER", "SPAM", "SUBJECT_BOOK", "TRANSACTIONAL",
           "PhraseBook", "Phrases", "expand"]


def expand(template: str) -> list[str]:
    """'free {shipping|delivery}' → ['free shipping', 'free delivery']; an empty choice drops the word."""
    open_at = template.find("{")
    if open_at < 0:
        return [" ".join(template.split())]
    close_at = template.index("}", open_at)
    out: list[str] = []
    for choice in template[open_at + 1:close_at].split("|"):
        out += expand(template[:open_at] + choice + template[close_at + 1:])
    return out


class Phrases:
    """One phrase signal: word sequences (`{a|b}` for choices) matched whole-word in the message's words.

    Matching costs set operations and, for a phrase whose words all occur, one substring search: no regex
    runs over the text, so every phrase signal together costs about one tokenization of the message.
    """

    def __init__(self, name: str, weight: float, note: str, *templates: str) -> None:
        self.name, self.weight, self.note = name, weight, note
        # each phrase is filed under its longest word, the one least likely to occur by chance
        self.index: dict[str, list[tuple[frozenset[str], str]]] = {}
        for template in templates:
            for phrase in expand(template):
                key = max(phrase.split(), key=len)
                self.index.setdefault(key, []).append((frozenset(phrase.split()), f" {phrase} "))
        self.keys = frozenset(self.index)
        self.rank = {key: n for n, key in enumerate(self.index)}

    def search(self, words: frozenset[str], joined: str) -> str | None:
        """The first phrase, in the order they are listed, found in `joined` (the words, space-separated, with
        spaces at both ends). Keys are tried in that order, not a set's: the phrase quoted never varies."""
        for key in sorted(self.keys.intersection(words), key=self.rank.__getitem__):
            for needed, phrase in self.index[key]:
                if needed <= words and phrase in joined:
                    return phrase.strip()
        return None


OFFER = [
    Phrases("a-discount-code", 2.0, "a discount code",
            "{promo|discount|coupon|voucher|offer|gift|rabatt|gutschein} {code|codes}", "promocode",
            "{use|enter|apply} {the|} code", "code promo", "código {promocional|de descuento}", "codice sconto",
            "gutscheincode", "rabattcode"),
    Phrases("a-call-to-buy", 1.5, "a call to buy",
            "{shop|buy|order|book|get it|get yours|claim|claim your|grab|start saving|save|subscribe} {now|today}",
            "jetzt {kaufen|bestellen|shoppen|entdecken|sichern}", "achetez", "acheter maintenant",
            "{compra|comprar} {ahora|ya}", "acquista ora", "compre {já|agora}", "order online",
            "{discover|explore|shop} {the|our} {new|} {collection|collections|range|look|edit}",
            "{new|latest} collection", "back in stock", "restocked", "wieder {da|verfügbar|auf lager}",
            "de retour en stock", "de nuevo {en stock|disponible}", "neue kollektion", "nouvelle collection",
            "nueva colección", "free gift", "gift with {any|every|your} {order|purchase}"),
    Phrases("urgency", 1.5, "urgency",
            "limited time", "today only", "ends {tonight|today|soon|sunday|midnight|at midnight}", "last chance",
            "hurry", "don t miss", "dont miss", "don t wait", "dont wait", "selling fast", "going fast",
            "{sold|sell} out {fast|quickly|in days}", "while {supplies|stocks} last", "{hours|days} left", "act now",
            "{expire|expires} {soon|today|tonight}", "nur noch", "letzte chance", "dernière chance",
            "derniers jours", "última oportunidad", "ultimi giorni", "for a limited", "limited offer"),
    Phrases("sales-language", 1.5, "sales language",
            "free {shipping|delivery|gift|trial|returns}", "flash sale", "clearance", "black friday",
            "cyber monday", "best {deal|deals|price|prices}", "lowest {price|prices}", "new arrivals", "bestseller",
            "bestsellers", "special offer", "exclusive {offer|deal|deals|access}", "{member|members} only",
            "save {up to|big}", "bogo", "buy one get", "versandkostenfrei", "kostenloser versand", "sonderangebot",
            "livraison gratuite", "envío gratis", "spedizione gratuita", "frete grátis", "on sale",
            "{sale|soldes|rebajas|saldi} {now|ends|starts|on|event|price|prices|en cours|jusqu}", "order now",
            "{summer|winter|spring|autumn|holiday|end of season|warehouse|semi annual} sale",
            "{unsere|nuestras|nos} {angebote|ofertas|offres}"),
    Phrases("a-sale-word", 0.5, "a word for a sale (alone it is weak: shop menus carry it)",
            "sale", "soldes", "rebajas", "saldi", "promoção", "oferta", "ofertas", "angebot", "angebote", "offerta"),
    Phrases("direct-marketing-phrasing", 1.0, "direct-marketing phrasing",
            "click {here|below}", "visit our {website|site|web site}", "call {now|today|toll free}", "order today",
            "risk free", "money back", "guarantee", "guaranteed", "no obligation", "100 {free|satisfied}",
            "hier klicken", "cliquez ici", "haga clic", "clicca qui"),
]


FOOTER = Phrases("a-marketing-footer", 0.5, "a bulk-mail footer",
                  "unsubscribe", "opt out", "optout", "manage {your|} {email|e mail|} preferences",
                  "{email|e mail|update your|your} preferences",
                  "view {it|this email|this e mail|} in {your|a|} browser",
                  "you are receiving this", "you received this", "this {email|e mail|message} was sent to",
                  "abmelden", "abbestellen", "sie erhalten diese", "im browser {ansehen|anzeigen|öffnen}",
                  "se désabonner", "désinscrire", "désinscription", "vous recevez {cet|ce}",
                  "voir {la|} version en ligne",
                  "darse de baja", "cancelar {la|} suscripción", "recibes este", "ver en {el|tu|} navegador",
                  "disiscriviti", "afmelden", "uitschrijven")


EDITORIAL = Phrases("editorial-content", 1.5, "editorial content (articles, an issue, headlines)",
                     "in this issue", "{this|today s|this week s|latest} issue", "read more", "continue reading",
                     "read the {full|} {story|article|post}", "top stories", "{top|today s|the} headlines",
                     "{our|the} editors", "{this|last} week we", "{we|we ve} {read|been reading}", "{an|our} interview",
                     "editor s {note|letter|pick|picks}", "{from|on} the blog", "reader s", "readers",
                     "weiterlesen", "in dieser ausgabe", "mehr lesen", "au sommaire", "lire la suite", "dans ce numéro",
                     "en este número", "leer más", "seguir leyendo", "in questo numero", "leggi di più")


NEWS = Phrases("news-content", 1.0, "news wording (an alert, a briefing, headlines)",
                "breaking news", "news alert", "{google|daily|news|weather|traffic} alert", "{top|latest} news",
                "{morning|evening|daily|weekly|the} briefing", "{morning|evening|daily|weekly} {edition|digest}",
                "told reporters", "associated press", "op ed", "{opinion|analysis} {piece|column}", "eilmeldung",
                "nachrichten", "à la une", "actualités", "últimas noticias",
                "ultime notizie", "notícias")


# asks for money or action: what bulk mail wants besides a sale (Gmail files it under Promotions too)
ASK = [
    Phrases("a-money-ask", 2.0, "an ask for money (a donation, a gift)",
            "donate {now|today|here|monthly|online}", "{make|give} a {gift|donation|contribution}", "chip in",
            "{will|can|could|would} you {give|donate|chip|contribute|pitch}", "contribute {now|today}",
            "{matching|matched} {gift|gifts|donation|donations}", "{double|triple} {your|the} {impact|gift|donation}",
            "{fundraising|end of quarter|end of month|end of year|fec} {goal|deadline}", "tax deductible",
            "give {now|today|monthly|what you can}", "your {gift|donation|contribution} {of|today|will|can|helps}",
            "jetzt spenden", "spenden sie", "ihre spende", "faire un don", "votre don", "donar ahora",
            "haz una donación", "tu donativo", "dona ora", "fai una donazione", "doe agora", "faça uma doação",
            "doneer nu"),
    Phrases("a-donation-word", 0.75, "a word for donating (alone it is weak: newsletters carry a donate link)",
            "donate", "donation", "donations", "fundraiser", "fundraising", "spende", "spenden", "donación",
            "donazione", "doação", "donativo"),
    Phrases("a-call-to-act", 2.0, "a call to sign, answer or speak up",
            "sign {the|our|this} petition", "add your name", "sign {now|today}",
            "{take|complete|fill out|answer} {our|the|this|a|my} {short|quick|brief|} {survey|poll|questionnaire}",
            "take action {now|today|here}", "{tell|urge} {congress|your senator|your senators|your representative|"
            "lawmakers|your mp}", "{call|email|write to|contact} your {senator|senators|representative|"
            "representatives|legislator|mp|mep}", "make your voice heard", "join the {fight|movement|campaign}",
            "petition unterschreiben", "jetzt unterschreiben", "signez la pétition", "firma la {petición|petizione}",
            "assine a petição", "an der umfrage teilnehmen", "répondez au sondage", "responde la encuesta",
            "partecipa al sondaggio"),
    Phrases("a-sign-up-ask", 2.0, "an invitation to sign up for an event",
            "{register|sign up|rsvp|enroll|enrol} {now|today|here|for free|free}",
            "{save|reserve|claim|secure|book} {your|my|a} {seat|spot|place|ticket}",
            "{join|attend} {us|our} {for|at} {a|the|our} {free|live|} {webinar|seminar|workshop|event|conference|"
            "summit|masterclass|info session|town hall|fundraiser|gala}",
            "{free|live|upcoming|virtual} {webinar|seminar|masterclass|workshop}",
            "{webinar|seminar|event} registration", "limited {seats|spots|places}",
            "{jetzt|hier|kostenlos} anmelden", "inscrivez vous", "inscríbete", "regístrate", "iscriviti {ora|subito}",
            "inscreva se"),
    Phrases("a-membership-ask", 2.0, "a membership drive",
            "{become|join as} a {member|supporter|sustaining member|monthly donor|monthly supporter}",
            "renew your membership", "{join|renew} {today|now}", "{membership|member} {drive|appeal}",
            "mitglied werden", "devenez membre", "hazte socio", "diventa socio", "torne se membro"),
]


TRANSACTIONAL = [
    Phrases("a-purchase-or-delivery", 1.0, "a purchase or delivery",
            "your {order|purchase|receipt|invoice|booking|reservation|payment|refund|subscription|statement|bill|"
            "delivery|parcel|package|shipment}", "order {no|number|confirmation|confirmed|status}",
            "receipt {for|from}", "invoice {no|number}", "payment {received|confirmation|confirmed|failed}",
            "{has|have} {been|} {shipped|dispatched|delivered}", "out for delivery",
            "tracking {number|information|info|id}", "delivery {update|status}", "shipping confirmation",
            "ihre {bestellung|rechnung|lieferung}", "bestellbestätigung", "versandbestätigung",
            "votre {commande|facture|colis}", "{su|tu} {pedido|factura}", "il tuo ordine", "seu pedido",
            "rechnung nr", "order has shipped", "thanks for your order", "thank you for your order"),
    Phrases("account-security", 1.0, "account security",
            "reset {your|} password", "password {reset|change|was changed}", "verify your {email|e mail|account}",
            "confirm your {email|e mail|account|address|registration|subscription}", "verification code",
            "one time {code|password|passcode}", "security {alert|code}", "new {sign in|signin|login|device}",
            "sign in attempt", "two factor", "2fa code", "login code", "passwort zurücksetzen",
            "réinitialiser {votre|} mot de passe", "restablecer {tu|su|} contraseña",
            "bestätigen sie ihre e mail", "code de vérification", "código de verificación"),
    Phrases("an-account-notice", 1.0, "an account notice",
            "account {update|notice|notification|change|statement}", "terms of {service|use} {update|change}",
            "privacy policy update", "your {plan|membership|trial} {will|} {renew|expire|end|change}",
            "renewal {notice|reminder}", "payment {method|due}", "card {expiring|expired|declined|expires}"),
]


class PhraseBook:
    """Several phrase signals searched together: one set intersection with the message's words for all of them."""

    def __init__(self, signals: list[Phrases]) -> None:
        self.index: dict[str, list[tuple[Phrases, frozenset[str], str]]] = {}
        for phrases in signals:
            for key, entries in phrases.index.items():
                self.index.setdefault(key, []).extend((phrases, needed, phrase) for needed, phrase in entries)
        self.keys = frozenset(self.index)
        self.rank = {key: n for n, key in enumerate(self.index)}

    def search(self, words: frozenset[str], joined: str) -> dict[str, str]:
        """Phrase-signal name → the first of its phrases found (as `Phrases.search` finds it)."""
        found: dict[str, str] = {}
        for key in sorted(self.keys.intersection(words), key=self.rank.__getitem__):
            for phrases, needed, phrase in self.index[key]:
                if phrases.name not in found and needed <= words and phrase in joined:
                    found[phrases.name] = phrase.strip()
        return found


SPAM = [
    Phrases("a-removal-or-not-spam-claim", 2.0, "a removal or not-spam claim",
            "to be removed", "remove me", "removal instructions", "reply with remove", "this is not {a|} spam",
            "bill s 1618", "s 1618", "not unsolicited", "one time {email|e mail|mail|mailing}",
            "{you|your email|your e mail|your address} {was|were|have been} {added|selected|chosen}"),
    Phrases("scam-or-junk-vocabulary", 1.5, "scam or junk vocabulary",
            "million {dollars|usd}", "wire transfer", "next of kin", "beneficiary", "lottery", "winner", "viagra",
            "cialis", "mortgage", "refinance", "refinancing", "credit {card|repair|score}", "debt",
            "earn {money|extra}", "work {from|at} home", "make money", "lose weight", "casino", "pharmacy",
            "adult", "xxx", "cash", "investment", "income", "stock {alert|pick}", "penny stock", "free money",
            "meds", "herbal"),
    Phrases("a-generic-greeting", 1.0, "a generic greeting",
            "dear {friend|sir|madam|sir or madam|valued member|valued customer|email user|internet user|homeowner|"
            "beneficiary}", "hello friend"),
]


BOOK = PhraseBook([*OFFER, *ASK, *TRANSACTIONAL, *SPAM, FOOTER, EDITORIAL, NEWS])
SUBJECT_BOOK = PhraseBook(TRANSACTIONAL)

