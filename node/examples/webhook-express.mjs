// A SendCloud event-webhook receiver on Express (not a dependency of this
// package: `npm install express`). Verifies the raw body; answers 400/403 on
// refusal, 200 for a repeat (store nothing); stores new events.
//
//   SENDCLOUD_WEBHOOK_KEY=... node examples/webhook-express.mjs
//
// Serve it over HTTPS only: the vendor signs the timestamp and the token,
// no other field.

import express from 'express'
import { WebhookError, verifyWebhook } from 'sendcloud-status'

const APP_KEY = process.env.SENDCLOUD_WEBHOOK_KEY ?? ''
const seen = new Set() // use a database in production; tokens older than the tolerance may go

const app = express()
// The raw body, as signed (form or JSON).
app.post('/sendcloud/events', express.raw({ type: () => true }), (req, res) => {
  let event
  try {
    event = verifyWebhook(req.body, APP_KEY, { contentType: req.get('content-type'), seen })
  } catch (e) {
    if (e instanceof WebhookError) return res.status(e.httpStatus).send(e.code)
    throw e
  }
  if (!event.repeated) {
    seen.add(event.token)
    console.log(event.kind, event.emailId, event.category, event.subStatus)
  }
  res.status(200).send('ok')
})

app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1')
