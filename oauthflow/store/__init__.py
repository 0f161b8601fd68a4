"""The credential store: the one place that issues, finds, uses up and revokes codes and
tokens, and decides whether one is still valid.

* :mod:`.validity`: the one validity rule, and why a credential is refused.
* :mod:`.lookups`: one-row lookups by client_id or digest, the hot paths' reads.
* :mod:`.issue`: writing codes and token pairs (families, lifetimes).
* :mod:`.consume`: using a code or refresh token once, under concurrency.
* :mod:`.revocation`: revoking a token, an authorization, a client's or a user's grant.
* :mod:`.clients`: deactivating and deleting a client.
* :mod:`.cleanup`: deleting what can never be used again.

Only :mod:`oauthflow.tokens` knows the at-rest format of a value; the store keeps digests.
"""
