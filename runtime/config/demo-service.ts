/**
 * The small HTTP service a demo config can declare (`demoService: { listen }`): something real
 * for the demo's outlet to reach, so `npm start` shows bytes crossing inlet → relay → outlet.
 * It answers every request with one greeting line. Not a product feature; node:http because it
 * is all it needs.
 */
import { createServer } from 'node:http'
import { formatHostPort, parseHostPort } from '../../transports/tcp/host-port.js'
import { OckamError } from '../errors.js'

export const DEMO_GREETING = 'hello from the demo service, through an ockam-runtime portal'

export async function startDemoService(
  listen: string,
): Promise<{ address: string; greeting: string; stop(): Promise<void> }> {
  const { host, port } = parseHostPort(listen)
  const server = createServer((request, response) => {
    request.resume()
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
    response.end(`${DEMO_GREETING}\n`)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new OckamError('OCKAM_ERR_TCP_LISTEN_FAILED', `the demo service cannot listen on ${listen}: ${error.code}`, {
          hint: 'another process holds that port: change demoService.listen in the config',
        }),
      ),
    )
    server.listen(port, host, () => resolve())
  })
  const bound = server.address()
  const address =
    bound !== null && typeof bound === 'object' ? formatHostPort({ host: bound.address, port: bound.port }) : listen
  return {
    address,
    greeting: DEMO_GREETING,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
