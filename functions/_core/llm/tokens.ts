/** A rough token count for providers that report none: about four characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}
