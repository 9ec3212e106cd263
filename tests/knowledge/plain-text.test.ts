import { describe, expect, it } from 'vitest'
import { plainTextOf } from '../../functions/knowledge/plain-text.ts'

describe('plain text of an item', () => {
  it('keeps plain text, collapsing runs of spaces and blank lines', () => {
    expect(plainTextOf('  Refunds   take\tfive days.\r\n\r\n\r\n\r\nShipping is free.  ', 'text')).toBe(
      'Refunds take five days.\n\nShipping is free.',
    )
  })

  it('turns HTML into paragraphs, list lines and cells, without scripts, styles, comments or tags', () => {
    const html = `<html><head><title>T</title><style>p{}</style></head><body>
      <h2>Refunds</h2><!-- hidden -->
      <p>Refunds take <b>five</b>
         days.<br>Ask <a href="/x">support</a>.</p>
      <script>alert(1)</script>
      <ul><li>Card</li><li>Bank</li></ul>
      <table><tr><td>Plan</td><td>Price</td></tr></table>
    </body></html>`
    expect(plainTextOf(html, 'html')).toBe('Refunds\n\nRefunds take five days.\nAsk support.\n\n- Card\n\n- Bank\n\nPlan Price')
  })

  it('decodes named and numeric entities, and never yields a character Postgres cannot store', () => {
    expect(plainTextOf('<p>Fish &amp; chips &lt;3 &eacute; &#233; &#x1F600; &#0; &#xD800;</p>', 'html')).toBe(
      'Fish & chips <3 &eacute; é 😀 \uFFFD \uFFFD',
    )
  })

  it('strips Markdown syntax and keeps the words', () => {
    const markdown = [
      '# Refunds #',
      '',
      'Refunds take **five** days, _not_ `ten`. See [the policy](https://example.com/p) or ![a chart](c.png).',
      '',
      '> Quoted ~~old~~ text',
      '- [x] Card',
      '2. Bank',
      '',
      '---',
      '| Plan | Price |',
      '|------|:-----:|',
      '| Pro  | 10    |',
      '',
      '[p]: https://example.com/p',
    ].join('\n')
    expect(plainTextOf(markdown, 'markdown')).toBe(
      'Refunds\n\nRefunds take five days, not ten. See the policy or a chart.\n\nQuoted old text\nCard\nBank\n\nPlan Price\nPro 10',
    )
  })

  it('keeps fenced code as written, without its fences', () => {
    expect(plainTextOf('Run:\n\n```sh\nnpm  start # **not bold**\n```\n\nDone.', 'markdown')).toBe(
      'Run:\n\nnpm start # **not bold**\n\nDone.',
    )
  })

  it('leaves a lone less-than sign or asterisk in Markdown alone', () => {
    expect(plainTextOf('a < b and 2 * 3 = 6', 'markdown')).toBe('a < b and 2 * 3 = 6')
  })
})

describe('plain text of hostile content', () => {
  // Quadratic patterns would take minutes on a megabyte of these; linear ones take milliseconds.
  const hostile: [string, 'html' | 'markdown'][] = [
    ['<script>'.repeat(125_000), 'html'],
    ['<!--'.repeat(250_000), 'html'],
    ['<a b'.repeat(250_000), 'html'],
    ['<li x'.repeat(200_000), 'html'],
    ['**a '.repeat(250_000), 'markdown'],
    ['_a _'.repeat(250_000), 'markdown'],
    ['![a]('.repeat(200_000), 'markdown'],
    ['`'.repeat(1_000_000), 'markdown'],
    [`${' '.repeat(1_000_000)}x`, 'markdown'],
    ['~~a '.repeat(250_000), 'markdown'],
  ]
  it.each(hostile.map(([content, type]) => ({ content, type, sample: content.slice(0, 8) })))(
    'converts a megabyte of $sample… ($type) in linear time',
    ({ content, type }) => {
      const started = performance.now()
      plainTextOf(content, type)
      expect(performance.now() - started).toBeLessThan(3000)
    },
  )
})
