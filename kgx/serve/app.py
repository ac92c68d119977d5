"""The ASGI app (FastAPI): routes, limits, auth, metrics, and the life of the batcher and store.

:func:`create_app` takes a pipeline (a name, a path or an already built ``Language``) and
returns the app; the model is loaded in the background at start, so ``/health`` answers at
once and ``/ready`` says when the model is loaded. See README "Serving" for the API.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from kgx.batch.annotation import load_model
from kgx.graph import GraphBuilder, attach_fields, document_fields
from kgx.rdf.formats import FORMATS, get_format
from kgx.rdf.vocabulary import Vocabulary
from kgx.records import model_name
from kgx.serve.batcher import Batcher, DocOut, QueueFull
from kgx.serve.inputs import (
    BODY_TYPES,
    DocIn,
    InputError,
    Limits,
    body_document,
    form_documents,
    parse_documents,
    parse_json,
    read_body,
    read_files,
)
from kgx.serve.inputs import FORMATS as DOC_FORMATS
from kgx.serve.live import LiveGraph
from kgx.serve.metrics import Metrics
from kgx.store.embedded import StoreError, parse_param
from kgx.store.flavors import Endpoints

log = logging.getLogger("kgx")

#: the body schema shown in the OpenAPI document (the body is read and checked by hand, so that
#: limits apply while it is read and errors name the field)
_DOC_SCHEMA = {"type": "object", "properties": {
    "id": {"type": ["string", "integer"]}, "text": {"type": "string"},
    "content": {"type": "string", "contentEncoding": "base64",
                "description": "a file's bytes, read as its format (pdf, docx, email, ...)"},
    "meta": {"type": "object"}, "format": {"type": "string", "description": (
        f"a text's: one of {', '.join(DOC_FORMATS)}; a content's: the input format its file is "
        "read as (pdf, docx, doc, odt, rtf, pptx, ppt, odp, epub, email, msg, html, markdown, "
        "text)")}}}
_DOCS_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {
        "oneOf": [_DOC_SCHEMA, {"type": "array", "items": _DOC_SCHEMA}]}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"},
        "id": {"type": "string", "description": "the document's id (one file; else its name)"}}}},
    **{media: {"schema": {"type": "string", "format": "binary"}} for media in BODY_TYPES}}}}
_SPARQL_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["query"], "properties": {
        "query": {"type": "string"},
        "params": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}}


class HttpError(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.detail, self.headers = status, detail, headers


def media_types() -> dict[str, str]:
    """media type → RDF format name, for content negotiation."""
    return {get_format(name).media_type: name for name in FORMATS}


def negotiate(accept: str | None, fmt: str | None) -> str:
    """The RDF format for an ``Accept`` header (or an explicit ``?format=``): N-Quads when
    anything goes, 406 when nothing offered is acceptable."""
    if fmt:
        if fmt not in FORMATS:
            raise HttpError(422, f"unknown format {fmt!r} ({', '.join(FORMATS)})")
        return fmt
    table = media_types()
    ranked = []
    for i, part in enumerate((accept or "*/*").split(",")):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, media.strip().lower()))
    for negq, _, media in sorted(ranked):
        if negq == 0:
            break
        if media in table:
            return table[media]
        if media in ("*/*", "application/*"):
            return "nq"
    raise HttpError(406, "acceptable: " + ", ".join(sorted(table)))


class Observe:
    """Pure ASGI middleware: the request id, auth on ``/v1``, and the request metrics."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.svc = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")
        if not (0 < len(rid) <= 64 and rid.replace("-", "").isalnum()):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = [500]

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            if scope["path"].startswith("/v1/"):
                try:
                    self.svc.check_auth(Request(scope))
                except HttpError as e:
                    await _error(e, rid)(scope, receive, send_with_id)
                    return
            await self.app(scope, receive, send_with_id)
        finally:
            path = getattr(scope.get("route"), "path", None) or "other"
            self.svc.metrics.request(path, scope["method"], status[0],
                                     time.perf_counter() - start)


