/**
 * Input echoed in a message: at most `max` characters (whole code points, so an emoji is never cut in half),
 * control characters made visible, so a client's text cannot break the message's line or hide in it.
 */
export function clip(text: string, max = 200): string {
  const chars = Array.from(text)
  const shown = chars.length > max ? `${chars.slice(0, max).join('')}…` : text
  // biome-ignore lint/suspicious/noControlCharactersInRegex: making control characters visible is what this does
  return shown.replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
