from django.db import models


class Widget(models.Model):
    name = models.CharField(max_length=50)
    state = models.CharField(max_length=20, default="new")

    def __str__(self) -> str:
        return self.name
