"""``GET /catalog.jsonld``: the data catalog as DCAT-AP JSON-LD (contract §6), for any signed-in
user (the server's session check refuses everyone else before this runs). The entries are those
the catalog page shows (cockpit/data/catalog.py), from the snapshot the request reads."""

from __future__ import annotations

import json

from flask import Flask, Response, request

from cockpit.data import catalog as data
from cockpit.data.reference import info
from warehouse.sharing.dcat import catalog_jsonld

PATH = "/catalog.jsonld"
MEDIA_TYPE = "application/ld+json"


def register(server: Flask) -> None:
    """Add the export's route to the cockpit's Flask server."""

    @server.route(PATH)
    def catalog_export() -> Response:
        doc = catalog_jsonld(data.entries(), request.host_url.rstrip("/"), modified=info().get("as_of"))
        return Response(json.dumps(doc, ensure_ascii=False, default=str), mimetype=MEDIA_TYPE)
