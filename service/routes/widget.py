"""The chat widget: a demo page at ``/`` and the embeddable script and styles under ``/static``."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from retrieval import MODES
from service.schemas import MAX_HISTORY, MAX_QUERY_CHARS, MAX_TOP_K, SearchFilters

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# widget.js has this where the API's limits go, so that it never keeps copies of them.
LIMITS_PLACEHOLDER = "__POLICYQA_LIMITS__"

router = APIRouter(include_in_schema=False)


@router.get("/")
def demo_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/static/widget.js")
def widget_script() -> Response:
    """The widget's script, with the API's allowed modes, limits and filters written in."""
    return Response(_widget_script(), media_type="text/javascript; charset=utf-8")


@lru_cache(maxsize=1)
def _widget_script() -> str:
    limits = {
        "modes": list(MODES),
        "maxTopK": MAX_TOP_K,
        "maxQueryChars": MAX_QUERY_CHARS,
        "maxHistory": MAX_HISTORY,
        "filters": list(SearchFilters.model_fields),
    }
    script = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    return script.replace(LIMITS_PLACEHOLDER, json.dumps(limits))
