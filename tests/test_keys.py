"""oauthflow.keys: each state of a signing key's life at a moved ``now``, what the JWKS
publishes, which key signs, retiring, pruning, the encryption at rest and its rotation,
and the in-process copy of the table."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from oauthflow import keys
from oauthflow.keys import encryption, store
from oauthflow.keys.encryption import KeyDecryptionError
from oauthflow.models import SigningKey

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
LIFETIME = 3600  # ID_TOKEN_LIFETIME's default, which the tests keep
#: How long a key stays published after it stops signing.
AFTER_STOP = timedelta(seconds=LIFETIME + keys.RELOAD_SECONDS)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)


class Boom(Exception):
    pass


@pytest.fixture
def now():
    # Whole seconds: MySQL and MariaDB keep microseconds, but the arithmetic reads better.
    return timezone.now().replace(microsecond=0)


def make(alg="RS256", *, signs_from, retired_at=None) -> SigningKey:
    """A key that signs from ``signs_from`` (and was retired at ``retired_at``)."""
    key = keys.create_key(alg, signs_from=signs_from)
    if retired_at is not None:
        SigningKey.objects.filter(pk=key.pk).update(retired_at=retired_at)
        key.refresh_from_db()
    keys.forget()  # as the commit would
    return key


def states(at) -> dict[str, tuple[str, object]]:
    """kid -> (state, published until) at ``at``."""
    return {s.key.kid: (s.state, s.published_until) for s in keys.key_states(at)}


def published_kids() -> set[str]:
    return {key["kid"] for key in keys.jwks()["keys"]}


# The life of a key, at a moved now ------------------------------------------------------


def test_a_new_key_is_pending_then_signs(db, now):
    key = make(signs_from=now + HOUR)
    assert states(now)[key.kid] == ("pending", None)
    assert states(now + HOUR - SECOND)[key.kid] == ("pending", None)
    assert states(now + HOUR)[key.kid] == ("signing", None)
    assert states(now + 1000 * HOUR)[key.kid] == ("signing", None)


def test_a_pending_key_is_published_before_it_signs(db, now):
    current = make(signs_from=now - HOUR)
    waiting = make(signs_from=now + HOUR)
    assert published_kids() == {current.kid, waiting.kid}
    assert keys.signing_key("RS256")[0] == current.kid


def test_rotation_supersedes_the_old_key_which_stays_published_then_expires(db, now):
    old = make(signs_from=now - 10 * HOUR)
    new = make(signs_from=now + HOUR)
    takeover = new.signs_from

    assert states(takeover - SECOND) == {
        old.kid: ("signing", None),
        new.kid: ("pending", None),
    }
    # The old key stops signing when the new one starts, and stays published as long as
    # an ID token it signed may be valid, and a minute for other processes to notice.
    assert states(takeover) == {
        old.kid: ("superseded", takeover + AFTER_STOP),
        new.kid: ("signing", None),
    }
    assert states(takeover + AFTER_STOP - SECOND)[old.kid][0] == "superseded"
    assert states(takeover + AFTER_STOP)[old.kid] == ("expired", takeover + AFTER_STOP)


def test_retired_key_stays_published_for_what_it_signed(db, now):
    key = make(signs_from=now - HOUR)
    keys.retire_key(key.kid)
    key.refresh_from_db()
    retired_at = key.retired_at
    assert retired_at is not None
    assert states(retired_at)[key.kid] == ("retired", retired_at + AFTER_STOP)
    assert states(retired_at + AFTER_STOP - SECOND)[key.kid][0] == "retired"
    assert states(retired_at + AFTER_STOP)[key.kid][0] == "expired"


def test_the_id_token_lifetime_decides_how_long_a_key_stays_published(db, now, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "ID_TOKEN_LIFETIME": 600}
    old = make(signs_from=now - 10 * HOUR)
    new = make(signs_from=now - HOUR)
    until = new.signs_from + timedelta(seconds=600 + keys.RELOAD_SECONDS)
    assert states(now)[old.kid] == ("expired", until)


def test_a_superseded_key_never_signs_again_when_its_successor_is_retired(db, now):
    old = make(signs_from=now - 10 * HOUR)
    new = make(signs_from=now - HOUR)
    keys.retire_key(new.kid)
    after = states(now + SECOND)
    assert after[old.kid] == ("superseded", new.signs_from + AFTER_STOP)
    assert after[new.kid][0] == "retired"
    # No key of the algorithm signs: the next signature makes one.
    kid, _ = keys.signing_key("RS256")
    assert kid not in (old.kid, new.kid)
    assert SigningKey.objects.count() == 3


def test_a_key_retired_before_it_started_never_supersedes_anything(db, now):
    current = make(signs_from=now - HOUR)
    abandoned = make(signs_from=now + HOUR, retired_at=now)
    # Past the time it would have started, still published a while: never the signer.
    later = states(now + HOUR + SECOND)
    assert later[current.kid] == ("signing", None)
    assert later[abandoned.kid] == ("retired", now + AFTER_STOP)
    assert keys.signing_key("RS256")[0] == current.kid


def test_retiring_a_superseded_key_keeps_its_end(db, now):
    old = make(signs_from=now - 10 * HOUR)
    new = make(signs_from=now - HOUR)
    keys.retire_key(old.kid)
    assert states(now)[old.kid] == ("retired", new.signs_from + AFTER_STOP)


def test_retiring_twice_keeps_the_first_retirement(db, now):
    key = make(signs_from=now - HOUR)
    first = keys.retire_key(key.kid)
    second = keys.retire_key(key.kid)
    assert first is not None and second is not None
    assert second.retired_at == first.retired_at


def test_retiring_an_unknown_kid_is_none(db):
    assert keys.retire_key("no-such-kid") is None
    assert keys.retire_key("no-such-kid", unpublish=True) is None


def test_algorithms_live_side_by_side(db, now):
    rsa = make("RS256", signs_from=now - HOUR)
    ec = make("ES256", signs_from=now - HOUR)
    assert states(now) == {rsa.kid: ("signing", None), ec.kid: ("signing", None)}
    assert keys.signing_key("RS256")[0] == rsa.kid
    assert keys.signing_key("ES256")[0] == ec.kid


# Unpublishing (a compromised key) --------------------------------------------------------


def test_unpublish_deletes_the_key_at_once(db, now):
    key = make(signs_from=now - HOUR)
    assert keys.verification_key(key.kid) is not None
    keys.retire_key(key.kid, unpublish=True)
    assert not SigningKey.objects.filter(kid=key.kid).exists()
    assert key.kid not in published_kids()
    assert keys.verification_key(key.kid) is None
    assert keys.signing_key("RS256")[0] != key.kid


def test_unpublishing_a_key_does_not_bring_back_the_one_it_superseded(db, now):
    old = make(signs_from=now - 10 * HOUR)
    compromised = make(signs_from=now - HOUR)
    before = states(now)[old.kid]
    keys.retire_key(compromised.kid, unpublish=True)
    old.refresh_from_db()
    # Retired as of when it stopped signing: published exactly as long as before.
    assert old.retired_at == compromised.signs_from
    assert states(now)[old.kid] == ("retired", before[1])
    assert keys.signing_key("RS256")[0] not in (old.kid, compromised.kid)


# Which key signs ------------------------------------------------------------------------


def test_the_newest_started_key_signs(db, now):
    make(signs_from=now - 3 * HOUR)
    newest_started = make(signs_from=now - HOUR)
    make(signs_from=now + HOUR)  # pending
    kid, private = keys.signing_key("RS256")
    assert kid == newest_started.kid
    # The private key is the one the published key verifies.
    token = jwt.encode({"alg": "RS256", "kid": kid}, {"sub": "x"}, private, algorithms=["RS256"])
    public = keys.verification_key(kid)
    assert jwt.decode(token, public, algorithms=["RS256"]).claims == {"sub": "x"}


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_key_is_made_when_none_signs(db, alg):
    assert not SigningKey.objects.exists()
    kid, _ = keys.signing_key(alg)
    row = SigningKey.objects.get()
    assert (row.kid, row.alg) == (kid, alg)
    assert row.signs_from <= timezone.now()
    assert kid in published_kids()
    # Asked again, the same key: not one per signature.
    assert keys.signing_key(alg)[0] == kid
    assert SigningKey.objects.count() == 1


def test_a_key_is_made_when_only_a_pending_one_exists(db, now):
    waiting = make(signs_from=now + HOUR)
    kid, _ = keys.signing_key("RS256")
    assert kid != waiting.kid
    assert states(now + HOUR)[waiting.kid] == ("signing", None)


def test_unknown_algorithms_are_refused(db):
    with pytest.raises(ValueError, match="Unsupported"):
        keys.signing_key("none")
    with pytest.raises(ValueError, match="Unsupported"):
        keys.create_key("HS256")
    assert not SigningKey.objects.exists()


def test_a_kid_never_starts_with_a_dash(db, monkeypatch):
    made = iter(["-starts-with-dash", "plain-kid"])
    monkeypatch.setattr(store.secrets, "token_urlsafe", lambda n: next(made))
    assert keys.create_key("ES256").kid == "plain-kid"


def test_create_key_signs_after_the_publish_delay(db, settings):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "SIGNING_KEY_PUBLISH_DELAY": 900}
    before = timezone.now()
    key = keys.create_key("ES256")
    assert before + timedelta(seconds=900) <= key.signs_from
    assert key.signs_from <= timezone.now() + timedelta(seconds=900)


# The JWKS -------------------------------------------------------------------------------


@pytest.mark.parametrize(("alg", "kty"), [("RS256", "RSA"), ("ES256", "EC")])
def test_the_jwks_never_holds_a_private_member(db, now, alg, kty):
    key = make(alg, signs_from=now - HOUR)
    [published] = keys.jwks()["keys"]
    assert published["kty"] == kty
    assert published["kid"] == key.kid and published["alg"] == alg and published["use"] == "sig"
    assert not PRIVATE_MEMBERS & set(published)
    # The private half exists, encrypted; what is published is its public part.
    private = json.loads(encryption.decrypt(key.private_jwk_encrypted))
    assert "d" in private
    for member, value in published.items():
        assert private[member] == value


@pytest.mark.parametrize(
    ("alg", "key_type", "size"), [("RS256", RSAKey, 2048), ("ES256", ECKey, "P-256")]
)
def test_the_jwks_strips_private_members_whatever_the_row_holds(db, now, alg, key_type, size):
    key = make(alg, signs_from=now - HOUR)
    whole = key_type.generate_key(size).as_dict(private=True)
    SigningKey.objects.filter(pk=key.pk).update(public_jwk=whole)
    keys.forget()
    [published] = keys.jwks()["keys"]
    assert not PRIVATE_MEMBERS & set(published)
    assert "d" not in keys.verification_key(key.kid).as_dict()


def test_the_jwks_leaves_expired_keys_out(db, now):
    expired = make(signs_from=now - 10 * HOUR, retired_at=now - 5 * HOUR)
    current = make(signs_from=now - HOUR)
    assert published_kids() == {current.kid}
    assert keys.verification_key(expired.kid) is None
    assert keys.verification_key("no-such-kid") is None


# Pruning ------------------------------------------------------------------------------------


def test_prune_deletes_only_what_is_no_longer_published(db, now):
    expired = make(signs_from=now - 10 * HOUR, retired_at=now - 5 * HOUR)
    superseded = make(signs_from=now - 3 * HOUR)
    current = make(signs_from=now - 10 * 60 * SECOND)
    waiting = make(signs_from=now + HOUR)
    retired = make("ES256", signs_from=now - 10 * HOUR, retired_at=now - 10 * 60 * SECOND)
    assert states(now) == {
        expired.kid: ("expired", expired.retired_at + AFTER_STOP),
        retired.kid: ("retired", retired.retired_at + AFTER_STOP),
        superseded.kid: ("superseded", current.signs_from + AFTER_STOP),
        current.kid: ("signing", None),
        waiting.kid: ("pending", None),
    }

    assert keys.prune(now) == [expired.kid]
    left = set(SigningKey.objects.values_list("kid", flat=True))
    assert left == {retired.kid, superseded.kid, current.kid, waiting.kid}
    assert keys.prune(now) == []

    # Two hours on, the retired and superseded keys have expired too; the key that was
    # signing is superseded by the one that was pending, and still published.
    later = now + 2 * HOUR
    assert sorted(keys.prune(later)) == sorted([retired.kid, superseded.kid])
    assert set(SigningKey.objects.values_list("kid", flat=True)) == {current.kid, waiting.kid}
    assert states(later) == {
        current.kid: ("superseded", waiting.signs_from + AFTER_STOP),
        waiting.kid: ("signing", None),
    }


# Encryption at rest ---------------------------------------------------------------------


OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()


def encryption_keys(settings, *values):
    settings.OAUTHFLOW = {**settings.OAUTHFLOW, "SIGNING_KEY_ENCRYPTION_KEYS": list(values)}
    keys.forget()


def test_the_private_key_is_stored_encrypted(db, now):
    key = make(signs_from=now - HOUR)
    stored = SigningKey.objects.values_list("private_jwk_encrypted", flat=True).get()
    assert '"d"' not in stored and "private" not in stored.lower()
    assert json.loads(encryption.decrypt(stored))["kid"] == key.kid


def test_reencrypt_with_a_new_first_key_then_remove_the_old(db, now, settings):
    encryption_keys(settings, OLD)
    rsa = make("RS256", signs_from=now - HOUR)
    ec = make("ES256", signs_from=now - HOUR)
    before = dict(SigningKey.objects.values_list("kid", "private_jwk_encrypted"))

    encryption_keys(settings, NEW, OLD)
    assert keys.signing_key("RS256")[0] == rsa.kid  # the old key still decrypts
    assert keys.reencrypt_all() == 2
    after = dict(SigningKey.objects.values_list("kid", "private_jwk_encrypted"))
    assert all(after[kid] != before[kid] for kid in before)
    for token in after.values():
        Fernet(NEW.encode()).decrypt(token.encode())  # under the new key alone

    encryption_keys(settings, NEW)
    assert keys.signing_key("RS256")[0] == rsa.kid
    assert keys.signing_key("ES256")[0] == ec.kid


def test_a_key_that_does_not_decrypt_is_a_key_decryption_error(db, now, settings):
    encryption_keys(settings, OLD)
    make(signs_from=now - HOUR)
    encryption_keys(settings, OTHER)
    with pytest.raises(KeyDecryptionError, match="SIGNING_KEY_ENCRYPTION_KEYS"):
        keys.signing_key("RS256")


def test_reencrypt_changes_nothing_when_one_key_does_not_decrypt(db, now, settings):
    encryption_keys(settings, OLD)
    good = make("RS256", signs_from=now - 2 * HOUR)
    encryption_keys(settings, OTHER)
    bad = make("ES256", signs_from=now - HOUR)
    before = dict(SigningKey.objects.values_list("kid", "private_jwk_encrypted"))
    encryption_keys(settings, NEW, OLD)  # OTHER forgotten
    with pytest.raises(KeyDecryptionError) as excinfo:
        keys.reencrypt_all()
    assert bad.kid in str(excinfo.value) and good.kid not in str(excinfo.value)
    assert "SIGNING_KEY_ENCRYPTION_KEYS" in str(excinfo.value)
    assert dict(SigningKey.objects.values_list("kid", "private_jwk_encrypted")) == before


def test_an_encryption_key_may_be_given_as_bytes(db, now, settings):
    encryption_keys(settings, NEW.encode())
    key = make(signs_from=now - HOUR)
    assert keys.signing_key("RS256")[0] == key.kid
    Fernet(NEW.encode()).decrypt(key.private_jwk_encrypted.encode())


def test_no_encryption_key_is_refused_without_debug(db, settings):
    encryption_keys(settings)
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="new-encryption-key"):
        keys.create_key("RS256")
    assert not SigningKey.objects.exists()


def test_no_encryption_key_with_debug_uses_a_key_from_secret_key(db, now, settings):
    encryption_keys(settings)
    settings.DEBUG = True
    key = make(signs_from=now - HOUR)
    assert keys.signing_key("RS256")[0] == key.kid
    # A site that then sets the setting cannot read it: the development key was not its own.
    encryption_keys(settings, NEW)
    with pytest.raises(KeyDecryptionError):
        keys.signing_key("RS256")


def test_a_value_that_is_not_a_fernet_key_is_refused(db, settings):
    encryption_keys(settings, "not a key")
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        keys.create_key("RS256")


def test_new_encryption_key_is_a_fresh_fernet_key():
    first, second = keys.new_encryption_key(), keys.new_encryption_key()
    assert first != second
    assert encryption.is_fernet_key(first)
    Fernet(first.encode())


# The in-process copy of the table ---------------------------------------------------------


def test_a_key_made_elsewhere_is_picked_up_after_reload_seconds(db, now, monkeypatch):
    first = make(signs_from=now - HOUR)
    assert published_kids() == {first.kid}  # read and kept

    # Another process makes a key: a row this one hears nothing about (no signal).
    made = RSAKey.generate_key(2048, parameters={"kid": "made-elsewhere", "alg": "RS256"})
    SigningKey.objects.bulk_create(
        [
            SigningKey(
                kid="made-elsewhere",
                alg="RS256",
                public_jwk=made.as_dict(private=False),
                private_jwk_encrypted=encryption.encrypt(json.dumps(made.as_dict(private=True))),
                signs_from=now - 60 * SECOND,
            )
        ]
    )

    # The store's clock only (time.monotonic as oauthflow.keys.store sees it).
    clock = time.monotonic()
    monkeypatch.setattr(
        store, "time", SimpleNamespace(monotonic=lambda: clock + keys.RELOAD_SECONDS - 1)
    )
    assert published_kids() == {first.kid}
    assert keys.signing_key("RS256")[0] == first.kid

    monkeypatch.setattr(
        store, "time", SimpleNamespace(monotonic=lambda: clock + keys.RELOAD_SECONDS + 1)
    )
    assert published_kids() == {first.kid, "made-elsewhere"}
    assert keys.signing_key("RS256")[0] == "made-elsewhere"


def test_a_change_in_this_process_is_seen_at_once(db, now):
    first = make(signs_from=now - HOUR)
    assert published_kids() == {first.kid}
    second = keys.create_key("ES256", signs_from=now)
    assert published_kids() == {first.kid, second.kid}
    keys.retire_key(second.kid, unpublish=True)
    assert published_kids() == {first.kid}


def test_a_key_made_in_a_transaction_that_rolls_back_is_not_kept(db, now):
    first = make(signs_from=now - HOUR)
    with pytest.raises(Boom), transaction.atomic():
        # No ES256 key: signing makes one, inside the (token request's) transaction.
        ghost, _ = keys.signing_key("ES256")
        assert ghost in published_kids()
        raise Boom
    assert not SigningKey.objects.filter(kid=ghost).exists()
    # Without waiting for a reload: the copy read during the transaction was not kept.
    assert published_kids() == {first.kid}
    assert keys.signing_key("ES256")[0] != ghost


def test_after_the_commit_the_keys_are_kept_again(
    db, now, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        key = keys.create_key("RS256", signs_from=now - HOUR)
    assert published_kids() == {key.kid}
    keys.signing_key("RS256")
    with django_assert_num_queries(0):
        for _ in range(3):
            keys.jwks()
            keys.signing_key("RS256")
            keys.verification_key(key.kid)
