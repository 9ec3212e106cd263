/** Lets a background timer (a flush, a sweep, a reconnect) run without keeping the process alive, on Node and Deno. */
export function unrefTimer(timer: ReturnType<typeof setTimeout> | ReturnType<typeof setInterval>): void {
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno
  if (deno?.unrefTimer && typeof timer === 'number') deno.unrefTimer(timer)
  else (timer as { unref?(): void }).unref?.()
}
