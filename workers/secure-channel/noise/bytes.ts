/**
 * Byte helpers of the Noise code: they never alias their input (see runtime/trust/bytes.ts, the
 * one home of these helpers).
 */
export { concatBytes, copyBytes } from '../../../runtime/trust/bytes.js'
