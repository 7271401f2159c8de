/**
 * The inlet's silence watch, tick by tick on mocked timers: a read followed by a whole interval
 * with nothing heard is reported, once per read; an answered read, an idle inlet and an inlet
 * whose portals are gone are not.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { watchSilence } from '../../../workers/portal/silence-watch.js'

const INTERVAL_MS = 100

function fakeInlet() {
  const activity = { seq: 0, lastRead: 0, lastHeard: 0 }
  return {
    size: 1,
    activity,
    read: () => {
      activity.lastRead = ++activity.seq
    },
    heard: () => {
      activity.lastHeard = ++activity.seq
    },
  }
}

test('a read followed by a whole interval of silence is reported once, however long it waits', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] })
  const inlet = fakeInlet()
  const reports: number[] = []
  const timer = watchSilence(inlet, INTERVAL_MS, (silence) => reports.push(silence.quietMs))
  t.after(() => clearInterval(timer))

  inlet.read()
  t.mock.timers.tick(INTERVAL_MS) // the read is seen unanswered
  assert.deepEqual(reports, [], 'not before it waited a whole interval')
  t.mock.timers.tick(INTERVAL_MS)
  assert.deepEqual(reports, [INTERVAL_MS])
  t.mock.timers.tick(20 * INTERVAL_MS) // a long query: still the same read
  assert.equal(reports.length, 1, 'once per read')
  inlet.read() // the next request, also unanswered
  t.mock.timers.tick(2 * INTERVAL_MS)
  assert.equal(reports.length, 2)
})

test('an answered read, an idle inlet and an inlet without portals are not silence', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] })
  const inlet = fakeInlet()
  let reports = 0
  const timer = watchSilence(inlet, INTERVAL_MS, () => reports++)
  t.after(() => clearInterval(timer))

  t.mock.timers.tick(5 * INTERVAL_MS) // idle from the start
  inlet.read()
  inlet.heard() // answered within the interval
  t.mock.timers.tick(5 * INTERVAL_MS) // then idle
  inlet.read()
  t.mock.timers.tick(INTERVAL_MS)
  inlet.heard() // answered late, but before a whole interval passed after it was seen
  t.mock.timers.tick(5 * INTERVAL_MS)
  assert.equal(reports, 0)

  inlet.read()
  inlet.size = 0 // its portal was reset: nothing will answer, nothing is waiting
  t.mock.timers.tick(10 * INTERVAL_MS)
  assert.equal(reports, 0)
})
