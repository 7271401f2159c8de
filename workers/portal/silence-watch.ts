/**
 * The inlet's silence watch (DEFAULT_PORTAL_SILENCE_CHECK_MS): tells its route session when what
 * the inlet's portals sent met a whole interval with nothing back, the sign of a far end that
 * died behind a live first hop.
 */

/** What the watch reads: the portals' activity numbers (PortalSet) and how many portals there are. */
export interface SilenceSource {
  readonly size: number
  readonly activity: { readonly lastRead: number; readonly lastHeard: number }
}

/**
 * Every `intervalMs`: when what its portals read from clients and sent on was, at the last tick
 * already, not followed by anything from their outlet portals, and nothing came since (so it has
 * waited a whole interval at least), tells `onSilence`. An answered request followed by an idle
 * client is not silence. One timer per inlet; the hot path only numbers what it counted already.
 */
export function watchSilence(
  set: SilenceSource,
  intervalMs: number,
  onSilence: (silence: { readonly quietMs: number }) => void,
): NodeJS.Timeout {
  const { activity } = set
  let unansweredAtLastTick = false
  let heardAtLastTick = activity.lastHeard
  // Once per read: a request that waits long for its answer (a long query) costs one probe, and
  // the route keeps its ping tolerance while it waits, instead of a probe's every 2 s.
  let reportedRead = 0
  const timer = setInterval(() => {
    if (unansweredAtLastTick && activity.lastHeard === heardAtLastTick && activity.lastRead !== reportedRead) {
      reportedRead = activity.lastRead
      onSilence({ quietMs: intervalMs })
    }
    // A read of a portal that is gone since (its route was lost, its client left) awaits no answer:
    // without portals, what was read last is no silence, or an idle inlet would probe forever.
    unansweredAtLastTick = set.size > 0 && activity.lastRead > activity.lastHeard
    heardAtLastTick = activity.lastHeard
  }, intervalMs)
  timer.unref()
  return timer
}
