// Test support (not a test file): start the sandbox binary on a free port,
// talk to its /_sandbox/ control endpoints, stop it.

import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import net from 'node:net'

const here = path.dirname(fileURLToPath(import.meta.url))
export const REPO = path.resolve(here, '..', '..')
export const SANDBOX_BIN =
  process.env.SENDCLOUD_SANDBOX_BIN || path.join(REPO, 'target', 'debug', 'sendcloud-status-sandbox')
export const VECTORS = path.join(REPO, 'tests', 'vectors')

export const API_USER = 'sandbox_user'
export const API_KEY = 'sandbox-demo-key'

/**
 * Where the sandboxes' clocks start (server time, UTC+8), so that no test
 * depends on the time of day it runs at: on the real clock, "today" holds few
 * rows between 00:00 and 01:00 UTC+8, and midnight can pass between the
 * client's plan and the sandbox's answer. Exports of `days` windows pass
 * `today: TODAY` (or `serverNow`) to plan on the sandbox's calendar.
 */
export const NOW = '2024-05-20 12:00:00'
export const TODAY = '2024-05-20'

// Keep the environment from changing what the tests build.
for (const name of ['SENDCLOUD_API_USER', 'SENDCLOUD_API_KEY', 'SENDCLOUD_REGION', 'SENDCLOUD_BASE_URL']) {
  delete process.env[name]
}

/**
 * Starts `sendcloud-status-sandbox --port 0 ...args` and resolves once it
 * printed its URL. Its clock starts at `NOW` unless `args` set it (`--now`,
 * `--today`) or `realClock` is true.
 * @param {string[]} [args]
 * @param {{ realClock?: boolean }} [options]
 */
export async function startSandbox(args = [], { realClock = false } = {}) {
  if (!existsSync(SANDBOX_BIN)) {
    throw new Error(`sandbox binary not found at ${SANDBOX_BIN}: cargo build -p sendcloud-status-sandbox`)
  }
  const clock = realClock || args.includes('--now') || args.includes('--today') ? [] : ['--now', NOW]
  const child = spawn(SANDBOX_BIN, ['--port', '0', ...clock, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sandbox did not start within 20 s')), 20_000)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}`)))
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = /^listening on (http:\/\/\S+)/.exec(line)
      if (m) resolve(m[1])
      else reject(new Error(`unexpected first line from the sandbox: ${line}`))
    })
  })
  child.removeAllListeners('exit')
  lines.on('line', () => {}) // drain the rest
  const root = new URL('/_sandbox/', baseUrl).href

  const getJson = async (url, init) => {
    const res = await fetch(url, init)
    const body = await res.json()
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(body)}`)
    return body
  }

  return {
    baseUrl,
    process: child,
    info: () => getJson(root + 'info'),
    /** @param {Record<string, string|number>} params  API wire names */
    truth: (params) => getJson(root + 'truth?' + new URLSearchParams(params)),
    requests: () => getJson(root + 'requests'),
    clear: () => getJson(root + 'clear', { method: 'POST' }),
    faults: (f) => getJson(root + 'faults', { method: 'POST', body: JSON.stringify(f) }),
    /**
     * Sets the live account (`arrivals_per_second`, `settle_per_second`,
     * `day_advance_after_requests`, `order`, `cache`…; unset means off),
     * counting from now; drops cached snapshots. Resolves to the server time.
     */
    live: async (settings) => (await getJson(root + 'live', { method: 'POST', body: JSON.stringify(settings) })).now,
    /** The live account's change log: `[{ seq, email_id, kind, at, after_request, … }]`. */
    changes: () => getJson(root + 'changes'),
    /** The server clock, `yyyy-MM-dd HH:mm:ss`. */
    now: async () => (await getJson(root + 'info')).now,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await gone
    },
  }
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

const STATUS_CODES = { delivered: 1, invalid: 4, soft_bounce: 5, sending: 18 }

/**
 * The sandbox ground-truth parameters for JS filters, spelled by hand (not
 * by the library) so the oracle stays independent of the encoder.
 */
export function truthParams(f) {
  const p = {}
  if (f.days !== undefined) p.days = f.days
  if (f.startDate !== undefined) p.startDate = f.startDate
  if (f.endDate !== undefined) p.endDate = f.endDate
  if (f.email !== undefined) p.email = f.email
  if (f.emailIds !== undefined) p.emailIds = f.emailIds.join(';')
  if (f.labelId !== undefined) p.labelId = f.labelId
  if (f.labelName !== undefined) p.labelName = f.labelName
  if (f.apiUsers !== undefined) p.apiUserList = f.apiUsers.join(';')
  if (f.status !== undefined) p.status = STATUS_CODES[f.status]
  if (f.subStatus !== undefined) p.subStatus = f.subStatus.join(';')
  return p
}

/** `yyyy-MM-dd` of `date` (a `yyyy-MM-dd` string) plus `days`. */
export function addDays(date, days) {
  const d = new Date(date + 'T00:00:00Z')
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}
