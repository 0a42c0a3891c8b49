// The ES module form, type-checked by the tests (tsc): `import` resolves the
// types through the `types` condition of package.json's `exports`, and the
// default export is the whole module, as `index.mjs` makes it at run time.
import sendcloud, { Client, ValidationError, type EmailRecord } from 'sendcloud-status'

const client = new Client({ apiUser: 'api_user', apiKey: process.env.SENDCLOUD_API_KEY ?? '' })
const same: typeof Client = sendcloud.Client
const recipients: (string | null)[] = []
for await (const r of client.records({ days: 1 })) {
  const record: EmailRecord = r
  recipients.push(record.recipient)
}
console.log(same === Client, recipients.length, ValidationError.name)
