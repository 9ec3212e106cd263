import { describe, expect, it } from 'vitest'
import { isPrivateAddress } from '../../functions/_core/outbound.ts'

describe('the outbound address guard', () => {
  it('refuses loopback, private, link-local, CGNAT, reserved and documentation addresses, IPv4 and IPv6', () => {
    for (const address of [
      '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
      '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.2.10', '198.18.0.1',
      '::1', '::', 'fe80::1', 'fd12:3456::1', 'fc00::1', 'ff02::1', '2001:db8::1', '::ffff:127.0.0.1', '::ffff:7f00:1',
      '::ffff:10.0.0.1', '64:ff9b::a00:1', '[::1]', 'fe80::1%eth0',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true)
    }
  })

  it('lets public addresses through, and refuses anything that is not an address', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(address), address).toBe(false)
    }
    for (const text of ['example.com', '256.1.1.1', '1.2.3', '', '::g', '1::2::3']) expect(isPrivateAddress(text), text).toBe(true)
  })
})
