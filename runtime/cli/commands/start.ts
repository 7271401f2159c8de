/**
 * `ockam-runtime start`: brings the topology of `ockam.config.ts` up in this process,
 * idempotently. The config is reconciled into the state folder's registry first (declared
 * nodes and resources created or kept, undeclared ones removed), then each node runs here with
 * its control socket (so `status` and `node show` see it) and restores what the registry says.
 * A node of the same name already running in the background is refused. `--check` prints the
 * plan without changing anything. Stops gracefully on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { createAuthorityService } from '../../authority/authority.js'
import { sleep } from '../../backoff.js'
import { startDemoService } from '../../config/demo-service.js'
import { loadConfig } from '../../config/load.js'
import type { ValidConfig } from '../../config/schema.js'
import { applyTrust, describeTrustPlan, planTrust, type TrustServices } from '../../config/trust-plan.js'
import { type NodeHost, startNodeHost } from '../../daemon/node-host.js'
import { NodeManager } from '../../daemon/node-manager.js'
import { applyPlan, type ConfigPlan, type DesiredNode, planConfig } from '../../daemon/reconcile.js'
import { tcpOf } from '../../defaults.js'
import { ERROR_CODES, OckamError, type OckamErrorCode } from '../../errors.js'
import { createLogger } from '../../log.js'
import { formatMultiaddr, parseMultiaddr, parseRouteArgument } from '../../multiaddr.js'
import type { OckamNode } from '../../node.js'
import { enrolledProject } from '../../project/enrolled.js'
import { createHostedProject, enrollLocalIdentity, parseCredentialTtl } from '../../project/hosted-project.js'
import { defaultResourceKinds } from '../../resources/index.js'
import { RELAY_KIND } from '../../resources/kinds/relay.js'
import { TCP_INLET_KIND } from '../../resources/kinds/tcp-inlet.js'
import { TCP_LISTENER_KIND } from '../../resources/kinds/tcp-listener.js'
import { TCP_OUTLET_KIND } from '../../resources/kinds/tcp-outlet.js'
import { STATE_DB_FILE_NAME } from '../../state/constants.js'
import { resolveStateDir } from '../../state/state-dir.js'
import { openStateStore, type StateStore } from '../../state/store.js'
import { createIdentitiesService } from '../../trust/identities/identities.js'
import { createPolicyStore } from '../../trust/stored-policies.js'
import type { Output } from '../output.js'
import { runUntilSignal } from '../run-until-signal.js'
import { withTrustSession } from '../trust-session.js'
import { enrollWithTicket } from './enroll.js'
import { whereOf } from './resource-commands.js'

interface StartOptions {
  config: string
  node?: string
  check?: boolean
}

/** The config's listener on a node is the `tcp-listener` resource named `listen`. */
export const CONFIG_LISTENER_NAME = 'listen'

