"""Models only the tests use: shapes oauthflow's own models do not have."""

import uuid

from django.db import models


class Owner(models.Model):
    """A primary key of a type the database stores differently (text on SQLite)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.id)


class Pet(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=50, unique=True)
    owner = models.ForeignKey(Owner, null=True, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return self.name
