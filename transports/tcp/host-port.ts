/** `host:port` parsing for TCP addresses; IPv6 hosts are written in brackets (`[::1]:4000`). */
import { OckamError } from '../../runtime/errors.js'

export interface HostPort {
  readonly host: string
  readonly port: number
}

export function parseHostPort(text: string, defaultHost = '127.0.0.1'): HostPort {
  let host: string
  let portText: string
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text)
  if (bracket !== null) {
    host = bracket[1] as string
    portText = bracket[2] as string
  } else if (/^\d+$/.test(text)) {
    host = defaultHost
    portText = text
  } else {
    const colon = text.lastIndexOf(':')
    if (colon <= 0 || text.indexOf(':') !== colon) {
      throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `"${text}" is not HOST:PORT`, {
        hint: 'write it as 127.0.0.1:4000, [::1]:4000 or just a port',
      })
    }
    host = text.slice(0, colon)
    portText = text.slice(colon + 1)
  }
  const port = Number(portText)
  if (!/^\d{1,5}$/.test(portText) || port > 65535) {
    throw new OckamError('OCKAM_ERR_ADDRESS_INVALID', `"${portText}" is not a TCP port (0-65535)`)
  }
  return { host, port }
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
