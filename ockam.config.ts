/**
 * The demo `npm start` runs (DESIGN §1's walkthrough on one machine, in one state folder):
 * - the project `demo` (its node runs the membership authority and the relay service);
 * - `bank`, next to a small HTTP service: an outlet to it, and the relay `web` (its credential
 *   from the project allows that name);
 * - `analysis`, next to the client: an inlet on 127.0.0.1:4002 that reaches the outlet through
 *   the relay, inside an end-to-end secure channel between analysis and bank.
 * `start` prints the one command to try it.
 */
import { defineConfig } from 'ockam-runtime'

export default defineConfig({
  pools: { crypto: { threads: 'auto' } },
  logging: { level: 'warn' },
  identities: ['bank', 'analysis'],
  project: { name: 'demo', listen: '127.0.0.1:4000' },
  demoService: { listen: '127.0.0.1:4001' },
  nodes: {
    bank: {
      identity: 'bank',
      enroll: { relay: 'web' },
      outlets: { outlet: { to: '127.0.0.1:4001' } },
      relays: ['web'],
    },
    analysis: {
      identity: 'analysis',
      enroll: { attributes: { role: 'analyst' } },
      inlets: { web: { from: '127.0.0.1:4002', to: 'web' } },
    },
  },
})
