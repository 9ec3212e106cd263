import { describe, expect, it } from 'vitest'
import { isPrivateAddress } from '../../functions/_core/outbound.ts'

describe('the outbound address guard', () => {
  it('refuses loopback, private, link-local, CGNAT, reserved and documentation addresses, IPv4 and IPv6', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '192.0.2.10',
      '198.18.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      'fc00::1',
      'ff02::1',
      '2001:db8::1',
      '100::1',
      '[::1]',
      'fe80::1%eth0',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true)
    }
  })

  it('judges an IPv6 address that carries an IPv4 one by the IPv4 address it carries', () => {
    const carried = {
      'IPv4-mapped ::ffff:0:0/96': [
        '::ffff:127.0.0.1',
        '::ffff:7f00:1',
        '::ffff:10.0.0.1',
        '::ffff:169.254.169.254',
        '0:0:0:0:0:ffff:c0a8:101',
      ],
      'IPv4-translated ::ffff:0:0:0/96': ['::ffff:0:127.0.0.1', '::ffff:0:7f00:1', '::ffff:0:a9fe:a9fe', '0:0:0:0:ffff:0:c0a8:101'],
      'IPv4-compatible ::/96': ['::127.0.0.1', '::a00:1'],
      '6to4 2002::/16': ['2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:c0a8:101:1::1', '2002:0a00:0001::'],
      'NAT64 64:ff9b::/96': ['64:ff9b::a00:1', '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe'],
      'Teredo 2001::/32, client address inverted': ['2001:0:4136:e378:8000:63bf:80ff:fffe'],
    }
    for (const [range, addresses] of Object.entries(carried)) {
      for (const address of addresses) expect(isPrivateAddress(address), `${range}: ${address}`).toBe(true)
    }
    const publicOnes = {
      'IPv4-mapped ::ffff:0:0/96': ['::ffff:8.8.8.8', '::ffff:808:808'],
      'IPv4-translated ::ffff:0:0:0/96': ['::ffff:0:8.8.8.8', '::ffff:0:808:808'],
      '6to4 2002::/16': ['2002:808:808::1', '2002:0101:0101:1::1'],
      'NAT64 64:ff9b::/96': ['64:ff9b::808:808', '64:ff9b::8.8.8.8'],
      'Teredo 2001::/32, client address inverted': ['2001:0:4136:e378:8000:63bf:f7f7:f7f7'],
    }
    for (const [range, addresses] of Object.entries(publicOnes)) {
      for (const address of addresses) expect(isPrivateAddress(address), `${range}: ${address}`).toBe(false)
    }
  })

  it('refuses every address of the local-use translation prefix 64:ff9b:1::/48, whatever it carries', () => {
    for (const address of ['64:ff9b:1::808:808', '64:ff9b:1::a00:1', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff', '64:ff9b:2::1']) {
      expect(isPrivateAddress(address), address).toBe(true)
    }
  })

  it('lets public addresses through, and refuses anything that is not an address', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.15.255.255',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700:4700::1111',
      '2a00:1450:4001::200e',
    ]) {
      expect(isPrivateAddress(address), address).toBe(false)
    }
    for (const text of ['example.com', '256.1.1.1', '1.2.3', '', '::g', '1::2::3', '::ffff:0:300.1.1.1'])
      expect(isPrivateAddress(text), text).toBe(true)
  })
})
