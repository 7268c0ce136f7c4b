"""The connector SDK: everything a package needs to let butler deal with one vendor, and nothing more.

    Connector, implemented_capabilities           -- the base class; one method per Capability
    Manifest, Capability, SecretSpec, NoSettings  -- what a connector declares (frozen), API_VERSION; PersonField
    ConnectorContext, Secrets, Person             -- what butler injects: settings, http, secrets, the person, log
    register_secret                               -- keep a value the connector derived out of every log line
    AllowlistTransport, PRIVACY_HEADERS           -- the transport that holds the host allowlist, Sec-GPC
                                                     (both from butler.sdk.egress, which builds every client)
    OfferQuery, Terms, NegotiationRound, DataRequestReceipt  -- messages (plus butler.models Offer, Contract…)
    CheckoutQuote, CheckoutLine                   -- a prepared checkout: the full total, read back before paying
    ConnectorError and subclasses                 -- errors by what the caller does (see butler.sdk._errors)

Importing this package never imports the TUI.
"""

from butler.log import register_secret
from butler.models import Contract, DataUse, Money, Offer, PostalAddress, Purchase
from butler.sdk._connector import Connector, implemented_capabilities
from butler.sdk._context import ConnectorContext, Secrets
from butler.sdk._errors import (
    AuthError,
    CapabilityNotSupported,
    ConnectorError,
    FatalError,
    HostNotAllowed,
    ManifestError,
    MissingSecret,
    OfferUnavailable,
    RetriableError,
    SecretNotDeclared,
    error_for_response,
    parse_retry_after,
)
from butler.sdk._manifest import API_VERSION, Capability, Manifest, NoSettings, PersonField, SecretSpec
from butler.sdk._types import (
    CheckoutLine,
    CheckoutQuote,
    DataRequestReceipt,
    NegotiationRound,
    OfferQuery,
    Person,
    Terms,
)
from butler.sdk.egress import PRIVACY_HEADERS, AllowlistTransport, Resolver, host_allowed, system_resolver

__all__ = [
    "API_VERSION",
    "PRIVACY_HEADERS",
    "AllowlistTransport",
    "AuthError",
    "Capability",
    "CapabilityNotSupported",
    "CheckoutLine",
    "CheckoutQuote",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "Contract",
    "DataRequestReceipt",
    "DataUse",
    "FatalError",
    "HostNotAllowed",
    "Manifest",
    "ManifestError",
    "MissingSecret",
    "Money",
    "NegotiationRound",
    "NoSettings",
    "Offer",
    "OfferQuery",
    "OfferUnavailable",
    "Person",
    "PersonField",
    "PostalAddress",
    "Purchase",
    "Resolver",
    "RetriableError",
    "SecretNotDeclared",
    "SecretSpec",
    "Secrets",
    "Terms",
    "error_for_response",
    "host_allowed",
    "implemented_capabilities",
    "parse_retry_after",
    "register_secret",
    "system_resolver",
]
