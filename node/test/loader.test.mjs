// The package's entry points and its addon loader (lib/native.js): the ES
// module entry exports the CommonJS objects themselves; the loader takes a
// local build first, then the platform package, and otherwise fails with one
// actionable line. Each loader case runs a copy of lib/ in a temporary
// package, with fake platform packages where the case needs one.

import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import * as esm from '../index.mjs'

const require = createRequire(import.meta.url)
const NODE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const LIB = path.join(NODE_DIR, 'lib')
const { version: VERSION } = JSON.parse(readFileSync(path.join(NODE_DIR, 'package.json'), 'utf8'))
const { platformName, PLATFORMS } = require('../lib/platform.js')
const PLATFORM = platformName()
const PKG = `@sendcloud-status/${PLATFORM}`

describe('entry points', () => {
  it('import and require give the same objects', () => {
    const cjs = require('../index.js')
    const named = Object.keys(esm).filter((k) => k !== 'default')
    assert.deepEqual(named.sort(), Object.keys(cjs).sort())
    for (const name of named) assert.equal(esm[name], cjs[name], name)
    assert.equal(esm.default, cjs)
  })

  it('the package name resolves to index.mjs for import and index.js for require', async () => {
    const imported = await import('sendcloud-status')
    assert.equal(imported.Client, require('sendcloud-status').Client)
    assert.equal(import.meta.resolve('sendcloud-status'), new URL('../index.mjs', import.meta.url).href)
    assert.equal(require.resolve('sendcloud-status'), path.join(NODE_DIR, 'index.js'))
  })
})

describe('platform names', () => {
  it("this machine's name is the suffix napi build gave the local addon", () => {
    assert.ok(existsSync(path.join(LIB, `sendcloud-status.${PLATFORM}.node`)), PLATFORM)
  })

  it('every platform has a package directory of that name, os, cpu and version', () => {
    for (const platform of PLATFORMS) {
      const pkg = JSON.parse(readFileSync(path.join(NODE_DIR, 'npm', platform, 'package.json'), 'utf8'))
      assert.equal(pkg.name, `@sendcloud-status/${platform}`)
      assert.equal(pkg.version, VERSION)
      assert.equal(pkg.main, `sendcloud-status.${platform}.node`)
      const [os_, cpu, abi] = platform.split('-')
      assert.deepEqual(pkg.os, [os_])
      assert.deepEqual(pkg.cpu, [cpu])
      assert.deepEqual(pkg.libc, abi === 'gnu' ? ['glibc'] : abi === 'musl' ? ['musl'] : undefined)
    }
  })
})

describe('addon loader', () => {
  let tmp
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sendcloud-status-loader-'))
  })
  after(() => {
    rmSync(tmp, { recursive: true, force: true })
  })

  let n = 0
  /** A package with a copy of the JS loader (no addon); returns its lib/native.js. */
  function fakePackage({ localAddon = false, platformPackage } = {}) {
    const root = path.join(tmp, `case-${++n}`)
    mkdirSync(path.join(root, 'lib'), { recursive: true })
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'sendcloud-status', version: VERSION }))
    for (const file of ['native.js', 'platform.js']) copyFileSync(path.join(LIB, file), path.join(root, 'lib', file))
    if (localAddon) {
      const name = `sendcloud-status.${PLATFORM}.node`
      symlinkSync(path.join(LIB, name), path.join(root, 'lib', name))
    }
    if (platformPackage) {
      const dir = path.join(root, 'node_modules', PKG)
      mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: PKG, main: 'addon.js', ...platformPackage }))
      writeFileSync(path.join(dir, 'addon.js'), "module.exports = { from: 'platform package' }")
    }
    return path.join(root, 'lib', 'native.js')
  }

  /** The message of the error requiring `file` throws in a fresh process (`setup` runs first). */
  function loadError(file, setup = '') {
    try {
      execFileSync(process.execPath, ['-e', `${setup}; require(${JSON.stringify(file)})`], { stdio: 'pipe' })
    } catch (e) {
      const line = String(e.stderr).split('\n').find((l) => l.startsWith('Error: '))
      assert.ok(line, String(e.stderr))
      return line.slice('Error: '.length)
    }
    assert.fail('the loader did not throw')
  }

  it('takes the local build before the platform package', () => {
    const native = require(fakePackage({ localAddon: true, platformPackage: { version: VERSION } }))
    assert.equal(native.from, undefined)
    assert.equal(native.version(), VERSION)
  })

  it('takes the platform package when there is no local build', () => {
    const native = require(fakePackage({ platformPackage: { version: VERSION } }))
    assert.equal(native.from, 'platform package')
  })

  it('names the package to install when it is missing, on one line', () => {
    const message = loadError(fakePackage())
    assert.ok(message.includes(`the addon package ${PKG} is not installed`), message)
    assert.ok(message.includes(`npm install ${PKG}@${VERSION}`), message)
    assert.ok(message.includes('delete node_modules and package-lock.json'), message)
  })

  it('refuses a platform package of another version', () => {
    const message = loadError(fakePackage({ platformPackage: { version: '0.0.1' } }))
    assert.ok(message.includes(`${PKG} is version 0.0.1 but sendcloud-status is ${VERSION}`), message)
  })

  it('says which platforms have prebuilt addons on any other', () => {
    const message = loadError(fakePackage(), "Object.defineProperty(process, 'arch', { value: 'riscv64' })")
    assert.match(message, /^sendcloud-status: no prebuilt addon for \w+-riscv64/)
    assert.ok(message.includes(PLATFORMS.join(', ')), message)
    assert.ok(message.includes('npm run build'), message)
  })

  it('lets a broken platform package report its own error', () => {
    const file = fakePackage({ platformPackage: { version: VERSION, main: 'missing.js' } })
    // The package resolves but its main does not: not the "install it" advice.
    const message = loadError(file)
    assert.ok(!message.includes('is not installed'), message)
  })
})
