'use strict'

// Loads the native addon: a local build first (lib/sendcloud-status.<platform>.node,
// made by `npm run build`: development and the tests), then the prebuilt
// package of this platform, @sendcloud-status/<platform>, which npm installs as
// an optional dependency (only the one whose os/cpu/libc match).

const { existsSync } = require('node:fs')
const path = require('node:path')
const { platformName, PLATFORMS } = require('./platform.js')

const { version } = require('../package.json')
const REPO = 'https://github.com/sendcloud-status/sendcloud-status'

function load() {
  const platform = platformName()
  const local = path.join(__dirname, `sendcloud-status.${platform}.node`)
  if (existsSync(local)) return require(local)

  if (!PLATFORMS.includes(platform)) {
    throw new Error(
      `sendcloud-status: no prebuilt addon for ${platform} (there are: ${PLATFORMS.join(', ')}); ` +
        `build it from source with \`npm run build\` in a checkout of ${REPO} (needs Rust)`,
    )
  }
  const pkg = `@sendcloud-status/${platform}`
  let addon
  try {
    addon = require(pkg)
  } catch (e) {
    // Only "this very package is absent" gets the advice; a broken addon's own error stays.
    if (!(e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${pkg}'`))) throw e
    throw new Error(
      `sendcloud-status: the addon package ${pkg} is not installed; run \`npm install ${pkg}@${version}\`, ` +
        'or, if npm skipped it (its optional-dependencies lockfile bug, npm/cli#4828), ' +
        'delete node_modules and package-lock.json and run `npm install` again; in a checkout, `npm run build`',
      { cause: e },
    )
  }
  // A lockfile can pin an older addon beside a newer JS layer: refuse the mix.
  const found = require(`${pkg}/package.json`).version
  if (found !== version) {
    throw new Error(
      `sendcloud-status: ${pkg} is version ${found} but sendcloud-status is ${version}; ` +
        `run \`npm install sendcloud-status@${version} ${pkg}@${version}\``,
    )
  }
  return addon
}

module.exports = load()
