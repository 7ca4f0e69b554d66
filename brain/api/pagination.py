import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

POSITIVE_INTEGER = re.compile(r"[1-9][0-9]*", re.ASCII)


class StandardPagination(PageNumberPagination):
    """``count``, ``next``, ``previous``, ``results``; ``?page_size=`` up to 500.

    A ``page_size`` that is not a positive integer in ASCII digits is a 400 naming
    it (DRF would silently use the default for ``null`` or ``2.5``, and read
    fullwidth digits); one over 500 is served as 500, as DRF does.
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is not None and not POSITIVE_INTEGER.fullmatch(value):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"must be an integer from 1 to {self.max_page_size}"
                    ]
                }
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters
