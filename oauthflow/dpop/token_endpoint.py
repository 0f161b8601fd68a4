"""DPoP at the authorization server: binding what a token request issues (RFC 9449 §5).

:class:`DPoPExtension` is a grant extension for every grant. Once the grant has validated
the request (client, code or refresh token known) and before it issues anything, a
``DPoP`` header is checked
(``proof.verify``, for POST to the token endpoint) and its key thumbprint becomes
``request.dpop_jkt``: the access token issued is bound to it (``token_type: DPoP``, the
row's ``jkt``, and ``cnf.jkt`` in a JWT), and so is a public client's refresh token (a
confidential client's stays unbound: its secret already constrains it, §5).

What a request must prove:

* a client registered with ``dpop_bound_access_tokens`` sends a proof, always;
* a code issued with ``dpop_jkt`` (§10), and a bound refresh token, are redeemed only
  with a proof made with that same key (else ``invalid_grant``: the grant is bound).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from django.urls import reverse

from ..models import AuthorizationCode
from ..server.binding import TOKEN_REQUEST_VALIDATED
from . import nonce, proof
from .errors import InvalidDPoPProofError, UseDPoPNonceError


class DPoPExtension:
    """Registered for every grant (``registry.register_grant_extension``)."""

    def __call__(self, grant: Any) -> None:
        # Once the request is validated, before the token transaction opens: the proof's
        # record survives a failure later in the request (oauthflow.dpop.replay).
        grant.register_hook(TOKEN_REQUEST_VALIDATED, self.bind)
        grant.register_hook("after_create_token_response", self.mark)
        if grant.GRANT_TYPE == "authorization_code":
            grant.register_hook("after_save_authorization_code", keep_dpop_jkt)

    def bind(self, grant: Any, *args: Any) -> None:
        request = grant.request
        client = request.client
        bound = _bound_key(request)
        value = request.headers.get("DPoP")
        if value is None:
            if client.dpop_bound_access_tokens:
                raise InvalidDPoPProofError("This client must send a DPoP proof.")
            if bound:
                raise InvalidGrantError("This grant is bound to a DPoP key: send a proof.")
            return
        checked = checked_proof(
            value,
            request.django_request,
            "oauthflow:token",
            expected_jkt=bound or None,
            wrong_key=InvalidGrantError("This grant is bound to another DPoP key."),
        )
        request.dpop_jkt = checked.jkt
        # A public client's refresh token is bound too; a confidential client's is
        # constrained by its secret already (RFC 9449 §5).
        request.dpop_refresh_jkt = "" if client.is_confidential else checked.jkt

    def mark(self, grant: Any, response: tuple[int, dict[str, Any], Any]) -> None:
        _status, token, _headers = response
        if getattr(grant.request, "dpop_jkt", ""):
            token["token_type"] = "DPoP"


def _bound_key(request: Any) -> str:
    """The key the credential this request redeems is bound to, or ""."""
    code = request.authorization_code
    if code is not None:
        return str(getattr(code, "dpop_jkt", "") or "")
    refresh = request.refresh_token
    if refresh is not None:
        return str(getattr(refresh, "jkt", "") or "")
    return ""


def checked_proof(
    value: str,
    request: Any,
    url_name: str,
    *,
    expected_jkt: str | None,
    wrong_key: OAuth2Error,
) -> proof.Proof:
    """A proof sent with a POST to one of the authorization server's endpoints (the
    token endpoint, the PAR endpoint), or the error that endpoint answers:
    ``use_dpop_nonce``, ``invalid_dpop_proof``, or ``wrong_key`` for a good proof of
    another key than ``expected_jkt``."""
    try:
        return proof.verify(
            value,
            method="POST",
            urls=endpoint_urls(request, url_name),
            expected_jkt=expected_jkt,
        )
    except proof.NonceRequired as error:
        raise UseDPoPNonceError(nonce.current(), str(error)) from None
    except proof.WrongKey:
        raise wrong_key from None
    except proof.ProofError as error:
        raise InvalidDPoPProofError(str(error)) from None


def endpoint_urls(request: Any, url_name: str) -> list[str]:
    """What a client may name in ``htu``: the endpoint as the metadata says it is, and as
    this request reached it."""
    from ..server.authorization_server import get_server

    return [get_server().issuer(request) + reverse(url_name), proof.request_url(request)]


def check_authorization(request: Any, grant: Any, user: Any) -> None:
    """An authorization check: ``dpop_jkt`` (§10), when sent, is a key thumbprint."""
    value = grant.request.payload.data.get("dpop_jkt")
    if value is not None and not proof.THUMBPRINT.fullmatch(value):
        raise InvalidRequestError("dpop_jkt is not a JWK SHA-256 thumbprint.")


def keep_dpop_jkt(grant: Any, code: AuthorizationCode) -> None:
    """Bind the code to ``dpop_jkt`` (one UPDATE, only for requests that send it)."""
    value = grant.request.payload.data.get("dpop_jkt")
    if value:
        AuthorizationCode.objects.filter(pk=code.pk).update(dpop_jkt=value)
        code.dpop_jkt = value


def token_claims(request: Any) -> dict[str, Any]:
    """``cnf.jkt`` for a JWT access token bound to a key (RFC 9449 §6.1)."""
    jkt = getattr(request, "dpop_jkt", "")
    return {"cnf": {"jkt": jkt}} if jkt else {}


def metadata(issuer: str) -> dict[str, Any]:
    return {"dpop_signing_alg_values_supported": list(proof.ALGORITHMS)}
