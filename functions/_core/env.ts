/** Reads configuration from the environment on Deno (Supabase Edge Runtime) and on Node alike. */
export function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(key: string): string | undefined } } }).Deno
  const value = deno ? deno.env.get(name) : (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name]
  return value === '' ? undefined : value
}