function desiredNodes(config: ValidConfig, only: string | undefined, managedBy: string): DesiredNode[] {
  const project = config.project
  if (project !== undefined && Object.hasOwn(config.nodes, project.name)) {
    throw new OckamError('OCKAM_ERR_CONFIG_INVALID', `nodes.${project.name}: that is the project node's name`, {
      hint: 'the project node is declared by "project" and named after it: rename this node',
    })
  }
  for (const [name, node] of Object.entries(config.nodes)) {
    if (
      node.enroll !== undefined &&
      !('ticket' in node.enroll) &&
      (node.identity === undefined || project === undefined)
    ) {
      throw new OckamError(
        'OCKAM_ERR_CONFIG_INVALID',
        `nodes.${name}.enroll: ${project === undefined ? 'the config declares no project' : `needs nodes.${name}.identity`}`,
        {
          hint:
            project === undefined
              ? 'declare project: { name, listen } in this config (enrolling with a ticket from another folder: ockam-runtime enroll)'
              : 'give the node its own identity (and list it in identities): the default identity is the project admin',
        },
      )
    }
  }
  const projectNode: DesiredNode[] =
    project === undefined || (only !== undefined && only !== project.name)
      ? []
      : [
          {
            name: project.name,
            settings: { managedBy, identity: `${project.name}-authority` },
            resources: [{ kind: TCP_LISTENER_KIND, name: CONFIG_LISTENER_NAME, spec: { address: project.listen } }],
          },
        ]
  if (only !== undefined && only === project?.name) return projectNode
  const names = Object.keys(config.nodes)
  if (only !== undefined && !names.includes(only)) {
    throw new OckamError('OCKAM_ERR_CONFIG_INVALID', `the config declares no node "${only}"`, {
      hint: `declared nodes: ${names.join(', ')}`,
    })
  }
  const members = names
    .filter((name) => only === undefined || name === only)
    .map((name) => {
      const node = config.nodes[name] ?? {}
      const resources = []
      if (node.listen !== undefined) {
        resources.push({ kind: TCP_LISTENER_KIND, name: CONFIG_LISTENER_NAME, spec: { address: node.listen } })
      }
      for (const [listener, address] of Object.entries(node.tcpListeners ?? {})) {
        resources.push({ kind: TCP_LISTENER_KIND, name: listener, spec: { address } })
      }
      for (const [from, outlet] of Object.entries(node.outlets ?? {})) {
        resources.push({ kind: TCP_OUTLET_KIND, name: from, spec: { ...outlet, to: String(outlet.to), from } })
      }
      for (const relay of node.relays ?? []) resources.push({ kind: RELAY_KIND, name: relay, spec: { name: relay } })
      for (const [inletName, inlet] of Object.entries(node.inlets ?? {})) {
        resources.push({ kind: TCP_INLET_KIND, name: inletName, spec: { ...inlet, from: String(inlet.from) } })
      }
      const forwardTo = node.forwardTo ?? []
      const settings = {
        managedBy,
        ...(forwardTo.length > 0 ? { forwardTo } : {}),
        ...(node.identity === undefined ? {} : { identity: node.identity }),
      }
      return { name, settings, resources }
    })
  return [...projectNode, ...members]
}

function specText(spec: unknown): string {
  return whereOf(spec)
}

function describePlan(plan: ConfigPlan, desired: readonly DesiredNode[]): string {
  const lines: string[] = []
  for (const node of plan.nodes) {
    const wanted = desired.find((d) => d.name === node.name)
    const listen = node.resources.find((r) => r.name === CONFIG_LISTENER_NAME && r.action !== 'remove')
    const forwardTo = wanted?.settings.forwardTo ?? []
    lines.push(
      `node ${node.name} (${node.action}): ${listen === undefined ? 'no listener' : `listens on ${specText(listen.spec)}`}, services echo${forwardTo.length > 0 ? `, forward (to ${forwardTo.join(', ')})` : ''}`,
    )
    for (const r of node.resources) lines.push(`  ${r.action} ${r.kind} ${r.name} ${specText(r.spec)}`)
  }
  for (const name of plan.removeNodes) lines.push(`node ${name} (remove: no longer declared)`)
  return lines.join('\n')
}

