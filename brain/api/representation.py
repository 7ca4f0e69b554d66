"""Output without DRF's per-response cost: a serializer's fields, built once.

A DRF serializer builds its fields anew for every instance it is created for (a
``ModelSerializer`` introspects the model each time), and each ``DateTimeField``
looks up the active time zone for every value. On the hot paths (a mission
created, a page of 50 missions, a robot's state) that was a third of the request's
CPU (issue 15's profile). ``Representation(SomeSerializer)`` renders exactly what
``SomeSerializer(instance).data`` renders -- the same fields, each field's own
``to_representation`` -- with the fields built on first use and kept. The
serializer stays the one declaration: the OpenAPI schema, and input validation
where it has any, still come from it. Output only, and only for serializers whose
fields need no request context (``tests/foundation/test_representation.py`` holds
each one in use to its serializer).

The project never activates another time zone (``TIME_ZONE = "UTC"``, no
``timezone.activate``), so date-times are given the default zone once instead of
asking for the current one per value.
"""

from collections.abc import Iterable

from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject


class Representation:
    def __init__(self, serializer_class: type[serializers.Serializer]) -> None:
        self.serializer_class = serializer_class
        self._fields: list | None = None

    def _build(self) -> list:
        fields = list(self.serializer_class()._readable_fields)
        for field in fields:
            if isinstance(field, serializers.DateTimeField) and not hasattr(
                field, "timezone"
            ):
                field.timezone = timezone.get_default_timezone()
        self._fields = fields
        return fields

    def __call__(self, instance) -> dict:
        """What ``serializer_class(instance).data`` is (as a plain dict)."""
        fields = self._fields if self._fields is not None else self._build()
        out = {}
        for field in fields:
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            # As Serializer.to_representation: a null stays null, untouched.
            value = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            out[field.field_name] = (
                None if value is None else field.to_representation(attribute)
            )
        return out

    def many(self, instances: Iterable) -> list[dict]:
        return [self(instance) for instance in instances]
