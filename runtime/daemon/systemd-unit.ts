/**
 * `node service install`: a systemd user unit that runs a node in the foreground under the
 * service manager (`node start NAME --foreground`), so it comes back after a reboot with its
 * recorded resources. Only the file is written; enabling it is the user's call (we print how).
 */
import { join } from 'node:path'
import { NODE_HOST_FLAGS } from '../host-flags.js'

export interface SystemdUnitOptions {
  readonly nodeName: string
  readonly stateDir: string
  /** The node binary and the CLI script it runs. */
  readonly execPath: string
  readonly cliPath: string
}

export function unitName(nodeName: string): string {
  return `ockam-runtime-node-${nodeName}.service`
}

/** $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user. */
export function userUnitDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(home, '.config')
  return join(base, 'systemd', 'user')
}

/**
 * systemd command-line quoting: double quotes, backslash-escaped `"` and `\`, `%` doubled
 * (specifier), `$` doubled (variable expansion), so any path survives.
 */
export function quoteSystemd(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`
}

export function systemdUnit(options: SystemdUnitOptions): string {
  const exec = [
    options.execPath,
    ...NODE_HOST_FLAGS,
    options.cliPath,
    'node',
    'start',
    options.nodeName,
    '--foreground',
  ]
    .map(quoteSystemd)
    .join(' ')
  return [
    '# Written by `ockam-runtime node service install`. Enable with:',
    `#   systemctl --user daemon-reload && systemctl --user enable --now ${unitName(options.nodeName)}`,
    '[Unit]',
    `Description=ockam-runtime node ${options.nodeName}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `Environment=${quoteSystemd(`OCKAM_RUNTIME_HOME=${options.stateDir}`)}`,
    `ExecStart=${exec}`,
    // SIGTERM is the node's graceful stop; it drains and releases its ports.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'Restart=on-failure',
    'RestartSec=2',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n')
}
