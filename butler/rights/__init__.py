"""Know and control what companies hold about you: counterparties found in the mailbox, the datenanfragen.de
company database, and GDPR requests (access, rectification, erasure, objection) followed up to the end.

    database      -- the shipped snapshot (or the person's newer one), companies, authorities, templates
    matching      -- counterparty → company record, by web domain, e-mail domain and `runs`, with a quality
    templates     -- a request letter rendered from the database's templates
    markup        -- schema.org markup and receipt shapes in a message → transactions
    counterparties, transactions -- the vault records of who the person deals with and what they bought
    discover      -- existing mail (Maildir or IMAP, read-only) → counterparties and transactions
    requests      -- signed, audited request records; approvals -- the desk kind that sends them
    followup      -- deadlines, replies linked to their request, admonitions and complaints
    whole         -- the attachments a reply was cut off in, kept from the whole message
"""