export function registerStartCommand(program: Command, output: () => Output): void {
  program
    .command('start')
    .description('bring up the topology declared in ockam.config.ts (foreground, stops on Ctrl-C)')
    .option('--config <file>', 'the config file', 'ockam.config.ts')
    .option('--node <name>', "start only this node (one machine's part of a distributed config)")
    .option('--check', 'validate the config and print the plan without starting anything')
    .action(async (options: StartOptions) => {
      const out = output()
      const config = await loadConfig(options.config)
      const managedBy = resolve(options.config)
      const desired = desiredNodes(config, options.node, managedBy)
      const nodeNames = desired.map((d) => d.name)
      const kinds = defaultResourceKinds()
      const planOptions = { managedBy, kinds, removeUndeclaredNodes: options.node === undefined }
      if (options.check === true) {
        // Read the registry if there is one; never create a state folder just to print a plan.
        const stateDir = resolveStateDir()
        const existing = existsSync(join(stateDir, STATE_DB_FILE_NAME)) ? openStateStore({ dir: stateDir }) : undefined
        try {
          const plan = planConfig(existing?.db, desired, planOptions)
          const trust = planTrust(config, existing === undefined ? undefined : readOnlyTrust(existing), nodeNames)
          const trustLines = describeTrustPlan(trust)
          out.data(
            { valid: true, ...plan, trust },
            () =>
              `${options.config} is valid. Plan:\n${[...trustLines, describePlan(plan, desired)].filter((l) => l.length > 0).join('\n')}`,
          )
        } finally {
          existing?.close()
        }
        return
      }
      // Identities and policies first: nodes name the identity they present.
      await withTrustSession(async (session) => {
        const trust = planTrust(config, session, nodeNames)
        // The project first: its admin is the folder's default identity, which must not be
        // one of the config's node identities (the first identity created becomes the default).
        await createDeclaredProject(config, session, out)
        await applyTrust(trust, session)
        for (const line of describeTrustPlan(trust)) out.progress(`✔ ${line}`)
        await enrollDeclaredMembers(config, session, nodeNames, out)
      })
      await runConfig(config, desired, planOptions, out)
    })
}

type Session = Parameters<Parameters<typeof withTrustSession>[0]>[0]

/** The config's project, created if this folder does not host it yet. */
async function createDeclaredProject(config: ValidConfig, session: Session, out: Output): Promise<void> {
  const declared = config.project
  if (declared === undefined) return
  const hosted = createAuthorityService({ db: session.store.db, identities: session.identities }).findProject()
  if (hosted === undefined) {
    const created = await createHostedProject(session, {
      ...declared,
      credentialTtlSeconds:
        declared.credentialTtl === undefined ? undefined : parseCredentialTtl(declared.credentialTtl),
      passthrough: declared.passthrough,
    })
    out.progress(`✔ project ${created.name} created (authority ${created.authority})`)
  } else if (hosted.name !== declared.name) {
    throw new OckamError(
      'OCKAM_ERR_AUTHORITY_PROJECT_EXISTS',
      `this state folder hosts project ${hosted.name}, not ${declared.name}`,
      {
        hint: 'one project per state folder: use another OCKAM_RUNTIME_HOME',
      },
    )
  }
}

/** Nodes with `enroll`: their identities made members of the folder's project (idempotent), with a fresh credential. */
async function enrollDeclaredMembers(
  config: ValidConfig,
  session: Session,
  nodeNames: readonly string[],
  out: Output,
): Promise<void> {
  const declared = config.project
  for (const [name, node] of Object.entries(config.nodes)) {
    const enroll = node.enroll
    if (enroll === undefined || !('ticket' in enroll) || !nodeNames.includes(name)) continue
    const identity =
      node.identity === undefined ? session.identities.getDefault() : session.identities.get(node.identity)
    const enrolled = enrolledProject(session.store.dir)
    if (enrolled !== undefined && session.heldCredentials.get(identity.identifier, enrolled.authority) !== undefined) {
      out.progress(`✔ ${identity.name} is a member of project ${enrolled.name}`)
      continue
    }
    const result = await enrollWithTicket(enroll.ticket, { identity: identity.name, sameProject: true })
    out.progress(`✔ ${identity.name} enrolled in project ${result.project} (fingerprint ${result.fingerprint})`)
  }
  if (declared === undefined) return
  for (const [name, node] of Object.entries(config.nodes)) {
    if (node.enroll === undefined || 'ticket' in node.enroll || node.identity === undefined) continue
    if (!nodeNames.includes(name)) continue
    const attributes = {
      ...node.enroll.attributes,
      ...(node.enroll.relay === undefined ? {} : { relay: node.enroll.relay }),
    }
    const enrolled = await enrollLocalIdentity(session, node.identity, attributes)
    out.progress(`✔ ${node.identity} ${enrolled.created ? 'enrolled in' : 'is a member of'} project ${declared.name}`)
  }
}

