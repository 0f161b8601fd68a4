"""The DPoP authentication scheme at a protected resource (RFC 9449 §7).

``Authorization: DPoP <token>`` with a ``DPoP`` proof header: the token must be valid
(as any token), bound to a key (``jkt``: the row's, or ``cnf.jkt`` in a JWT), and the
proof made with that key, for this method and URL, covering this token (``ath``), fresh
and unused. Its errors go in the DPoP challenge, ``DPoP algs="..." error="..."``, beside
a bare Bearer one (§7.2). A bound token sent as Bearer is refused by the Bearer scheme.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.http import HttpRequest

from ..resource.errors import InvalidToken, SchemeError
from ..resource.rfc6750 import credentials_in_header, format_challenge
from ..resource.schemes import Scheme
from . import nonce, proof

#: Longer tokens are refused unread (a JWT access token with cnf is far shorter).
_MAX_CREDENTIAL_LENGTH = 8192
_INVALID = "The Authorization header is not a valid DPoP token."

INVALID_DPOP_PROOF = "invalid_dpop_proof"
USE_DPOP_NONCE = "use_dpop_nonce"


class DPoPScheme(Scheme):
    name: ClassVar[str] = "DPoP"

    def credentials(self, request: HttpRequest) -> str | None:
        return credentials_in_header(
            request, self.name, max_length=_MAX_CREDENTIAL_LENGTH, description=_INVALID
        )

    def check(self, request: HttpRequest, token: Any) -> None:
        bound = str(getattr(token, "jkt", "") or "")
        if not bound:
            raise InvalidToken("This access token is not bound to a DPoP key: use Bearer.")
        presented = self.credentials(request) or ""  # read, and checked, already
        try:
            proof.verify(
                request.headers.get("DPoP"),
                method=request.method or "",
                urls=[proof.request_url(request)],
                access_token=presented,
                expected_jkt=bound,
            )
        except proof.NonceRequired as error:
            raise SchemeError(
                self.name, USE_DPOP_NONCE, str(error), headers={"DPoP-Nonce": nonce.current()}
            ) from None
        except proof.WrongKey:
            raise SchemeError(
                self.name, INVALID_DPOP_PROOF, "The DPoP proof is not made with the token's key."
            ) from None
        except proof.ProofError as error:
            raise SchemeError(self.name, INVALID_DPOP_PROOF, str(error)) from None

    def challenge(
        self,
        *,
        error: str | None = None,
        description: str | None = None,
        scopes: Iterable[str] = (),
    ) -> str:
        params = [("algs", " ".join(proof.ALGORITHMS))]
        if error:
            params.append(("error", error))
        if description:
            params.append(("error_description", description))
        scope = " ".join(scopes)
        if scope:
            params.append(("scope", scope))
        return format_challenge(self.name, params)
