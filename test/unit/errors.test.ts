import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ERROR_CODES, isOckamError, OckamError } from '../../runtime/errors.js'

test('every error code follows OCKAM_ERR_<AREA>_<WHAT>', () => {
  for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^OCKAM_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/)
})

test('an OckamError survives serialization with its code, hint and data', () => {
  const original = new OckamError('OCKAM_ERR_TIMEOUT', 'no reply in 5s', {
    hint: 'is the node up?',
    data: { ms: 5000 },
  })
  const copy = OckamError.fromJSON(JSON.parse(JSON.stringify(original)))
  assert.ok(isOckamError(copy, 'OCKAM_ERR_TIMEOUT'))
  assert.equal(copy.message, 'no reply in 5s')
  assert.equal(copy.hint, 'is the node up?')
  assert.deepEqual(copy.data, { ms: 5000 })
  assert.equal(copy.oneLine(), 'OCKAM_ERR_TIMEOUT: no reply in 5s. is the node up?')
  assert.equal(OckamError.isSerialized({ name: 'OckamError', code: 'NOPE', message: '' }), false)
})
