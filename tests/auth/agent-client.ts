// An agent as a test sees it: a real Ed25519 keypair (tweetnacl), registering itself and signing requests
// exactly as the README's "Agents that register themselves" tells a client to.
import { createHash } from 'node:crypto'
import nacl from 'tweetnacl'
import type { ApiResponse, TestApi } from '../harness/api.ts'
import { callApi } from '../harness/api.ts'

export interface AgentKeys {
  publicKey: string
  secretKey: Uint8Array
}

export function newAgentKeys(): AgentKeys {
  const pair = nacl.sign.keyPair()
  return { publicKey: Buffer.from(pair.publicKey).toString('base64'), secretKey: pair.secretKey }
}

export const sign = (text: string, secretKey: Uint8Array): string =>
  Buffer.from(nacl.sign.detached(new TextEncoder().encode(text), secretKey)).toString('base64')

export const uniqueSlug = (prefix = 'agent') => `${prefix}-${crypto.randomUUID().slice(0, 8)}`

export function registration(keys: AgentKeys, slug = uniqueSlug()) {
  return { agentName: 'Inbox Agent', orgName: 'Self-made Org', orgSlug: slug, publicKey: keys.publicKey }
}

/** Registers and verifies: the new agent's ids and inbox, and its keys. */
export async function registerAgent(api: TestApi, slug = uniqueSlug()) {
  const keys = newAgentKeys()
  const started = await api.call('POST', '/auth/agent-register', { body: registration(keys, slug) })
  if (started.status !== 201) throw new Error(`register answered ${started.status}: ${JSON.stringify(started.body)}`)
  const { agentSignupToken, challenge } = started.body.data
  const done = await api.call('POST', '/auth/agent-verify', { body: { agentSignupToken, signature: sign(challenge, keys.secretKey) } })
  if (done.status !== 201) throw new Error(`verify answered ${done.status}: ${JSON.stringify(done.body)}`)
  return { ...(done.body.data as { agentId: string; orgId: string; inboxEmail: string }), keys, slug }
}

export interface SignOptions {
  body?: unknown
  /** Unix seconds; now by default. */
  timestamp?: number
  /** What is signed, when a test wants it to differ from what is sent. */
  signed?: { method?: string; path?: string; body?: string; timestamp?: number }
}

/** The headers of a signed request: the canonical string is built here independently of the API's code. */
export function signedHeaders(agentId: string, secretKey: Uint8Array, method: string, path: string, options: SignOptions = {}) {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
  const body = options.body === undefined ? '' : JSON.stringify(options.body)
  const s = options.signed ?? {}
  const canonical = [
    'AGENTRY-AGENT-V1',
    (s.method ?? method).toUpperCase(),
    `/v1${s.path ?? path}`,
    String(s.timestamp ?? timestamp),
    createHash('sha256')
      .update(s.body ?? body)
      .digest('hex'),
  ].join('\n')
  return { authorization: `Agent ${agentId}:${sign(canonical, secretKey)}`, 'x-agent-timestamp': String(timestamp) }
}

export function signedCall(
  api: TestApi,
  agent: { agentId: string; keys: AgentKeys },
  method: string,
  path: string,
  options: SignOptions = {},
): Promise<ApiResponse> {
  const headers = signedHeaders(agent.agentId, agent.keys.secretKey, method, path, options)
  return callApi(api.base, method, path, { headers, body: options.body })
}
