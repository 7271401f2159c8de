/**
 * The demo topology `npm start` runs: two nodes on this machine (bob also runs a forwarding
 * service allowed to reach alice). `start` checks that each reaches the other's echo and prints
 * a command to try.
 * Later issues grow this into the full walkthrough (project, outlet, relay, inlet).
 */
import { defineConfig } from 'ockam-runtime'

export default defineConfig({
  pools: { crypto: { threads: 'auto' } },
  logging: { level: 'warn' },
  nodes: {
    alice: { listen: '127.0.0.1:4000' },
    bob: { listen: '127.0.0.1:4001', forwardTo: ['127.0.0.1:4000'] },
  },
})
