// The check in front of the functions that only the operator's scheduler may call (the webhook dispatcher
// and the job worker on Supabase, invoked by pg_cron through pg_net): a bearer secret from the environment.
import { readEnv } from './env.ts'

/**
 * Null when the request carries `Authorization: Bearer <the value of the variable secretName>`; otherwise
 * the 401 answer, which names the variable (never its value). Unset, nobody is let in.
 */
export async function refuseWithoutSecret(request: Request, secretName: string, what: string): Promise<Response | null> {
  const secret = readEnv(secretName)
  if (secret && (await sameText(request.headers.get('authorization') ?? '', `Bearer ${secret}`))) return null
  return Response.json(
    { error: { message: `Send the ${what} secret as "Authorization: Bearer <${secretName}>".`, code: 'unauthorized' } },
    { status: 401 },
  )
}

/**
 * Whether two texts are equal, in a time that says nothing about where they differ: both are hashed, so
 * the bytes compared are of equal length and unrelated to the secret's, and every byte is compared.
 */
export async function sameText(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder()
  const [a, b] = await Promise.all(
    [given, expected].map(async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))),
  )
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i]
  return difference === 0
}