class Service:
    """What the routes share: the model, the batcher, the live graph, the counters."""

    def __init__(self, model: Any, *, limits: Limits, batcher_options: dict[str, Any],
                 store: str | Path | None, endpoints: Endpoints | None, state: str | Path | None,
                 base: str | None, token: str | None, code: str | Path | None = None) -> None:
        self.model_ref = model
        self.code = code
        self.limits = limits
        self.batcher_options = batcher_options
        self.store_options: dict[str, Any] = {"store": store, "endpoints": endpoints,
                                              "state": state, "base": base}
        self.base = base
        self.token = token.encode() if token else None
        self.nlp: Any = None
        self.model = ""
        self.batcher: Batcher | None = None
        self.live: LiveGraph | None = None
        self.metrics = Metrics(lambda: self.batcher.depth if self.batcher else 0)
        self.load_error: str | None = None
        self._loading: asyncio.Task | None = None

    async def start(self) -> None:
        self._loading = asyncio.create_task(self._load())

    async def _load(self) -> None:
        try:
            if self.code:  # custom components the pipeline needs, as `spacy ... --code`
                from spacy.util import import_file

                await asyncio.to_thread(import_file, "kgx_serve_code", str(self.code))
            self.nlp = await asyncio.to_thread(load_model, self.model_ref)
            self.model = model_name(self.nlp)
            if self.store_options["store"] or self.store_options["endpoints"]:
                self.live = await asyncio.to_thread(lambda: LiveGraph(**self.store_options))
            batcher = Batcher(self.nlp, on_batch=self.metrics.batch, **self.batcher_options)
            await batcher.start()
            self.batcher = batcher
            log.info("kgx serve: %s ready", self.model)
        except Exception as e:
            self.load_error = f"{type(e).__name__}: {e}"
            log.error("kgx serve: cannot start: %s", self.load_error)

    async def stop(self) -> None:
        if self._loading is not None:
            await self._loading
        if self.batcher is not None:
            await self.batcher.close()
        if self.live is not None:
            await self.live.close()

    def check_auth(self, request: Request) -> None:
        if self.token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if not header or scheme.lower() != "bearer":
            raise HttpError(401, "a bearer token is required",
                            {"WWW-Authenticate": 'Bearer realm="kgx"'})
        if not hmac.compare_digest(value.strip().encode(), self.token):
            raise HttpError(403, "the token is not valid")

    def ready_batcher(self) -> Batcher:
        if self.batcher is None:
            raise HttpError(503, self.load_error or "the model is loading",
                            {"Retry-After": "1"})
        return self.batcher

    def need_live(self) -> LiveGraph:
        self.ready_batcher()
        if self.live is None:
            raise HttpError(404, "this server has no store (start it with --store or --endpoint)")
        return self.live

    async def documents(self, request: Request, *, need_id: bool) -> list[DocIn]:
        body = await read_body(request.headers.get("content-length"), request.stream(),
                               self.limits.max_body_bytes)
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";")[0].strip().lower()
        if media == "multipart/form-data":  # files uploaded as a form
            docs = form_documents(body, content_type, self.limits)
        elif media in BODY_TYPES:  # a file as the body; anything else is read as JSON
            doc_id = request.query_params.get("id") or ""
            if need_id and not doc_id:
                raise InputError(422, "a document id is required (?id=)", ["query", "id"])
            docs = [body_document(body, BODY_TYPES[media], doc_id or request.state.request_id,
                                  content_type)]
        else:
            docs = parse_documents(parse_json(body), self.limits, need_id=need_id,
                                   auto_id=request.state.request_id)
        if any(d.content is not None for d in docs):
            docs = await asyncio.to_thread(read_files, docs, self.limits)
        return docs

    async def extract(self, request: Request, docs: list[DocIn]) -> list[DocOut]:
        batcher = self.ready_batcher()
        try:
            results = await batcher.submit([(d.id, d.text) for d in docs])
        except QueueFull as e:
            raise HttpError(503, f"busy: {e}", {"Retry-After": "1"}) from None
        for doc, res in zip(docs, results, strict=True):
            if res.error is not None:
                log.error("request %s: the pipeline failed on document %r: %s",
                          request.state.request_id, doc.id, res.error)
                raise HttpError(500, f"the pipeline failed on document {doc.id!r}")
        return results


