import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HTTPException } from 'hono/http-exception'
import { codesOf, documentedError, errorBody, fromDatabaseError, toApiError } from '../../functions/_core/errors.ts'
import { rotateKeyRoute } from '../../functions/keys/rotate-key.ts'
import { getMeRoute } from '../../functions/me/get-me.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

describe('the error envelope', () => {
  it('answers an unknown path with 404 not_found in the envelope', async () => {
    const res = await api.call('GET', '/no-such-thing')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No route matches GET /functions/v1/api/v1/no-such-thing.' } })
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('answers malformed JSON with 400 and says so', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/agent/api-keys', {
      key: await t.key(),
      rawBody: '{"name": ',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual({ code: 'bad_request', message: 'Malformed JSON in request body.' })
  })

  it('answers a JSON array or a wrong type with 400 validation_failed naming the field', async () => {
    const t = await createTenant()
    const key = await t.key()
    const array = await api.call('POST', '/agent/api-keys', { key, body: [{ name: 'x' }] })
    expect(array.status).toBe(400)
    expect(array.body.error.code).toBe('validation_failed')
    const wrongType = await api.call('POST', '/agent/api-keys', { key, body: { name: 42 } })
    expect(wrongType.status).toBe(400)
    expect(wrongType.body.error.message).toMatch(/^Invalid request: name: /)
    expect(wrongType.body.error.fields).toEqual([expect.objectContaining({ field: 'name' })])
  })

  it('says a missing field is required, and keeps the messages a schema gives itself', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/judges', { key: await t.key(), body: { name: 'Greets', kind: 'rule', rule: { regex: 'Hello' } } })
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toEqual([
      { field: 'agent_id', message: 'agent_id must be a UUID.' },
      { field: 'threshold', message: 'Required' },
    ])
    const wrongType = await api.call('POST', '/judges', {
      key: await t.key(),
      body: { name: 'Greets', agent_id: t.agent.id, kind: 'rule', rule: { regex: 'Hello' }, threshold: 'high' },
    })
    expect(wrongType.body.error.fields).toEqual([{ field: 'threshold', message: 'Invalid input: expected number, received string' }])
  })

  it('answers an oversized body with 413 payload_too_large before reading it all', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/agent/api-keys', { key: await t.key(), body: { name: 'x'.repeat(2 * 1024 * 1024) } })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
  })

  it('answers a missing body or a body without a JSON content type with a 4xx that says what to send', async () => {
    const t = await createTenant()
    const key = await t.key()
    const missing = await api.call('POST', '/agent/api-keys', { key })
    expect(missing.status).toBe(415)
    expect(missing.body.error.message).toMatch(/Content-Type: application\/json/)
    const notJson = [
      ['text/plain', '{"name": "plain"}'],
      ['application/x-www-form-urlencoded', 'name=form'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nmultipart\r\n--x--\r\n'],
    ]
    for (const [contentType, rawBody] of notJson) {
      const res = await api.call('POST', '/agent/api-keys', { key, rawBody, headers: { 'content-type': contentType } })
      expect(res.status, contentType).toBe(415)
      expect(res.body.error, contentType).toEqual(missing.body.error)
    }
    const [{ n }] =
      await serviceSql()`select count(*)::int as n from agentry.api_keys where org_id = ${t.org.id} and name in ('plain', 'form', 'multipart')`
    expect(n).toBe(0)
  })

  it('keeps a sane incoming x-request-id and replaces a hostile one', async () => {
    const kept = await api.call('GET', '/me', { headers: { 'x-request-id': 'req-123.abc' } })
    expect(kept.headers.get('x-request-id')).toBe('req-123.abc')
    const replaced = await api.call('GET', '/me', { headers: { 'x-request-id': 'a b<script>' } })
    expect(replaced.headers.get('x-request-id')).not.toContain('<')
  })

  it('never leaks Postgres text or a stack trace, even for nonsense ids and queries', async () => {
    const t = await createTenant()
    const key = await t.key()
    const probes = await Promise.all([
      api.call('GET', `/agent/api-keys/${'f'.repeat(8)}-ffff-ffff-ffff-${'f'.repeat(12)}`, { key }),
      api.call('DELETE', '/agent/api-keys/%27%3B%20drop%20table', { key }),
      api.call('GET', '/agent/api-keys?limit=-1&order=%27', { key }),
      api.call('PATCH', '/agent/org', { key, body: { name: '\u0000' } }),
    ])
    for (const res of probes) {
      expect(res.status).toBeLessThan(500)
      expect(JSON.stringify(res.body)).not.toMatch(/postgres|syntax error|relation|at .*\.ts:\d+/i)
      if (res.status >= 400) expect(res.body).toHaveProperty('error.code')
    }
  })
})

