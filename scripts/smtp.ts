// `npm run smtp`: the inbound SMTP ingress as a process of its own (`npm start` runs one too). Needs
// DATABASE_URL. SIGTERM or SIGINT stop it.
import { closeDatabase, database } from '../functions/_core/db.ts'
import { startSmtpIngress, tlsFromEnvironment } from './lib/smtp-ingress.ts'

const usage = `Usage: npm run smtp

Accepts mail for this service's inboxes over SMTP and stores it (threads, verdicts, attachments, events)
until SIGTERM or SIGINT.

  DATABASE_URL                 the database (or SUPABASE_DB_URL); required
  SMTP_HOST, SMTP_PORT         where to listen (127.0.0.1, 2525)
  SMTP_MAX_BYTES               the largest message accepted (26214400)
  SMTP_TLS_CERT, SMTP_TLS_KEY  PEM files; STARTTLS is offered only when both are set
  SMTP_HOSTNAME                the name in the greeting (agentry.localhost)
  DNS_SERVER                   host[:port] asked for SPF, DKIM and DMARC records (the system's servers)`

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(usage)
  process.exit(0)
}

const ingress = await startSmtpIngress(database(), {
  host: process.env.SMTP_HOST || '127.0.0.1',
  port: Number(process.env.SMTP_PORT || 2525),
  tls: tlsFromEnvironment(),
})
console.log(`SMTP ingress listening on port ${ingress.port}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await ingress.close()
  await closeDatabase()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
