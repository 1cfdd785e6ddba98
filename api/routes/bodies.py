"""Request bodies are closed: a field Callcraft does not know is refused (400, naming it) rather
than ignored, and the OpenAPI schema says so (``additionalProperties: false``).

Use ``Annotated[SomeStruct, CLOSED_JSON]`` for a handler's ``data``; the struct itself is a
``msgspec.Struct`` with ``forbid_unknown_fields=True``.
"""

from __future__ import annotations

from litestar.enums import RequestEncodingType
from litestar.params import Body

CLOSED_JSON = Body(
    media_type=RequestEncodingType.JSON, schema_extra={"additional_properties": False}
)
