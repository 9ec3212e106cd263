// A domain's DKIM key: 2048-bit RSA made with Web Crypto, kept as PKCS#8 PEM (for signing, by the sending
// job) and published as base64 SPKI in the `<selector>._domainkey` TXT record.

export interface DkimKey {
  selector: string
  privateKeyPem: string
  publicKey: string
}

export async function generateDkimKey(now: Date = new Date()): Promise<DkimKey> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey))
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey))
  const body = toBase64(pkcs8).replace(/.{1,64}/g, '$&\n')
  return {
    // Dated, so a later key can be published beside this one while mail signed with it is still in flight.
    selector: `agentry${now.toISOString().slice(0, 10).replaceAll('-', '')}`,
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${body}-----END PRIVATE KEY-----\n`,
    publicKey: toBase64(spki),
  }
}

function toBase64(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return btoa(text)
}