def _document(doc: DocIn, res: DocOut) -> dict[str, Any]:
    out: dict[str, Any] = {"id": doc.id, "entities": res.entities, "records": res.records}
    if doc.meta is not None:
        out["meta"] = doc.meta
    return out


def create_app(model: Any, *, max_batch_words: int = 4000, max_wait_ms: float = 5.0,
               max_queue: int = 1024, batching: bool = True, limits: Limits | None = None,
               store: str | Path | None = None, endpoints: Endpoints | None = None,
               state: str | Path | None = None, base: str | None = None,
               token: str | None = None, code: str | Path | None = None) -> FastAPI:
    """The kgx service over ``model`` (a pipeline name or path, or a loaded ``Language``).

    ``store`` (an embedded store folder) or ``endpoints`` (a remote store) enable ingest,
    delete, related and SPARQL. ``token`` (default: ``KGX_SERVE_TOKEN``) requires a bearer
    token on every ``/v1`` route. ``code`` is a Python file imported before the model is
    loaded (custom components, as spaCy's ``--code``)."""
    token = token if token is not None else os.environ.get("KGX_SERVE_TOKEN") or None
    svc = Service(model, limits=limits or Limits(), store=store, endpoints=endpoints,
                  state=state, base=base, token=token, code=code,
                  batcher_options={"max_batch_words": max_batch_words,
                                   "max_wait_ms": max_wait_ms, "max_queue": max_queue,
                                   "batching": batching})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await svc.start()
        yield
        await svc.stop()

    app = FastAPI(title="kgx", summary="Relation extraction and live knowledge-graph upkeep",
                  lifespan=lifespan)
    app.state.service = svc

    app.add_middleware(Observe, service=svc)

    @app.exception_handler(HttpError)
    async def http_error(request: Request, exc: HttpError) -> Response:
        return _error(exc, getattr(request.state, "request_id", ""))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        rid = getattr(request.state, "request_id", "")
        return JSONResponse({"error": "internal error", "request_id": rid}, 500,
                            headers={"X-Request-ID": rid})

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return _error(HttpError(exc.status, exc.detail()),
                      getattr(request.state, "request_id", ""))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> Response:
        if svc.batcher is None:
            return JSONResponse({"ready": False, "error": svc.load_error}, 503)
        return JSONResponse({"ready": True, "model": svc.model,
                             "store": svc.live.kind if svc.live else None})

    @app.get("/metrics")
    async def metrics() -> Response:
        return PlainTextResponse(svc.metrics.render(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/v1/extract", openapi_extra=_DOCS_BODY)
    async def extract(request: Request) -> Response:
        """Entities and relation records (the record schema of ``kgx extract``)."""
        docs = await svc.documents(request, need_id=False)
        results = await svc.extract(request, docs)
        return JSONResponse({"model": svc.model, "documents": [
            _document(d, r) for d, r in zip(docs, results, strict=True)]})

    @app.post("/v1/rdf", openapi_extra=_DOCS_BODY)
    async def rdf(request: Request, format: str | None = None) -> Response:
        """The RDF ``kgx export`` would write for these documents (content negotiation)."""
        fmt = negotiate(request.headers.get("accept"), format)
        docs = await svc.documents(request, need_id=False)
        results = await svc.extract(request, docs)
        body = await asyncio.to_thread(_rdf_bytes, [r for res in results for r in res.records],
                                       fmt, base, [(d.id, document_fields(d.meta)) for d in docs])
        return Response(body, media_type=get_format(fmt).media_type)

    @app.post("/v1/ingest", openapi_extra=_DOCS_BODY)
    async def ingest(request: Request) -> dict[str, Any]:
        """Extract and upsert: each document's facts replaced in the store."""
        live = svc.need_live()
        docs = await svc.documents(request, need_id=True)
        results = await svc.extract(request, docs)
        await live.upsert([(d.id, r.records) for d, r in zip(docs, results, strict=True)],
                          {d.id: document_fields(d.meta) for d in docs})
        svc.metrics.ingest(len(docs))
        return {"documents": [{"id": d.id, "entities": len(r.entities),
                               "records": len(r.records)} for d, r in zip(docs, results,
                                                                         strict=True)],
                "store": {"kind": live.kind, "documents": live.documents()}}

    @app.delete("/v1/documents/{doc_id:path}")
    async def delete(doc_id: str) -> Response:
        live = svc.need_live()
        if not await live.delete(doc_id):
            return JSONResponse({"detail": f"no document {doc_id!r} in the graph"}, 404)
        return JSONResponse({"deleted": doc_id, "documents": live.documents()})

    @app.get("/v1/related")
    async def related(entity: str, top: int = 10) -> dict[str, Any]:
        """The ``kgx related`` ranking over the live graph."""
        live = svc.need_live()
        if not 1 <= top <= 1000:
            raise HttpError(422, "top must be between 1 and 1000")
        try:
            return {"entity": entity, "related": await live.related(entity, top)}
        except KeyError:
            raise HttpError(404, f"no entity matches {entity!r}") from None

    @app.post("/v1/sparql", openapi_extra=_SPARQL_BODY)
    async def sparql(request: Request) -> dict[str, Any]:
        """A read-only SPARQL query; ``params`` are bound as RDF terms (``<iri>`` or text)."""
        live = svc.need_live()
        body = await read_body(request.headers.get("content-length"), request.stream(),
                               svc.limits.max_body_bytes)
        data = parse_json(body)
        if not isinstance(data, dict) or not isinstance(data.get("query"), str):
            raise InputError(422, "a string is required", ["body", "query"])
        raw = data.get("params") or {}
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise InputError(422, "an object of strings is required", ["body", "params"])
        try:
            params = dict(parse_param(f"{k}={v}") for k, v in raw.items())
        except ValueError as e:
            raise InputError(422, str(e), ["body", "params"]) from None
        try:
            return await live.query(data["query"], params)
        except StoreError as e:
            raise HttpError(400, str(e)) from None

    return app


def _error(e: HttpError, rid: str) -> Response:
    body: dict[str, Any] = {"detail": e.detail, "request_id": rid}
    if e.status == 500:
        body = {"error": e.detail, "request_id": rid}
    return JSONResponse(body, e.status, headers=e.headers)


def _rdf_bytes(records: list[Any], fmt: str, base: str | None,
               fields: list[tuple[str, dict[str, str]]]) -> bytes:
    builder = GraphBuilder(base=base)
    if records:
        builder.add_records(records, validate=False)
    attach_fields(builder.graph, fields)
    with tempfile.TemporaryDirectory(prefix="kgx-serve-") as tmp:
        path = Path(tmp) / f"graph{get_format(fmt).suffixes[0]}"
        get_format(fmt)().write(builder.graph, path, Vocabulary.default(), "en")
        return path.read_bytes()


def app_from_env() -> FastAPI:
    """The app as ``kgx serve --workers N`` starts it in each worker process (its settings in
    ``KGX_SERVE_CONFIG``, JSON written by the command)."""
    cfg = json.loads(os.environ["KGX_SERVE_CONFIG"])
    endpoints = Endpoints(**cfg.pop("endpoints")) if cfg.get("endpoints") else None
    cfg.pop("endpoints", None)
    limits = Limits(**cfg.pop("limits"))
    return create_app(cfg.pop("model"), limits=limits, endpoints=endpoints, **cfg)
