"""GET /audit/integrity: the tamper-evident history, for auditors and admins.

Shows the public key that signs the checkpoints and the latest checkpoint; "Verify now"
(``?verify=now``) checks the whole store against the chain and shows the report — through
htmx only the report partial comes back, without script the whole page. Anyone else: 403.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Response, Template

from domain.principals import may_audit
from projections.integrity import Integrity
from web.auth import is_htmx, permitted_viewer

REPORT_PARTIAL = "partials/integrity_report.html"


class IntegrityController(Controller):
    path = "/audit/integrity"
    include_in_schema = False

    @get("/", name="audit-integrity", sync_to_thread=True)
    def page(
        self, request: Request[Any, Any, Any], integrity: NamedDependency[Integrity]
    ) -> Template | Response[Any]:
        principal = permitted_viewer(
            request, may_audit, "the integrity check is for auditors and admins"
        )
        if isinstance(principal, Response):
            return principal
        verify = request.query_params.get("verify") == "now"
        context: dict[str, Any] = {
            "principal": principal,
            "public_key": integrity.public_key,
            "checkpoint": integrity.latest_checkpoint(),
            "report": integrity.verify() if verify else None,
        }
        headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
        partial = is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"
        template = REPORT_PARTIAL if partial and verify else "pages/audit_integrity.html"
        return Template(template_name=template, context=context, headers=headers)
