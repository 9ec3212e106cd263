import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestApi } from '../harness/api.ts'
import { type FakeLlm, startApiWithFakeModel } from '../harness/fake-llm.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'
import { desktop, hasChromium, launchBrowser, openTab, phone, screenshot, seriousViolations, signIn } from './browser.ts'

let api: TestApi
let llm: FakeLlm
let browser: Browser
let tenant: Tenant
let consoleBase: string

beforeAll(async () => {
  if (!hasChromium) return
  ;({ api, llm } = await startApiWithFakeModel())
  consoleBase = `${api.base}/console`
  browser = await launchBrowser()
  tenant = await createTenant()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
  await llm?.close()
})

describe.skipIf(!hasChromium)('the agents pages', () => {
  it("lists the organisation's agents and edits one", async () => {
    const { page, context } = await openTab(browser)
    try {
      await signIn(page, consoleBase, await tenant.key(), '/agents')
      await page.getByRole('link', { name: 'Agent A' }).click()
      await page.waitForURL(`**/console/agents/${tenant.agent.id}`)
      await expect.poll(() => page.getByLabel('Name', { exact: true }).inputValue()).toBe('Agent A')
      await page.getByLabel('Name', { exact: true }).fill('Support agent')
      await page.getByLabel('Instructions').fill('Answer briefly.')
      await page.getByLabel('Status').selectOption('paused')
      await page.getByRole('button', { name: 'Save changes' }).click()
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Support agent')
      const saved = await api.call('GET', `/agents/${tenant.agent.id}`, { key: await tenant.key() })
      expect(saved.body.data).toMatchObject({ name: 'Support agent', instructions: 'Answer briefly.', status: 'paused' })

      // The API's refusal is shown where the form is: this server offers no such model.
      await page.locator('#agent-model').fill('no-such-model')
      await page.getByRole('button', { name: 'Save changes' }).click()
      await expect.poll(() => page.locator('#agent-error').isVisible()).toBe(true)
      expect(await page.locator('#agent-error').textContent()).toMatch(/no-such-model/)
      await page.locator('#agent-model').fill('')
      await page.getByLabel('Name', { exact: true }).fill('Agent A')
      await page.getByLabel('Status').selectOption('active')
      await page.getByRole('button', { name: 'Save changes' }).click()
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Agent A')
    } finally {
      await context.close()
    }
  }, 90_000)

  it('streams a chat reply and shows its usage and cost', async () => {
    llm.script = () => ({
      chunks: ['Refunds ', 'take ', 'five ', 'days.'],
      usage: { prompt_tokens: 21, completion_tokens: 4 },
      chunkDelayMs: 150,
    })
    const { page, context } = await openTab(browser)
    try {
      await signIn(page, consoleBase, await tenant.key(), `/agents/${tenant.otherAgent.id}`)
      await page.getByLabel('Message').fill('How long do refunds take?')
      await page.getByLabel('Message').press('Enter')
      const reply = page.locator('.chat-message.assistant').last()
      // The first words are on the page before the reply is finished.
      await expect.poll(() => reply.locator('.reply-text').textContent(), { timeout: 15_000 }).toMatch(/^Refunds /)
      expect(await reply.locator('.meta').textContent()).toBe('Writing…')
      await expect.poll(() => reply.locator('.meta').textContent(), { timeout: 15_000 }).toMatch(/21 \+ 4 = 25 tokens/)
      expect(await reply.locator('.reply-text').textContent()).toBe('Refunds take five days.')
      expect(await reply.locator('.meta').textContent()).toMatch(/^gpt-4o-mini · 21 \+ 4 = 25 tokens · \$\d+\.\d+ · \d+ ms$/)
      expect(llm.requests.at(-1)!.body.stream).toBe(true)
      expect(llm.requests.at(-1)!.body.messages.at(-1)).toMatchObject({ role: 'user', content: 'How long do refunds take?' })

      // A second message continues the same conversation.
      await page.getByLabel('Message').fill('And for gift cards?')
      await page.getByRole('button', { name: 'Send' }).click()
      await expect.poll(() => page.locator('.chat-message.assistant').count()).toBe(2)
      await expect
        .poll(() => page.locator('.chat-message.assistant').last().locator('.meta').textContent(), { timeout: 15_000 })
        .toMatch(/tokens/)
      const conversations = await api.call('GET', `/conversations?agent_id=${tenant.otherAgent.id}`, { key: await tenant.key() })
      expect(conversations.body.data).toHaveLength(1)
      await screenshot(page, 'agent-chat-desktop')
    } finally {
      await context.close()
    }
  }, 90_000)

  it('has no serious accessibility violations, at desktop and phone widths', async () => {
    llm.script = () => ({ reply: 'Hello there.' })
    for (const [width, viewport] of [
      ['desktop', desktop],
      ['phone', phone],
    ] as const) {
      const { page, context } = await openTab(browser, viewport)
      try {
        await signIn(page, consoleBase, await tenant.key(), '/agents')
        await page.waitForSelector('#agent-rows a')
        expect(await seriousViolations(page)).toEqual([])
        await screenshot(page, `agents-${width}`)
        expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling').toBeLessThanOrEqual(viewport.width)
        await page.getByRole('link', { name: 'Agent B' }).click()
        await expect.poll(() => page.getByLabel('Name', { exact: true }).inputValue()).toBe('Agent B')
        await page.getByLabel('Message').fill('Hi')
        await page.getByLabel('Message').press('Enter')
        await expect.poll(() => page.locator('.chat-message.assistant .meta').last().textContent(), { timeout: 15_000 }).toMatch(/tokens/)
        expect(await seriousViolations(page)).toEqual([])
        await screenshot(page, `agent-${width}`)
        expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling').toBeLessThanOrEqual(viewport.width)
      } finally {
        await context.close()
      }
    }
  }, 120_000)
})
