"""The token cache's key layout, shared by the cache (which needs oauthflow's tables) and
the JWT check (which must not)."""

#: The version in the prefix changes whenever the entry layout does, so a deploy never
#: reads entries written by older code.
KEY_PREFIX = "oauthflow:at:3:"
#: What a stale marker holds.
STALE = "stale"
