/** Pure helpers of the identity and credential commands: attribute options and terminal-safe text. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { parseAttributeOptions } from '../../../runtime/cli/commands/credential.js'
import { attributeLines, columns, safeText } from '../../../runtime/cli/trust-format.js'
import { isOckamError } from '../../../runtime/errors.js'

const UNSAFE = (code: number) =>
  code <= 0x1f ||
  (code >= 0x7f && code <= 0x9f) ||
  code === 0x2028 ||
  code === 0x2029 ||
  (code >= 0x202a && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069)

test('--attribute NAME=VALUE splits at the first =; malformed or repeated names are usage errors', () => {
  assert.deepEqual(
    [...parseAttributeOptions(['role=analyst', 'expr=a=b', 'flag='])],
    [
      ['role', 'analyst'],
      ['expr', 'a=b'],
      ['flag', ''],
    ],
  )
  for (const values of [['novalue'], ['=x'], ['a=1', 'a=2']]) {
    assert.throws(
      () => parseAttributeOptions(values),
      (error: unknown) => isOckamError(error, 'OCKAM_ERR_CLI_USAGE'),
    )
  }
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.tuple(
          fc.string({ minLength: 1 }).filter((k) => !k.includes('=')),
          fc.string(),
        ),
        {
          selector: ([name]) => name,
          maxLength: 8,
        },
      ),
      (pairs) => {
        const parsed = parseAttributeOptions(pairs.map(([name, value]) => `${name}=${value}`))
        assert.deepEqual([...parsed], pairs)
      },
    ),
    { numRuns: 300 },
  )
})

test('safeText never lets a control, line-breaking or bidi character through, and leaves plain text alone', () => {
  assert.equal(safeText('analyst'), 'analyst')
  assert.equal(safeText('a\nb'), '"a\\nb"')
  assert.equal(safeText('\u009b31m'), '"\\u009b31m"')
  assert.equal(safeText('\u202egnp.exe'), '"\\u202egnp.exe"')
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
      const shown = safeText(text)
      for (let i = 0; i < shown.length; i++) assert.ok(!UNSAFE(shown.charCodeAt(i)), JSON.stringify(shown))
      if (shown !== text) assert.equal(JSON.parse(shown), text, 'quoting is reversible')
    }),
    { numRuns: 1000 },
  )
  assert.deepEqual(attributeLines(new Map()), ['  (none)'])
  assert.deepEqual(attributeLines(new Map([['k\n', 'v']])), ['  "k\\n"=v'])
})

test('columns pads every column but the last', () => {
  assert.equal(
    columns([
      ['a', 'long', 'x'],
      ['bbb', 'l', 'y'],
    ]),
    'a    long  x\nbbb  l     y',
  )
})
