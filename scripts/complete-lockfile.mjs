// Adds lockfile entries for other platforms' optional binaries (Deno, the supabase CLI) when the registry
// in use served only this platform's, so that `npm ci` accepts the lockfile everywhere. npm skips the
// entries on platforms they are not for. Run after an `npm install` that changed package-lock.json:
//   node scripts/complete-lockfile.mjs
import fs from 'node:fs'
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'))
const pk = lock.packages
const guess = (name) => {
  const os = /darwin/.test(name) ? 'darwin' : /win32|windows/.test(name) ? 'win32' : 'linux'
  const cpu = /arm64/.test(name) ? 'arm64' : 'x64'
  const libc = /musl/.test(name) ? 'musl' : /linux/.test(name) ? 'glibc' : undefined
  return { os, cpu, libc }
}
let added = 0
for (const meta of Object.values(pk)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`
    if (pk[key]) continue
    const { os, cpu, libc } = guess(dep)
    pk[key] = { version, ...(meta.dev ? { dev: true } : {}), optional: true, os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) }
    added++
  }
}
lock.packages = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))))
fs.writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`)
console.log('added', added)
