"""Talking to Wix over HTTP: credentials, the two clients, the retry policy and rate limiters.

``LOG_FIELDS`` names the ``extra`` fields every record of the ``wix_refunds`` logger carries
(a field that does not apply is None), for a formatter that writes them out.
"""

from ._client import AsyncWixClient, WixClient
from ._credentials import WixCredentials
from ._log import FIELDS as LOG_FIELDS
from ._retry import RateLimiter, RequestLimiter, RetryPolicy
from ._verify import PermissionCheck, VerifyReport

__all__ = [
    "AsyncWixClient",
    "LOG_FIELDS",
    "PermissionCheck",
    "RateLimiter",
    "RequestLimiter",
    "RetryPolicy",
    "VerifyReport",
    "WixClient",
    "WixCredentials",
]
