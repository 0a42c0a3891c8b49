"""A SendCloud event-webhook receiver on Flask: verify the raw body, answer 400/403
on refusal, 200 for a repeat (store nothing), store new events.

    pip install flask
    SENDCLOUD_WEBHOOK_KEY=... flask --app examples/webhook_flask.py run

Serve it over HTTPS only: the vendor signs the timestamp and the token, no other field.
"""

from __future__ import annotations

import os
from typing import Set

from flask import Flask, request

import sendcloud_status as sc

APP_KEY = os.environ.get("SENDCLOUD_WEBHOOK_KEY", "")
SEEN: Set[str] = set()  # use a database in production; tokens older than the tolerance may go

app = Flask(__name__)


@app.post("/sendcloud/events")
def events() -> tuple[str, int]:
    try:
        event = sc.verify_webhook(
            request.get_data(),  # the raw body, as signed
            APP_KEY,
            content_type=request.content_type,
            seen=SEEN,
        )
    except sc.WebhookError as refused:
        return refused.kind, refused.http_status or 400
    if not event.repeated:
        SEEN.add(event.token)
        print(event.kind, event.email_id, event.category, event.sub_status)
    return "ok", 200
