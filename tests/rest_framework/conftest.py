# The same Bearer-only site as tests/resource (its autouse fixture, applied here too).
from tests.resource.conftest import _bearer_only  # noqa: F401