describe('errors PostgreSQL raises on input', () => {
  const raised = async (statement: string) => {
    try {
      await serviceSql().unsafe(statement)
    } catch (error) {
      return error
    }
    throw new Error(`${statement} did not fail`)
  }

  it('answers every data exception with 400 validation_failed in our own words', async () => {
    for (const statement of [
      'select 1 / 0',
      "select 'x' like '\\'",
      "select 'a' ~ '('",
      "select '1e-20000'::numeric",
      "select '2026-13-45'::date",
      "select '{'::json",
    ]) {
      const error = fromDatabaseError(await raised(statement))
      expect(error?.status, statement).toBe(400)
      expect(error?.code, statement).toBe('validation_failed')
      expect(error?.message, statement).not.toMatch(/LIKE|regular|overflow|date\/time|json|division/i)
    }
  })

  it('answers a program limit with 400 bad_request', async () => {
    // More than the 100 arguments a function may take (54023).
    const error = fromDatabaseError(await raised(`select json_build_object(${Array(101).fill('1').join(', ')})`))
    expect(error?.toJSON()).toEqual({ error: { code: 'bad_request', message: 'The request is too large or too complex to process.' } })
  })

  it("leaves an error that is not the request's to be logged as internal", async () => {
    expect(fromDatabaseError(await raised('select * from no_such_table'))).toBeNull()
  })
})

describe('how errors are documented', () => {
  it("gives each status one shared schema whose code is one of that status's codes", () => {
    expect(codesOf(404)).toEqual(['not_found', 'row_not_found'])
    expect(codesOf(409)).toEqual(['conflict'])
    expect(errorBody(409)).toBe(errorBody(409))
    expect(errorBody(409).safeParse({ error: { message: 'Taken.', code: 'conflict' } }).success).toBe(true)
    expect(errorBody(409).safeParse({ error: { message: 'Taken.', code: 'not_found' } }).success).toBe(false)
  })

  it('says when a status is answered, then the codes it may carry', () => {
    expect(documentedError(409, 'The key is revoked').description).toBe('The key is revoked (`conflict`).')
  })

  it("declares the statuses a route's shape implies, and those it lists, on the route itself", () => {
    const statuses = (route: { responses: object }) => Object.keys(route.responses).map(Number)
    // No input, no scope, no path parameters, no body: only what any credential check and any request can meet
    // (400 included: a user token's X-Org-Id can be malformed).
    expect(statuses(getMeRoute)).toEqual([200, 400, 401, 429, 500])
    expect((getMeRoute.responses as Record<number, { description: string }>)[400].description).toContain('X-Org-Id')
    // Path parameters, a scope and an optional body (so no 415), and the 409 it lists.
    expect(statuses(rotateKeyRoute)).toEqual([201, 400, 401, 403, 404, 409, 413, 429, 500])
  })
})

describe('an error thrown while answering', () => {
  const answer = (error: unknown, requestId?: string) => {
    const e = toApiError(error, requestId)
    return { status: e.status, code: e.code, message: e.message }
  }

  it("keeps what Hono's own refusals say: too large, malformed or otherwise bad, unauthorized", () => {
    expect(answer(new HTTPException(413))).toEqual({ status: 413, code: 'payload_too_large', message: 'Request body is too large.' })
    expect(answer(new HTTPException(400, { message: 'Unexpected end of JSON input' }))).toEqual({
      status: 400,
      code: 'bad_request',
      message: 'Malformed JSON in request body.',
    })
    expect(answer(new HTTPException(400, { message: 'Missing boundary' })).message).toBe('Missing boundary')
    expect(answer(new HTTPException(400)).message).toBe('Bad request.')
    expect(answer(new HTTPException(401))).toEqual({ status: 401, code: 'unauthorized', message: 'Unauthorized.' })
    expect(answer(new HTTPException(401, { message: 'No token' })).message).toBe('No token')
  })

  it('is an internal error naming the request id, or "unknown" without one, and never its own text', () => {
    const original = console.error
    console.error = () => {}
    try {
      expect(answer(new Error('secret detail'), 'req-1')).toEqual({
        status: 500,
        code: 'internal',
        message: 'Internal error; quote request id req-1 when reporting it.',
      })
      expect(answer(new HTTPException(418, { message: 'teapot' })).message).toBe(
        'Internal error; quote request id unknown when reporting it.',
      )
    } finally {
      console.error = original
    }
  })
})
