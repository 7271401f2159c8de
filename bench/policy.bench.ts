// Policy throughput: how many access decisions and parses per second one core does.
// Run: npx tsc -p . && node dist/bench/policy.bench.js
import { Bench } from 'tinybench'
import {
  compilePolicy,
  evaluatePolicy,
  formatPolicy,
  type PolicyInput,
  parsePolicy,
} from '../runtime/trust/policy/index.js'

const typical = '(and (= subject.role "analyst") (member? subject.env ["prod", "staging"]) (not (< subject.age 18)))'
const short = 'role.analyst and not contractor'
const policy = parsePolicy(typical)
const shortPolicy = parsePolicy(short)
const compiled = compilePolicy(policy)

const member: PolicyInput = {
  subject: { identifier: 'I0123456789abcdef', attributes: { role: 'analyst', env: 'prod', age: '42', team: 'risk' } },
}
const outsider: PolicyInput = { subject: { identifier: 'I42', attributes: { role: 'admin', env: 'dev' } } }
const typeError: PolicyInput = {
  subject: { identifier: 'I7', attributes: { role: 'analyst', env: 'prod', age: 'old' } },
}

if (!evaluatePolicy(policy, member).allowed || evaluatePolicy(policy, outsider).allowed) {
  throw new Error('benchmark policy decides wrongly')
}

// Time-bounded per task (tinybench stops at max(time, iterations)); the whole run takes ~5 s.
const bench = new Bench({ name: 'policy', time: 400, iterations: 100, warmupTime: 100 })
bench
  .add('evaluatePolicy typical, allowed', () => {
    evaluatePolicy(policy, member)
  })
  .add('evaluatePolicy typical, denied', () => {
    evaluatePolicy(policy, outsider)
  })
  .add('evaluatePolicy typical, type error', () => {
    evaluatePolicy(policy, typeError)
  })
  .add('compiled.evaluate typical, allowed', () => {
    compiled.evaluate(member)
  })
  .add('evaluatePolicy short form, allowed', () => {
    evaluatePolicy(shortPolicy, member)
  })
  .add('parsePolicy typical S-expression', () => {
    parsePolicy(typical)
  })
  .add('parsePolicy short form', () => {
    parsePolicy(short)
  })
  .add('formatPolicy typical', () => {
    formatPolicy(policy)
  })
  .add('parse + compile + evaluate (no cache)', () => {
    compilePolicy(parsePolicy(typical)).evaluate(member)
  })

await bench.run()
console.log(`policy bench, node ${process.version}; typical policy: ${typical}`)
console.table(
  bench.tasks.map((task) => {
    const result = task.result
    if (result.state !== 'completed') return { task: task.name, state: result.state }
    return {
      task: task.name,
      'ops/s': Math.round(result.throughput.mean),
      'mean (ns)': Math.round(result.latency.mean * 1e6),
      'p99 (ns)': Math.round((result.latency.p99 ?? 0) * 1e6),
      samples: result.latency.samplesCount,
    }
  }),
)