async function runConfig(
  config: ValidConfig,
  desired: readonly DesiredNode[],
  planOptions: Parameters<typeof planConfig>[2],
  out: Output,
): Promise<void> {
  const manager = NodeManager.open()
  const hosts: NodeHost[] = []
  let stopped = false
  let demo: Awaited<ReturnType<typeof startDemoService>> | undefined
  const stopAll = async () => {
    if (stopped) return
    stopped = true
    for (const host of hosts.reverse()) await host.stop()
    await demo?.stop()
    manager.close()
  }
  let serving: Promise<unknown> = Promise.resolve()
  try {
    // Refuse before changing anything: a background node of that name owns its resources.
    const running = new Set<string>()
    for (const node of desired) {
      if (manager.nodes.get(node.name) !== undefined && (await manager.hello(node.name)).hello !== undefined)
        running.add(node.name)
    }
    const plan = planConfig(manager.store.db, desired, planOptions)
    for (const name of plan.removeNodes) {
      if ((await manager.hello(name)).hello !== undefined) running.add(name)
    }
    if (running.size > 0) {
      const names = [...running].join(', ')
      throw new OckamError('OCKAM_ERR_NODE_ALREADY_RUNNING', `node ${names} already runs in the background`, {
        hint: `stop it first (ockam-runtime node stop ${[...running][0]}), or start the other nodes with --node NAME`,
        data: { nodes: [...running] },
      })
    }
    applyPlan(manager.store.db, plan, desired)
    if (config.demoService !== undefined) {
      demo = await startDemoService(config.demoService.listen)
      out.progress(`✔ demo service on http://${demo.address}/`)
    }
    for (const name of plan.removeNodes) out.progress(`✔ node ${name} removed (no longer declared)`)
    const level = config.logging?.level ?? 'info'
    for (const node of plan.nodes) {
      out.progress(`starting node ${node.name}…`)
      for (const r of node.resources.filter((r) => r.action === 'remove')) {
        out.progress(`  ✔ removed ${r.kind} ${r.name} (no longer declared)`)
      }
      const host = await startNodeHost({
        store: manager.store,
        name: node.name,
        log: createLogger({ name: node.name, level }),
        pool: config.pools?.crypto ?? {},
        onShutdownRequest: () => {
          // `node stop NAME` from another terminal stops that node only.
          host.stop().catch(() => {})
        },
      })
      hosts.push(host)
      const failed = host.restored.find((r) => r.state === 'failed')
      if (failed?.error !== undefined) {
        const code = Object.hasOwn(ERROR_CODES, failed.error.code)
          ? (failed.error.code as OckamErrorCode)
          : 'OCKAM_ERR_NODE_START_FAILED'
        throw new OckamError(
          code,
          `node ${node.name}: ${failed.kind} ${failed.name}: ${failed.error.message}`,
          failed.error.hint === undefined ? {} : { hint: failed.error.hint },
        )
      }
      for (const r of host.restored) {
        const planned = node.resources.find((p) => p.kind === r.kind && p.name === r.name)
        out.progress(`  ✔ ${r.kind} ${r.name} on ${specText(r.summary)} (${planned?.action ?? 'keep'})`)
      }
      const listeners = tcpOf(host.node).listenAddresses()
      out.progress(`✔ node ${node.name} up${listeners.length > 0 ? ` on ${listeners.join(', ')}` : ''}`)
    }
    const tryIt =
      demo === undefined
        ? await checkReachability(
            hosts.map((h) => h.node),
            out,
          )
        : await checkDemoThroughInlet(hosts, demo.greeting, out)
    // Signal handlers first: whoever reads the data line may send SIGTERM at once.
    serving = runUntilSignal(stopAll)
    out.data({ nodes: hosts.map((h) => ({ name: h.name, listeners: tcpOf(h.node).listenAddresses() })), tryIt }, () =>
      tryIt === null ? 'topology is up' : `topology is up. Try it:\n  ${tryIt}`,
    )
  } catch (error) {
    await stopAll()
    throw error
  }
  out.progress('running; press Ctrl-C to stop')
  await serving
}

