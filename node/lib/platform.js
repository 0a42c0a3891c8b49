'use strict'

// Platform names as napi-rs spells them (`linux-x64-gnu`, `darwin-arm64`,
// `win32-x64-msvc`): the suffix of the addon file and of its npm package.

const { readFileSync } = require('node:fs')

/** The platforms with a prebuilt package (node/npm/<platform>/). */
const PLATFORMS = Object.freeze([
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
])

function isMusl() {
  // Reading ldd is cheap; the process report is the fallback where ldd is absent.
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    const header = process.report?.getReport?.()?.header
    return !header?.glibcVersionRuntime
  }
}

/** This process's platform name, e.g. `linux-x64-gnu`. */
function platformName() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

module.exports = { PLATFORMS, platformName }
