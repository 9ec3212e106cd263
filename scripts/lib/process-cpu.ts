// CPU time spent by processes, read from Linux's /proc: what a request costs the API process and the
// database, whatever else the machine is doing at the time (throughput alone moves with other load).
import fs from 'node:fs'

// USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every Linux architecture Node supports.
const ticksPerSecond = 100

/** User plus system CPU seconds of one process so far, or null where /proc is not there to read. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // After "pid (comm) ", utime and stime are the 12th and 13th fields.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
  } catch {
    return null
  }
}

/** The parent of a process, from /proc; null where it cannot be read. */
export function parentOf(pid: number): number | null {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1])
  } catch {
    return null
  }
}

/**
 * CPU seconds of a PostgreSQL server: the postmaster's children (backends, walwriter, checkpointer…) that
 * are alive now. A backend that exits takes its time with it, so measure over pooled connections.
 */
export function serverCpuSeconds(postmaster: number): number | null {
  let total = 0
  let found = false
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    if (parentOf(Number(entry)) !== postmaster) continue
    const seconds = cpuSecondsOf(Number(entry))
    if (seconds === null) continue
    total += seconds
    found = true
  }
  return found ? total : null
}

/** The machine's busy and idle CPU time so far (all cores, in ticks), or null where /proc/stat is not there. */
export function machineTicks(): { busy: number; total: number } | null {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
    const ticks = fields.map(Number)
    const total = ticks.reduce((sum, t) => sum + t, 0)
    // idle and iowait are the 4th and 5th figures of the "cpu" line.
    return { busy: total - ticks[3] - ticks[4], total }
  } catch {
    return null
  }
}
