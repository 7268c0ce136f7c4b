"""The IEEE 7012 (MyTerms) agreement ids a policy may name, and how much data use each one permits.

A small constant on purpose: the full roster (labels, definitions) belongs to `butler.terms`; a policy file
only needs to know that an id exists, to catch typos when it loads.
"""

from __future__ import annotations

from butler.models import DataUse

__all__ = ["AGREEMENT_DATA_USE", "MYTERMS_AGREEMENTS"]

MYTERMS_AGREEMENTS: frozenset[str] = frozenset(
    {
        "SD-BASE", "SD-BASE-DP", "SD-BASE-A", "SD-BASE-A-DP", "SD-BASE-AT", "SD-BASE-AT-DP",
        "SD-BASE-ATP", "SD-BASE-ATP-DP", "SD-BASE-ATP-S3P", "SD-BASE-ATP-S3P-DP",
        "PDC", "PDC-AI", "PDC-GOOD", "PDC-INTENT", "TPR", "TPR-IDENTITY-REF",
    }
)

# The most data use each service-delivery agreement allows; tracking counts as profiling, to err on the
# person's side. PDC and TPR agreements are the person's own choice to give data, so no limit is implied.
AGREEMENT_DATA_USE: dict[str, DataUse] = {
    "SD-BASE": DataUse.SERVICE,
    "SD-BASE-DP": DataUse.SERVICE,
    "SD-BASE-A": DataUse.ANALYTICS_FIRST_PARTY,
    "SD-BASE-A-DP": DataUse.ANALYTICS_FIRST_PARTY,
    "SD-BASE-AT": DataUse.PROFILING_FIRST_PARTY,
    "SD-BASE-AT-DP": DataUse.PROFILING_FIRST_PARTY,
    "SD-BASE-ATP": DataUse.PROFILING_FIRST_PARTY,
    "SD-BASE-ATP-DP": DataUse.PROFILING_FIRST_PARTY,
    "SD-BASE-ATP-S3P": DataUse.SHARE_ANONYMISED,
    "SD-BASE-ATP-S3P-DP": DataUse.SHARE_ANONYMISED,
}