/** Every node sends a message to every listening node's echo; returns a command to try. */
async function checkReachability(nodes: OckamNode[], out: Output): Promise<string | null> {
  let tryIt: string | null = null
  for (const target of nodes) {
    const listener = tcpOf(target).listenAddresses()[0]
    if (listener === undefined) continue
    const [host, port] = [listener.slice(0, listener.lastIndexOf(':')), listener.slice(listener.lastIndexOf(':') + 1)]
    const ipKind = host.startsWith('[') ? 'ip6' : 'ip4'
    const multiaddr = formatMultiaddr(
      parseMultiaddr(`/${ipKind}/${host.replace(/^\[|\]$/g, '')}/tcp/${port}/service/echo`),
    )
    tryIt ??= `npx ockam-runtime message send hello --to ${multiaddr}`
    for (const source of nodes) {
      if (source === target) continue
      const started = performance.now()
      const reply = await source.context.request(parseRouteArgument(multiaddr), Buffer.from('ping'), {
        timeoutMs: 5_000,
      })
      if (Buffer.from(reply.payload).toString() !== 'ping') {
        throw new OckamError('OCKAM_ERR_INTERNAL', `echo of ${target.name} answered something else`)
      }
      out.progress(`✔ ${source.name} → ${target.name} echo in ${(performance.now() - started).toFixed(1)} ms`)
    }
  }
  return tryIt
}

/**
 * With a demo service behind an outlet: fetches it through the first inlet (waiting for the
 * inlet's route to come up) and returns the curl command that does the same.
 */
async function checkDemoThroughInlet(
  hosts: readonly NodeHost[],
  greeting: string,
  out: Output,
): Promise<string | null> {
  for (const host of hosts) {
    const inlet = host.resources.list(TCP_INLET_KIND)[0]
    if (inlet === undefined) continue
    const from = String(inlet.summary.from)
    const url = `http://${from}/`
    const started = performance.now()
    const body = await fetchThroughInlet(url, DEMO_CHECK_DEADLINE_MS)
    if (!body.includes(greeting)) {
      throw new OckamError(
        'OCKAM_ERR_INTERNAL',
        `the demo service answered something else through ${from}: ${body.slice(0, 100)}`,
      )
    }
    out.progress(`✔ ${url} answers through inlet → relay → outlet in ${(performance.now() - started).toFixed(0)} ms`)
    return `curl -s ${url}`
  }
  return null
}

/** How long `start` waits for the first inlet to carry a request to the demo service (ms). */
const DEMO_CHECK_DEADLINE_MS = 30_000

async function fetchThroughInlet(url: string, deadlineMs: number): Promise<string> {
  const deadline = Date.now() + deadlineMs
  let last: unknown
  // The inlet holds a connection while its route comes up, and resets it if the route is not up
  // within its open timeout: try again until the deadline.
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) })
      return await response.text()
    } catch (error) {
      last = error
      await sleep(200)
    }
  }
  throw new OckamError('OCKAM_ERR_TIMEOUT', `${url} did not answer within ${deadlineMs} ms`, {
    cause: last,
    hint: 'see the node logs above; is the relay up (ockam-runtime relay list --at NODE)?',
  })
}

/** Identity and policy lookups for `--check`: no vault (nothing is created), so no passphrase asked. */
function readOnlyTrust(store: StateStore): TrustServices {
  const noVault = async (): Promise<never> => {
    throw new OckamError('OCKAM_ERR_INTERNAL', 'start --check never uses the vault')
  }
  return {
    identities: createIdentitiesService({
      db: store.db,
      vault: { generateKey: noVault, publicKey: noVault, sign: noVault, deleteKey: noVault },
    }),
    policies: createPolicyStore(store.db),
  }
}
