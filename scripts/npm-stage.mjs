#!/usr/bin/env node
// Stages the npm packages for `npm pack` / `npm publish`, the napi-rs way:
//
//   node scripts/npm-stage.mjs OUT_DIR [ADDON_DIR]
//
// OUT_DIR/sendcloud-status/  the main package (JS, types, loader, no addon); its
//                            package.json lists every platform package as an optional
//                            dependency of the same version (added here, not in node/
//                            package.json: unpublished packages would break `npm ci`).
// OUT_DIR/<platform>/        node/npm/<platform>/ plus its addon, for each
//                            sendcloud-status.<platform>.node found in ADDON_DIR
//                            (default node/lib).
// Prints the staged directories, one a line. Stripping debug info is the caller's job.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const NODE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'node')
const require = createRequire(import.meta.url)
const { PLATFORMS } = require(path.join(NODE, 'lib', 'platform.js'))

const [outArg, addonArg] = process.argv.slice(2)
if (!outArg) {
  console.error('usage: node scripts/npm-stage.mjs OUT_DIR [ADDON_DIR]')
  process.exit(2)
}
const out = path.resolve(outArg)
const addons = path.resolve(addonArg ?? path.join(NODE, 'lib'))
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'))
const writeJson = (file, value) => writeFileSync(file, JSON.stringify(value, null, 2) + '\n')

const LICENSES = ['LICENSE-MIT', 'LICENSE-APACHE']
const copyLicenses = (dir) => {
  for (const file of LICENSES) copyFileSync(path.join(NODE, '..', file), path.join(dir, file))
}

const pkg = readJson(path.join(NODE, 'package.json'))
const staged = []

// The main package: what its `files` list names (plain paths and `dir/*.ext` patterns;
// a local addon build is not among them, nor is a stale generated lib/binding.js).
const main = path.join(out, pkg.name)
rmSync(main, { recursive: true, force: true })
for (const entry of pkg.files) {
  const glob = /^([\w./-]+)\/\*(\.\w+)$/.exec(entry)
  if (!glob && /[*?[\]{}!]/.test(entry)) throw new Error(`node/package.json files: unsupported pattern ${entry}`)
  const files = glob
    ? readdirSync(path.join(NODE, glob[1]))
        .filter((f) => f.endsWith(glob[2]) && f !== 'binding.js')
        .map((f) => path.join(glob[1], f))
    : [entry]
  for (const file of files) {
    mkdirSync(path.dirname(path.join(main, file)), { recursive: true })
    copyFileSync(path.join(NODE, file), path.join(main, file))
  }
}
copyLicenses(main)
const { scripts: _scripts, devDependencies: _dev, overrides: _overrides, ...published } = pkg
published.files = [...pkg.files, ...LICENSES]
published.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [`@sendcloud-status/${p}`, pkg.version]))
writeJson(path.join(main, 'package.json'), published)
staged.push(main)

// The platform packages that have an addon here.
for (const platform of PLATFORMS) {
  const addon = path.join(addons, `sendcloud-status.${platform}.node`)
  if (!existsSync(addon)) continue
  const dir = path.join(out, platform)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const sub = readJson(path.join(NODE, 'npm', platform, 'package.json'))
  if (sub.version !== pkg.version) {
    throw new Error(`node/npm/${platform}/package.json has version ${sub.version}, node/package.json ${pkg.version}`)
  }
  copyFileSync(addon, path.join(dir, path.basename(addon)))
  copyLicenses(dir)
  writeJson(path.join(dir, 'package.json'), { ...sub, files: [...sub.files, ...LICENSES] })
  staged.push(dir)
}

console.log(staged.join('\n'))
