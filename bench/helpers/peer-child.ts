/** Entry of the forked peer (see peer.ts): start, report addresses, answer CPU questions, stop. */
import { childCpuReply, startPeerServices } from './peer.js'

const services = await startPeerServices()
const send = (message: unknown) => process.send?.(message)
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await services.stop()
  process.disconnect?.()
}
process.on('message', (message: { type?: string }) => {
  if (message.type === 'cpu') send(childCpuReply())
  else if (message.type === 'stop') void stop()
})
process.on('disconnect', () => void stop())
send({ type: 'ready', addresses: services.addresses })
