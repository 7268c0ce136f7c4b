"""What can go wrong when proffering terms, sorted by what the caller does about it.

    ButlerError
    └── TermsError                     -- a MyTerms exchange failed
        ├── VendorUnavailable          -- unreachable, timed out or 5xx: try again later
        ├── VendorAnswerInvalid        -- the vendor answered outside the protocol: nothing was agreed
        ├── NoMyTermsSupport           -- the vendor publishes no MyTerms document (404)
        ├── ApprovalNotFound           -- no pending item with that id: check `butler terms pending`
        └── RecordChainBroken          -- stored agreement records do not verify: investigate
"""

from __future__ import annotations

from butler.errors import ButlerError

__all__ = [
    "ApprovalNotFound",
    "NoMyTermsSupport",
    "RecordChainBroken",
    "TermsError",
    "VendorAnswerInvalid",
    "VendorUnavailable",
]


class TermsError(ButlerError):
    exit_code = 10


class VendorUnavailable(TermsError):
    exit_code = 75  # EX_TEMPFAIL
    default_hint = "The vendor could not be reached or failed; nothing was agreed. Try again later."


class VendorAnswerInvalid(TermsError):
    default_hint = ("The vendor's answer broke the MyTerms protocol; nothing was agreed. "
                    "The exchange is kept in `butler terms records VENDOR`.")


class NoMyTermsSupport(TermsError):
    default_hint = "This vendor does not publish /.well-known/myterms.json; you can still proffer your terms."


class ApprovalNotFound(TermsError):
    exit_code = 2
    default_hint = "List what waits for you with `butler terms pending`."


class RecordChainBroken(TermsError):
    exit_code = 5
    default_hint = ("A stored agreement record was altered, removed or reordered. "
                    "Compare with a backup (`butler vault export`) or with the vendor's copy.")
