"""The DPoP authentication scheme at a protected resource (RFC 9449 §7).

``Authorization: DPoP <token>`` with a ``DPoP`` proof header: the token must be valid
(as any token), bound to a key (``jkt``: the row's, or ``cnf.jkt`` in a JWT), and the
proof made with that key, for this method and URL, covering this token (``ath``), fresh
and unused. Its errors go in the DPoP challenge, ``DPoP algs="..." error="..."``, beside
a bare Bearer one (§7.2). A bound token sent as Bearer is refused by the Bearer scheme.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from django.http import HttpRequest

from ..resource.errors import InvalidToken, SchemeError
from ..resource.schemes import Scheme
from . import nonce, proof

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_CREDENTIALS = re.compile(r"([^ \t]+)(?:[ \t]+(.*))?", re.DOTALL)
_MAX_CREDENTIAL_LENGTH = 8192
_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')

INVALID_DPOP_PROOF = "invalid_dpop_proof"
USE_DPOP_NONCE = "use_dpop_nonce"


class DPoPScheme(Scheme):
    name: ClassVar[str] = "DPoP"

    def credentials(self, request: HttpRequest) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        match = _CREDENTIALS.fullmatch(header.strip(" \t"))
        if match is None or match[1].lower() != "dpop":
            return None
        value = (match[2] or "").strip(" \t")
        if len(value) > _MAX_CREDENTIAL_LENGTH or not _B64TOKEN.fullmatch(value):
            raise InvalidToken("The Authorization header is not a valid DPoP token.")
        return value

    def check(self, request: HttpRequest, token: Any) -> None:
        bound = str(getattr(token, "jkt", "") or "")
        if not bound:
            raise InvalidToken("This access token is not bound to a DPoP key: use Bearer.")
        presented = _presented_token(request)
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
        return "DPoP " + ", ".join(f'{k}="{_UNSAFE.sub("", v)}"' for k, v in params)


def _presented_token(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIALS.fullmatch(header.strip(" \t"))
    return (match[2] or "").strip(" \t") if match else ""
