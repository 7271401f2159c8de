/**
 * An outlet node in its own process, for the portal tests: `node portal-outlet-child.js LISTEN
 * TARGET` starts a node listening on LISTEN with an outlet (allow all) to TARGET, prints one
 * JSON line `{"address":"127.0.0.1:PORT"}` on stdout when ready, and runs until killed.
 */
import { createDefaultNode, tcpOf } from '../../runtime/defaults.js'
import { createLogger } from '../../runtime/log.js'
import { startTcpOutlet } from '../../workers/portal/outlet.js'

const [listen = '127.0.0.1:0', target = ''] = process.argv.slice(2)
const node = createDefaultNode({
  name: 'outlet-child',
  listen: [listen],
  pool: { threads: 0 },
  log: createLogger({ name: 'outlet-child', level: 'warn' }),
})
await node.start()
await startTcpOutlet(node, { target, allow: () => true })
process.stdout.write(`${JSON.stringify({ address: tcpOf(node).listenAddresses()[0] })}\n`)
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)))
