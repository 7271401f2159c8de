#!/usr/bin/env node
// Runs every compiled node:test suite under dist/test. Node 20's test runner takes no globs,
// so the files are listed here. Extra arguments are passed to `node --test` (e.g. a filter:
// `npm test -- --test-name-pattern=frame`).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function collect(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...collect(path))
    else if (name.endsWith('.test.js')) out.push(path)
  }
  return out
}

const files = collect('dist/test')
if (files.length === 0) {
  console.error('no test files under dist/test: did the build run?')
  process.exit(1)
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...files], {
  stdio: 'inherit',
})
process.exit(result.status ?? 1)
