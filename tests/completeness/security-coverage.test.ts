// Every operation in /openapi.json went through the shared security table (tests/harness/security.ts): each
// describeSecurity run notes the method and path template it read from the route's definition, and an
// operation without one is named here. Runs after every other file (the `completeness` project), so it
// judges the whole run.
import { beforeAll, describe, expect, it } from 'vitest'
import { app } from '../../functions/app.ts'
import { apiBasePath } from '../../functions/_core/server.ts'
import { observed } from '../harness/observed.ts'

type Operations = Record<string, Record<string, unknown>>

/**
 * Operations that need no credential by design, each with why. The document itself (/openapi.json) and the
 * reference page (/docs, its assets) are served beside the routes, not declared as operations.
 */
const needsNoCredential: Record<string, string> = {
  'POST /auth/agent-register': 'how an agent without any credential starts signing itself up (limited per address)',
  'POST /auth/agent-verify': 'the signature of the challenge is the credential (tests/auth/agent-registration.test.ts)',
}

let operations: string[]
beforeAll(async () => {
  const res = await app.request(`${apiBasePath}/openapi.json`)
  expect(res.status).toBe(200)
  const { paths } = (await res.json()) as { paths: Operations }
  operations = Object.entries(paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
})

describe('the security table', () => {
  it('has run for every operation in /openapi.json', () => {
    const runs = new Set(observed<{ method: string; path: string }>('security-runs').map(({ method, path }) => `${method} ${path}`))
    expect(runs.size, 'No security runs were noted: this test judges what the whole suite saw, so run it with npm test.').toBeGreaterThan(0)
    expect(operations.length).toBeGreaterThan(0)
    const missing = operations.filter((operation) => !runs.has(operation) && !(operation in needsNoCredential)).sort()
    expect(
      missing,
      "Operations without a security-table run: add `describeSecurity(<the route's definition>, { … }, () => api)` " +
        `to the route's test file:\n${missing.join('\n')}`,
    ).toEqual([])
  })

  it('lists as needing no credential only operations that are in the document', () => {
    expect(Object.keys(needsNoCredential).filter((operation) => !operations.includes(operation))).toEqual([])
  })
})
