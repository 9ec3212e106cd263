/** Reads configuration from the environment on Deno (Supabase Edge Runtime) and on Node alike. */
export function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(key: string): string | undefined } } }).Deno
  const value = deno ? deno.env.get(name) : (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name]
  return value === '' ? undefined : value
}

/**
 * Whether this is the Supabase Edge Runtime: it sets SB_REGION, and a Deno process with SUPABASE_URL is
 * taken for it too. Its isolates live for a few requests, behind Supabase's own proxy.
 */
export function onSupabaseEdge(): boolean {
  const onDeno = (globalThis as { Deno?: unknown }).Deno !== undefined
  return readEnv('SB_REGION') !== undefined || (onDeno && readEnv('SUPABASE_URL') !== undefined)
}
