// Every answer the suite saw from a route is declared in /openapi.json: each (method, path, status) the harness
// noted (tests/harness/api.ts) is mapped to its path template and looked up in the document. Runs after every
// other file (the `completeness` project), so it judges the whole run.
import { beforeAll, describe, expect, it } from 'vitest'
import { app } from '../../functions/app.ts'
import { apiBasePath, gatewayPrefix } from '../../functions/_core/server.ts'
import type { ObservedAnswer } from '../harness/api.ts'
import { observed } from '../harness/observed.ts'

type Operations = Record<string, Record<string, { responses: Record<string, unknown> }>>

let paths: Operations
beforeAll(async () => {
  const res = await app.request(`${apiBasePath}/openapi.json`)
  expect(res.status).toBe(200)
  paths = ((await res.json()) as { paths: Operations }).paths
})

/**
 * The template of the route that answered `method path` (a path below the API's base), or null when no route
 * did: an unknown path, the docs page and document, or a method the path lacks. A literal segment wins over a
 * parameter, as the router's order of registration has it (fixed paths such as /webhooks/health come first).
 */
function templateOf(templates: string[], method: string, path: string): string | null {
  const segments = path.split('/')
  const fits = templates.filter((template) => {
    const parts = template.split('/')
    if (!paths[template][method.toLowerCase()] || parts.length !== segments.length) return false
    return parts.every((part, i) => (/^\{\w+\}$/.test(part) ? segments[i] !== '' : part === segments[i]))
  })
  const specificity = (template: string) =>
    template
      .split('/')
      .map((part) => (part.startsWith('{') ? '0' : '1'))
      .join('')
  return fits.sort((a, b) => specificity(b).localeCompare(specificity(a)))[0] ?? null
}

/** The path below /api/v1 that a noted URL path addressed, or null for another surface (the PostgREST one). */
function belowApiBase(urlPath: string): string | null {
  const path = urlPath.startsWith(`${gatewayPrefix}/`) ? urlPath.slice(gatewayPrefix.length) : urlPath
  return path.startsWith(`${apiBasePath}/`) ? path.slice(apiBasePath.length) : null
}

describe('the answers the suite saw', () => {
  it('maps a called path to the template of the route that answered it', () => {
    const templates = Object.keys(paths)
    const id = '00000000-0000-4000-8000-000000000000'
    expect(templateOf(templates, 'GET', '/webhooks/health')).toBe('/webhooks/health')
    expect(templateOf(templates, 'GET', `/webhooks/${id}`)).toBe('/webhooks/{id}')
    expect(templateOf(templates, 'POST', `/webhooks/deliveries/${id}/retry`)).toBe('/webhooks/deliveries/{id}/retry')
    expect(templateOf(templates, 'PATCH', `/datasets/${id}/rows/not-a-uuid`)).toBe('/datasets/{id}/rows/{rowId}')
    expect(templateOf(templates, 'GET', '/no-such-thing')).toBeNull()
    expect(templateOf(templates, 'PUT', '/agents')).toBeNull()
    expect(templateOf(templates, 'GET', '/openapi.json')).toBeNull()
    expect(belowApiBase('/functions/v1/api/v1/agents')).toBe('/agents')
    expect(belowApiBase('/api/v1/openapi.json')).toBe('/openapi.json')
    expect(belowApiBase('/functions/v1/api/rest/v1/leads')).toBeNull()
  })

  it('are each declared, with their status, by the route that gave them', () => {
    const answers = observed<ObservedAnswer>('answers')
    expect(answers.length, 'No answers were noted: this test judges what the whole suite saw, so run it with npm test.').toBeGreaterThan(0)
    const templates = Object.keys(paths)
    const undeclared = new Map<string, string>()
    for (const { method, path: urlPath, status } of answers) {
      const path = belowApiBase(urlPath)
      const template = path === null ? null : templateOf(templates, method, path)
      if (template === null || paths[template][method.toLowerCase()].responses[String(status)]) continue
      const pair = `${method} ${template} → ${status}`
      if (!undeclared.has(pair)) undeclared.set(pair, `${pair}   (first seen: ${method} ${urlPath})`)
    }
    const list = [...undeclared.values()].sort()
    expect(list, `Answers not declared in /openapi.json (declare them in the route's errors or responses):\n${list.join('\n')}`).toEqual([])
  })
})
