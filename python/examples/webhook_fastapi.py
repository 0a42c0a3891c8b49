"""A SendCloud event-webhook receiver on FastAPI: verify the raw body, answer 400/403
on refusal, 200 for a repeat (store nothing), store new events.

    pip install fastapi uvicorn
    SENDCLOUD_WEBHOOK_KEY=... uvicorn examples.webhook_fastapi:app

Verification is pure and fast (no I/O): calling it from an ``async def`` is fine. Serve
it over HTTPS only: the vendor signs the timestamp and the token, no other field.
"""

from __future__ import annotations

import os
from typing import Set

from fastapi import FastAPI, Request, Response

import sendcloud_status as sc

APP_KEY = os.environ.get("SENDCLOUD_WEBHOOK_KEY", "")
SEEN: Set[str] = set()  # use a database in production; tokens older than the tolerance may go

app = FastAPI()


@app.post("/sendcloud/events")
async def events(request: Request) -> Response:
    body = await request.body()  # the raw body, as signed
    try:
        event = sc.verify_webhook(body, APP_KEY, content_type=request.headers.get("content-type"), seen=SEEN)
    except sc.WebhookError as refused:
        return Response(refused.kind, status_code=refused.http_status or 400)
    if not event.repeated:
        SEEN.add(event.token)
        print(event.kind, event.email_id, event.category, event.sub_status)
    return Response("ok", status_code=200)
